"""Hostile input: random and malicious values in every field of the public form, and schemathesis on the API.

Properties of the form (POST /request-appointment/): never a 500; either a redirect to the confirmation and
exactly one new request (with its preferred times and notifications, nothing else), or a 400 that stores
nothing and shows each error next to its field. Each example runs in a transaction rolled back after it.
"""

import re
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from acuclinic.api.api import api
from acuclinic.appointments import triage
from acuclinic.appointments.models import AppointmentRequest, PreferredTime, RequestNotification

pytestmark = pytest.mark.django_db
URL = "/request-appointment/"
FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis/ directory; a failure prints the example to reproduce it
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # demo/client/valid_post are set up once per test, rolled back per example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

FLAG_FIELDS = [f"flag_{q.key}" for q in triage.QUESTIONS]
VISIBLE_FIELDS = [
    "first_name", "last_name", "date_of_birth", "phone", "email", "contact_method", "patient_status", "reason",
    "reason_detail", "pain_duration", "preferred_practitioner", "preferred_date_1", "preferred_time_1",
    "preferred_date_2", "preferred_time_2", "preferred_date_3", "preferred_time_3", "insurance_carrier",
    "insurance_member_id", "has_medicare", "message", "consent_to_contact", "wants_email_acknowledgement",
    *FLAG_FIELDS,
]  # fmt: skip
HIDDEN_FIELDS = [
    "token",
    "started",
    "website",
]  # not shown to people: no field of their own to show an error in
MISSING = object()


# --- strategies --------------------------------------------------------------------------------------------

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)  # any Unicode a browser can send
controls = st.text(
    st.sampled_from("\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x7f\u200b\u200e\u202e\u2028\ufeff a"), max_size=40
)
long_text = st.tuples(st.sampled_from(["x", "é", "😀", "<b>", "\x00", " "]), st.integers(90, 3000)).map(
    lambda t: t[0] * t[1]
)
numbers = st.one_of(st.integers(), st.floats(), st.integers(min_value=10**18, max_value=10**40)).map(str)
mdy = st.tuples(st.integers(-1, 13), st.integers(-1, 32), st.integers(0, 10_001)).map(
    lambda t: f"{t[0]:02d}/{t[1]:02d}/{t[2]:04d}"
)
odd_dates = st.sampled_from([
    "02/30/1980", "02/29/2023", "02/29/2024", "1961-04-27", "04/27/61", " 04 / 27 / 1961 ", "4/7/1961",
    "00/00/0000", "12/31/9999", "01/01/0001", "04/27/1961/1", "٠٤/٢٧/١٩٦١", "04/27/1961\x00", "",
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-14:00", "12/31/9999 25:00", "01/01/0001+99:00",
])  # fmt: skip


def _near(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).strftime("%m/%d/%Y")


near_dates = st.integers(-3, 200).map(_near)  # around the clinic's horizon: past, today, closed days, too far
choices = st.sampled_from([
    "phone", "email", "text", "new", "returning", "lower_back", "upper_mid_back", "neck", "other", "acute",
    "subacute", "chronic", "yes", "no", "on", "off", "true", "any", "morning", "evening", "", "YES", "1", "0",
])  # fmt: skip
attacks = st.sampled_from([
    "' OR 1=1 --", "<script>alert(1)</script>", "{{ 7*7 }}", "{% debug %}", "%s%s%n", "../../etc/passwd",
    "x\r\nBcc: victim@example.org", "=cmd|' /C calc'!A0", "maria@example.org\nbcc@example.org",
    "+1 (212) 555-0199 ext. 99999999999999999999", "+999999999999999999999", "a@b", "\u202e@example.org",
])  # fmt: skip
value = st.one_of(text, controls, long_text, numbers, mdy, odd_dates, near_dates, choices, attacks)
hostile = st.one_of(st.just(MISSING), value, st.lists(value, min_size=2, max_size=3))


def _open_day(days: int) -> str:
    day = timezone.localdate() + timedelta(days=days)
    return (day + timedelta(days=1) if day.weekday() == 6 else day).strftime("%m/%d/%Y")


# Other good answers, so that some hostile examples are also accepted (and must then be stored whole).
names = st.text(st.characters(categories=("L", "M", "Zs", "Pd", "Po")), min_size=1, max_size=100).filter(
    str.strip
)
GOOD = {
    "first_name": names,
    "last_name": names,
    "date_of_birth": st.sampled_from(["01/01/1930", "12/31/2010", "2/3/1999", " 04/27/1961 "]),
    "phone": st.sampled_from(["212-555-0199", "+1 212 555 0199", "(917) 555-0123", "+44 20 7946 0958"]),
    "email": st.sampled_from(["", "a@example.org", "Ünï@example.org", "x+y@sub.example.co.uk"]),
    "contact_method": st.sampled_from(["phone", "text"]),
    "patient_status": st.sampled_from(["new", "returning"]),
    "reason": st.sampled_from(["lower_back", "upper_mid_back", "neck"]),
    "pain_duration": st.sampled_from(["acute", "subacute", "chronic"]),
    "has_medicare": st.sampled_from(["yes", "no"]),
    "consent_to_contact": st.sampled_from(["on", "true", "1"]),
    "wants_email_acknowledgement": st.sampled_from(["", "on"]),
    "preferred_practitioner": st.just(""),
    **{f"preferred_date_{n}": st.integers(5 * n, 5 * n + 4).map(_open_day) for n in (1, 2, 3)},
    **{
        f"preferred_time_{n}": st.sampled_from(["", "any", "morning", "afternoon", "evening"])
        for n in (1, 2, 3)
    },
    **dict.fromkeys(FLAG_FIELDS, st.sampled_from(["yes", "no"])),
}


@st.composite
def changes(draw, fields):
    """Some fields answered otherwise, and (about every other example) a few replaced by hostile values, left
    out or sent twice."""
    answered = draw(st.lists(st.sampled_from(fields), max_size=8, unique=True))
    changed = {name: draw(GOOD.get(name, text)) for name in answered}
    attacked = draw(
        st.one_of(st.just([]), st.lists(st.sampled_from(fields), min_size=1, max_size=4, unique=True))
    )
    changed.update({name: draw(hostile) for name in attacked})
    return changed


def apply(data: dict, changed: dict) -> dict:
    data = dict(data)
    for name, new in changed.items():
        if new is MISSING:
            data.pop(name, None)
        else:
            data[name] = new
    return data


def counts():
    return (
        AppointmentRequest.objects.count(),
        PreferredTime.objects.count(),
        RequestNotification.objects.count(),
    )


def send(client, data, urlencoded: bool):
    if urlencoded:  # what a browser sends for this form
        body = urlencode(data, doseq=True)
        return client.post(URL, body, content_type="application/x-www-form-urlencoded")
    return client.post(URL, data)  # multipart


def check_outcome(response, before, data):
    """The properties every submission must have, whatever was sent."""
    assert response.status_code in (302, 400), response.status_code
    requests, times, notifications = counts()
    if response.status_code == 302:
        assert re.fullmatch(r"/request-appointment/received/[^/]+/", response["Location"])
        assert requests == before[0] + 1
        new = AppointmentRequest.objects.latest("pk")
        new_times = PreferredTime.objects.filter(request=new).count()
        new_notifications = RequestNotification.objects.filter(request=new).count()
        assert times == before[1] + new_times and new_times <= 3
        assert notifications == before[2] + new_notifications
        assert new_notifications == (0 if new.is_spam else 1 + bool(new.wants_email_acknowledgement))
        # What is stored fits its columns (SQLite would not refuse a longer value) and is clean text.
        for field in (
            "first_name",
            "last_name",
            "reason_detail",
            "insurance_carrier",
            "insurance_member_id",
            "email",
        ):
            stored = getattr(new, field)
            assert len(stored) <= AppointmentRequest._meta.get_field(field).max_length
            assert "\x00" not in stored
        # The form takes control characters out of these (not yet out of the insurance fields).
        for field in ("first_name", "last_name", "reason_detail"):
            assert not re.search(r"[\x00-\x1f\x7f]", getattr(new, field)), field
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", new.message)
        assert re.fullmatch(r"\+[1-9]\d{6,14}", new.phone) and len(new.message) <= 1000
        assert new.consent_to_contact and set(new.red_flag_answers) == {q.key for q in triage.QUESTIONS}
        return None
    assert (requests, times, notifications) == before, "a refused form stored something"
    return response.context["form"]


def assert_errors_next_to_fields(response, form):
    page = response.content.decode()
    assert form.errors, "400 without an error"
    assert 'role="alert"' in page  # the summary at the top
    for name, messages in form.errors.items():
        wrapper = re.search(
            rf'<(?:div|fieldset) class="field[^"]*\bfield--error\b[^"]*" id="field-{name}"', page
        )
        assert wrapper, f"no error shown next to {name}"
        section = page[wrapper.start() : page.find('id="field-', wrapper.end())]
        for message in messages:
            assert escape(message) in section, (name, message)


# --- the public form ---------------------------------------------------------------------------------------


@FUZZ_SETTINGS
@given(changed=changes(VISIBLE_FIELDS), urlencoded=st.booleans())
def test_hostile_values_in_visible_fields(demo, client, valid_post, changed, urlencoded):
    with transaction.atomic():
        cache.clear()  # the hourly allowance, per example
        before = counts()
        data = apply(valid_post(token=uuid.uuid4().hex), changed)
        response = send(client, data, urlencoded)
        event(f"form answered {response.status_code}")  # --hypothesis-show-statistics: both outcomes happen
        form = check_outcome(response, before, data)
        if form is not None:
            assert_errors_next_to_fields(response, form)
        transaction.set_rollback(True)


@settings(FUZZ_SETTINGS, max_examples=40)
@given(changed=changes(HIDDEN_FIELDS), urlencoded=st.booleans())
def test_hostile_values_in_hidden_fields(demo, client, valid_post, changed, urlencoded):
    """The token, the form stamp and the honeypot: no 500, nothing half-stored. (A tampered hidden value that
    fails validation can only be listed in the error summary: there is no field to show it next to.)"""
    with transaction.atomic():
        cache.clear()
        before = counts()
        response = send(client, apply(valid_post(token=uuid.uuid4().hex), changed), urlencoded)
        event(f"form answered {response.status_code}")
        form = check_outcome(response, before, changed)
        if form is not None:
            page = response.content.decode()
            visible = [name for name in form.errors if name not in HIDDEN_FIELDS]
            if visible:
                assert_errors_next_to_fields(response, form)
            for name in form.errors:
                assert f'href="#id_{name}"' in page  # listed in the summary
        transaction.set_rollback(True)


def test_the_examples_reach_both_outcomes(demo, client, valid_post):
    """The properties above are not vacuous: a valid form is stored, a bad date is refused next to its field."""
    before = counts()
    assert check_outcome(send(client, valid_post(), True), before, {}) is None
    before = counts()
    response = send(client, valid_post(date_of_birth="02/30/1980", flag_fever=["yes", "\x00"]), True)
    form = check_outcome(response, before, {})
    assert set(form.errors) == {"date_of_birth", "flag_fever"}
    assert_errors_next_to_fields(response, form)


# --- the JSON API, from its OpenAPI schema -----------------------------------------------------------------


@pytest.fixture
def wsgi_app(demo):
    """The site as a WSGI application, called in-process by schemathesis (no server, no network)."""
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    # As the test client does: a request must not close the connection that holds the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# The schema the site serves at /api/v1/openapi.json (tests/api checks that it is served).
# (schemathesis.pytest.from_fixture would fetch it per test, but does not work with pytest 9.)
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_never_fails_and_answers_as_documented(case, wsgi_app):
    cache.clear()  # otherwise the hourly allowance turns most valid examples into 429s
    response = case.call(app=wsgi_app)
    event(f"API answered {response.status_code}")
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    if case.path.startswith("/fhir/") or "/fhir/" in case.path:
        # FHIR booking: documented answers only (schema conformance above); a slot may be taken (409) and the
        # media type is the FHIR one as well as plain JSON, so the checks below are the appointment requests'.
        if case.method.upper() != case.operation.method.upper():  # the coverage phase tries other methods
            assert response.status_code == 405
        elif case.method.upper() == "POST":
            assert response.status_code in (201, 404, 409, 415, 422, 429), response.text  # 404: no such Slot
        return
    if case.method.upper() == "POST":
        sent_as = {k.lower(): v for k, v in (case.headers or {}).items()}.get(
            "content-type", "application/json"
        )
        if sent_as.split(";")[0].strip().lower() != "application/json":
            assert response.status_code == 415, response.text  # JSON only (no cross-site form posts)
        else:
            assert response.status_code in (201, 422, 429), response.text
    else:  # the coverage phase also tries the other methods
        assert response.status_code == 405


# --- hostile instants: explicit cases the random examples above might miss ---------------------------------

# The overflow of issue 10 (``0001-01-01T00:00:00+05:00`` made astimezone overflow: a 500) and its relatives:
# years 1 and 9999 with the widest offsets (±14:00) and beyond (+99:00), hour 25.
HOSTILE_INSTANTS = [
    f"{day}T{clock}{offset}"
    for day in ("0001-01-01", "9999-12-31")
    for clock in ("00:00:00", "23:59:59")
    for offset in ("+14:00", "-14:00", "+99:00", "+05:00")
] + ["2030-06-03T25:00:00-04:00", "2030-06-03T09:00:00+99:00", "0001-01-01", "9999-12-31"]
HOSTILE_MDY = ["01/01/0001", "12/31/9999", "13/01/2030", "01/01/0001 00:00+05:00"]


@pytest.mark.parametrize("value", HOSTILE_MDY)
def test_form_refuses_extreme_dates_next_to_the_field(demo, client, valid_post, value):
    for field in ("date_of_birth", "preferred_date_1"):
        before = counts()
        response = send(client, valid_post(**{field: value}), True)
        form = check_outcome(response, before, {})
        assert field in form.errors
        assert_errors_next_to_fields(response, form)


def _first_schedule():
    from acuclinic.scheduling import fhir as mapping
    from acuclinic.scheduling.selectors import bookable_pairs

    practitioner, location = next(iter(bookable_pairs()))
    return mapping.schedule_id(practitioner, location)


def _check(case, response, *expected):
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    assert response.status_code in expected, response.text


@pytest.mark.parametrize("value", HOSTILE_INSTANTS)
def test_api_explicit_hostile_instants_in_slot_search(wsgi_app, value):
    operation = schema["/api/fhir/Slot"]["GET"]
    for start in (f"ge{value}", value, f"lt{value}"):
        case = operation.Case(query={"schedule": _first_schedule(), "start": [start]})
        response = case.call(app=wsgi_app)
        _check(case, response, 422)
        assert response.json()["issue"][0]["expression"] == ["start"]


@pytest.mark.parametrize("value", HOSTILE_INSTANTS)
def test_api_explicit_hostile_instants_in_a_booking(wsgi_app, value):
    from acuclinic.api.fhir import APPOINTMENT_EXAMPLE

    operation = schema["/api/fhir/Appointment"]["POST"]
    practitioner = _first_schedule().split("-")[0]
    digits = "".join(ch for ch in value if ch.isdigit())
    bodies = [
        {**APPOINTMENT_EXAMPLE, "slot": [], "start": value, "end": value,
         "participant": [{"actor": {"reference": f"Practitioner/{practitioner}"}, "status": "accepted"}]},
        {**APPOINTMENT_EXAMPLE, "start": None, "end": None,
         "slot": [{"reference": f"Slot/{_first_schedule()}.1.{digits[:8]}T{digits[8:12] or '0000'}"}]},
    ]  # fmt: skip
    for body in bodies:
        cache.clear()
        body = {k: v for k, v in body.items() if v not in (None, [])}
        case = operation.Case(body=body, media_type="application/fhir+json")
        response = case.call(app=wsgi_app)
        # Refused, never a 500: a slot id that reads as a real time may name no slot (404) or one not free (409).
        _check(case, response, 404, 409, 422)


@pytest.mark.parametrize("value", HOSTILE_MDY + HOSTILE_INSTANTS[:4])
def test_api_explicit_hostile_dates_in_a_request(wsgi_app, value):
    from acuclinic.api.schemas import EXAMPLE_REQUEST

    operation = schema["/api/v1/appointment-requests"]["POST"]
    for body in (
        {**EXAMPLE_REQUEST, "date_of_birth": value},
        {**EXAMPLE_REQUEST, "preferred_dates": [{"date": value, "time_of_day": "morning"}]},
    ):
        cache.clear()
        case = operation.Case(body=body, media_type="application/json")
        response = case.call(app=wsgi_app)
        _check(case, response, 422)

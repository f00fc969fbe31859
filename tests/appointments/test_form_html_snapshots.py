"""The patient's forms render the same HTML for the same input, whatever makes them fast.

The request form and every online-booking step are compared, page by page, with snapshots in ``snapshots/``,
taken from the template-per-widget rendering before it was made faster (issue 15). Only what changes on every
request is masked: the CSRF token, the form's one-time token and signed start stamp, the CSP nonce and database
ids. The clock is frozen so that dates in errors and steps are always the same.

A deliberate change of a page: ``UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/appointments/test_form_html_snapshots.py``
and review the diff of ``snapshots/`` like any other change.
"""

import os
import re
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from django.core import signing
from django.test import Client
from freezegun import freeze_time

from acuclinic.appointments import triage
from acuclinic.appointments.forms import FORM_STAMP_SALT
from acuclinic.appointments.views import BOOKING_HANDOFF_KEY
from acuclinic.scheduling.models import WorkingHours

pytestmark = pytest.mark.django_db

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)  # a Saturday; the clinic below works weekdays
DAY = date(2030, 6, 3)
FORM = "/request-appointment/"

_MASKS = [
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*'), r"\1CSRF"),
    (re.compile(r'(name="token" value=")[^"]*'), r"\1TOKEN"),
    (re.compile(r'(name="started" value=")[^"]*'), r"\1STARTED"),
    (re.compile(r'nonce="[^"]*"'), 'nonce="NONCE"'),
    (re.compile(r'value="\d+"'), 'value="ID"'),
    (re.compile(r"\b(location|type)=\d+"), r"\1=ID"),
]


def normalise(html: str) -> str:
    for pattern, replacement in _MASKS:
        html = pattern.sub(replacement, html)
    return html


def check(name: str, response, status: int = 200) -> None:
    assert response.status_code == status, (name, response.status_code)
    html = normalise(response.content.decode())
    path = SNAPSHOTS / f"{name}.html"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(html)
        if not os.environ.get("UPDATE_SNAPSHOTS"):
            pytest.fail(f"snapshot {path.name} was missing and has been written: review and commit it")
    expected = path.read_text()
    if html != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(expected.splitlines(True), html.splitlines(True), "snapshot", "now", n=2)
        )
        pytest.fail(f"{name}: the page differs from its snapshot:\n{diff[:6000]}")


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time(NOW):
        yield


def request_data(**overrides):
    data = {
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": "04/27/1961",
        "phone": "(212) 555-0199",
        "email": "maria@example.org",
        "contact_method": "phone",
        "patient_status": "new",
        "reason": "lower_back",
        "reason_detail": "",
        "pain_duration": "chronic",
        "preferred_date_1": "06/04/2030",
        "preferred_time_1": "morning",
        "insurance_carrier": "Acme Health",
        "has_medicare": "no",
        "message": 'Pain since the summer <b>&</b> "quotes"',
        "consent_to_contact": "on",
        "token": "a" * 32,
        "started": signing.dumps(f"{NOW.timestamp() - 60:.3f}", salt=FORM_STAMP_SALT),
        "website": "",
    }
    for question in triage.QUESTIONS:
        data[f"flag_{question.key}"] = "no"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_request_form_blank(db, client):
    check("request_form_get", client.get(FORM))


def test_request_form_blank_rendered_once_then_with_fresh_tokens(db, client, settings):
    import re

    settings.SITE_LOOKUP_KEEP = True  # as in production: the blank form is kept (appointments/views.py)
    first, second = client.get(FORM), client.get(FORM)
    check("request_form_get", first)
    check("request_form_get", second)
    tokens = [re.search(rb'name="token" value="([0-9a-f]{32})"', r.content).group(1) for r in (first, second)]
    assert tokens[0] != tokens[1]
    assert b"__acu_" not in second.content
    again = queries_of(client, FORM)
    assert len(again) == 1 and '"scheduling_practitioner"' in again[0], again  # the practitioners offered


def test_request_form_from_booking(db, client):
    session = client.session
    session[BOOKING_HANDOFF_KEY] = {
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": "04/27/1961",
        "email": "maria@example.org",
        "phone": "(212) 555-0199",
        "patient_status": "returning",
        "date": "06/04/2030",
        "time_of_day": "morning",
        "visit": "Follow-up treatment",
        "when": "Tuesday, June 4 at 10:00 AM",
        "practitioner_name": "Pat Needles",
    }
    session.save()
    check("request_form_from_booking", client.get(FORM))


def test_request_form_with_every_required_answer_missing(db, client):
    check("request_form_empty_post", client.post(FORM, {}), status=400)


def test_request_form_with_typing_errors(db, client):
    data = request_data(
        date_of_birth="02/30/1980",
        phone="12",
        email="not-an-address",
        contact_method="email",
        reason="other",
        preferred_date_1="06/01/2030",
        preferred_date_2="06/09/2030",
        preferred_date_3="13/45/2030",
        preferred_time_2="afternoon",
        flag_saddle_numbness=None,
        consent_to_contact=None,
        wants_email_acknowledgement="on",
        website="spam",
    )
    check("request_form_errors", client.post(FORM, data), status=400)


def test_request_form_email_and_dates(db, client):
    data = request_data(
        email="",
        contact_method="email",
        preferred_date_1="06/04/2030",
        preferred_date_2="06/04/2030",
        preferred_date_3="01/01/2031",
        date_of_birth="01/01/2999",
    )
    check("request_form_errors_2", client.post(FORM, data), status=400)


def test_request_form_after_a_csrf_failure(db):
    strict = Client(enforce_csrf_checks=True)
    check("request_form_csrf_failure", strict.post(FORM, request_data()), status=403)


# --- online booking ---------------------------------------------------------------------------------------------


@pytest.fixture
def clinic(db):
    from tests.scheduling.conftest import make_clinic

    clinic = make_clinic()
    for practitioner in (clinic.practitioner, clinic.other_practitioner):
        for weekday in range(5):
            WorkingHours.objects.create(
                practitioner=practitioner,
                location=clinic.location,
                weekday=weekday,
                starts_at=time(9),
                ends_at=time(12),
            )
    return clinic


def steps(clinic):
    location, follow_up = clinic.location.pk, clinic.follow_up.pk
    chosen = {"location": location, "type": follow_up, "practitioner": "any", "who": "returning"}
    return [
        ("book_who", {"location": location}),
        ("book_type_new", {"location": location, "who": "new"}),
        ("book_type_returning", {"location": location, "who": "returning"}),
        ("book_type_refused", {"location": location, "who": "new", "type": follow_up}),
        ("book_practitioner", {"location": location, "type": follow_up, "who": "returning"}),
        ("book_day", chosen),
        ("book_day_one_practitioner", {**chosen, "practitioner": clinic.practitioner.slug}),
        ("book_time", {**chosen, "day": DAY.isoformat()}),
    ]


def test_booking_steps(client, clinic):
    for name, params in steps(clinic):
        check(name, client.get("/book/", params))


def test_booking_steps_kept_per_process_are_the_same_pages(client, clinic, settings):
    settings.SITE_LOOKUP_KEEP = True  # as in production: the first steps are kept (booking_views.py)
    for name, params in steps(clinic)[:5]:
        check(name, client.get("/book/", params))
        check(name, client.get("/book/", params))  # the kept page
    params = {
        "location": clinic.location.pk,
        "type": clinic.follow_up.pk,
        "practitioner": "any",
        "who": "returning",
        "start": clinic.at(10).isoformat(),
    }
    first, second = client.get("/book/details/", params), client.get("/book/details/", params)
    check("book_details_get", first)
    check("book_details_get", second)
    assert b"__acu_" not in second.content
    # A change of the set-up shows at once: the practitioners step lists a renamed practitioner.
    clinic.practitioner.name = "Pat Renamed"
    clinic.practitioner.save()
    params = dict(steps(clinic)[4][1])
    assert "Pat Renamed" in client.get("/book/", params).text


def test_booking_details(client, clinic):
    start = clinic.at(10)
    params = {
        "location": clinic.location.pk,
        "type": clinic.follow_up.pk,
        "practitioner": "any",
        "who": "returning",
        "start": start.isoformat(),
    }
    check("book_details_get", client.get("/book/details/", params))
    bad = {**params, "first_name": "", "last_name": "X", "date_of_birth": "02/30/1980", "email": "nope"}
    check("book_details_errors", client.post("/book/details/", bad), status=400)
    unknown = {
        **params,
        "first_name": "Nobody",
        "last_name": "Known",
        "date_of_birth": "01/01/1980",
        "email": "nobody@example.org",
    }
    check("book_details_no_match", client.post("/book/details/", unknown), status=400)


# --- what keeps them fast: the SQL queries of each page ---------------------------------------------------------


def queries_of(client, path, params=None) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, path
    return [q["sql"] for q in captured.captured_queries]


def test_the_request_form_reads_the_site_and_clinic_settings_once_then_keeps_them(db, client, settings):
    settings.SITE_LOOKUP_KEEP = True  # as in production (core/site_lookup.py)
    first = queries_of(client, FORM)
    assert sum('"core_clinicsettings"' in sql for sql in first) == 1, first
    assert sum('FROM "wagtailcore_site"' in sql for sql in first) == 1, first
    again = queries_of(client, FORM)
    assert len(again) == 1 and '"scheduling_practitioner"' in again[0], again  # the practitioners to choose


def test_the_booking_steps_cost_a_fixed_number_of_queries(client, clinic, settings):
    settings.SITE_LOOKUP_KEEP = True  # as in production (core/site_lookup.py)
    queries_of(
        client, "/book/", {"location": clinic.location.pk}
    )  # the site and settings are kept after this
    expected = {
        "book_who": 0,  # kept since the first request above
        "book_type_new": 2,
        "book_type_returning": 2,
        "book_type_refused": 3,
        "book_practitioner": 3,
        "book_day": 9,
        "book_day_one_practitioner": 10,
        "book_time": 9,
    }
    counts = {name: len(queries_of(client, "/book/", params)) for name, params in steps(clinic)}
    assert counts == expected

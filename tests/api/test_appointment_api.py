"""POST /api/v1/appointment-requests: the form's validation, triage and write path, as JSON."""

import html
import json
import re
import time
import uuid
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from acuclinic.api.api import GUIDANCE
from acuclinic.appointments import services, triage
from acuclinic.appointments.forms import FORM_STAMP_SALT
from acuclinic.appointments.models import AppointmentRequest, PreferredTime, RequestNotification
from acuclinic.appointments.views import confirmation_token
from acuclinic.scheduling.models import Practitioner

pytestmark = pytest.mark.django_db
URL = "/api/v1/appointment-requests"
FORM_URL = "/request-appointment/"


def open_day(days_ahead: int = 3):
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() == 6:  # the demo clinic is closed on Sundays
        day += timedelta(days=1)
    return day


def sunday():
    today = timezone.localdate()
    return today + timedelta(days=(6 - today.weekday()) % 7 or 7)


def body(**overrides):
    data = {
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": "04/27/1961",
        "phone": "(212) 555-0199",
        "email": "maria@example.org",
        "contact_method": "phone",
        "patient_status": "new",
        "reason": "lower_back",
        "pain_duration": "chronic",
        "preferred_dates": [{"date": open_day().strftime("%m/%d/%Y"), "time_of_day": "morning"}],
        "insurance_carrier": "Acme Health",
        "has_medicare": False,
        "consent_to_contact": True,
        "red_flags": {q.key: False for q in triage.QUESTIONS},
    }
    data.update(overrides)
    return data


def post(client, data, **headers):
    raw = data if isinstance(data, (bytes, str)) else json.dumps(data)
    return client.post(URL, raw, content_type="application/json", headers=headers)


def errors_of(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    found: dict[str, list[str]] = {}
    for error in response.json()["errors"]:
        found.setdefault(error["field"], []).append(error["message"])
    return found


# --- success ------------------------------------------------------------------------------------------------


def test_routine_request_is_stored_like_a_form_request(demo, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, body())
    assert response.status_code == 201
    payload = response.json()
    assert set(payload) == {"reference", "urgency", "guidance", "guidance_detail"}
    assert payload["urgency"] == "routine" and payload["guidance"] == "Request received"
    stored = AppointmentRequest.objects.get()
    assert stored.reference == payload["reference"] and re.fullmatch(
        r"[A-Z2-9]{4}-[A-Z2-9]{4}", stored.reference
    )
    assert stored.channel == "api" and not stored.is_spam and stored.status == "new"
    assert stored.phone == "+12125550199" and stored.has_medicare is False and stored.consent_to_contact
    assert [(p.date, p.time_of_day) for p in stored.preferred_times.all()] == [(open_day(), "morning")]
    assert stored.red_flag_answers == {q.key: False for q in triage.QUESTIONS}
    assert list(stored.notifications.values_list("kind", flat=True)) == ["clinic"]
    assert len(callbacks) == 1  # the clinic's e-mail is queued once the request is committed


def test_emergency_answer_returns_the_911_instruction(demo, client):
    response = post(client, body(red_flags={**body()["red_flags"], "saddle_numbness": True}))
    assert response.status_code == 201
    assert response.json()["urgency"] == "emergency"
    assert response.json()["guidance"] == "Call 911 or go to the nearest emergency department now"
    assert AppointmentRequest.objects.get().urgency_reasons == ["saddle_numbness"]


@pytest.mark.parametrize(
    ("flags", "duration", "urgency"),
    [
        ({"bladder_bowel": True}, "chronic", "emergency"),
        ({"fever": True}, "chronic", "urgent_today"),
        ({"night_pain": True}, "chronic", "soon"),
        ({}, "acute", "soon"),
        ({}, "chronic", "routine"),
    ],
)
def test_guidance_is_what_the_confirmation_page_says(demo, client, flags, duration, urgency):
    red_flags = {**body()["red_flags"], **flags}
    response = post(
        client, body(red_flags=red_flags, pain_duration=duration)
    )  # born 1961: new pain is "soon"
    assert response.json()["urgency"] == urgency
    guidance, detail = GUIDANCE[urgency]
    assert (response.json()["guidance"], response.json()["guidance_detail"]) == (guidance, detail)
    stored = AppointmentRequest.objects.get()
    page = html.unescape(
        client.get(reverse("appointment_received", args=[confirmation_token(stored)])).content.decode()
    )
    assert re.search(r"<h1[^>]*>" + re.escape(guidance) + "</h1>", page)
    if urgency != "routine":
        assert detail in page
    else:
        assert "usually within one business day" in page


def test_all_optional_fields_and_three_dates(demo, client):
    practitioner = Practitioner.objects.filter(is_active=True).first()
    dates = [open_day(3), open_day(5), open_day(8)]
    dates = sorted(set(dates))
    response = post(
        client,
        body(
            email="m@example.org",
            contact_method="email",
            wants_email_acknowledgement=True,
            reason="other",
            reason_detail="Left shoulder blade",
            preferred_practitioner=practitioner.pk,
            preferred_dates=[{"date": d.strftime("%m/%d/%Y")} for d in dates],
            insurance_member_id="X1",
            message="Line one\nLine two",
            has_medicare=True,
        ),
    )
    assert response.status_code == 201, response.content
    stored = AppointmentRequest.objects.get()
    assert (
        stored.preferred_practitioner == practitioner
        and stored.has_medicare
        and stored.wants_email_acknowledgement
    )
    assert stored.message == "Line one\nLine two" and stored.reason_detail == "Left shoulder blade"
    assert list(stored.preferred_times.values_list("time_of_day", flat=True)) == ["any"] * len(dates)
    assert set(stored.notifications.values_list("kind", flat=True)) == {"clinic", "patient_ack"}


def test_no_csrf_token_is_needed_and_nothing_is_cached(demo):
    client = Client(enforce_csrf_checks=True)
    response = post(client, body())
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")


# --- the form's messages ------------------------------------------------------------------------------------


def web_post(**overrides):
    data = {
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": "04/27/1961",
        "phone": "(212) 555-0199",
        "email": "maria@example.org",
        "contact_method": "phone",
        "patient_status": "new",
        "reason": "lower_back",
        "pain_duration": "chronic",
        "preferred_date_1": open_day().strftime("%m/%d/%Y"),
        "preferred_time_1": "morning",
        "insurance_carrier": "Acme Health",
        "has_medicare": "no",
        "consent_to_contact": "on",
        "token": uuid.uuid4().hex,
        "started": signing.dumps(f"{time.time() - 60:.3f}", salt=FORM_STAMP_SALT),
    }
    data.update({f"flag_{q.key}": "no" for q in triage.QUESTIONS})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def web_errors(client, data) -> dict[str, list[str]]:
    response = client.post(FORM_URL, data)
    assert response.status_code == 400
    page = response.content.decode()
    found = {}
    for auto_id, text in re.findall(
        r'<p class="error-text" id="id_(.*?)-error"><span class="visually-hidden">Error: </span>(.*?)</p>',
        page,
        re.S,
    ):
        found[auto_id] = html.unescape(text)
    return found


def _api_name(form_name: str) -> str:
    if form_name.startswith("flag_"):
        return "red_flags." + form_name.removeprefix("flag_")
    if m := re.fullmatch(r"preferred_(date|time)_(\d)", form_name):
        return f"preferred_dates[{int(m.group(2)) - 1}]." + (
            "date" if m.group(1) == "date" else "time_of_day"
        )
    return form_name


@pytest.mark.parametrize(
    ("api_overrides", "web_overrides"),
    [
        ({"date_of_birth": "02/30/1980"}, {"date_of_birth": "02/30/1980"}),
        (
            {"date_of_birth": "1961-04-27", "first_name": None},
            {"date_of_birth": "1961-04-27", "first_name": None},
        ),
        (
            {"date_of_birth": "01/01/2999", "phone": "12345"},
            {"date_of_birth": "01/01/2999", "phone": "12345"},
        ),
        ({"contact_method": "email", "email": ""}, {"contact_method": "email", "email": ""}),
        ({"contact_method": "fax", "reason": "other"}, {"contact_method": "fax", "reason": "other"}),
        (
            {"consent_to_contact": False, "has_medicare": None},
            {"consent_to_contact": None, "has_medicare": None},
        ),
        (
            {"red_flags": {"fever": True}},
            {f"flag_{q.key}": None for q in triage.QUESTIONS if q.key != "fever"},
        ),
        ({"preferred_dates": "SUNDAY"}, {"preferred_date_1": "SUNDAY", "preferred_time_1": "noon"}),
        ({"preferred_practitioner": 10**12}, {"preferred_practitioner": str(10**12)}),
        ({"first_name": "x" * 101, "message": "y" * 1001}, {"first_name": "x" * 101, "message": "y" * 1001}),
    ],
)
def test_messages_are_identical_to_the_public_form(demo, client, api_overrides, web_overrides):
    if api_overrides.get("preferred_dates") == "SUNDAY":
        api_overrides = {"preferred_dates": [{"date": sunday().strftime("%m/%d/%Y"), "time_of_day": "noon"}]}
        web_overrides = {"preferred_date_1": sunday().strftime("%m/%d/%Y"), "preferred_time_1": "noon"}
    data = {k: v for k, v in body(**api_overrides).items() if v is not None}
    api = errors_of(post(client, data))
    web = {
        _api_name(name): [message] for name, message in web_errors(client, web_post(**web_overrides)).items()
    }
    assert api and {f: " ".join(m) for f, m in api.items()} == {f: m[0] for f, m in web.items()}
    assert not AppointmentRequest.objects.exists()


def test_spam_defences_of_the_browser_form_are_not_fields_of_the_api(demo, client):
    found = errors_of(post(client, body(website="http://spam.example", token="abc", started="x")))
    assert found == {
        "website": ["Unknown field."],
        "token": ["Unknown field."],
        "started": ["Unknown field."],
    }


# --- wrong shapes: always a 422 in the same format, never a 500 ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{not json", {"body": ["The body is not valid JSON (UTF-8 text)."]}),
        (b'{"first_name": "Mar\xffia"}', {"body": ["The body is not valid JSON (UTF-8 text)."]}),
        (b"[1, 2, 3]", {"body": ["Must be an object."]}),
        (b'"hello"', {"body": ["Must be an object."]}),
        (b"null", {"body": ["Must be an object."]}),
        (b"", {"body": ["Send the appointment request as a JSON object."]}),
        (b"[" * 100_000 + b"]" * 100_000, {"body": ["The body is not valid JSON (UTF-8 text)."]}),
    ],
)
def test_malformed_bodies(demo, client, raw, expected):
    assert errors_of(post(client, raw)) == expected
    assert not AppointmentRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"first_name": 123}, {"first_name": ["Must be text (a JSON string)."]}),
        ({"date_of_birth": ["04", "27", "1961"]}, {"date_of_birth": ["Must be text (a JSON string)."]}),
        ({"has_medicare": "no"}, {"has_medicare": ["Must be true or false."]}),
        ({"consent_to_contact": 1}, {"consent_to_contact": ["Must be true or false."]}),
        ({"preferred_practitioner": "1"}, {"preferred_practitioner": ["Must be a whole number, or null."]}),
        ({"preferred_practitioner": 1.5}, {"preferred_practitioner": ["Must be a whole number, or null."]}),
        ({"red_flags": {"fever": "no"}}, {"red_flags.fever": ["Must be true or false."]}),
        ({"red_flags": {"headache": False}}, {"red_flags.headache": ["Unknown field."]}),
        ({"red_flags": [False]}, {"red_flags": ["Must be an object."]}),
        ({"preferred_dates": {"date": "01/01/2030"}}, {"preferred_dates": ["Must be a list."]}),
        (
            {"preferred_dates": [{"date": 20300101}]},
            {"preferred_dates[0].date": ["Must be text (a JSON string)."]},
        ),
        ({"preferred_dates": [{"date": "x", "hour": 9}]}, {"preferred_dates[0].hour": ["Unknown field."]}),
        (
            {"preferred_dates": [{"date": "01/05/2030"}] * 4},
            {"preferred_dates": ["Choose at most 3 preferred dates."]},
        ),
        ({"nickname": "Mia"}, {"nickname": ["Unknown field."]}),
    ],
)
def test_wrong_types(demo, client, overrides, expected):
    assert errors_of(post(client, body(**overrides))) == expected
    assert not AppointmentRequest.objects.exists()


@pytest.mark.parametrize("practitioner", [10**30, -(10**30), 2**63, 0, -1])
def test_practitioner_ids_out_of_any_range(demo, client, practitioner):
    found = errors_of(post(client, body(preferred_practitioner=practitioner)))
    assert list(found) == ["preferred_practitioner"]


def test_null_text_is_the_same_as_missing(demo, client):
    assert errors_of(post(client, body(first_name=None)))["first_name"] == ["Enter your first name."]


def test_a_body_over_the_upload_limit_is_refused_without_reading_it(demo, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    found = errors_of(post(client, body(message="x" * 20_000)))
    assert found == {"body": ["The request is too large."]}
    assert not AppointmentRequest.objects.exists()


def test_a_body_over_the_default_limit(demo, client):
    assert errors_of(post(client, body(message="x" * (3 * 1024 * 1024)))) == {
        "body": ["The request is too large."]
    }


@pytest.mark.parametrize("value", ["\x00", "Maria\x00", "\u202eairaM", "😀" * 100, "Mar\x1bia"])
def test_hostile_text_never_breaks_the_database(demo, client, value):
    raw = json.dumps(body(first_name=value, message=value, reason_detail=value))
    response = post(client, raw)
    assert response.status_code in (201, 422), response.content
    if response.status_code == 422:
        assert not AppointmentRequest.objects.exists()


@pytest.mark.parametrize("where", ["first_name", "message", "key"])
def test_a_lone_surrogate_is_refused_not_a_500(demo, client, where):
    """JSON may escape half a UTF-16 pair ("\\ud800"); no database stores it (found by the test above)."""
    data = body(**({"nickname\ud800": "x"} if where == "key" else {where: "Mar\ud800ia"}))
    assert errors_of(post(client, json.dumps(data))) == {"body": ["The body is not valid JSON (UTF-8 text)."]}
    assert not AppointmentRequest.objects.exists()


# --- rate limit and idempotency -----------------------------------------------------------------------------


def test_rate_limited_like_the_form_with_a_429(demo, client, monkeypatch):
    monkeypatch.setattr(services, "RATE_LIMIT_PER_HOUR", 2)
    assert [post(client, body()).status_code for _ in range(2)] == [201, 201]
    response = post(client, body())
    assert response.status_code == 429
    assert response.json() == {
        "errors": [{"field": None, "message": "Too many requests from this address. Please try again later."}]
    }
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert AppointmentRequest.objects.count() == 2  # refused, not stored
    # Invalid requests are answered (the patient learns what to fix) and count for nothing.
    assert post(client, body(first_name="")).status_code == 422
    # Another address has its own allowance.
    other = client.post(URL, json.dumps(body()), content_type="application/json", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 201


def test_same_idempotency_key_same_request_is_stored_once(demo, client, django_capture_on_commit_callbacks):
    key = str(uuid.uuid4())
    with django_capture_on_commit_callbacks() as callbacks:
        first = post(client, body(), **{"Idempotency-Key": key})
        second = post(client, body(), **{"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert AppointmentRequest.objects.count() == 1 and RequestNotification.objects.count() == 1
    assert PreferredTime.objects.count() == 1 and len(callbacks) == 1
    assert AppointmentRequest.objects.get().submission_token.startswith("api:")


def test_a_reused_key_never_reveals_another_request(demo, client):
    key = "retry-1"
    first = post(client, body(), **{"Idempotency-Key": key})
    assert first.status_code == 201
    other = post(
        client,
        body(first_name="Eve", red_flags={**body()["red_flags"], "fever": True}),
        **{"Idempotency-Key": key},
    )
    assert errors_of(other) == {
        "Idempotency-Key": ["This Idempotency-Key was already used for a different request. Use a new key."]
    }
    assert first.json()["reference"] not in other.content.decode()
    assert AppointmentRequest.objects.count() == 1


def test_a_key_cannot_reach_a_web_form_request(demo, client):
    web_token = uuid.uuid4().hex
    assert client.post(FORM_URL, web_post(token=web_token)).status_code == 302
    response = post(client, body(), **{"Idempotency-Key": web_token})
    assert response.status_code == 201
    assert AppointmentRequest.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "two words", "clé"])
def test_bad_idempotency_keys(demo, client, key):
    response = client.post(
        URL,
        json.dumps(body()),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )
    assert list(errors_of(response)) == ["Idempotency-Key"]
    assert not AppointmentRequest.objects.exists()


def test_long_keys_fit_the_token_column(demo, client):
    assert post(client, body(), **{"Idempotency-Key": "k" * 255}).status_code == 201
    assert len(AppointmentRequest.objects.get().submission_token) <= 64


# --- schema and docs ----------------------------------------------------------------------------------------


def test_openapi_schema_and_docs_are_served(demo, client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Acuclinic API" and schema["info"]["version"] == "1"
    operation = schema["paths"]["/api/v1/appointment-requests"]["post"]
    assert set(operation["responses"]) == {"201", "415", "422", "429"}
    components = schema["components"]["schemas"]
    assert set(components["RedFlagAnswers"]["properties"]) == {q.key for q in triage.QUESTIONS}
    assert "first_name" in components["AppointmentRequestIn"]["required"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/api/v1/openapi.json" in docs.content
    assert reverse("acuclinic_api:openapi-json") == "/api/v1/openapi.json"


def test_other_methods_are_not_allowed(demo, client):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"]
)
def test_only_json_is_accepted_so_a_cross_site_form_cannot_post(demo, client, content_type):
    """A form on another site can send text/plain or form data without a CORS preflight, never application/json."""
    response = client.post(URL, json.dumps(body()), content_type=content_type)
    assert response.status_code == 415
    assert response.json() == {
        "errors": [
            {
                "field": "body",
                "message": "Send the appointment request as JSON (Content-Type: application/json).",
            }
        ]
    }
    assert not AppointmentRequest.objects.exists()

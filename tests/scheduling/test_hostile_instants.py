"""Hostile dates and instants on every public route that reads one: a clear 400/422 with a message, never a 500.

The issue's example, ``0001-01-01T00:00:00+05:00``, overflowed in ``astimezone`` on /book/, /book/details/,
/book/manage/…/move/ and /api/fhir/Slot. ROUTES lists every public route that parses a date, a time or an
instant (``grep -rn "fromisoformat\\|parse_datetime\\|strptime\\|astimezone" acuclinic/``); a new one belongs
here. The explicit cases run first, then hypothesis sends extreme datetimes and offsets to every route.
"""

import json
from datetime import UTC, time, timedelta, timezone

import pytest
from django.core.cache import cache
from django.db import transaction
from freezegun import freeze_time
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from acuclinic.scheduling import fhir as mapping
from acuclinic.scheduling.booking_views import manage_token
from acuclinic.scheduling.models import WorkingHours
from acuclinic.scheduling.services import book_appointment

from .conftest import DAY, NOW, make_clinic

pytestmark = pytest.mark.django_db

EXPLICIT = [
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-14:00",
    "0001-01-01T00:00:00+99:00",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59+99:00",
    "2030-06-03T09:00:00+99:00",
    "2030-06-03T25:00:00-04:00",
    "2030-06-03T09:00:00-14:30",
    "0001-01-01",
    "9999-12-31",
]


@pytest.fixture
def clinic(db):
    with freeze_time(NOW):
        clinic = make_clinic()
        for p in (clinic.practitioner, clinic.other_practitioner):
            p.locations.add(clinic.location)
            for weekday in range(5):
                WorkingHours.objects.create(
                    practitioner=p,
                    location=clinic.location,
                    weekday=weekday,
                    starts_at=time(9),
                    ends_at=time(12),
                )
        appointment = book_appointment(
            patient=clinic.patient,
            practitioner=clinic.practitioner,
            room=clinic.room,
            appointment_type=clinic.follow_up,
            start=clinic.at(10, day=DAY + timedelta(days=7)),
        )
        clinic.token = manage_token(appointment)
        clinic.appointment = appointment
        yield clinic


def _choice(clinic, **extra):
    return {"location": clinic.location.pk, "type": clinic.follow_up.pk, "practitioner": "any", **extra}


def _details(clinic):
    return {
        "first_name": "Ana",
        "last_name": "Lopez",
        "date_of_birth": "04/27/1961",
        "email": "a@example.org",
    }


def _fhir_booking(clinic, value):
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "start": value,
        "end": value,
        "participant": [
            {"actor": {"reference": f"Practitioner/{clinic.practitioner.pk}"}, "status": "accepted"}
        ],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "name": [{"family": "Lopez", "given": ["Ana"]}],
                "birthDate": "1970-01-02",
                "telecom": [{"system": "email", "value": "ana@example.org"}],
            }
        ],
    }


def _slot_id(clinic, value):
    """A slot id carrying a crafted start (the id's time is UTC, as YYYYMMDDTHHMM)."""
    digits = "".join(ch for ch in value[:16] if ch.isdigit())
    return f"{clinic.practitioner.pk}-{clinic.location.pk}.{clinic.follow_up.pk}.{digits[:8]}T{digits[8:12]}"


# (name, kind, request): kind "html" answers 400 with a message on the page, "fhir" 422 with an OperationOutcome.
ROUTES = {
    "book?day": ("html", lambda c, cl, v: c.get("/book/", _choice(cl, day=v))),
    "book?from": ("html", lambda c, cl, v: c.get("/book/", _choice(cl, **{"from": v}))),
    "book?start": ("html", lambda c, cl, v: c.get("/book/", _choice(cl, start=v))),
    "details GET": ("html", lambda c, cl, v: c.get("/book/details/", _choice(cl, start=v))),
    "details POST": (
        "html",
        lambda c, cl, v: c.post("/book/details/", {**_choice(cl, start=v), **_details(cl)}),
    ),
    "move?day": ("html", lambda c, cl, v: c.get(f"/book/manage/{cl.token}/move/", {"day": v})),
    "move POST": ("html", lambda c, cl, v: c.post(f"/book/manage/{cl.token}/move/", {"start": v})),
    "earlier POST": ("html", lambda c, cl, v: c.post(f"/book/manage/{cl.token}/earlier/", {"earliest": v})),
    "fhir Slot start": (
        "fhir",
        lambda c, cl, v: c.get(
            "/api/fhir/Slot",
            {"schedule": mapping.schedule_id(cl.practitioner, cl.location), "start": f"ge{v}"},
        ),
    ),
    "fhir Slot start eq": (
        "fhir",
        lambda c, cl, v: c.get(
            "/api/fhir/Slot", {"schedule": mapping.schedule_id(cl.practitioner, cl.location), "start": v}
        ),
    ),
    "fhir Appointment start": (
        "fhir",
        lambda c, cl, v: c.post(
            "/api/fhir/Appointment", json.dumps(_fhir_booking(cl, v)), content_type="application/fhir+json"
        ),
    ),
    "fhir Appointment slot": (
        "fhir",
        lambda c, cl, v: c.post(
            "/api/fhir/Appointment",
            json.dumps({**_fhir_booking(cl, None), "slot": [{"reference": f"Slot/{_slot_id(cl, v)}"}]}),
            content_type="application/fhir+json",
        ),
    ),
}


def check_answer(kind, response, *, refused_expected: bool):
    assert response.status_code < 500, response.content[:2000]
    if kind == "fhir":
        if response.status_code >= 400:
            assert response.status_code in (404, 409, 422), response.status_code
            outcome = response.json()
            assert outcome["resourceType"] == "OperationOutcome"
            assert all(issue.get("diagnostics") for issue in outcome["issue"])
        elif refused_expected:
            pytest.fail(f"accepted {response.status_code}")
        return
    if response.status_code >= 400:
        assert response.status_code in (400, 409), response.status_code
        page = response.content.decode()
        assert 'role="alert"' in page or "field--error" in page, page[
            :3000
        ]  # on the page or next to the field
    elif refused_expected:
        # A move or a booking step may also send the patient back a step (302): never a page built on it.
        assert response.status_code == 302, response.status_code


@pytest.mark.parametrize("value", EXPLICIT)
@pytest.mark.parametrize("route", ROUTES)
def test_explicit_hostile_instants(client, clinic, route, value):
    kind, send = ROUTES[route]
    cache.clear()
    with freeze_time(NOW):
        response = send(client, clinic, value)
    check_answer(kind, response, refused_expected=not route.startswith("earlier"))
    if kind == "html" and response.status_code == 400 and route != "earlier POST":
        assert "could not read" in response.content.decode()
    if kind == "fhir" and route != "fhir Appointment slot":
        assert response.status_code == 422
    clinic.appointment.refresh_from_db()
    assert clinic.appointment.start == clinic.at(10, day=DAY + timedelta(days=7))  # nothing moved


def test_the_issue_example_answers_400_with_the_message_on_each_named_route(client, clinic):
    value = "0001-01-01T00:00:00+05:00"
    with freeze_time(NOW):
        for route in ("book?start", "details GET", "details POST", "move POST"):
            response = ROUTES[route][1](client, clinic, value)
            assert response.status_code == 400, route
            assert "We could not read that date or time" in response.content.decode(), route
        response = ROUTES["move?day"][1](client, clinic, "0001-01-01")
        assert response.status_code == 400
        slot = ROUTES["fhir Slot start"][1](client, clinic, value)
        assert slot.status_code == 422
        assert slot.json()["issue"][0]["expression"] == ["start"]


# --- hypothesis: extreme datetimes and offsets on every route -------------------------------------------------

years = st.one_of(st.sampled_from([1, 2, 1899, 1900, 2199, 2200, 2030, 9998, 9999]), st.integers(1, 9999))
offset_text = st.one_of(
    st.sampled_from(
        ["Z", "+00:00", "+14:00", "-14:00", "+14:01", "-14:01", "+99:00", "-99:00", "+23:59", ""]
    ),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
        lambda m: f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
    ),
)
crafted = st.builds(
    lambda y, mo, d, h, mi, s, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{off}",
    years,
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    offset_text,
)
real = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1),
)
days = st.builds(lambda y, mo, d: f"{y:04d}-{mo:02d}-{d:02d}", years, st.integers(0, 13), st.integers(0, 32))
extreme = st.one_of(crafted, real, days, st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()))


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(route=st.sampled_from(sorted(ROUTES)), value=extreme)
def test_extreme_instants_on_every_route(client, clinic, route, value):
    kind, send = ROUTES[route]
    with transaction.atomic():
        cache.clear()
        with freeze_time(NOW):
            response = send(client, clinic, value)
        event(f"{route} answered {response.status_code}")
        check_answer(kind, response, refused_expected=False)
        transaction.set_rollback(True)

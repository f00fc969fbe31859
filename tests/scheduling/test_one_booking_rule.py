"""One rule for every booking path: a start must be one the slot search would offer (the 30-minute wall-clock grid,
hours, notice, horizon, closures, licence). A crafted start between the half-hours (2:13 PM) is refused by /book/,
by the patient's move, by the waitlist's booking, by the FHIR API (422 OperationOutcome) and by the desk's
booking, move and series — the desk may book it anyway with a reason, which names the rule in the audit log."""

import json
from datetime import UTC, date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from freezegun import freeze_time

from acuclinic.accounts.models import AuditEvent
from acuclinic.accounts.patient_links import Purpose, make_token
from acuclinic.scheduling import fhir as mapping
from acuclinic.scheduling import plans
from acuclinic.scheduling.availability import free_slots, on_grid
from acuclinic.scheduling.models import Appointment
from acuclinic.scheduling.services import book_appointment, local_start, reschedule_appointment
from tests.factories import make_user

from .conftest import DAY, NOW

pytestmark = pytest.mark.django_db

TUESDAY = DAY + timedelta(days=1)
GRID_MESSAGE = "30-minute steps"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


@pytest.fixture
def setup(clinic):
    for p in (clinic.practitioner, clinic.other_practitioner):
        p.locations.add(clinic.location)
    clinic.patient.email = "grid@example.org"
    clinic.patient.save()
    return clinic


def off_grid(clinic):
    return clinic.at(14, 13, day=TUESDAY)


def test_the_grid_is_the_slot_searchs(setup):
    offered = free_slots(
        appointment_type=setup.follow_up,
        location=setup.location,
        day_from=TUESDAY,
        day_to=TUESDAY,
        practitioner=setup.practitioner,
        now=NOW,
    )
    assert offered and all(on_grid(setup.location, slot.start) for slot in offered)
    assert not on_grid(setup.location, off_grid(setup))
    assert not on_grid(setup.location, setup.at(14, day=TUESDAY) + timedelta(seconds=1))
    # The autumn night's repeated 01:30 is offered once online (its first pass); the desk may book the second.
    second_pass = local_start(setup.location, date(2030, 11, 3), time(1, 30), fold=1)
    assert not on_grid(setup.location, second_pass)
    assert on_grid(setup.location, second_pass, second_pass=True)


def test_book_online_refuses_an_off_grid_start(client, setup):
    response = client.post(
        reverse("booking_details"),
        {
            "location": setup.location.pk,
            "type": setup.first_visit.pk,
            "practitioner": setup.practitioner.slug,
            "who": "new",
            "start": off_grid(setup).isoformat(),
            "first_name": "Nia",
            "last_name": "New",
            "date_of_birth": "01/02/1980",
            "email": "nia@example.org",
            "phone": "",
        },
    )
    assert response.status_code == 400 and GRID_MESSAGE in response.text
    assert not Appointment.objects.exists()


def test_the_patients_move_refuses_an_off_grid_start(client, setup):
    appointment = book_appointment(
        patient=setup.patient,
        practitioner=setup.practitioner,
        room=setup.room,
        appointment_type=setup.follow_up,
        start=setup.at(10, day=TUESDAY),
    )
    token = make_token(purpose=Purpose.MANAGE_BOOKING, object_id=appointment.pk)
    response = client.post(
        reverse("booking_move", kwargs={"token": token}), {"start": off_grid(setup).isoformat()}
    )
    assert response.status_code == 400 and GRID_MESSAGE in response.text
    appointment.refresh_from_db()
    assert appointment.start == setup.at(10, day=TUESDAY)


def test_every_online_write_refuses_it(setup):
    """The waitlist's booking (online, not a new booking) and an online move go through the same check."""
    with pytest.raises(ValidationError) as refused:
        book_appointment(
            patient=setup.patient,
            practitioner=setup.practitioner,
            room=setup.room,
            appointment_type=setup.follow_up,
            start=off_grid(setup),
            online=True,
            new_booking=False,
        )
    assert [e.code for e in refused.value.error_list] == ["off_grid"]
    appointment = book_appointment(
        patient=setup.patient,
        practitioner=setup.practitioner,
        room=setup.room,
        appointment_type=setup.follow_up,
        start=setup.at(10, day=TUESDAY),
    )
    with pytest.raises(ValidationError, match=GRID_MESSAGE):
        reschedule_appointment(appointment=appointment, start=off_grid(setup), by=None, online=True)


def fhir_booking(setup, **fields):
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "participant": [
            {"actor": {"reference": "#patient"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{setup.practitioner.pk}"}, "status": "accepted"},
            {"actor": {"reference": f"Location/{setup.location.pk}"}, "status": "accepted"},
        ],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "name": [{"family": "Grid", "given": ["Ana"]}],
                "birthDate": "1970-01-02",
                "telecom": [{"system": "email", "value": "ana@example.org"}],
            }
        ],
        **fields,
    }


@pytest.mark.parametrize("by", ["slot", "start"])
def test_the_fhir_api_refuses_an_off_grid_start(client, setup, by):
    start = off_grid(setup)
    if by == "slot":
        slot = mapping.slot_id(
            practitioner_id=setup.practitioner.pk,
            location_id=setup.location.pk,
            type_id=setup.first_visit.pk,
            start=start,
        )
        data = fhir_booking(setup, slot=[{"reference": f"Slot/{slot}"}])
    else:
        data = fhir_booking(
            setup,
            start=start.astimezone(UTC).isoformat(),
            end=(start + setup.first_visit.duration).astimezone(UTC).isoformat(),
            serviceType=[mapping.service_type(setup.first_visit)],
        )
    response = client.post("/api/fhir/Appointment", json.dumps(data), content_type="application/fhir+json")
    assert response.status_code == 422 and response["Content-Type"] == "application/fhir+json"
    outcome = OperationOutcome.model_validate(response.json())
    assert any(GRID_MESSAGE in issue.diagnostics for issue in outcome.issue)
    assert not Appointment.objects.exists()


@pytest.fixture
def desk(setup):
    client = Client()
    client.force_login(make_user("desk-grid", "Front desk"))
    return client


def test_the_desk_books_off_grid_only_with_a_reason(setup, desk):
    data = {
        "book-patient": setup.patient.pk,
        "book-appointment_type": setup.follow_up.pk,
        "book-practitioner": setup.practitioner.pk,
        "book-location": setup.location.pk,
        "book-room": "",
        "book-date": f"{TUESDAY:%m/%d/%Y}",
        "book-time": "14:13",
        "book-override_reason": "",
    }
    response = desk.post("/admin/schedule/book/", data)
    assert response.status_code == 400 and GRID_MESSAGE in response.text
    assert "To book it anyway, give the reason here." in response.text and not Appointment.objects.exists()
    response = desk.post("/admin/schedule/book/", {**data, "book-override_reason": "Bus timetable"})
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.start == off_grid(setup) and appointment.override_reason == "Bus timetable"
    audit = AuditEvent.objects.get(
        action=AuditEvent.Action.CREATE, object_type="scheduling.appointment", object_id=str(appointment.pk)
    )
    assert "override=off_grid" in audit.detail and "Bus" not in audit.detail


def test_the_desk_moves_off_grid_only_with_a_reason(setup, desk):
    appointment = book_appointment(
        patient=setup.patient,
        practitioner=setup.practitioner,
        room=setup.room,
        appointment_type=setup.follow_up,
        start=setup.at(10, day=TUESDAY),
    )
    url = f"/admin/schedule/appointments/{appointment.pk}/move/"
    data = {
        "move-date": f"{TUESDAY:%m/%d/%Y}",
        "move-time": "14:13",
        "move-practitioner": setup.practitioner.pk,
    }
    response = desk.post(url, data)
    assert response.status_code == 400 and GRID_MESSAGE in response.text
    appointment.refresh_from_db()
    assert appointment.start == setup.at(10, day=TUESDAY)
    assert desk.post(url, {**data, "move-override_reason": "Bus timetable"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == off_grid(setup)


def test_a_desk_series_checks_the_grid(setup):
    code, reason, _room = plans._check(
        patient=setup.patient,
        practitioner=setup.practitioner,
        location=setup.location,
        appointment_type=setup.follow_up,
        start=off_grid(setup),
        now=NOW,
    )
    assert code == "off_grid" and "grid" in reason

"""An independent FHIR client drives the API over HTTP: fhirpy (its sync client, `requests` underneath) against a
live server, as an integrator would. It gets an OAuth token, discovers the server from `metadata`, lists the
schedules, searches slots page by page (`_count`, following `next`), books, reads the booking back, sees the slot
busy, cancels, reads it cancelled. Every resource is validated with fhir.resources (R4B)."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient

from acuclinic.api.clients import register_client
from acuclinic.scheduling import fhir as mapping
from acuclinic.scheduling.models import Appointment, AppointmentStatus
from tests.scheduling.conftest import make_clinic

pytestmark = pytest.mark.django_db(transaction=True)


def valid(resource) -> dict:
    data = dict(resource)
    get_fhir_model_class(data["resourceType"]).model_validate(data)
    return data


def test_a_fhirpy_client_discovers_searches_books_reads_and_cancels(live_server):
    clinic = make_clinic(working_hours=True)
    for p in (clinic.practitioner, clinic.other_practitioner):
        p.locations.add(clinic.location)
    _, client_id, secret = register_client(
        name="Journey app", scopes=["slots.read", "appointments.write"], bookings_per_hour=20, by=None
    )
    token = requests.post(
        f"{live_server.url}/oauth/token/",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10,
    ).json()["access_token"]
    fhir = SyncFHIRClient(f"{live_server.url}/api/fhir", authorization=f"Bearer {token}")

    # Discover.
    statement = valid(fhir.execute("metadata", method="get"))
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {"create", "read", "patch"} <= {i["code"] for i in resources["Appointment"]["interaction"]}
    assert {"schedule", "start"} <= {p["name"] for p in resources["Slot"]["searchParam"]}

    # Schedules, then a day's free slots two at a time: fetch_all follows the `next` links.
    schedules = [valid(s) for s in fhir.resources("Schedule").fetch_all()]
    schedule = next(
        s for s in schedules if s["id"] == mapping.schedule_id(clinic.practitioner, clinic.location)
    )
    practitioner = valid(fhir.get("Practitioner", str(clinic.practitioner.pk)))
    assert practitioner["name"][0]["text"] == clinic.practitioner.name
    day = timezone.localdate(timezone=clinic.location.zone) + timedelta(days=3)
    search = fhir.resources("Slot").search(
        schedule=schedule["id"], start=[f"ge{day}", f"lt{day + timedelta(days=1)}"]
    )
    first_visit = f"{mapping.type_system()}|{clinic.first_visit.pk}"
    slots = [valid(s) for s in search.search(**{"service-type": first_visit}).limit(2).fetch_all()]
    assert len(slots) == 19  # 08:00–17:00 on the half hours (hour-long visits end by 18:00), in ten pages
    assert all(s["status"] == "free" for s in slots)
    slot = slots[4]

    # Book, read back.
    appointment = fhir.resource(
        "Appointment",
        status="booked",
        slot=[{"reference": f"Slot/{slot['id']}"}],
        participant=[{"actor": {"reference": "#patient"}, "status": "accepted"}],
        contained=[
            {
                "resourceType": "Patient",
                "id": "patient",
                "name": [{"family": "Journey", "given": ["Ada"]}],
                "birthDate": "1975-05-05",
                "telecom": [{"system": "email", "value": "ada@example.org"}],
            }
        ],
    )
    appointment.save()  # POST /Appointment; the resource takes the server's answer
    booked = valid(appointment.serialize())
    manage = next(e["valueString"] for e in booked["extension"] if e["url"] == mapping.manage_token_url())
    read = valid(fhir.get("Appointment", manage))
    assert read["status"] == "booked" and read["start"] == slot["start"]
    assert valid(fhir.get("Slot", slot["id"]))["status"] == "busy"

    # Cancel, read back.
    cancelled = valid(fhir.patch("Appointment", manage, status="cancelled"))
    assert cancelled["status"] == "cancelled"
    assert valid(fhir.get("Appointment", manage))["status"] == "cancelled"
    assert Appointment.objects.get().status == AppointmentStatus.CANCELLED
    assert valid(fhir.get("Slot", slot["id"]))["status"] == "free"

"""API clients (OAuth 2.0 client credentials): registered by an administrator in the back office, each with its
scopes and its own booking allowance, every call audited under its name; anonymous callers keep the per-address
allowance. An OAuth client books 50 appointments in an hour without a 429 while an anonymous address gets one after
10."""

import base64
import json
import re

import pytest
from django.test import Client
from freezegun import freeze_time

from acuclinic.accounts.models import AuditEvent
from acuclinic.api.clients import register_client
from acuclinic.api.models import ApiClient
from acuclinic.appointments import services as appointment_services
from acuclinic.scheduling import availability
from acuclinic.scheduling import fhir as mapping
from acuclinic.scheduling.models import Appointment
from tests.factories import make_user
from tests.scheduling.conftest import DAY, NOW, make_clinic

from .test_fhir_scheduling import FHIR

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(db):
    with freeze_time(NOW):
        clinic = make_clinic(working_hours=True)  # 08:00–18:00 every day
        for p in (clinic.practitioner, clinic.other_practitioner):
            p.locations.add(clinic.location)
    return clinic


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def token_for(client_id: str, secret: str, scope: str | None = None) -> dict:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = Client().post("/oauth/token/", data, HTTP_AUTHORIZATION=f"Basic {basic}")
    return {"status": response.status_code, **response.json()}


def registered(name="Riverside portal", scopes=("slots.read", "appointments.write"), per_hour=200):
    client, client_id, secret = register_client(
        name=name, scopes=list(scopes), bookings_per_hour=per_hour, by=None
    )
    return client, token_for(client_id, secret)["access_token"]


def first_visit_slots(clinic, count):
    """Free first-visit slots that can all be booked: one practitioner's do not overlap each other."""
    chosen = []
    for practitioner in (clinic.practitioner, clinic.other_practitioner):
        busy_until = None
        for slot in availability.free_slots(
            appointment_type=clinic.first_visit,
            location=clinic.location,
            practitioner=practitioner,
            day_from=DAY,
            day_to=DAY.replace(day=DAY.day + 4),
            now=NOW,
        ):
            if busy_until is None or slot.start >= busy_until:
                chosen.append(slot)
                busy_until = slot.end
    assert len(chosen) >= count
    return chosen[:count]


def booking_body(clinic, slot, n: int) -> str:
    slot_id = mapping.slot_id(
        practitioner_id=slot.practitioner_id,
        location_id=slot.location_id,
        type_id=clinic.first_visit.pk,
        start=slot.start,
    )
    return json.dumps(
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot_id}"}],
            "participant": [{"actor": {"reference": "#patient"}, "status": "accepted"}],
            "contained": [
                {
                    "resourceType": "Patient",
                    "id": "patient",
                    "name": [{"family": f"Client{n}", "given": ["Pat"]}],
                    "birthDate": "1970-01-02",
                    "telecom": [{"system": "email", "value": f"pat{n}@example.org"}],
                }
            ],
        }
    )


def test_an_administrator_registers_a_client_in_the_back_office_and_sees_the_secret_once(demo):
    admin = make_user("admin-clients", "Administrators")
    web = Client()
    web.force_login(admin)
    page = web.get("/admin/api-clients/")
    assert page.status_code == 200 and "Register a client" in page.text
    response = web.post(
        "/admin/api-clients/",
        {
            "name": "Riverside portal",
            "scopes": ["slots.read", "appointments.write"],
            "bookings_per_hour": "60",
        },
    )
    assert response.status_code == 200 and "copy its secret now" in response.text
    client_id = re.search(r'id="client-id" type="text" readonly value="([^"]+)"', response.text)[1]
    secret = re.search(r'id="client-secret" type="text" readonly value="([^"]+)"', response.text)[1]
    assert secret not in web.get("/admin/api-clients/").text  # shown once
    client = ApiClient.objects.get()
    assert client.bookings_per_hour == 60 and client.scope_list == ["appointments.write", "slots.read"]
    assert client.application.client_secret != secret  # stored hashed
    assert AuditEvent.objects.filter(
        action="create", object_id=str(client.pk), actor_username="admin-clients"
    )
    token = token_for(client_id, secret)
    assert token["status"] == 200 and set(token["scope"].split()) == {"slots.read", "appointments.write"}
    # Other roles do not see the page.
    desk = Client()
    desk.force_login(make_user("desk-clients", "Front desk"))
    assert desk.get("/admin/api-clients/").status_code == 403
    # Switched off: its token stops working, and no new one is issued.
    web.post(f"/admin/api-clients/{client.pk}/switch-off/")
    refused = Client().get("/api/fhir/Schedule", HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    assert refused.status_code == 401 and refused["Content-Type"] == FHIR
    assert token_for(client_id, secret)["status"] in (400, 401)


def test_a_client_books_50_in_an_hour_while_an_anonymous_address_is_stopped_after_10(clinic, monkeypatch):
    monkeypatch.setattr(appointment_services, "RATE_LIMIT_PER_HOUR", 10)
    api_client, token = registered()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    web = Client()
    slots = first_visit_slots(clinic, 62)
    for n, slot in enumerate(slots[:50]):
        response = web.post("/api/fhir/Appointment", booking_body(clinic, slot, n), content_type=FHIR, **auth)
        assert response.status_code == 201, (n, response.content)
    anonymous = [
        web.post("/api/fhir/Appointment", booking_body(clinic, slot, 100 + n), content_type=FHIR).status_code
        for n, slot in enumerate(slots[50:61])
    ]
    assert anonymous == [201] * 10 + [429]
    assert Appointment.objects.count() == 60
    # The audit log names the client: each booking, and each call.
    named = AuditEvent.objects.filter(actor_username="api-client:Riverside portal")
    assert named.filter(action="create", object_type="scheduling.appointment").count() == 50
    assert (
        named.filter(
            object_type="acuclinic_api.apiclient", detail__startswith="POST /api/fhir/Appointment -> 201"
        ).count()
        == 50
    )
    # An anonymous booking names nobody.
    assert AuditEvent.objects.filter(object_type="scheduling.appointment", actor_username="").count() == 10


def test_a_clients_own_allowance_and_scopes(clinic):
    _, token = registered(name="Small", per_hour=2)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    web = Client()
    slots = first_visit_slots(clinic, 3)
    statuses = [
        web.post("/api/fhir/Appointment", booking_body(clinic, s, n), content_type=FHIR, **auth).status_code
        for n, s in enumerate(slots)
    ]
    assert statuses == [201, 201, 429]
    _, read_only = registered(name="Reader", scopes=("slots.read",))
    reader = {"HTTP_AUTHORIZATION": f"Bearer {read_only}"}
    assert web.get("/api/fhir/Schedule", **reader).status_code == 200
    refused = web.post(
        "/api/fhir/Appointment", booking_body(clinic, slots[2], 9), content_type=FHIR, **reader
    )
    assert refused.status_code == 403 and 'error="insufficient_scope"' in refused["WWW-Authenticate"]
    assert refused.json()["resourceType"] == "OperationOutcome"
    bad = web.get("/api/fhir/Schedule", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.status_code == 401 and 'error="invalid_token"' in bad["WWW-Authenticate"]
    # A client cannot ask for a scope the clinic did not give it.
    client, client_id, secret = register_client(
        name="Greedy", scopes=["slots.read"], bookings_per_hour=5, by=None
    )
    assert token_for(client_id, secret, scope="appointments.write")["status"] == 400
    assert AuditEvent.objects.filter(actor_username="api-client:Reader", detail__contains="-> 403").exists()

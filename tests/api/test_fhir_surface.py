"""The FHIR surface a client discovers and follows: CapabilityStatement, reads of every resource we reference (public
data only), fullUrls that resolve, paging with _count and `next`, canonical URLs from a setting (each served), an
OperationOutcome (application/fhir+json) for every error, and cancelling with the manage token."""

from datetime import time, timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client, override_settings
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from freezegun import freeze_time

from acuclinic.scheduling import fhir as mapping
from acuclinic.scheduling.models import Appointment, AppointmentStatus, Practitioner, WorkingHours
from tests.scheduling.conftest import DAY, NOW, make_clinic

from .test_fhir_scheduling import FHIR, booking, first_visit_slot, post, schedule_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(db):
    with freeze_time(NOW):
        clinic = make_clinic()
        for p in (clinic.practitioner, clinic.other_practitioner):
            p.locations.add(clinic.location)
            WorkingHours.objects.create(
                practitioner=p, location=clinic.location, weekday=0, starts_at=time(9), ends_at=time(12)
            )
    return clinic


def fhir_get(client, address, **params):
    parts = urlsplit(address)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    response = client.get(path, params or None)
    assert response["Content-Type"] == FHIR, (address, response.status_code)
    return response


def validated(data: dict):
    return get_fhir_model_class(data["resourceType"]).model_validate(data)


def outcome(response, status: int) -> OperationOutcome:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR
    return OperationOutcome.model_validate(response.json())


def test_metadata_lists_every_resource_interaction_and_search_parameter(clinic, client):
    response = fhir_get(client, "/api/fhir/metadata")
    assert response.status_code == 200
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1" and statement.kind == "instance"
    assert statement.implementation.url == "http://testserver/api/fhir"
    resources = {r.type: r for r in statement.rest[0].resource}
    assert set(resources) == {
        "Appointment",
        "Slot",
        "Schedule",
        "Practitioner",
        "Location",
        "CodeSystem",
        "StructureDefinition",
    }
    assert {i.code for i in resources["Appointment"].interaction} == {"create", "read", "update", "patch"}
    assert {p.name for p in resources["Slot"].searchParam} == {"schedule", "start", "service-type"}
    # Every read and search it announces answers.
    for kind, resource in resources.items():
        codes = {i.code for i in resource.interaction}
        if "search-type" in codes and kind != "Slot":
            assert fhir_get(client, f"/api/fhir/{kind}").status_code == 200, kind


def test_every_full_url_resolves_to_the_same_public_resource(clinic, client):
    with freeze_time(NOW):
        seen = set()
        for kind, params in (
            ("Schedule", {}),
            ("Slot", {"schedule": schedule_of(clinic), "start": f"eq{DAY}"}),
            ("Practitioner", {}),
            ("Location", {}),
            ("CodeSystem", {}),
            ("StructureDefinition", {}),
        ):
            bundle = Bundle.model_validate(fhir_get(client, f"/api/fhir/{kind}", **params).json())
            assert bundle.entry, kind
            for entry in bundle.entry[:3]:
                read = fhir_get(client, entry.fullUrl)
                assert read.status_code == 200, entry.fullUrl
                assert validated(read.json()).id == entry.resource.id
                seen.add(read.json()["resourceType"])
        # The references inside resolve too: the schedule's practitioner and location.
        schedule = fhir_get(client, f"/api/fhir/Schedule/{schedule_of(clinic)}").json()
        for actor in schedule["actor"]:
            assert fhir_get(client, f"/api/fhir/{actor['reference']}").status_code == 200
    assert seen == {"Schedule", "Slot", "Practitioner", "Location", "CodeSystem", "StructureDefinition"}


def test_practitioners_and_locations_are_public_data_only(clinic, client):
    clinic.practitioner.bio = "Private note? no: public bio"
    clinic.practitioner.save()
    practitioner = fhir_get(client, f"/api/fhir/Practitioner/{clinic.practitioner.pk}").json()
    assert set(practitioner) <= {"resourceType", "id", "active", "name", "qualification"}
    location = fhir_get(client, f"/api/fhir/Location/{clinic.location.pk}").json()
    assert location["extension"][0]["valueCode"] == "America/New_York"
    inactive = Practitioner.objects.create(name="Gone Away", is_active=False)
    for path in (
        f"/api/fhir/Practitioner/{inactive.pk}",
        "/api/fhir/Practitioner/x1",
        "/api/fhir/Location/999999",
    ):
        outcome(client.get(path), 404)
    # No patient resource is served at all.
    outcome(client.get(f"/api/fhir/Patient/{clinic.patient.pk}"), 404)


def test_a_slot_reads_free_then_busy_once_booked(clinic, client):
    with freeze_time(NOW):
        slot_id = first_visit_slot(clinic)
        assert fhir_get(client, f"/api/fhir/Slot/{slot_id}").json()["status"] == "free"
        assert post(client, booking(clinic, slot_id)).status_code == 201
        assert fhir_get(client, f"/api/fhir/Slot/{slot_id}").json()["status"] == "busy"
        off_grid = slot_id[:-2] + "13"
        outcome(client.get(f"/api/fhir/Slot/{off_grid}"), 404)


def test_count_pages_with_next_links_to_the_end(clinic, client):
    with freeze_time(NOW):
        params = {"schedule": schedule_of(clinic), "start": f"eq{DAY}"}
        everything = fhir_get(client, "/api/fhir/Slot", **params).json()
        total = everything["total"]
        assert total > 5 and len(everything["entry"]) == total
        url, starts, pages = (
            "/api/fhir/Slot?" + "&".join(f"{k}={v}" for k, v in params.items()) + "&_count=2",
            [],
            0,
        )
        while url:
            bundle = Bundle.model_validate(fhir_get(client, url).json())
            assert bundle.total == total and len(bundle.entry) <= 2
            starts += [(e.resource.start, e.resource.id) for e in bundle.entry]
            url = next((link.url for link in bundle.link if link.relation == "next"), None)
            pages += 1
        assert pages == -(-total // 2)
        assert [s for s, _ in starts] == [e["resource"]["start"] for e in everything["entry"]] or len(
            starts
        ) == total
        assert len({i for _, i in starts}) == total
        only_total = fhir_get(client, "/api/fhir/Slot", **params, _count=0).json()
        assert only_total["total"] == total and not only_total.get("entry")
        for bad in ("x", "-1", "9999999", "١"):
            outcome(client.get("/api/fhir/Schedule", {"_count": bad}), 422)


def test_canonical_urls_come_from_the_setting_and_are_served(clinic, client):
    canonical = "https://fhir.clinic.example/fhir"
    with override_settings(FHIR_CANONICAL_BASE=canonical), freeze_time(NOW):
        other_host = Client(HTTP_HOST="api.elsewhere.example")
        for c in (client, other_host):
            schedule = c.get(f"/api/fhir/Schedule/{schedule_of(clinic)}").json()
            assert (
                schedule["serviceType"][0]["coding"][0]["system"]
                == f"{canonical}/CodeSystem/appointment-type"
            )
        code_system = validated(fhir_get(client, "/api/fhir/CodeSystem/appointment-type").json())
        assert code_system.url == f"{canonical}/CodeSystem/appointment-type"
        assert {c.code for c in code_system.concept} >= {str(clinic.follow_up.pk), str(clinic.first_visit.pk)}
        found = fhir_get(client, "/api/fhir/CodeSystem", url=code_system.url).json()
        assert found["total"] == 1
        for extension in ("manage-token", "next-free-start"):
            definition = validated(fhir_get(client, f"/api/fhir/StructureDefinition/{extension}").json())
            assert definition.url == f"{canonical}/StructureDefinition/{extension}"
            assert fhir_get(client, "/api/fhir/StructureDefinition", url=definition.url).json()["total"] == 1
        answer = post(client, booking(clinic, first_visit_slot(clinic)))
        assert answer.json()["extension"][0]["url"] == f"{canonical}/StructureDefinition/manage-token"


def test_every_error_is_an_operation_outcome(clinic, client, monkeypatch):
    assert outcome(client.get("/api/fhir/Nope"), 404).issue[0].code == "not-found"
    outcome(client.get("/api/fhir/metadata/"), 404)
    outcome(client.get("/api/fhir/Schedule/1-1/extra"), 404)
    not_allowed = client.delete("/api/fhir/Slot")
    assert outcome(not_allowed, 405).issue[0].code == "not-supported" and "GET" in not_allowed["Allow"]
    outcome(client.post("/api/fhir/Appointment", "x", content_type="text/plain"), 415)
    outcome(client.post("/api/fhir/Appointment", "{", content_type=FHIR), 422)
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        assert outcome(post(client, {"resourceType": "Appointment", "x": "y" * 2000}), 413).issue[0].code == (
            "too-costly"
        )
    from acuclinic.appointments import services as appointment_services

    monkeypatch.setattr(appointment_services, "RATE_LIMIT_PER_HOUR", 0)
    with freeze_time(NOW):
        throttled = post(client, booking(clinic, first_visit_slot(clinic)))
    assert outcome(throttled, 429).issue[0].code == "throttled" and throttled["Retry-After"]

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("acuclinic.scheduling.selectors.bookable_pairs", broken)
    failing = Client(raise_request_exception=False)
    crashed = outcome(failing.get("/api/fhir/Schedule"), 500)
    assert crashed.issue[0].severity == "fatal" and "boom" not in failing.get("/api/fhir/Schedule").text


def token_of(response) -> str:
    return next(
        e["valueString"] for e in response.json()["extension"] if e["url"] == mapping.manage_token_url()
    )


@pytest.mark.parametrize(
    ("method", "content_type", "body"),
    [
        (
            "patch",
            "application/json-patch+json",
            [{"op": "replace", "path": "/status", "value": "cancelled"}],
        ),
        ("patch", FHIR, {"resourceType": "Appointment", "status": "cancelled"}),
        ("put", FHIR, {"resourceType": "Appointment", "status": "cancelled"}),
    ],
)
def test_the_token_cancels_and_the_slot_is_free_again(clinic, client, method, content_type, body):
    import json

    with freeze_time(NOW):
        slot_id = first_visit_slot(clinic)
        token = token_of(post(client, booking(clinic, slot_id)))
        call = getattr(client, method)
        refused = call(
            f"/api/fhir/Appointment/{token}",
            json.dumps({"resourceType": "Appointment", "status": "booked", "start": "2030-06-03T10:00:00Z"}),
            content_type=FHIR,
        )
        assert outcome(refused, 422).issue[0].expression == ["Appointment.status"]
        response = call(f"/api/fhir/Appointment/{token}", json.dumps(body), content_type=content_type)
        assert response.status_code == 200 and validated(response.json()).status == "cancelled"
        assert Appointment.objects.get().status == AppointmentStatus.CANCELLED
        assert fhir_get(client, f"/api/fhir/Slot/{slot_id}").json()["status"] == "free"
        again = call(f"/api/fhir/Appointment/{token}", json.dumps(body), content_type=content_type)
        assert again.status_code == 200  # cancelling twice changes nothing
        outcome(call("/api/fhir/Appointment/forged", json.dumps(body), content_type=content_type), 404)


def test_no_cancellation_inside_the_cut_off(clinic, client):
    import json

    with freeze_time(NOW):
        token = token_of(post(client, booking(clinic, first_visit_slot(clinic))))
    with freeze_time(clinic.at(9) - timedelta(hours=2)):
        response = client.patch(
            f"/api/fhir/Appointment/{token}",
            json.dumps({"resourceType": "Appointment", "status": "cancelled"}),
            content_type=FHIR,
        )
    assert "Please call the clinic" in outcome(response, 409).issue[0].diagnostics
    assert Appointment.objects.get().status == AppointmentStatus.CONFIRMED

"""FHIR R4 Schedule, Slot and Appointment from the API, and booking through it. Every resource is validated with
fhir.resources (R4B)."""

import hashlib
import json
from datetime import UTC, time, timedelta

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.schedule import Schedule
from freezegun import freeze_time

from acuclinic.appointments import services as appointment_services
from acuclinic.clinical.models import Patient
from acuclinic.scheduling import fhir as mapping
from acuclinic.scheduling.models import ApiBookingKey, Appointment, AppointmentNotification, WorkingHours
from acuclinic.scheduling.services import book_appointment
from tests.scheduling.conftest import DAY, NOW, make_clinic

pytestmark = pytest.mark.django_db

FHIR = "application/fhir+json"


@pytest.fixture
def clinic(demo):
    with freeze_time(NOW):
        clinic = make_clinic()
        for p in (clinic.practitioner, clinic.other_practitioner):
            p.locations.add(clinic.location)
            WorkingHours.objects.create(
                practitioner=p, location=clinic.location, weekday=0, starts_at=time(9), ends_at=time(12)
            )
        yield clinic


def schedule_of(clinic, practitioner=None):
    return mapping.schedule_id(practitioner or clinic.practitioner, clinic.location)


def slots(client, clinic, **params):
    query = {"schedule": schedule_of(clinic), "start": [f"ge{DAY}", f"lt{DAY + timedelta(days=1)}"], **params}
    response = client.get("/api/fhir/Slot", query)
    assert response.status_code == 200 and response["Content-Type"] == FHIR
    return Bundle.model_validate(response.json())


def booking(clinic, slot_id=None, *, given="Ana", family="Lopez", start=None, **extra):
    data = {
        "resourceType": "Appointment",
        "status": "booked",
        "participant": [
            {"actor": {"reference": "#patient"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{clinic.practitioner.pk}"}, "status": "accepted"},
        ],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "name": [{"family": family, "given": [given]}],
                "birthDate": "1970-01-02",
                "telecom": [{"system": "email", "value": f"{given.lower()}@example.org"}],
            }
        ],
    }
    if slot_id:
        data["slot"] = [{"reference": f"Slot/{slot_id}"}]
    if start is not None:
        data["start"] = start.astimezone(UTC).isoformat()
        data["end"] = (start + clinic.first_visit.duration).astimezone(UTC).isoformat()
    data.update(extra)
    return data


def post(client, data, **headers):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post("/api/fhir/Appointment", body, content_type=FHIR, **headers)


def first_visit_slot(clinic, hour=9):
    return mapping.slot_id(
        practitioner_id=clinic.practitioner.pk,
        location_id=clinic.location.pk,
        type_id=clinic.first_visit.pk,
        start=clinic.at(hour),
    )


def outcome(response) -> OperationOutcome:
    assert response["Content-Type"] == FHIR
    return OperationOutcome.model_validate(response.json())


# --- Schedule ----------------------------------------------------------------------------------------------------


def test_one_schedule_per_bookable_practitioner_and_location(clinic, client):
    response = client.get("/api/fhir/Schedule")
    assert response.status_code == 200 and response["Content-Type"] == FHIR
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "searchset"
    ids = {entry.resource.id for entry in bundle.entry}
    assert {schedule_of(clinic), schedule_of(clinic, clinic.other_practitioner)} <= ids
    ours = next(e.resource for e in bundle.entry if e.resource.id == schedule_of(clinic))
    assert [a.reference for a in ours.actor] == [
        f"Practitioner/{clinic.practitioner.pk}",
        f"Location/{clinic.location.pk}",
    ]
    assert {c.coding[0].code for c in ours.serviceType} == {
        str(clinic.follow_up.pk),
        str(clinic.first_visit.pk),
    }
    # An expired licence in the location's state: no schedule there.
    clinic.other_practitioner.licences.update(expires_on=DAY - timedelta(days=400))
    ids = {e["resource"]["id"] for e in client.get("/api/fhir/Schedule").json().get("entry", [])}
    assert schedule_of(clinic, clinic.other_practitioner) not in ids and schedule_of(clinic) in ids


def test_read_one_schedule_or_404(clinic, client):
    response = client.get(f"/api/fhir/Schedule/{schedule_of(clinic)}")
    assert response.status_code == 200
    assert Schedule.model_validate(response.json()).id == schedule_of(clinic)
    for missing in ("999999-1", "nonsense", f"{clinic.practitioner.pk}-999999"):
        response = client.get(f"/api/fhir/Schedule/{missing}")
        assert response.status_code == 404
        assert outcome(response).issue[0].code == "not-found"


# --- Slot --------------------------------------------------------------------------------------------------------


def test_free_slots_in_the_range_and_not_the_booked_ones(clinic, client):
    bundle = slots(client, clinic, **{"service-type": str(clinic.first_visit.pk)})
    starts = [e.resource.start for e in bundle.entry]
    assert starts[0] == clinic.at(9) and starts[-1] == clinic.at(11)  # 9–12 local, 60-minute visits
    assert all(e.resource.status == "free" for e in bundle.entry)
    assert all(e.resource.schedule.reference == f"Schedule/{schedule_of(clinic)}" for e in bundle.entry)
    assert bundle.total == len(bundle.entry)
    book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.first_visit,
        start=clinic.at(10),
        now=NOW,
    )
    bundle = slots(client, clinic, **{"service-type": str(clinic.first_visit.pk)})
    starts = [e.resource.start for e in bundle.entry]
    assert clinic.at(10) not in starts and clinic.at(9, 30) not in starts and clinic.at(9) in starts
    # Without service-type: every type the practitioner offers.
    types = {e.resource.serviceType[0].coding[0].code for e in slots(client, clinic).entry}
    assert types == {str(clinic.first_visit.pk), str(clinic.follow_up.pk)}
    # Another day: nothing (no hours on Tuesday).
    other = client.get(
        "/api/fhir/Slot", {"schedule": schedule_of(clinic), "start": f"eq{DAY + timedelta(days=1)}"}
    )
    assert other.json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"schedule": "nonsense"},
        {"start": "ge2030-13-01"},
        {"start": "ge2030-06-03T10:00"},  # no zone
        {"start": " ge2030-06-03"},  # exactly as the OpenAPI pattern says
    ],
)
def test_bad_slot_searches_are_422(clinic, client, params):
    query = {"schedule": schedule_of(clinic), **params} if params.get("schedule", True) else params
    if not params:
        query = {}
    response = client.get("/api/fhir/Slot", query)
    assert response.status_code == 422
    assert outcome(response).issue[0].severity == "error"


# --- booking -----------------------------------------------------------------------------------------------------


def test_booking_a_slot_answers_201_with_a_token_that_reads_it_back(
    clinic, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        response = post(client, booking(clinic, first_visit_slot(clinic), start=clinic.at(9)))
    assert response.status_code == 201, response.content
    resource = FhirAppointment.model_validate(response.json())
    assert resource.status == "booked" and resource.start == clinic.at(9)
    token = next(e.valueString for e in resource.extension if e.url == mapping.manage_token_url())
    assert response["Location"].endswith(f"/api/fhir/Appointment/{token}")
    appointment = Appointment.objects.get()
    assert appointment.booked_online and appointment.practitioner == clinic.practitioner
    assert appointment.patient.first_name == "Ana" and appointment.patient.email == "ana@example.org"
    kinds = set(
        AppointmentNotification.objects.filter(appointment=appointment).values_list("kind", flat=True)
    )
    assert AppointmentNotification.Kind.CLINIC_BOOKED in kinds  # staff hear of every online booking
    again = client.get(f"/api/fhir/Appointment/{token}")
    assert again.status_code == 200
    assert FhirAppointment.model_validate(again.json()).start == clinic.at(9)
    assert "1970-01-02" not in again.content.decode()  # birth date and contact details stay out
    for bad in (str(appointment.pk), token[:-2] + "xx"):
        assert client.get(f"/api/fhir/Appointment/{bad}").status_code == 404


def test_booking_by_start_and_end_finds_a_free_room_and_a_proposal_is_pending(clinic, client):
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.other_practitioner,
        room=clinic.room,
        appointment_type=clinic.first_visit,
        start=clinic.at(10),
        now=NOW,
    )
    data = booking(clinic, start=clinic.at(10), status="proposed")
    data["participant"].append(
        {"actor": {"reference": f"Location/{clinic.location.pk}"}, "status": "accepted"}
    )
    response = post(client, data)
    assert response.status_code == 201, response.content
    assert FhirAppointment.model_validate(response.json()).status == "proposed"
    mine = Appointment.objects.get(practitioner=clinic.practitioner)
    assert mine.room == clinic.other_room and mine.status == "pending"


def test_a_taken_slot_is_409_with_the_next_free_starts(clinic, client):
    assert post(client, booking(clinic, first_visit_slot(clinic), start=clinic.at(9))).status_code == 201
    patients = Patient.objects.count()
    response = post(client, booking(clinic, first_visit_slot(clinic), given="Bo", start=clinic.at(9)))
    assert response.status_code == 409
    result = outcome(response)
    assert result.issue[0].code == "conflict"
    next_free = [e.valueDateTime for e in result.extension if e.url == mapping.next_free_start_url()]
    assert next_free and all(start > clinic.at(9) for start in next_free)
    assert Appointment.objects.count() == 1 and Patient.objects.count() == patients  # no patient left behind


@pytest.mark.parametrize(
    "change, where",
    [
        (lambda d: d.pop("contained"), "Appointment.contained"),
        (lambda d: d["contained"][0].update(birthDate="2999-01-01"), "Patient.birthDate"),
        (lambda d: d["contained"][0].update(telecom=[]), "Patient.telecom"),
        (
            lambda d: d["contained"][0].update(telecom=[{"system": "email", "value": "nope"}]),
            "Patient.telecom",
        ),
        (lambda d: d["contained"][0].update(name=[{"family": "Lopez"}]), "Patient.name.given"),
        (lambda d: d.update(status="fulfilled"), "Appointment.status"),
        (lambda d: d.update(slot=[{"reference": "Slot/garbage"}]), "Appointment.slot"),
        (lambda d: d.update(status=12), None),  # not FHIR at all
    ],
)
def test_invalid_bookings_are_422_operation_outcomes(clinic, client, change, where):
    data = booking(clinic, first_visit_slot(clinic), start=clinic.at(9))
    change(data)
    response = post(client, data)
    assert response.status_code == 422
    issues = outcome(response).issue
    if where:
        assert where in [i.expression[0] for i in issues if i.expression]
    assert not Appointment.objects.exists()


def test_an_unknown_schedule_matches_nothing_and_a_long_range_is_searched_31_days(clinic, client):
    with freeze_time(NOW):
        empty = client.get("/api/fhir/Slot", {"schedule": "999-999"})
        assert empty.status_code == 200 and empty.json()["total"] == 0
        other_system = client.get(
            "/api/fhir/Slot",
            {"schedule": schedule_of(clinic), "start": f"eq{DAY}", "service-type": "http://other.example|1"},
        )
        assert other_system.status_code == 200 and other_system.json()["total"] == 0
        long = client.get(
            "/api/fhir/Slot", {"schedule": schedule_of(clinic), "start": ["ge2030-06-01", "lt2030-08-01"]}
        )
    bundle = Bundle.model_validate(long.json())
    assert long.status_code == 200 and bundle.total > 0
    [warning] = [e for e in bundle.entry if e.search.mode == "outcome"]
    assert "31 days" in warning.resource.issue[0].diagnostics
    assert max(e.resource.start for e in bundle.entry if e.search.mode == "match") < clinic.at(9) + timedelta(
        days=31
    )


def test_a_time_the_schedule_no_longer_offers_is_409_and_a_slot_that_does_not_exist_404(clinic, client):
    data = booking(clinic, first_visit_slot(clinic, hour=9), start=clinic.at(9))
    clinic.practitioner.licences.update(expires_on=DAY - timedelta(days=1))
    response = post(client, data)
    assert response.status_code == 409
    assert outcome(response).issue[0].code == "conflict"
    missing = booking(clinic, first_visit_slot(clinic).replace(f"{clinic.practitioner.pk}-", "999999-", 1))
    missing["participant"] = missing["participant"][:1]  # the patient; the slot names the practitioner
    response = post(client, missing)
    assert response.status_code == 404 and outcome(response).issue[0].code == "not-found"
    for kind in ("AAA", {}, None, 1):  # found by schemathesis: each was a 500
        unknown_type = booking(clinic, first_visit_slot(clinic))
        unknown_type["contained"][0]["resourceType"] = kind
        assert post(client, unknown_type).status_code == 422


def test_not_json_is_415_and_bad_json_422(clinic, client):
    data = json.dumps(booking(clinic, first_visit_slot(clinic), start=clinic.at(9)))
    assert client.post("/api/fhir/Appointment", data, content_type="text/plain").status_code == 415
    assert client.post("/api/fhir/Appointment", "{nope", content_type=FHIR).status_code == 422
    assert client.post("/api/fhir/Appointment", data, content_type="application/json").status_code == 201


def test_same_idempotency_key_books_once(clinic, client):
    data = booking(clinic, first_visit_slot(clinic), start=clinic.at(9))
    first = post(client, data, HTTP_IDEMPOTENCY_KEY="key-1")
    second = post(client, data, HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and Appointment.objects.count() == 1
    other_booking = booking(clinic, first_visit_slot(clinic, 11), start=clinic.at(11))
    other = post(client, other_booking, HTTP_IDEMPOTENCY_KEY="key-1")
    assert other.status_code == 422 and Appointment.objects.count() == 1


def test_the_key_is_kept_in_the_database_so_a_retry_on_another_worker_answers_the_same(clinic, client):
    from django.core.cache import cache

    data = booking(clinic, first_visit_slot(clinic), start=clinic.at(9))
    first = post(client, data, HTTP_IDEMPOTENCY_KEY="retry-elsewhere")
    cache.clear()  # another worker process: its own (local-memory) cache knows nothing of the first answer
    second = post(client, data, HTTP_IDEMPOTENCY_KEY="retry-elsewhere")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and Appointment.objects.count() == 1
    with freeze_time(NOW + timedelta(hours=25)):  # past the window the key no longer answers for that booking
        again = post(client, data, HTTP_IDEMPOTENCY_KEY="retry-elsewhere")
    assert again.status_code in (409, 422) and Appointment.objects.count() == 1
    with freeze_time(NOW + timedelta(hours=25)):
        later = post(
            client,
            booking(clinic, first_visit_slot(clinic, 11), start=clinic.at(11)),
            HTTP_IDEMPOTENCY_KEY="k2",
        )
    assert later.status_code == 201
    assert list(ApiBookingKey.objects.values_list("key_digest", flat=True)) == [
        hashlib.sha256(b"k2").hexdigest()
    ]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_retries_racing_with_one_key_make_one_booking_and_both_get_it(tmp_path):
    import threading

    from django.db import connection, connections
    from django.test import Client

    from tests.scheduling.test_race import file_database_for_threads

    with freeze_time(NOW):
        clinic = make_clinic()
        clinic.practitioner.locations.add(clinic.location)
        WorkingHours.objects.create(
            practitioner=clinic.practitioner,
            location=clinic.location,
            weekday=0,
            starts_at=time(9),
            ends_at=time(12),
        )
        body = json.dumps(booking(clinic, first_visit_slot(clinic), start=clinic.at(9)))
        file_db = file_database_for_threads(tmp_path)
        racers = 4
        barrier = threading.Barrier(racers)
        answers, lock = [], threading.Lock()

        def retry():
            try:
                if file_db is not None:
                    connections["default"].settings_dict = {
                        **connections["default"].settings_dict,
                        "NAME": file_db,
                    }
                barrier.wait(timeout=30)
                response = Client().post(
                    "/api/fhir/Appointment", body, content_type=FHIR, HTTP_IDEMPOTENCY_KEY="same-retry"
                )
                answer = (response.status_code, response.headers.get("Location"))
            except Exception as exc:  # noqa: BLE001 - reported below
                answer = ("error", repr(exc))
            finally:
                connection.close()
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=retry) for _ in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(answers) == racers
    assert {status for status, _ in answers} == {201}, answers
    assert len({location for _, location in answers}) == 1  # the one booking's manage link, four times
    if file_db is None:
        assert Appointment.objects.count() == 1
    else:
        import sqlite3

        with sqlite3.connect(file_db) as db:
            assert db.execute("SELECT count(*) FROM scheduling_appointment").fetchone()[0] == 1


def test_rate_limited_per_address(clinic, client, monkeypatch):
    monkeypatch.setattr(appointment_services, "RATE_LIMIT_PER_HOUR", 1)
    assert post(client, booking(clinic, first_visit_slot(clinic), start=clinic.at(9))).status_code == 201
    response = post(client, booking(clinic, first_visit_slot(clinic, 11), given="Cy", start=clinic.at(11)))
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert outcome(response).issue[0].code == "throttled"
    assert Appointment.objects.count() == 1


def test_openapi_lists_the_fhir_endpoints(demo, client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"get"} <= set(paths["/api/fhir/Schedule"]) and "get" in paths["/api/fhir/Schedule/{schedule_id}"]
    assert "get" in paths["/api/fhir/Slot"] and "post" in paths["/api/fhir/Appointment"]
    assert "get" in paths["/api/fhir/Appointment/{token}"]
    assert {"201", "409", "415", "422", "429"} <= set(paths["/api/fhir/Appointment"]["post"]["responses"])


def test_the_openapi_document_has_no_duplicate_keys(client):
    # Swagger UI refuses a document with a key twice ("duplicated mapping key"): ninja's 200 and a "200" beside it.
    import json as _json

    duplicates = []

    def keep(pairs):
        keys = [key for key, _ in pairs]
        duplicates.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(pairs)

    _json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=keep)
    assert duplicates == []


def _follow_up_booking(clinic, hour=10):
    start = clinic.at(hour)
    slot = mapping.slot_id(
        practitioner_id=clinic.practitioner.pk,
        location_id=clinic.location.pk,
        type_id=clinic.follow_up.pk,
        start=start,
    )
    return booking(
        clinic,
        slot,
        start=start,
        end=(start + clinic.follow_up.duration).astimezone(UTC).isoformat(),
    )


def test_a_returning_patient_books_a_follow_up_through_the_api_and_a_new_one_is_refused(clinic, client):
    """Issue 10: the API asks the same question as the booking pages (selectors.is_returning_patient): a visit
    that took place (arrived or completed) makes a returning patient, a future booking does not."""
    refused = post(client, _follow_up_booking(clinic))
    assert refused.status_code == 422
    assert "New patients book this visit with the front desk." in outcome(refused).issue[0].diagnostics
    assert not Patient.objects.filter(first_name="Ana").exists()

    ana = Patient.objects.create(
        first_name="Ana", last_name="Lopez", date_of_birth="1970-01-02", email="ana@example.org"
    )
    earlier = clinic.at(9, day=DAY - timedelta(days=7))
    Appointment.objects.create(
        patient=ana,
        practitioner=clinic.practitioner,
        room=clinic.room,
        location=clinic.location,
        appointment_type=clinic.first_visit,
        start=earlier,
        end=earlier + timedelta(hours=1),
        blocked_until=earlier + timedelta(hours=1),
        status="arrived",
    )
    response = post(client, _follow_up_booking(clinic))
    assert response.status_code == 201, response.content
    assert Appointment.objects.get(start=clinic.at(10)).patient == ana

"""The patient record the front desk works from: details edited (and audited by field name), appointments listed,
insurance carried over from the request, "Book", "Add patient" with duplicate detection, a merge (and its refusal
when the patient would have two appointments at once), and appointments in the JSON and FHIR exports."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments.models import AppointmentRequest
from acuclinic.clinical import services
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Appointment, Room, TreatmentPlan, WaitlistEntry
from tests.factories import make_appointment_request, make_booking, make_user

pytestmark = pytest.mark.django_db

LIST = "/admin/patients/"
ADD = "/admin/patients/new/"


def page(patient) -> str:
    return f"{LIST}{patient.pk}/"


def edit_url(patient) -> str:
    return f"{LIST}{patient.pk}/edit/"


def merge_url(patient) -> str:
    return f"{LIST}{patient.pk}/merge/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def desk(demo):
    return make_user("desk-record", "Front desk")


@pytest.fixture
def fd(desk):
    return client_for(desk)


def make_patient(**fields) -> Patient:
    values = {
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": date(1961, 4, 27),
        "phone": "+12125550199",
        "email": "maria@example.org",
    }
    values.update(fields)
    return Patient.objects.create(**values)


def details(patient, **changes) -> dict:
    data = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.strftime("%m/%d/%Y"),
        "phone": patient.phone,
        "email": patient.email,
        "address": patient.address,
        "insurance_carrier": patient.insurance_carrier,
        "insurance_member_id": patient.insurance_member_id,
    }
    if patient.has_medicare:
        data["has_medicare"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def events(action, object_id=None, object_type="clinical.patient"):
    qs = AuditEvent.objects.filter(action=action, object_type=object_type).order_by("seq")
    if object_id is not None:
        qs = qs.filter(object_id=str(object_id))
    return list(qs)


# --- details: edit and audit ------------------------------------------------------------------------------------


def test_the_desk_edits_details_and_the_log_names_the_fields_never_the_values(fd, desk):
    patient = make_patient()
    response = fd.get(edit_url(patient))
    assert response.status_code == 200
    assert events("read", patient.pk)[-1].detail == "edit form"

    response = fd.post(
        edit_url(patient),
        details(
            patient,
            phone="(212) 555-0142",
            address="12 Elm St\nNew York, NY 10001",
            insurance_carrier="Aetna",
            insurance_member_id="W123",
        ),
    )
    assert response.status_code == 302 and response["Location"] == page(patient)
    patient.refresh_from_db()
    assert patient.phone == "+12125550142"  # stored as E.164
    assert patient.address.startswith("12 Elm St") and patient.insurance_carrier == "Aetna"
    [change] = events("change", patient.pk)
    assert change.actor_id == desk.pk
    assert change.detail == "details changed: phone, address, insurance_carrier, insurance_member_id"
    for value in ("0142", "Elm", "Aetna", "W123"):
        assert value not in change.detail

    # Saving the same details changes (and logs) nothing.
    fd.post(edit_url(patient), details(patient))
    assert len(events("change", patient.pk)) == 1


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("phone", "555-abc", "is not a"),
        ("date_of_birth", "13/45/1990", "MM/DD/YYYY"),
        ("date_of_birth", "01/01/1899", "before 1900"),
        ("email", "not-an-email", "valid email"),
        ("last_name", "  ", "This field is required"),
    ],
)
def test_bad_details_are_refused_next_to_the_field(fd, field, value, message):
    patient = make_patient()
    response = fd.post(edit_url(patient), details(patient, **{field: value}))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'id="id_{field}"' in html and 'aria-invalid="true"' in html
    patient.refresh_from_db()
    assert patient.phone == "+12125550199" and patient.last_name == "Lopez"
    assert events("change", patient.pk) == []


def test_a_birth_date_in_the_future_is_refused(fd):
    patient = make_patient()
    tomorrow = (timezone.localdate() + timedelta(days=1)).strftime("%m/%d/%Y")
    response = fd.post(edit_url(patient), details(patient, date_of_birth=tomorrow))
    assert response.status_code == 400 and "cannot be in the future" in response.content.decode()


def test_a_clinician_reads_but_cannot_edit(demo):
    clinician = make_user("clin-record", "Clinicians")
    patient = make_patient()
    make_booking(patient, practitioner_user=clinician)
    client = client_for(clinician)
    html = client.get(page(patient)).content.decode()
    assert "Edit details" not in html and edit_url(patient) not in html
    assert "/admin/schedule/book/" not in html and merge_url(patient) not in html
    assert client.get(edit_url(patient)).status_code == 403
    assert client.post(edit_url(patient), details(patient, last_name="X")).status_code == 403
    patient.refresh_from_db()
    assert patient.last_name == "Lopez"


# --- the record page: appointments, requests, insurance, Book -------------------------------------------------


def test_the_record_lists_upcoming_and_past_appointments_and_the_book_button(fd, desk):
    patient = make_patient(insurance_carrier="Aetna", insurance_member_id="W123", has_medicare=True)
    now = timezone.now()
    past = make_booking(patient, start=datetime(2020, 3, 2, 15, 0, tzinfo=UTC), status="completed")
    upcoming = make_booking(
        patient, practitioner=past.practitioner, start=datetime(2030, 6, 3, 14, 0, tzinfo=UTC)
    )
    request = make_appointment_request(
        "RECORD22",
        first_name="Maria",
        last_name="Lopez",
        date_of_birth=patient.date_of_birth,
        patient=patient,
    )
    assert upcoming.start > now > past.start

    response = fd.get(page(patient))
    html = response.content.decode()
    assert response.status_code == 200
    # 10:00 AM in New York (EDT) on June 3, 2030; 10:00 AM (EST) on March 2, 2020.
    assert "Mon 06/03/2030, 10:00 AM" in html and "Mon 03/02/2020, 10:00 AM" in html
    assert html.index("Upcoming appointments (1)") < html.index(f'data-appointment="{upcoming.pk}"')
    assert html.index("Past appointments (1)") < html.index(f'data-appointment="{past.pk}"')
    assert f'href="/admin/schedule/appointments/{upcoming.pk}/"' in html
    assert "Completed</span>" in html and "Confirmed</span>" in html  # status in words (and colour)
    assert past.practitioner.name in html and "Factory follow-up" in html
    assert f'data-reference="{request.reference}"' in html and "Status: New" in html
    assert "Aetna" in html and "W123" in html
    assert f'href="/admin/schedule/book/?patient={patient.pk}"' in html
    assert events("read", patient.pk)[-1].actor_id == desk.pk


# --- insurance carried over from the request ------------------------------------------------------------------


def test_insurance_is_copied_to_a_new_patient_from_the_request(fd, desk):
    request = make_appointment_request(
        "INSURE22", insurance_carrier="Acme Health", insurance_member_id="XG-1234", has_medicare=True
    )
    response = fd.post(f"/admin/appointment-requests/{request.pk}/patient/")
    assert response.status_code == 302
    request.refresh_from_db()
    patient = request.patient
    assert (patient.insurance_carrier, patient.insurance_member_id, patient.has_medicare) == (
        "Acme Health",
        "XG-1234",
        True,
    )


def test_insurance_fills_the_blanks_of_a_matched_patient_and_never_overwrites(desk):
    blank = make_patient()
    request = make_appointment_request(
        "INSURE33",
        first_name="maria",
        last_name="LOPEZ",
        date_of_birth=blank.date_of_birth,
        phone="212-555-0199",
        insurance_carrier="Acme Health",
        insurance_member_id="XG-1234",
    )
    patient, created = services.create_or_match_patient_from_request(request=request, by=desk)
    assert not created and patient.pk == blank.pk
    patient.refresh_from_db()
    assert (patient.insurance_carrier, patient.insurance_member_id) == ("Acme Health", "XG-1234")
    [change] = events("change", patient.pk)
    assert change.detail == f"filled from request #{request.pk}: insurance_carrier, insurance_member_id"

    kept = make_patient(
        first_name="Ann", email="ann@example.org", insurance_carrier="Aetna", insurance_member_id="A1"
    )
    other = make_appointment_request(
        "INSURE44",
        first_name="Ann",
        last_name="Lopez",
        date_of_birth=kept.date_of_birth,
        email="ann@example.org",
        insurance_carrier="Cigna",
        insurance_member_id="C9",
    )
    services.create_or_match_patient_from_request(request=other, by=desk)
    kept.refresh_from_db()
    assert (kept.insurance_carrier, kept.insurance_member_id) == ("Aetna", "A1")
    assert events("change", kept.pk) == []
    # The difference is shown on the record page, not silently dropped.
    html = client_for(desk).get(page(kept)).content.decode()
    assert "Insurance given: Cigna, member ID C9" in html and "differs from the record" in html


# --- Add patient and duplicates -------------------------------------------------------------------------------


def new_patient_form(**changes) -> dict:
    data = {
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": "04/27/1961",
        "phone": "",
        "email": "",
        "address": "",
        "insurance_carrier": "",
        "insurance_member_id": "",
    }
    data.update(changes)
    return data


def test_add_a_patient_for_a_walk_in(fd, desk):
    assert ADD in fd.get(LIST).content.decode()
    assert fd.get(ADD).status_code == 200
    response = fd.post(ADD, new_patient_form(first_name="Walk", last_name="In", phone="212 555 0177"))
    patient = Patient.objects.get(last_name="In")
    assert response.status_code == 302 and response["Location"] == page(patient)
    assert patient.phone == "+12125550177" and patient.created_by == desk
    [created] = events("create", patient.pk)
    assert created.actor_id == desk.pk and created.detail == "by front desk"


def test_add_patient_shows_likely_duplicates_whatever_the_case_and_format(fd):
    existing = make_patient()
    response = fd.post(ADD, new_patient_form(first_name=" maria ", last_name="LOPEZ", phone="(212) 555-0199"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-duplicate="{existing.pk}"' in html and "same phone or e-mail" in html
    assert f'href="{page(existing)}"' in html
    assert Patient.objects.count() == 1  # nothing saved until the desk confirms
    assert "id_confirm_new" in html

    # Same by e-mail (another case) too.
    html = fd.post(ADD, new_patient_form(email="MARIA@Example.org")).content.decode()
    assert f'data-duplicate="{existing.pk}"' in html

    # The desk confirms that this is somebody new: then the record is created.
    response = fd.post(ADD, new_patient_form(phone="(212) 555-0199", confirm_new="on"))
    assert response.status_code == 302
    assert Patient.objects.filter(last_name="Lopez").count() == 2


def test_add_patient_validates_like_the_edit_form(fd):
    response = fd.post(ADD, new_patient_form(date_of_birth="01/01/2999", email="x@"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "cannot be in the future" in html and "valid email" in html
    assert not Patient.objects.filter(last_name="Lopez").exists()


def test_only_the_front_desk_adds_patients(demo):
    for group in ("Clinicians", "Administrators", "Editors"):
        client = client_for(make_user(f"add-{group}", group))
        assert client.get(ADD).status_code == 403
        assert client.post(ADD, new_patient_form()).status_code == 403
    assert not Patient.objects.exists()


# --- merge ---------------------------------------------------------------------------------------------------


def test_merge_moves_everything_to_the_kept_record_and_removes_the_duplicate(fd, desk):
    keep = make_patient(insurance_carrier="")
    duplicate = make_patient(
        first_name="MARIA",
        phone="",
        email="maria@example.org",
        insurance_carrier="Aetna",
        address="1 Main St",
    )
    kept_visit = make_booking(keep, start=datetime(2030, 6, 3, 14, 0, tzinfo=UTC))
    moved_visit = make_booking(
        duplicate, practitioner=kept_visit.practitioner, start=datetime(2030, 6, 10, 14, 0, tzinfo=UTC)
    )
    request = make_appointment_request("MERGE222", patient=duplicate)
    plan = TreatmentPlan.objects.create(
        patient=duplicate,
        practitioner=moved_visit.practitioner,
        location=moved_visit.location,
        appointment_type=moved_visit.appointment_type,
        pattern="weekly x2",
    )
    entry = WaitlistEntry.objects.create(
        patient=duplicate,
        appointment_type=moved_visit.appointment_type,
        location=moved_visit.location,
        earliest=date(2030, 6, 1),
        latest=date(2030, 6, 30),
    )
    html = fd.get(page(keep)).content.decode()
    assert "Possible duplicates" in html and f"?duplicate={duplicate.pk}" in html

    assert fd.get(merge_url(keep), {"duplicate": duplicate.pk}).status_code == 200
    response = fd.post(merge_url(keep), {"merge-duplicate": duplicate.pk, "merge-confirm": "on"})
    assert response.status_code == 302 and response["Location"] == page(keep)

    assert not Patient.objects.filter(pk=duplicate.pk).exists()
    moved_visit.refresh_from_db()
    request.refresh_from_db()
    plan.refresh_from_db()
    entry.refresh_from_db()
    assert moved_visit.patient_id == request.patient_id == plan.patient_id == entry.patient_id == keep.pk
    keep.refresh_from_db()
    assert (
        keep.insurance_carrier == "Aetna" and keep.address == "1 Main St"
    )  # blanks filled, nothing overwritten
    assert keep.phone == "+12125550199"
    [kept_event] = events("change", keep.pk)
    assert (
        f"merged duplicate #{duplicate.pk}" in kept_event.detail and f"#{moved_visit.pk}" in kept_event.detail
    )
    [removed_event] = events("erase", duplicate.pk)
    assert f"merged into #{keep.pk}" in removed_event.detail
    for event in (kept_event, removed_event):
        assert "Aetna" not in event.detail and "Main" not in event.detail and event.actor_id == desk.pk


def test_a_merge_that_would_overlap_two_appointments_fails_cleanly(fd):
    keep = make_patient()
    duplicate = make_patient(phone="", first_name="Maria")
    start = datetime(2030, 6, 3, 14, 0, tzinfo=UTC)
    mine = make_booking(keep, start=start)
    # Another practitioner in another room, at an overlapping time.
    Appointment.objects.filter(pk=mine.pk).update(
        room=Room.objects.create(location=mine.location, name="Room 2")
    )
    theirs = make_booking(duplicate, start=start + timedelta(minutes=15))
    request = make_appointment_request("MERGE333", patient=duplicate)

    response = fd.post(merge_url(keep), {"merge-duplicate": duplicate.pk, "merge-confirm": "on"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "two appointments at the same time" in html and "nothing was changed" in html
    # All or nothing: the duplicate, its appointment and its request are as they were.
    assert Patient.objects.filter(pk=duplicate.pk).exists()
    theirs.refresh_from_db()
    request.refresh_from_db()
    assert theirs.patient_id == duplicate.pk and request.patient_id == duplicate.pk
    assert Appointment.objects.get(pk=mine.pk).patient_id == keep.pk
    assert events("change", keep.pk) == [] and events("erase", duplicate.pk) == []


def test_merge_refuses_the_same_record_and_unknown_numbers_and_other_roles(fd, demo):
    keep = make_patient()
    response = fd.post(merge_url(keep), {"merge-duplicate": keep.pk, "merge-confirm": "on"})
    assert response.status_code == 400 and "That is this record" in response.content.decode()
    response = fd.post(merge_url(keep), {"merge-duplicate": 999999, "merge-confirm": "on"})
    assert response.status_code == 400 and "no patient record #999999" in response.content.decode()
    other = make_patient(first_name="Other")
    response = fd.post(merge_url(keep), {"merge-duplicate": other.pk})
    assert response.status_code == 400 and Patient.objects.filter(pk=other.pk).exists()
    clinician = make_user("clin-merge", "Clinicians")
    make_booking(keep, practitioner_user=clinician)
    assert (
        client_for(clinician)
        .post(merge_url(keep), {"merge-duplicate": other.pk, "merge-confirm": "on"})
        .status_code
        == 403
    )
    assert Patient.objects.filter(pk=other.pk).exists()


# --- exports ------------------------------------------------------------------------------------------------


def test_exports_contain_the_appointments_and_the_insurance(fd, desk):
    patient = make_patient(insurance_carrier="Aetna", insurance_member_id="W123", has_medicare=True)
    done = make_booking(patient, start=datetime(2020, 3, 2, 15, 0, tzinfo=UTC), status="completed")
    booked = make_booking(
        patient, practitioner=done.practitioner, start=datetime(2030, 6, 3, 14, 0, tzinfo=UTC)
    )
    cancelled = make_booking(
        patient,
        practitioner=done.practitioner,
        start=datetime(2030, 6, 4, 14, 0, tzinfo=UTC),
        status="cancelled",
    )

    data = json.loads(fd.get(f"{page(patient)}export.json").content)
    assert [a["id"] for a in data["appointments"]] == [done.pk, booked.pk, cancelled.pk]
    first = data["appointments"][1]
    assert first["status"] == {"code": "confirmed", "display": "Confirmed"}
    assert first["local_time"] == "Mon 06/03/2030, 10:00 AM Eastern Time"
    assert (
        first["practitioner"]["name"] == done.practitioner.name and first["visit_type"] == "Factory follow-up"
    )
    assert data["patient"]["insurance"] == {"carrier": "Aetna", "member_id": "W123", "has_medicare": True}

    bundle = json.loads(fd.get(f"{page(patient)}export.fhir.json").content)
    Bundle.model_validate(bundle)  # valid FHIR R4 (R4B models)
    resources = [e["resource"] for e in bundle["entry"]]
    patient_url = bundle["entry"][0]["fullUrl"]
    appointments = [r for r in resources if r["resourceType"] == "Appointment"]
    assert [a["status"] for a in appointments] == ["fulfilled", "booked", "cancelled"]
    actors = [p["actor"]["reference"] for p in appointments[1]["participant"]]
    assert actors == [patient_url, f"Practitioner/{done.practitioner_id}", f"Location/{done.location_id}"]
    assert appointments[1]["start"] == "2030-06-03T14:00:00Z"
    coverages = [r for r in resources if r["resourceType"] == "Coverage"]
    assert {c["payor"][0]["display"] for c in coverages} == {"Aetna", "Medicare"}
    assert any(c.get("subscriberId") == "W123" for c in coverages)

    exported = events("export", patient.pk)
    assert len(exported) == 2
    assert all(f"appointments: #{done.pk},#{booked.pk},#{cancelled.pk}" in e.detail for e in exported)
    assert AppointmentRequest.objects.count() == 0

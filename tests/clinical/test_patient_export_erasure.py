"""A patient's data: the back-office pages, the exports (JSON, FHIR) and erasure on request, each audited."""

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments.models import (
    AppointmentRequest,
    ContactAttempt,
    PreferredTime,
    RequestNotification,
)
from acuclinic.clinical import exports, services
from acuclinic.clinical.models import ErasureReason, Patient
from acuclinic.scheduling.models import Practitioner
from tests.factories import make_booking, make_user

pytestmark = pytest.mark.django_db

LIST = "/admin/patients/"


def page(patient) -> str:
    return f"{LIST}{patient.pk}/"


def export_json_url(patient) -> str:
    return f"{LIST}{patient.pk}/export.json"


def export_fhir_url(patient) -> str:
    return f"{LIST}{patient.pk}/export.fhir.json"


def erase_url(patient) -> str:
    return f"{LIST}{patient.pk}/erase/"


# --- helpers ----------------------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def frontdesk(demo):
    return make_user("frida", "Front desk")


@pytest.fixture
def fd_client(frontdesk):
    return client_for(frontdesk)


@pytest.fixture
def administrator(demo):
    return make_user("ada", "Administrators")


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


def make_request(patient=None, *, linked=True, **fields) -> AppointmentRequest:
    """A request from the patient (their name, birth date, contact), linked to the record unless linked=False."""
    values = {
        "first_name": patient.first_name if patient else "Pat",
        "last_name": patient.last_name if patient else "Example",
        "date_of_birth": patient.date_of_birth if patient else date(1970, 1, 2),
        "phone": patient.phone if patient else "+12125550100",
        "email": patient.email if patient else "pat@example.org",
        "contact_method": "phone",
        "patient_status": "new",
        "reason": "lower_back",
        "reason_detail": "after lifting boxes",
        "pain_duration": "chronic",
        "consent_to_contact": True,
        "message": "Mornings are best.",
        "insurance_carrier": "Acme Health",
        "insurance_member_id": "XG-1234",
        "red_flag_answers": {"bladder_bowel": False, "fever": False},
        "urgency": "routine",
        "urgency_reasons": [],
        "patient": patient if linked else None,
    }
    values.update(fields)
    return AppointmentRequest.objects.create(**values)


def add_activity(request, *, by=None):
    """Preferred times, contact attempts and a notification: everything hanging off a request."""
    PreferredTime.objects.create(request=request, date=date(2031, 5, 6), time_of_day="morning")
    PreferredTime.objects.create(request=request, date=date(2031, 5, 8), time_of_day="any")
    now = timezone.now()
    ContactAttempt.objects.create(
        request=request, at=now - timedelta(hours=2), method="phone", outcome="no_answer", by=by
    )
    ContactAttempt.objects.create(
        request=request,
        at=now - timedelta(hours=1),
        method="phone",
        outcome="reached",
        note="Call back Tue",
        by=by,
    )
    RequestNotification.objects.create(request=request, kind="clinic", sent_at=now)


@pytest.fixture
def maria(demo, frontdesk):
    """Maria with two linked requests (one ended: booked), one unlinked request of hers, all with activity."""
    patient = make_patient(created_by=frontdesk)
    practitioner = Practitioner.objects.create(name="Dr. Chen Wei", credentials="L.Ac.")
    first = make_request(patient, preferred_practitioner=practitioner)
    add_activity(first, by=frontdesk)
    second = make_request(
        patient, reason="neck", reason_detail="", status="ended", end_reason="booked", ended_at=timezone.now()
    )
    # Sent before the record existed: same name (other case), birth date and phone, never linked.
    unlinked = make_request(patient, linked=False, first_name="MARIA", email="")
    add_activity(unlinked)
    return {"patient": patient, "requests": [first, second, unlinked]}


@pytest.fixture
def other(demo):
    """Another patient, with a request and its activity: erasing Maria must not touch any of it."""
    patient = make_patient(
        first_name="Mario", last_name="Rossi", phone="+12125550123", email="mario@example.org"
    )
    request = make_request(patient)
    add_activity(request)
    # Same birthday and name as Maria but nothing else in common: somebody else.
    namesake = make_request(
        None,
        first_name="Maria",
        last_name="Lopez",
        date_of_birth=date(1961, 4, 27),
        phone="+13105550111",
        email="maria.l@example.net",
    )
    return {"patient": patient, "requests": [request, namesake]}


def events(action, object_type="", object_id=""):
    qs = AuditEvent.objects.filter(action=action).order_by("seq")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id != "":
        qs = qs.filter(object_id=str(object_id))
    return list(qs)


def download(response) -> dict:
    assert response.status_code == 200, response.status_code
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "no-store" in response["Cache-Control"]
    return json.loads(response.content)


# --- the list and a patient's page ------------------------------------------------------------------------


def test_front_desk_sees_the_menu_item_and_finds_a_patient_by_name(fd_client, frontdesk, maria, other):
    assert LIST in fd_client.get("/admin/").content.decode()
    response = fd_client.get(LIST, {"q": "lop"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-patient="{maria["patient"].pk}"' in html
    assert f'data-patient="{other["patient"].pk}"' not in html
    everyone = fd_client.get(LIST).content.decode()
    assert f'data-patient="{other["patient"].pk}"' in everyone

    listed = events("list", "clinical.patient")
    assert len(listed) == 2 and all(e.actor_id == frontdesk.pk for e in listed)
    assert "searched by name" in listed[0].detail and f"ids {maria['patient'].pk}" in listed[0].detail
    # The audit log names records, never the words searched for.
    assert "lop" not in listed[0].detail.lower()


def test_the_patient_page_is_a_read_with_the_requests_and_the_buttons(fd_client, frontdesk, maria):
    patient = maria["patient"]
    response = fd_client.get(page(patient))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Maria Lopez" in html
    for request in maria["requests"]:
        assert f'data-reference="{request.reference}"' in html
    assert "Export JSON" in html and "Export FHIR" in html
    assert erase_url(patient) not in html  # the front desk cannot erase
    [read] = events("read", "clinical.patient", patient.pk)
    assert read.actor_id == frontdesk.pk and read.actor_username == "frida"


def test_unknown_patient_is_404(fd_client):
    assert fd_client.get(f"{LIST}999999/").status_code == 404
    assert fd_client.get(f"{LIST}999999/export.json").status_code == 404


# --- JSON export ------------------------------------------------------------------------------------------


def test_json_export_holds_the_patient_and_their_requests(fd_client, frontdesk, maria, other):
    patient = maria["patient"]
    response = fd_client.get(export_json_url(patient))
    assert response["Content-Type"].startswith("application/json")
    data = download(response)

    assert data["format"] == "acuclinic.patient-export" and data["version"] == 1
    assert data["patient"] == {
        "id": patient.pk,
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": "1961-04-27",
        "phone": "+12125550199",
        "email": "maria@example.org",
        "address": "",
        "insurance": {"carrier": "", "member_id": "", "has_medicare": False},
        "created_at": patient.created_at.isoformat(),
        "updated_at": patient.updated_at.isoformat(),
    }
    assert data["appointments"] == []
    refs = [r["reference"] for r in data["appointment_requests"]]
    assert refs == [r.reference for r in maria["requests"]]  # oldest first; the namesake is not Maria
    assert all(r.reference not in refs for r in other["requests"])

    first, second, unlinked = data["appointment_requests"]
    assert first["linked_to_patient"] is True and unlinked["linked_to_patient"] is False
    assert first["reason"] == {"code": "lower_back", "display": "Lower back pain"}
    assert first["reason_detail"] == "after lifting boxes" and first["message"] == "Mornings are best."
    assert first["preferred_practitioner"] == "Dr. Chen Wei"
    assert first["insurance_member_id"] == "XG-1234"
    assert first["red_flag_answers"] == {"bladder_bowel": False, "fever": False}
    assert first["preferred_times"] == [
        {"date": "2031-05-06", "time_of_day": {"code": "morning", "display": "Morning"}},
        {"date": "2031-05-08", "time_of_day": {"code": "any", "display": "Any time"}},
    ]
    assert [(a["outcome"]["code"], a["note"]) for a in first["contact_attempts"]] == [
        ("no_answer", ""),
        ("reached", "Call back Tue"),
    ]
    assert "by" not in first["contact_attempts"][0]  # staff are not the patient's data
    assert first["notifications"][0]["kind"]["code"] == "clinic"
    assert second["status"]["code"] == "ended" and second["end_reason"]["code"] == "booked"
    assert first["end_reason"] is None

    [event] = events("export", "clinical.patient", patient.pk)
    assert event.actor_id == frontdesk.pk
    assert event.detail.startswith("json; appointment requests: ")
    assert str(maria["requests"][2].pk) in event.detail
    assert "Lopez" not in event.detail and "Maria" not in event.detail


def test_export_of_a_patient_without_requests(frontdesk):
    patient = make_patient(phone="", email="")
    data = services.export_patient_json(actor=frontdesk, patient=patient)
    assert data["appointment_requests"] == [] and data["patient"]["phone"] == ""
    bundle = services.export_patient_fhir(actor=frontdesk, patient=patient)
    [entry] = bundle["entry"]
    assert entry["resource"]["resourceType"] == "Patient" and "telecom" not in entry["resource"]
    assert [e.detail for e in events("export", "clinical.patient", patient.pk)] == [
        "json; appointment requests: none; appointments: none; "
        "episodes none; responses none; consents none; safety flags none",
        "fhir; appointment requests: none; appointments: none; "
        "episodes none; responses none; consents none; safety flags none",
    ]


# --- FHIR export ------------------------------------------------------------------------------------------


def test_fhir_export_is_a_valid_r4_collection_bundle(fd_client, frontdesk, maria, other):
    patient = maria["patient"]
    response = fd_client.get(export_fhir_url(patient))
    assert response["Content-Type"].startswith("application/fhir+json")
    data = download(response)

    bundle = Bundle.model_validate(data)  # fhir.resources' R4B (4.3) models: R4's shapes
    assert bundle.type == "collection"
    by_type: dict[str, list] = {}
    for entry in bundle.entry:
        assert entry.fullUrl.startswith("urn:uuid:")
        by_type.setdefault(entry.resource.get_resource_type(), []).append(entry)
    assert sorted((t, len(e)) for t, e in by_type.items()) == [
        ("Communication", 4),  # two contact attempts on each of two requests
        ("Coverage", 1),  # the same carrier and member id on every request
        ("Patient", 1),
        ("ServiceRequest", 3),
    ]

    [patient_entry] = by_type["Patient"]
    resource = patient_entry.resource
    assert resource.name[0].family == "Lopez" and resource.name[0].given == ["Maria"]
    assert resource.birthDate == date(1961, 4, 27)
    assert {(t.system, t.value) for t in resource.telecom} == {
        ("phone", "+12125550199"),
        ("email", "maria@example.org"),
    }
    [identifier] = resource.identifier
    assert identifier.value == str(patient.pk) and identifier.system == exports.identifier_system("patient")

    requests = {e.resource.id: e.resource for e in by_type["ServiceRequest"]}
    first, second, unlinked = maria["requests"]
    assert set(requests) == {first.reference, second.reference, unlinked.reference}
    assert requests[first.reference].status == "active" and requests[second.reference].status == "completed"
    assert requests[first.reference].subject.reference == patient_entry.fullUrl
    assert requests[first.reference].reasonCode[0].text == "Lower back pain: after lifting boxes"
    assert [str(d) for d in requests[first.reference].occurrenceTiming.event] == ["2031-05-06", "2031-05-08"]
    assert requests[first.reference].performer[0].display == "Dr. Chen Wei"
    assert any("Mornings are best." in n.text for n in requests[first.reference].note)
    coverage_url = by_type["Coverage"][0].fullUrl
    assert requests[first.reference].insurance[0].reference == coverage_url
    assert by_type["Coverage"][0].resource.subscriberId == "XG-1234"

    statuses = sorted(e.resource.status for e in by_type["Communication"])
    assert statuses == ["completed", "completed", "not-done", "not-done"]
    request_urls = {e.fullUrl for e in by_type["ServiceRequest"]}
    assert all(e.resource.basedOn[0].reference in request_urls for e in by_type["Communication"])
    text = json.dumps(data)
    assert all(r.reference not in text for r in other["requests"])

    [event] = events("export", "clinical.patient", patient.pk)
    assert event.detail.startswith("fhir; ") and event.actor_id == frontdesk.pk


def test_fhir_export_is_stable_and_maps_ended_requests(frontdesk, maria):
    patient = maria["patient"]
    spam = make_request(patient, status="ended", end_reason="spam", ended_at=timezone.now(), is_spam=True)
    declined = make_request(patient, status="ended", end_reason="declined", ended_at=timezone.now())
    once = services.export_patient_fhir(actor=frontdesk, patient=patient)
    twice = services.export_patient_fhir(actor=frontdesk, patient=patient)
    assert [e["fullUrl"] for e in once["entry"]] == [e["fullUrl"] for e in twice["entry"]]
    status = {e["resource"].get("id"): e["resource"].get("status") for e in once["entry"]}
    assert status[spam.reference] == "entered-in-error" and status[declined.reference] == "revoked"


# --- erasure ----------------------------------------------------------------------------------------------


def test_administrator_erases_a_patient_and_everything_of_theirs_and_nothing_else(
    administrator, maria, other
):
    patient = maria["patient"]
    request_ids = sorted(r.pk for r in maria["requests"])
    other_ids = sorted(r.pk for r in other["requests"])
    client = client_for(administrator)

    form = client.get(erase_url(patient))
    assert form.status_code == 200
    assert "Lopez" not in form.content.decode()  # administrators see the record number, not the patient
    assert "3 appointment requests" in form.content.decode()

    response = client.post(
        erase_url(patient), {"erase-confirm_last_name": " lopez ", "erase-reason": "patient_request"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    message = client.get("/admin/").content.decode()
    assert f"Patient record #{patient.pk} and 3 appointment requests erased" in message

    assert not Patient.objects.filter(pk=patient.pk).exists()
    assert not AppointmentRequest.objects.filter(pk__in=request_ids).exists()
    for model in (PreferredTime, ContactAttempt, RequestNotification):
        assert not model.objects.filter(request_id__in=request_ids).exists(), model
    # The other patient, and the namesake who shares only a name and a birthday, keep everything.
    assert Patient.objects.filter(pk=other["patient"].pk).exists()
    assert sorted(AppointmentRequest.objects.values_list("pk", flat=True)) == other_ids
    assert PreferredTime.objects.filter(request_id=other_ids[0]).count() == 2
    assert ContactAttempt.objects.filter(request_id=other_ids[0]).count() == 2
    assert RequestNotification.objects.filter(request_id=other_ids[0]).count() == 1

    [erased] = events("erase", "clinical.patient", patient.pk)
    assert erased.actor_id == administrator.pk
    assert (
        erased.detail
        == f"reason: patient_request; appointment requests: {', '.join(map(str, request_ids))}; "
        "appointments: none; episodes none; responses none; consents none; safety flags none"
    )
    per_request = events("erase", "appointments.appointmentrequest")
    assert [int(e.object_id) for e in per_request] == request_ids
    assert all(e.detail == f"reason: patient_request; with patient #{patient.pk}" for e in per_request)
    for event in AuditEvent.objects.all():
        assert "Lopez" not in event.detail and "Maria" not in event.detail


def test_erasure_leaves_the_audit_log_intact(fd_client, administrator, maria):
    patient = maria["patient"]
    fd_client.get(page(patient))
    fd_client.get(export_json_url(patient))
    before = list(AuditEvent.objects.order_by("seq").values_list("seq", "hash"))
    services.erase_patient(actor=administrator, patient=patient, reason=ErasureReason.CREATED_IN_ERROR)
    # Earlier events about the patient stay, unchanged; the chain verifies.
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "hash"))[: len(before)] == before
    assert events("read", "clinical.patient", patient.pk) and events("export", "clinical.patient", patient.pk)
    call_command("verify_audit_log", stdout=_Null(), stderr=_Null())


def test_wrong_last_name_or_no_reason_erases_nothing(administrator, maria):
    patient = maria["patient"]
    client = client_for(administrator)
    for data in (
        {"erase-confirm_last_name": "Lopes", "erase-reason": "patient_request"},
        {"erase-confirm_last_name": "Lopez", "erase-reason": ""},
        {"erase-confirm_last_name": "Lopez", "erase-reason": "because"},
    ):
        response = client.post(erase_url(patient), data)
        assert response.status_code == 400, data
        assert "Nothing was erased" in response.content.decode()
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert AppointmentRequest.objects.filter(patient=patient).count() == 2
    assert not events("erase")


def test_erase_service_checks_the_reason_and_is_all_or_nothing(administrator, maria, monkeypatch):
    patient = maria["patient"]
    with pytest.raises(ValidationError):
        services.erase_patient(actor=administrator, patient=patient, reason="no reason")

    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services.audit, "record", broken)
    with pytest.raises(RuntimeError):
        services.erase_patient(actor=administrator, patient=patient, reason="patient_request")
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert AppointmentRequest.objects.filter(pk__in=[r.pk for r in maria["requests"]]).count() == 3


def test_superuser_sees_and_erases_from_the_patient_page(admin_client, maria):
    patient = maria["patient"]
    html = admin_client.get(page(patient)).content.decode()
    assert erase_url(patient) in html and "Export FHIR" in html
    form = admin_client.get(erase_url(patient)).content.decode()
    assert "Maria Lopez" in form  # who may see patients sees whom they erase
    response = admin_client.post(
        erase_url(patient), {"erase-confirm_last_name": "LOPEZ", "erase-reason": "representative_request"}
    )
    assert response.status_code == 302 and response["Location"] == LIST
    assert not Patient.objects.filter(pk=patient.pk).exists()
    assert events("erase", "clinical.patient", patient.pk)[0].detail.startswith(
        "reason: representative_request;"
    )
    assert admin_client.get(page(patient)).status_code == 404


# --- who may do what --------------------------------------------------------------------------------------


def test_front_desk_can_export_but_not_erase(fd_client, maria):
    patient = maria["patient"]
    assert fd_client.get(export_json_url(patient)).status_code == 200
    assert fd_client.get(export_fhir_url(patient)).status_code == 200
    assert fd_client.get(erase_url(patient)).status_code == 403
    response = fd_client.post(
        erase_url(patient), {"erase-confirm_last_name": "Lopez", "erase-reason": "patient_request"}
    )
    assert response.status_code == 403
    assert Patient.objects.filter(pk=patient.pk).exists() and not events("erase")


def test_administrators_erase_but_neither_list_read_nor_export(administrator, maria):
    client = client_for(administrator)
    patient = maria["patient"]
    assert LIST not in client.get("/admin/").content.decode()
    for url in (LIST, page(patient), export_json_url(patient), export_fhir_url(patient)):
        assert client.get(url).status_code == 403, url
    assert client.get(erase_url(patient)).status_code == 200


@pytest.mark.parametrize("group", ["Editors", "Moderators", "Medical reviewers"])
def test_editors_and_reviewers_get_403_everywhere(demo, group, maria):
    client = client_for(make_user("someone", group))
    patient = maria["patient"]
    assert LIST not in client.get("/admin/").content.decode()  # no menu item
    for url in (LIST, page(patient), export_json_url(patient), export_fhir_url(patient), erase_url(patient)):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Lopez" not in response.content.decode()
    response = client.post(
        erase_url(patient), {"erase-confirm_last_name": "Lopez", "erase-reason": "patient_request"}
    )
    assert response.status_code == 403
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert not events("read") and not events("export") and not events("erase") and not events("list")


def test_clinicians_read_but_neither_export_nor_erase(demo, maria):
    cleo = make_user("cleo", "Clinicians")
    client = client_for(cleo)
    patient = maria["patient"]
    make_booking(patient, practitioner_user=cleo)  # clinicians see their own patients only
    html = client.get(page(patient)).content.decode()
    assert "Maria Lopez" in html and "Export JSON" not in html
    assert client.get(export_json_url(patient)).status_code == 403
    assert client.get(erase_url(patient)).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, maria):
    patient = maria["patient"]
    for url in (LIST, page(patient), export_json_url(patient), export_fhir_url(patient), erase_url(patient)):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
    response = client.post(
        erase_url(patient), {"erase-confirm_last_name": "Lopez", "erase-reason": "patient_request"}
    )
    assert response.status_code == 302 and Patient.objects.filter(pk=patient.pk).exists()


def test_erase_needs_csrf(administrator, maria):
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    patient = maria["patient"]
    response = client.post(
        erase_url(patient), {"erase-confirm_last_name": "Lopez", "erase-reason": "patient_request"}
    )
    assert response.status_code == 403
    assert Patient.objects.filter(pk=patient.pk).exists()


class _Null:
    def write(self, *_args, **_kwargs):
        pass

    def flush(self):
        pass


def test_the_patient_list_pages_keep_the_search(demo, monkeypatch):
    from django.test import Client

    from acuclinic.clinical import admin_views
    from acuclinic.clinical.models import Patient
    from tests.factories import make_user

    monkeypatch.setattr(admin_views, "PAGE_SIZE", 2)
    for i in range(3):
        Patient.objects.create(first_name=f"Ann{i}", last_name="Ng", date_of_birth=date(1980, 1, 1 + i))
    client = Client()
    client.force_login(make_user("frida-pages", "Front desk"))
    page = client.get("/admin/patients/", {"q": "Ng"}).content.decode()
    assert "Page 1 of 2" in page and 'href="?q=Ng&amp;p=2"' in page

"""The chart header on clinical screens, acknowledging flags, the desk's urgent banner — by role, audited."""

from datetime import date

import pytest
from django.urls import reverse

from acuclinic.accounts import roles
from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical.intake.services import prepare_intake
from acuclinic.clinical.models import Patient, SafetyFlag
from tests.factories import make_booking, make_user

from .intake_helpers import fill_intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting():
    clinician = make_user("clin", roles.CLINICIANS)
    desk = make_user("desk", roles.FRONT_DESK)
    patient = Patient.objects.create(first_name="Nia", last_name="Newcomer", date_of_birth=date(1958, 3, 2))
    appointment = make_booking(patient, practitioner_user=clinician)
    response = fill_intake(
        prepare_intake(appointment=appointment), health__blood_thinners="yes", health__pacemaker=True
    )
    return clinician, desk, patient, appointment, response


def test_the_clinician_sees_flags_and_consent_and_acknowledges(client, setting):
    clinician, _desk, patient, appointment, _response = setting
    client.force_login(clinician)
    page = client.get(reverse("scheduling_appointment_detail", args=[appointment.pk])).content.decode()
    assert "Pacemaker or implanted defibrillator" in page and "Takes a blood thinner" in page
    assert "Consent signed (version 1," in page and "No electroacupuncture" in page
    assert "2 to acknowledge before treating" in page
    assert AuditEvent.objects.filter(
        actor_id=clinician.pk, action="read", object_type="clinical.patient", object_id=str(patient.pk)
    ).exists()
    for flag in SafetyFlag.objects.filter(patient=patient):
        answer = client.post(reverse("clinical_flag_acknowledge", args=[flag.pk]), {"next": "/admin/"})
        assert answer.status_code == 302
    assert not SafetyFlag.objects.filter(patient=patient, acknowledged_at__isnull=True).exists()
    assert AuditEvent.objects.filter(actor_id=clinician.pk, object_type="clinical.safetyflag").count() == 2
    page = client.get(reverse("clinical_patient_intake", args=[patient.pk])).content.decode()
    assert "Do you take a blood thinner" in page and "Acknowledged by" in page


def test_the_desk_sees_no_clinical_details_and_cannot_acknowledge(client, setting):
    _clinician, desk, _patient, appointment, _response = setting
    client.force_login(desk)
    page = client.get(reverse("scheduling_appointment_detail", args=[appointment.pk])).content.decode()
    assert "Pacemaker" not in page and "Safety flags" not in page
    flag = SafetyFlag.objects.first()
    answer = client.post(reverse("clinical_flag_acknowledge", args=[flag.pk]))
    assert (
        answer.status_code == 403 or answer["Location"] == "/admin/"
    )  # Wagtail: denied, back to the home page
    flag.refresh_from_db()
    assert flag.acknowledged_at is None


def test_another_clinicians_patient_is_404(client, setting):
    other = make_user("other", roles.CLINICIANS)
    make_booking(
        Patient.objects.create(first_name="O", last_name="T", date_of_birth=date(1990, 1, 1)),
        practitioner_user=other,
    )
    client.force_login(other)
    flag = SafetyFlag.objects.first()
    assert client.post(reverse("clinical_flag_acknowledge", args=[flag.pk])).status_code == 404
    assert client.get(reverse("clinical_patient_intake", args=[flag.patient_id])).status_code == 404


def test_no_consent_means_do_not_treat(client, db):
    clinician = make_user("clin2", roles.CLINICIANS)
    patient = Patient.objects.create(first_name="Una", last_name="Unsigned", date_of_birth=date(1970, 1, 1))
    appointment = make_booking(patient, practitioner_user=clinician)
    client.force_login(clinician)
    page = client.get(reverse("scheduling_appointment_detail", args=[appointment.pk])).content.decode()
    assert "No consent \u2014 do not treat" in page and "Do not treat" in page


def test_an_urgent_intake_tops_the_desks_banner(client, db):
    desk = make_user("desk2", roles.FRONT_DESK)
    patient = Patient.objects.create(first_name="Ema", last_name="Emergency", date_of_birth=date(1970, 1, 1))
    appointment = make_booking(patient)
    response = fill_intake(
        prepare_intake(appointment=appointment), complete=False, redflag__bladder_bowel=True
    )
    assert response.urgency == "emergency"
    client.force_login(desk)
    page = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Intake of Ema Emergency" in page and "Emergency" in page
    detail = client.get(reverse("scheduling_appointment_detail", args=[appointment.pk])).content.decode()
    assert "Urgent: the intake" in detail
    client.post(reverse("clinical_intake_acknowledge_urgent", args=[response.pk]))
    assert "Intake of Ema Emergency" not in client.get(reverse("wagtailadmin_home")).content.decode()

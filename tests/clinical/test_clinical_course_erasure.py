"""Erasure on request removes the clinical course with the patient: episodes, questionnaire responses, consents,
safety flags — and the appointments and plans that hold the patient's visits — leaving nothing of them behind
(no row, no answer text anywhere in the database) and nothing of another patient touched."""

from datetime import date

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical import services
from acuclinic.clinical.models import (
    ConsentRecord,
    Episode,
    ErasureReason,
    Patient,
    QuestionnaireResponse,
    SafetyFlag,
)
from acuclinic.scheduling.models import Appointment, AppointmentNotification, TreatmentPlan
from tests.factories import make_user

from .course_helpers import completed_intake, whole_course

pytestmark = pytest.mark.django_db

MARK = "Zzerasemed 5 mg"


@pytest.fixture
def clinician(db):
    return make_user("cleo", "Clinicians")


@pytest.fixture
def administrator(db):
    return make_user("ada", "Administrators")


def rows_of(patient_id: int, appointment_ids, response_ids) -> dict[str, int]:
    return {
        "episodes": Episode.objects.filter(patient_id=patient_id).count(),
        "responses": QuestionnaireResponse.objects.filter(pk__in=response_ids).count(),
        "consents": ConsentRecord.objects.filter(patient_id=patient_id).count(),
        "flags": SafetyFlag.objects.filter(patient_id=patient_id).count(),
        "appointments": Appointment.objects.filter(pk__in=appointment_ids).count(),
        "notifications": AppointmentNotification.objects.filter(appointment_id__in=appointment_ids).count(),
        "plans": TreatmentPlan.objects.filter(patient_id=patient_id).count(),
    }


def text_in_database(needle: str) -> list[str]:
    """Tables of ours with a text column holding the needle (the audit log included)."""
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label not in {"clinical", "appointments", "scheduling", "accounts", "core"}:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            if model._meta.proxy:
                continue
            for field in model._meta.local_concrete_fields:
                if field.get_internal_type() not in ("CharField", "TextField", "JSONField"):
                    continue
                column = connection.ops.quote_name(field.column)
                query = f"SELECT COUNT(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE %s"  # noqa: S608
                cursor.execute(query, [f"%{needle}%"])
                if cursor.fetchone()[0]:
                    found.append(f"{model._meta.label}.{field.name}")
    return found


def test_erasure_removes_the_whole_clinical_course_and_nothing_of_another_patient(administrator, clinician):
    response, appointment = whole_course(clinician=clinician)
    patient = response.patient
    QuestionnaireResponse.objects.filter(pk=response.pk).update(
        answers={**response.answers, "health.medications": MARK}
    )
    plan = TreatmentPlan.objects.create(
        patient=patient,
        practitioner=appointment.practitioner,
        location=appointment.location,
        appointment_type=appointment.appointment_type,
        pattern="weekly x6",
    )
    Appointment.objects.filter(pk=appointment.pk).update(plan=plan)
    other = Patient.objects.create(first_name="Otto", last_name="Other", date_of_birth=date(1970, 1, 1))
    other_response, other_appointment = completed_intake(
        patient=other, clinician=clinician, signed_name="Otto Other"
    )

    appointment_ids = list(Appointment.objects.filter(patient=patient).values_list("pk", flat=True))
    response_ids = list(QuestionnaireResponse.objects.filter(patient=patient).values_list("pk", flat=True))
    before = rows_of(patient.pk, appointment_ids, response_ids)
    assert all(before[k] for k in ("episodes", "responses", "consents", "flags", "appointments")), before
    other_before = rows_of(other.pk, [other_appointment.pk], [other_response.pk])
    assert text_in_database(MARK) == ["clinical.QuestionnaireResponse.answers"]

    client = Client()
    client.force_login(administrator)
    page = client.get(f"/admin/patients/{patient.pk}/erase/")
    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    assert "1 appointment (past and to come" in text
    assert "1 episode of care, 1 questionnaire response, 2 consents and 2 safety flags" in text
    erased = client.post(
        f"/admin/patients/{patient.pk}/erase/",
        {"erase-confirm_last_name": "Newcomer", "erase-reason": ErasureReason.PATIENT_REQUEST},
    )
    assert erased.status_code == 302, erased.content.decode()[:2000]

    assert not Patient.objects.filter(pk=patient.pk).exists()
    assert rows_of(patient.pk, appointment_ids, response_ids) == dict.fromkeys(before, 0)
    assert text_in_database(MARK) == []
    assert text_in_database("Newcomer") == []  # the typed signature went with the consent
    # The other patient keeps everything.
    assert rows_of(other.pk, [other_appointment.pk], [other_response.pk]) == other_before

    # The log names what went, by record ids only.
    [event] = AuditEvent.objects.filter(
        action="erase", object_type="clinical.patient", object_id=str(patient.pk)
    )
    assert f"appointments: #{appointment_ids[0]}" in event.detail
    assert f"responses #{response.pk}" in event.detail and "episodes #" in event.detail
    erased_types = set(AuditEvent.objects.filter(action="erase").values_list("object_type", flat=True))
    assert {
        "scheduling.appointment",
        "clinical.questionnaireresponse",
        "clinical.consentrecord",
    } <= erased_types
    assert {"clinical.episode", "clinical.safetyflag"} <= erased_types
    for event in AuditEvent.objects.all():
        assert MARK not in event.detail and "Newcomer" not in event.detail


def test_erasure_of_a_patient_with_an_intake_under_way(administrator):
    patient = Patient.objects.create(first_name="Ivy", last_name="Underway", date_of_birth=date(1980, 2, 2))
    from acuclinic.clinical.intake.services import prepare_intake
    from tests.factories import make_booking

    response = prepare_intake(appointment=make_booking(patient))
    services.erase_patient(actor=administrator, patient=patient, reason=ErasureReason.CREATED_IN_ERROR)
    assert not QuestionnaireResponse.objects.filter(pk=response.pk).exists()
    assert not Episode.objects.filter(patient_id=patient.pk).exists()

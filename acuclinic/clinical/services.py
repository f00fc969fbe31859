"""Writes for patients. Every new patient record is created, every export made and every erasure done here.

Exports and erasures are recorded in the audit log (HIPAA §164.312(b)) with references only: the record ids, the
export format, the erasure's reason category — never a name or a health detail.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments import services as appointment_services
from acuclinic.appointments.models import AppointmentRequest

from . import exports, selectors
from .models import ErasureReason, Patient

logger = logging.getLogger(__name__)


def find_matching_patient(
    *, first_name: str, last_name: str, date_of_birth, phone: str, email: str
) -> Patient | None:
    """The patient with the same first and last name (any case), date of birth, and phone or e-mail."""
    # Few patients share a birthday: compare the rest in Python, the same on SQLite and PostgreSQL.
    for patient in Patient.objects.filter(date_of_birth=date_of_birth).order_by("pk"):
        if selectors.is_same_person(
            patient, first_name=first_name, last_name=last_name, phone=phone, email=email
        ):
            return patient
    return None


@transaction.atomic
def find_or_create_patient(
    *, first_name: str, last_name: str, date_of_birth, email: str, phone: str, by, source: str
) -> Patient:
    """The matching patient, or a new record (audited) when nobody matches — for bookings made online/by API.

    A match needs the same names, date of birth and phone or e-mail, so a booking can never attach itself to
    another person who merely shares a name and birthday.
    """
    patient = find_matching_patient(
        first_name=first_name, last_name=last_name, date_of_birth=date_of_birth, phone=phone, email=email
    )
    if patient is not None:
        return patient
    patient = Patient.objects.create(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        phone=phone,
        email=email,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    audit.record(actor=by, action=AuditEvent.Action.CREATE, obj=patient, detail=f"from {source}")
    return patient


@transaction.atomic
def create_or_match_patient_from_request(*, request: AppointmentRequest, by) -> tuple[Patient, bool]:
    """Link the request to its patient, creating the record only when no existing patient matches.

    Returns (patient, created). A request already linked keeps its patient (created is False).
    """
    request = AppointmentRequest.objects.select_for_update().get(pk=request.pk)
    if request.patient_id:
        return request.patient, False
    if request.is_spam:
        raise ValidationError("This request is marked as spam. Reopen it before creating a patient record.")
    patient = find_matching_patient(
        first_name=request.first_name,
        last_name=request.last_name,
        date_of_birth=request.date_of_birth,
        phone=request.phone,
        email=request.email,
    )
    created = patient is None
    if created:
        patient = Patient.objects.create(
            first_name=request.first_name.strip(),
            last_name=request.last_name.strip(),
            date_of_birth=request.date_of_birth,
            phone=request.phone,
            email=request.email,
            created_by=by,
        )
        audit.record(
            actor=by, action=AuditEvent.Action.CREATE, obj=patient, detail=f"from request #{request.pk}"
        )
    appointment_services.link_patient(request=request, patient=patient, by=by)
    logger.info(
        "patient linked to appointment request",
        extra={"reference": request.reference, "patient": patient.pk, "patient_created": created},
    )
    return patient, created


# --- export -----------------------------------------------------------------------------------------------


def export_patient_json(*, actor, patient: Patient, request=None) -> dict:
    """Everything we hold about the patient, in the documented, versioned shape of clinical.exports."""
    requests = selectors.patient_appointment_requests(patient=patient)
    data = exports.patient_json(patient=patient, requests=requests)
    _audit_export(actor=actor, patient=patient, fmt="json", requests=requests, request=request)
    return data


def export_patient_fhir(*, actor, patient: Patient, request=None) -> dict:
    """A FHIR R4 (R4B) Bundle of type "collection": the Patient and the resources related to them.

    The Bundle is validated with fhir.resources before it leaves: an export that is not valid FHIR fails loudly.
    """
    requests = selectors.patient_appointment_requests(patient=patient)
    data = exports.patient_fhir_bundle(patient=patient, requests=requests)
    exports.validate_fhir_bundle(data)
    _audit_export(actor=actor, patient=patient, fmt="fhir", requests=requests, request=request)
    return data


def _audit_export(*, actor, patient: Patient, fmt: str, requests, request) -> None:
    audit.record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        obj=patient,
        detail=_ids_detail(f"{fmt}; appointment requests", [r.pk for r in requests]),
        request=request,
    )
    logger.info("patient exported", extra={"patient": patient.pk, "format": fmt})


def _ids_detail(prefix: str, ids: list[int]) -> str:
    """The detail "prefix: 1, 2, 3" within the audit detail's 500 characters (the count when the list is too long)."""
    text = f"{prefix}: {', '.join(map(str, ids)) or 'none'}"
    return text if len(text) <= 500 else f"{prefix}: {len(ids)} (first {ids[0]}, last {ids[-1]})"


# --- erasure ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    patient_id: int
    appointment_request_ids: tuple[int, ...]


@transaction.atomic
def erase_patient(*, actor, patient: Patient, reason: str, request=None) -> Erasure:
    """Remove the patient's personal and health data, all or nothing, and record the erasure in the audit log.

    Removed: the Patient row and the appointment requests linked to it or matching it (selectors), with their
    preferred times, contact attempts and e-mail notifications. Kept: the audit log, which holds only references;
    one "erase" event names the patient record and the request ids, and one per request names the request, so a
    search of the log by either id finds the erasure. Raises ValidationError for an unknown reason category and
    Patient.DoesNotExist when the record is already gone.
    """
    if reason not in ErasureReason.values:
        raise ValidationError("Choose the reason for the erasure.")
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    requests = selectors.patient_appointment_requests(patient=patient)
    request_ids = tuple(sorted(r.pk for r in requests))
    patient_id = patient.pk
    # Preferred times, contact attempts and notifications go with their request (on_delete=CASCADE); a queued
    # e-mail whose notification row is gone is dropped by the worker ("gone").
    AppointmentRequest.objects.filter(pk__in=request_ids).delete()
    patient.delete()
    audit.record(
        actor=actor,
        action=AuditEvent.Action.ERASE,
        object_type=Patient._meta.label_lower,
        object_id=patient_id,
        detail=_ids_detail(f"reason: {reason}; appointment requests", list(request_ids)),
        request=request,
    )
    for request_id in request_ids:
        audit.record(
            actor=actor,
            action=AuditEvent.Action.ERASE,
            object_type=AppointmentRequest._meta.label_lower,
            object_id=request_id,
            detail=f"reason: {reason}; with patient #{patient_id}",
            request=request,
        )
    logger.info("patient erased", extra={"patient": patient_id, "appointment_requests": len(request_ids)})
    return Erasure(patient_id=patient_id, appointment_request_ids=request_ids)

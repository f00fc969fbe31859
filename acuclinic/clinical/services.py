"""Writes for patients. Every new patient record is created, every export made and every erasure done here.

Exports and erasures are recorded in the audit log (HIPAA §164.312(b)) with references only: the record ids, the
export format, the erasure's reason category — never a name or a health detail.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

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
        created_by=by
        if getattr(by, "is_authenticated", False) and by.pk is not None
        else None,  # an API client: no user
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
            insurance_carrier=request.insurance_carrier.strip(),
            insurance_member_id=request.insurance_member_id.strip(),
            has_medicare=request.has_medicare,
            created_by=by,
        )
        audit.record(
            actor=by, action=AuditEvent.Action.CREATE, obj=patient, detail=f"from request #{request.pk}"
        )
    else:
        carry_over_insurance(patient=patient, request=request, by=by)
    appointment_services.link_patient(request=request, patient=patient, by=by)
    logger.info(
        "patient linked to appointment request",
        extra={"reference": request.reference, "patient": patient.pk, "patient_created": created},
    )
    return patient, created


INSURANCE_FIELDS = ("insurance_carrier", "insurance_member_id", "has_medicare")


def carry_over_insurance(*, patient: Patient, request: AppointmentRequest, by) -> list[str]:
    """Fill the matched patient's blank insurance fields from the request; never overwrite what the record holds.

    Returns the names of the fields filled (audited as a change, names only). A request whose insurance differs
    from a filled field changes nothing: the record page shows each request's insurance next to the record's and
    marks the difference, so the desk decides (never a silent overwrite).
    """
    filled = []
    for name in INSURANCE_FIELDS:
        value = getattr(request, name)
        value = value.strip() if isinstance(value, str) else value
        if value and not getattr(patient, name):
            setattr(patient, name, value)
            filled.append(name)
    if filled:
        patient.save(update_fields=[*filled, "updated_at"])
        audit.record(
            actor=by,
            action=AuditEvent.Action.CHANGE,
            obj=patient,
            detail=f"filled from request #{request.pk}: {', '.join(filled)}",
        )
    return filled


# --- the desk: details, a new record, duplicates, a merge ------------------------------------------------------

EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "insurance_carrier",
    "insurance_member_id",
    "has_medicare",
)


@transaction.atomic
def update_patient(*, actor, patient: Patient, data: dict, request=None) -> list[str]:
    """Save the changed details (already validated by the form) and audit the NAMES of the fields changed.

    Returns the changed field names (empty when nothing changed: then nothing is written nor audited).
    """
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    changed = [name for name in EDITABLE_FIELDS if name in data and getattr(patient, name) != data[name]]
    if not changed:
        return []
    for name in changed:
        setattr(patient, name, data[name])
    patient.full_clean()
    patient.save(update_fields=[*changed, "updated_at"])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=patient,
        detail=f"details changed: {', '.join(changed)}",
        request=request,
    )
    logger.info("patient details changed", extra={"patient": patient.pk, "fields": changed})
    return changed


@transaction.atomic
def create_patient(*, actor, data: dict, source: str = "front desk", request=None) -> Patient:
    """A new record typed in by the desk (a phone call, a walk-in); the caller has shown the likely duplicates."""
    patient = Patient(**{name: data[name] for name in EDITABLE_FIELDS if name in data}, created_by=actor)
    patient.full_clean()
    patient.save()
    audit.record(
        actor=actor, action=AuditEvent.Action.CREATE, obj=patient, detail=f"by {source}", request=request
    )
    logger.info("patient created by the desk", extra={"patient": patient.pk})
    return patient


@dataclass(frozen=True)
class Merge:
    kept_id: int
    removed_id: int
    appointment_ids: tuple[int, ...]
    request_ids: tuple[int, ...]
    waitlist_ids: tuple[int, ...]
    plan_ids: tuple[int, ...]


class MergeConflict(ValidationError):
    """The merge would give the kept patient two appointments at once: nothing was changed."""


def merge_patients(*, actor, keep: Patient, duplicate: Patient, request=None) -> Merge:
    """Move the duplicate's appointments, requests, waitlist entries, treatment plans and clinical course (episodes,
    questionnaire responses, consents, safety flags: `_move_clinical_course`) to the kept record and remove the
    duplicate, all in one transaction; blank details of the kept record are filled from the duplicate.

    The database's no-overlap rule for patients decides whether two appointments would meet: then nothing is
    changed and MergeConflict (a ValidationError) names the appointments. Audited on both records.
    """
    from acuclinic.scheduling.models import Appointment, TreatmentPlan, WaitlistEntry
    from acuclinic.scheduling.services import overlap_conflict

    if keep.pk == duplicate.pk:
        raise ValidationError("Choose two different records to merge.")
    try:
        with transaction.atomic():
            keep = Patient.objects.select_for_update().get(pk=keep.pk)
            duplicate = Patient.objects.select_for_update().get(pk=duplicate.pk)
            appointment_ids = tuple(
                Appointment.objects.filter(patient=duplicate).order_by("pk").values_list("pk", flat=True)
            )
            request_ids = tuple(
                AppointmentRequest.objects.filter(patient=duplicate)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            waitlist_ids = tuple(
                WaitlistEntry.objects.filter(patient=duplicate).order_by("pk").values_list("pk", flat=True)
            )
            plan_ids = tuple(
                TreatmentPlan.objects.filter(patient=duplicate).order_by("pk").values_list("pk", flat=True)
            )
            # One row at a time: the no-overlap trigger (SQLite) / exclusion constraint (PostgreSQL) checks each.
            for pk in appointment_ids:
                Appointment.objects.filter(pk=pk).update(patient=keep)
            AppointmentRequest.objects.filter(pk__in=request_ids).update(patient=keep)
            WaitlistEntry.objects.filter(pk__in=waitlist_ids).update(patient=keep)
            TreatmentPlan.objects.filter(pk__in=plan_ids).update(patient=keep)
            clinical = _move_clinical_course(keep=keep, duplicate=duplicate)
            filled = [
                name
                for name in EDITABLE_FIELDS
                if not getattr(keep, name) and getattr(duplicate, name) not in ("", None, False)
            ]
            for name in filled:
                setattr(keep, name, getattr(duplicate, name))
            keep.save(update_fields=[*filled, "updated_at"])
            duplicate_id = duplicate.pk
            duplicate.delete()
            moved = (
                f"appointments {_id_list(appointment_ids)}; requests {_id_list(request_ids)}; "
                f"waitlist {_id_list(waitlist_ids)}; plans {_id_list(plan_ids)}; {clinical}"
            )
            audit.record(
                actor=actor,
                action=AuditEvent.Action.CHANGE,
                obj=keep,
                detail=f"merged duplicate #{duplicate_id} into this record; moved {moved}"
                + (f"; filled {', '.join(filled)}" if filled else ""),
                request=request,
            )
            audit.record(
                actor=actor,
                action=AuditEvent.Action.ERASE,
                object_type=Patient._meta.label_lower,
                object_id=duplicate_id,
                detail=f"merged into #{keep.pk} (duplicate record removed); moved {moved}",
                request=request,
            )
    except IntegrityError as exc:
        if overlap_conflict(exc) != "patient":
            raise
        raise MergeConflict(
            "These records cannot be merged: the patient would have two appointments at the same time. "
            "Move or cancel one of them first; nothing was changed.",
            code="overlap",
        ) from None
    logger.info("patients merged", extra={"patient": keep.pk, "removed": duplicate_id})
    return Merge(keep.pk, duplicate_id, appointment_ids, request_ids, waitlist_ids, plan_ids)


def _move_clinical_course(*, keep: Patient, duplicate: Patient) -> str:
    """Move the duplicate's clinical course to the kept record (deleting the duplicate would cascade to it).

    The rules of one patient still hold afterwards: the kept record's open episode stays the open one (the
    duplicate's is closed now, and kept); the newest standing consent stands (an older one ends now, as signing a
    new version ends the old); an active safety flag the kept record already has for the same rule is cleared on
    the duplicate's side (the kept one, and its acknowledgement, stand). Returns the audit's ids ("episodes #1; …").
    """
    from django.utils import timezone

    from .models import ConsentRecord, Episode, QuestionnaireResponse, SafetyFlag

    now = timezone.now()
    if Episode.objects.filter(patient=keep, status=Episode.Status.OPEN).exists():
        Episode.objects.filter(patient=duplicate, status=Episode.Status.OPEN).update(
            status=Episode.Status.CLOSED, closed_at=now
        )
    standing = list(
        ConsentRecord.objects.select_for_update()
        .filter(patient__in=[keep, duplicate], withdrawn_at__isnull=True)
        .order_by("-signed_at", "-pk")
    )
    ConsentRecord.objects.filter(pk__in=[c.pk for c in standing[1:]]).update(withdrawn_at=now)
    kept_rules = SafetyFlag.objects.filter(patient=keep, cleared_at__isnull=True).values_list(
        "rule", flat=True
    )
    SafetyFlag.objects.filter(patient=duplicate, cleared_at__isnull=True, rule__in=list(kept_rules)).update(
        cleared_at=now
    )
    parts = []
    for label, model in (
        ("episodes", Episode),
        ("responses", QuestionnaireResponse),
        ("consents", ConsentRecord),
        ("safety flags", SafetyFlag),
    ):
        ids = list(model.objects.filter(patient=duplicate).order_by("pk").values_list("pk", flat=True))
        model.objects.filter(pk__in=ids).update(patient=keep)
        parts.append(f"{label} {_id_list(ids)}")
    return "; ".join(parts)


def _id_list(ids) -> str:
    ids = list(ids)
    text = ",".join(f"#{pk}" for pk in ids) or "none"
    return text if len(text) <= 80 else f"{len(ids)}"


# --- export -----------------------------------------------------------------------------------------------


def export_patient_json(*, actor, patient: Patient, request=None) -> dict:
    """Everything we hold about the patient, in the documented, versioned shape of clinical.exports."""
    requests = selectors.patient_appointment_requests(patient=patient)
    appointments = selectors.patient_appointments_for_export(patient=patient)
    course = selectors.clinical_course_for_export(patient=patient)
    data = exports.patient_json(patient=patient, requests=requests, appointments=appointments, course=course)
    _audit_export(
        actor=actor,
        patient=patient,
        fmt="json",
        requests=requests,
        appointments=appointments,
        course=course,
        request=request,
    )
    return data


def export_patient_fhir(*, actor, patient: Patient, request=None) -> dict:
    """A FHIR R4 (R4B) Bundle of type "collection": the Patient and the resources related to them.

    The Bundle is validated with fhir.resources before it leaves: an export that is not valid FHIR fails loudly.
    """
    requests = selectors.patient_appointment_requests(patient=patient)
    appointments = selectors.patient_appointments_for_export(patient=patient)
    course = selectors.clinical_course_for_export(patient=patient)
    data = exports.patient_fhir_bundle(
        patient=patient, requests=requests, appointments=appointments, course=course
    )
    exports.validate_fhir_bundle(data)
    _audit_export(
        actor=actor,
        patient=patient,
        fmt="fhir",
        requests=requests,
        appointments=appointments,
        course=course,
        request=request,
    )
    return data


def _audit_export(
    *, actor, patient: Patient, fmt: str, requests, appointments=(), course=None, request
) -> None:
    detail = _ids_detail(f"{fmt}; appointment requests", [r.pk for r in requests])
    detail = f"{detail}; appointments: {_id_list(a.pk for a in appointments)}"
    if course is not None:
        detail += f"; {_course_detail(course)}"
    audit.record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        obj=patient,
        detail=detail[:500],
        request=request,
    )
    logger.info("patient exported", extra={"patient": patient.pk, "format": fmt})


def _course_detail(course: selectors.ClinicalCourse) -> str:
    """The clinical course's record ids for the audit log ("episodes #1; responses #2,#3; …"), never content."""
    return "; ".join(
        f"{label} {_id_list(row.pk for row in rows)}"
        for label, rows in (
            ("episodes", course.episodes),
            ("responses", course.responses),
            ("consents", course.consents),
            ("safety flags", course.flags),
        )
    )


def _ids_detail(prefix: str, ids: list[int]) -> str:
    """The detail "prefix: 1, 2, 3" within the audit detail's 500 characters (the count when the list is too long)."""
    text = f"{prefix}: {', '.join(map(str, ids)) or 'none'}"
    return text if len(text) <= 500 else f"{prefix}: {len(ids)} (first {ids[0]}, last {ids[-1]})"


# --- erasure ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    patient_id: int
    appointment_request_ids: tuple[int, ...]
    appointment_ids: tuple[int, ...] = ()
    clinical_ids: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (model label, ids) of the clinical course


@transaction.atomic
def erase_patient(*, actor, patient: Patient, reason: str, request=None) -> Erasure:
    """Remove the patient's personal and health data, all or nothing, and record the erasure in the audit log.

    Removed: the Patient row and the appointment requests linked to it or matching it (selectors), with their
    preferred times, contact attempts and e-mail notifications; the patient's appointments (with their e-mails,
    reminders and waitlist entries) and treatment plans; the clinical course — episodes, questionnaire responses,
    consents and safety flags (on_delete=CASCADE from the patient). Kept: the audit log, which holds only
    references; one "erase" event names the patient record and the ids of everything removed with it, and one per
    removed request, appointment and clinical row names that row, so a search of the log by any id finds the
    erasure. Raises ValidationError for an unknown reason category and Patient.DoesNotExist when the record is
    already gone.
    """
    from acuclinic.scheduling.models import Appointment, TreatmentPlan

    if reason not in ErasureReason.values:
        raise ValidationError("Choose the reason for the erasure.")
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    requests = selectors.patient_appointment_requests(patient=patient)
    request_ids = tuple(sorted(r.pk for r in requests))
    appointment_ids = tuple(
        Appointment.objects.filter(patient=patient).order_by("pk").values_list("pk", flat=True)
    )
    course = selectors.clinical_course_for_export(patient=patient)
    clinical_ids = tuple(
        (rows[0]._meta.label_lower, tuple(sorted(row.pk for row in rows)))
        for rows in (course.episodes, course.responses, course.consents, course.flags)
        if rows
    )
    patient_id = patient.pk
    # Appointments and plans protect the patient from an accidental delete: erasure removes them first (their
    # notifications, reminders and waitlist entries go with them). Preferred times, contact attempts and
    # notifications go with their request, and the clinical course with the patient (on_delete=CASCADE); a queued
    # e-mail whose notification row is gone is dropped by the worker ("gone").
    Appointment.objects.filter(pk__in=appointment_ids).delete()
    TreatmentPlan.objects.filter(patient=patient).delete()
    AppointmentRequest.objects.filter(pk__in=request_ids).delete()
    patient.delete()
    detail = _ids_detail(f"reason: {reason}; appointment requests", list(request_ids))
    detail += f"; appointments: {_id_list(appointment_ids)}; {_course_detail(course)}"
    audit.record(
        actor=actor,
        action=AuditEvent.Action.ERASE,
        object_type=Patient._meta.label_lower,
        object_id=patient_id,
        detail=detail[:500],
        request=request,
    )
    removed = [
        (AppointmentRequest._meta.label_lower, request_ids),
        (Appointment._meta.label_lower, appointment_ids),
        *clinical_ids,
    ]
    for object_type, ids in removed:
        for object_id in ids:
            audit.record(
                actor=actor,
                action=AuditEvent.Action.ERASE,
                object_type=object_type,
                object_id=object_id,
                detail=f"reason: {reason}; with patient #{patient_id}",
                request=request,
            )
    logger.info(
        "patient erased",
        extra={
            "patient": patient_id,
            "appointment_requests": len(request_ids),
            "appointments": len(appointment_ids),
        },
    )
    return Erasure(
        patient_id=patient_id,
        appointment_request_ids=request_ids,
        appointment_ids=appointment_ids,
        clinical_ids=clinical_ids,
    )

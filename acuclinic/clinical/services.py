"""Writes for patients. Every new patient record is created through a function here."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from acuclinic.appointments import services as appointment_services
from acuclinic.appointments.models import AppointmentRequest
from acuclinic.core.validators import normalise_phone

from .models import Patient

logger = logging.getLogger(__name__)


def _same_text(a: str, b: str) -> bool:
    # casefold() in Python: SQLite's lower() and LIKE only fold ASCII, so “José” would not match “JOSÉ” there.
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def _same_phone(a: str, b: str) -> bool:
    if not a or not b:
        return False

    def e164(value: str) -> str:
        try:
            return normalise_phone(value)
        except ValidationError:
            return value.strip()

    return e164(a) == e164(b)


def find_matching_patient(
    *, first_name: str, last_name: str, date_of_birth, phone: str, email: str
) -> Patient | None:
    """The patient with the same first and last name (any case), date of birth, and phone or e-mail."""
    # Few patients share a birthday: compare the rest in Python, the same on SQLite and PostgreSQL.
    for patient in Patient.objects.filter(date_of_birth=date_of_birth).order_by("pk"):
        if not (_same_text(patient.first_name, first_name) and _same_text(patient.last_name, last_name)):
            continue
        same_email = bool(email and patient.email and _same_text(patient.email, email))
        if same_email or _same_phone(patient.phone, phone):
            return patient
    return None


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
    appointment_services.link_patient(request=request, patient=patient, by=by)
    logger.info(
        "patient linked to appointment request",
        extra={"reference": request.reference, "patient": patient.pk, "patient_created": created},
    )
    return patient, created

"""Reads of patients for the back office, the exports and the erasure: who may do what, and which rows are whose.

Whose: the front desk (and superusers) see every patient; a clinician sees only their own patients — those with
at least one appointment, in any status, with the practitioner linked to the clinician's account — and none
without a linked practitioner (issue 4: least privilege).
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from acuclinic.appointments.models import AppointmentRequest
from acuclinic.core.validators import normalise_phone

from .models import Patient

VIEW_PERMISSION = "clinical.view_patient"
EXPORT_PERMISSION = "clinical.export_patient"
ERASE_PERMISSION = "clinical.erase_patient"
# Keeping every patient's contact details is the front desk's work: that permission unlocks the whole list.
ALL_PATIENTS_PERMISSION = "clinical.change_patient"


def _has(user, perm: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(perm))


def can_view_patients(user) -> bool:
    """Front desk and clinicians (the permission, through a group or directly) and superusers."""
    return _has(user, VIEW_PERMISSION)


def can_export_patient(user) -> bool:
    return _has(user, EXPORT_PERMISSION)


def can_erase_patient(user) -> bool:
    return _has(user, ERASE_PERMISSION)


def sees_all_patients(user) -> bool:
    """Front desk and superusers; everyone else who may view patients (clinicians) sees their own only."""
    return _has(user, ALL_PATIENTS_PERMISSION)


def patients_visible_to(user) -> QuerySet[Patient]:
    """The patients this user may open: all of them, or (clinicians) those who have an appointment with them."""
    from acuclinic.scheduling.models import Appointment  # scheduling's models point at clinical.Patient

    if sees_all_patients(user):
        return Patient.objects.all()
    if not (user and user.is_authenticated):
        return Patient.objects.none()
    own = Appointment.objects.filter(practitioner__user=user).values("patient_id")
    return Patient.objects.filter(pk__in=own)


# --- “the same person” ------------------------------------------------------------------------------------


def same_text(a: str, b: str) -> bool:
    # casefold() in Python: SQLite's lower() and LIKE only fold ASCII, so “José” would not match “JOSÉ” there.
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def same_phone(a: str, b: str) -> bool:
    if not a or not b:
        return False

    def e164(value: str) -> str:
        try:
            return normalise_phone(value)
        except ValidationError:
            return value.strip()

    return e164(a) == e164(b)


def is_same_person(person, *, first_name: str, last_name: str, phone: str, email: str) -> bool:
    """Same first and last name (any case) and the same phone or e-mail; the caller has matched the birth date."""
    if not (same_text(person.first_name, first_name) and same_text(person.last_name, last_name)):
        return False
    same_email = bool(email and person.email and same_text(person.email, email))
    return same_email or same_phone(person.phone, phone)


# --- the back office --------------------------------------------------------------------------------------


def search_patients(*, user, query: str = "", date_of_birth=None) -> QuerySet[Patient]:
    """Patients the user may see whose first or last name contains every word of the query (a number also finds
    that record id), born on ``date_of_birth`` if given."""
    patients = patients_visible_to(user).order_by("last_name", "first_name", "pk")
    if date_of_birth is not None:
        patients = patients.filter(date_of_birth=date_of_birth)
    words = query.split()
    if not words:
        return patients
    by_name = Q()
    for word in words:
        by_name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    number = query.strip().lstrip("#")
    if number.isdigit():
        by_name |= Q(pk=int(number))
    return patients.filter(by_name)


def patient_for_detail(*, pk: int, user) -> Patient:
    """Raises Patient.DoesNotExist, also for a patient the user may not see (so they cannot tell the two apart)."""
    return patients_visible_to(user).select_related("created_by").get(pk=pk)


def patient_for_erasure(*, pk: int) -> Patient:
    """Any patient (erasure is an administrator's duty, whoever the patient's clinician). Raises DoesNotExist."""
    return Patient.objects.get(pk=pk)


def may_see_patient(user, patient: Patient) -> bool:
    return can_view_patients(user) and patients_visible_to(user).filter(pk=patient.pk).exists()


VIEW_CLINICAL_RECORD_PERMISSION = "clinical.view_clinical_record"
CHANGE_CLINICAL_RECORD_PERMISSION = "clinical.change_clinical_record"


def can_view_clinical_records(user) -> bool:
    """Clinicians (and superusers) read clinical records (of the patients they may see)."""
    return _has(user, VIEW_CLINICAL_RECORD_PERMISSION)


def can_change_clinical_records(user) -> bool:
    """Clinicians (and superusers): the front desk keeps details and insurance, never the clinical record."""
    return _has(user, CHANGE_CLINICAL_RECORD_PERMISSION)


def may_change_clinical_record(user, patient: Patient) -> bool:
    """Writes the patient's clinical record: the permission, and the patient is theirs to see (a clinician's own)."""
    return can_change_clinical_records(user) and may_see_patient(user, patient)


def patient_appointment_requests(*, patient: Patient) -> list[AppointmentRequest]:
    """The patient's appointment requests: those linked to the record and the unlinked ones that match it.

    Unlinked requests match as `services.find_matching_patient` matches a request to a patient (same name, birth
    date, and phone or e-mail), so an export shows, and an erasure removes, what linking would have attached.
    Oldest first, with preferred times, contact attempts and notifications prefetched.
    """
    candidates = (
        AppointmentRequest.objects.filter(
            Q(patient=patient) | Q(patient__isnull=True, date_of_birth=patient.date_of_birth)
        )
        .select_related("preferred_practitioner")
        .prefetch_related("preferred_times", "contact_attempts", "notifications")
        .order_by("submitted_at", "pk")
    )
    return [
        request
        for request in candidates
        if request.patient_id == patient.pk
        or is_same_person(
            request,
            first_name=patient.first_name,
            last_name=patient.last_name,
            phone=patient.phone,
            email=patient.email,
        )
    ]


# --- the record page ----------------------------------------------------------------------------------------------

CHANGE_PERMISSION = "clinical.change_patient"
ADD_PERMISSION = "clinical.add_patient"
MERGE_PERMISSION = "clinical.change_patient"  # the front desk (README, roles): they see both records in full


def can_edit_patient(user) -> bool:
    """Front desk and superusers; clinicians read the details only."""
    return _has(user, CHANGE_PERMISSION)


def can_add_patient(user) -> bool:
    return _has(user, ADD_PERMISSION) and _has(user, CHANGE_PERMISSION)


def can_merge_patients(user) -> bool:
    return _has(user, MERGE_PERMISSION) and sees_all_patients(user)


def patient_appointments(*, patient: Patient, user, now=None) -> tuple[list, list]:
    """(upcoming, past) appointments of the patient that the user may see: upcoming soonest first, past latest
    first. A clinician sees only the visits with their own practitioner. One query."""
    from django.utils import timezone

    from acuclinic.scheduling.selectors import appointments_visible_to

    now = now or timezone.now()
    rows = list(
        appointments_visible_to(user)
        .filter(patient=patient)
        .select_related("practitioner", "appointment_type", "location", "room")
        .order_by("start", "pk")
    )
    upcoming = [a for a in rows if a.end > now]
    past = [a for a in reversed(rows) if a.end <= now]
    return upcoming, past


def patient_appointments_for_export(*, patient: Patient) -> list:
    from acuclinic.scheduling.models import Appointment

    return list(
        Appointment.objects.filter(patient=patient)
        .select_related("practitioner", "appointment_type", "location", "room", "request")
        .order_by("start", "pk")
    )


@dataclass(frozen=True)
class ClinicalCourse:
    """The patient's clinical course as the export and the erasure see it: every row, whatever its status."""

    episodes: list
    responses: list
    consents: list
    flags: list


def clinical_course_for_export(*, patient: Patient) -> ClinicalCourse:
    """Episodes, questionnaire responses, consents and safety flags of the patient, oldest first, with what the
    export reads of each prefetched (four queries plus the staff who confirmed or acknowledged)."""
    from .models import ConsentRecord, Episode, QuestionnaireResponse, SafetyFlag

    return ClinicalCourse(
        episodes=list(
            Episode.objects.filter(patient=patient)
            .select_related("diagnosis_confirmed_by", "diagnosis_confirmed_by__practitioner")
            .order_by("opened_at", "pk")
        ),
        responses=list(
            QuestionnaireResponse.objects.filter(patient=patient)
            .select_related("instrument", "version__instrument")
            .order_by("created_at", "pk")
        ),
        consents=list(
            ConsentRecord.objects.filter(patient=patient)
            .select_related("version__instrument")
            .order_by("signed_at", "pk")
        ),
        flags=list(
            SafetyFlag.objects.filter(patient=patient)
            .select_related("acknowledged_by", "acknowledged_by__practitioner")
            .order_by("raised_at", "pk")
        ),
    )


def _digits(value: str) -> str:
    try:
        return normalise_phone(value)
    except ValidationError:
        return "".join(ch for ch in (value or "") if ch.isdigit())


def likely_duplicates(
    *, first_name: str, last_name: str, date_of_birth, phone: str = "", email: str = "", exclude_pk=None
) -> list[Patient]:
    """Records that are probably the same person: same name (case/space-insensitive) and birth date, and the same
    phone (any format) or e-mail (any case) when either is given — or the same name and birth date when neither
    contact matches nor is given. Oldest first."""
    candidates = Patient.objects.filter(date_of_birth=date_of_birth).order_by("pk")
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    strong, weak = [], []
    phone_key = _digits(phone) if phone else ""
    for patient in candidates:
        if not (same_text(patient.first_name, first_name) and same_text(patient.last_name, last_name)):
            continue
        if (phone_key and patient.phone and _digits(patient.phone) == phone_key) or (
            email and patient.email and same_text(patient.email, email)
        ):
            patient.matches_contact = True
            strong.append(patient)
        else:
            patient.matches_contact = False
            weak.append(patient)
    return strong + weak


def duplicates_of(*, patient: Patient) -> list[Patient]:
    """Other records that look like this patient (for the merge offer on the record page)."""
    return likely_duplicates(
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth,
        phone=patient.phone,
        email=patient.email,
        exclude_pk=patient.pk,
    )

"""The two shapes of a patient's data export: our own JSON and a FHIR R4 (R4B) Bundle. Pure functions, no writes.

clinical.services.export_patient_json / export_patient_fhir call these and record the export in the audit log.

JSON, format "acuclinic.patient-export", version 1 (a new version number for any change that is not an added key)::

    {
      "format": "acuclinic.patient-export",
      "version": 1,
      "exported_at": "2025-05-06T14:03:00+00:00",          # ISO 8601, UTC
      "patient": {
        "id": 12, "first_name": "…", "last_name": "…", "date_of_birth": "1961-04-27",
        "phone": "+12125550199", "email": "…", "created_at": "…"
      },
      "appointment_requests": [                              # oldest first; linked or matching (see selectors)
        {
          "reference": "ABCD-EFGH", "submitted_at": "…", "channel": "web",
          "linked_to_patient": true,                         # false: unlinked but same name, birth date, phone/e-mail
          "first_name": "…", "last_name": "…", "date_of_birth": "…", "phone": "…", "email": "…",
          "contact_method": {"code": "phone", "display": "Phone call"},   # every coded value: code and display
          "patient_status": {…}, "reason": {…}, "reason_detail": "…", "pain_duration": {…},
          "preferred_practitioner": "Name" | null,
          "insurance_carrier": "…", "insurance_member_id": "…", "has_medicare": false,
          "message": "…", "consent_to_contact": true, "wants_email_acknowledgement": false,
          "red_flag_answers": {"question_key": true, …}, "urgency": {…}, "urgency_reasons": ["…"],
          "status": {…}, "end_reason": {…} | null, "ended_at": "…" | null,
          "preferred_times": [{"date": "2025-05-08", "time_of_day": {…}}],
          "contact_attempts": [{"at": "…", "method": {…}, "outcome": {…}, "note": "…"}],
          "notifications": [{"kind": {…}, "sent_at": "…" | null}]
        }
      ]
    }

Staff names (who called, who is assigned) and internal bookkeeping (spam scoring, ranks) are not the patient's data
and are left out.

FHIR: fhir.resources 8 models R5 by default and R4B (4.3.0) in `fhir.resources.R4B`, which is what we validate
against; every resource used here has the same shape in R4 (4.0.1). A Bundle of type "collection" holds
- one Patient: identifier (our record id), name, birthDate, telecom (phone, e-mail);
- per appointment request, a ServiceRequest (the patient's request for an appointment: status active / completed /
  revoked / entered-in-error from the request's status, intent "proposal", reason, preferred dates as
  occurrenceTiming with the time of day in a note, the preferred practitioner as desired performer, the message);
- per contact attempt, a Communication (completed, or not-done when nobody was reached) based on that request;
- the record's insurance as a Coverage (payor by name, member id as subscriberId), one for Medicare when the
  patient has it, and one per other distinct carrier named in a request;
- per appointment, an Appointment (status mapped as acuclinic/scheduling/fhir.py maps it; the Patient entry, the
  Practitioner and the Location as participants).
Entries are linked by deterministic urn:uuid full URLs, so two exports of the same data are comparable.
"""

import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from acuclinic.appointments.models import AppointmentRequest, ContactAttempt
from acuclinic.appointments.selectors import urgency_label
from acuclinic.core import timefmt

from .models import Patient

JSON_FORMAT = "acuclinic.patient-export"
JSON_VERSION = 1

# Namespace of the deterministic entry ids (uuid5 of "<type>/<our id>").
_UUID_NAMESPACE = uuid.UUID("6f1b4c1e-2a52-4bde-9a43-7e0c3f0d9a11")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _coded(obj, field: str) -> dict | None:
    code = getattr(obj, field)
    if code in ("", None):
        return None
    return {"code": code, "display": str(getattr(obj, f"get_{field}_display")())}


# --- JSON -------------------------------------------------------------------------------------------------


def _request_json(request: AppointmentRequest, *, patient: Patient) -> dict:
    return {
        "reference": request.reference,
        "submitted_at": _iso(request.submitted_at),
        "channel": request.channel,
        "linked_to_patient": request.patient_id == patient.pk,
        "first_name": request.first_name,
        "last_name": request.last_name,
        "date_of_birth": request.date_of_birth.isoformat(),
        "phone": request.phone,
        "email": request.email,
        "contact_method": _coded(request, "contact_method"),
        "patient_status": _coded(request, "patient_status"),
        "reason": _coded(request, "reason"),
        "reason_detail": request.reason_detail,
        "pain_duration": _coded(request, "pain_duration"),
        "preferred_practitioner": request.preferred_practitioner.name
        if request.preferred_practitioner
        else None,
        "insurance_carrier": request.insurance_carrier,
        "insurance_member_id": request.insurance_member_id,
        "has_medicare": request.has_medicare,
        "message": request.message,
        "consent_to_contact": request.consent_to_contact,
        "wants_email_acknowledgement": request.wants_email_acknowledgement,
        "red_flag_answers": dict(request.red_flag_answers or {}),
        "urgency": {"code": request.urgency, "display": urgency_label(request.urgency)},
        "urgency_reasons": list(request.urgency_reasons or []),
        "status": _coded(request, "status"),
        "end_reason": _coded(request, "end_reason"),
        "ended_at": _iso(request.ended_at),
        "preferred_times": [
            {"date": slot.date.isoformat(), "time_of_day": _coded(slot, "time_of_day")}
            for slot in request.preferred_times.all()
        ],
        "contact_attempts": [
            {
                "at": _iso(attempt.at),
                "method": _coded(attempt, "method"),
                "outcome": _coded(attempt, "outcome"),
                "note": attempt.note,
            }
            for attempt in request.contact_attempts.all()
        ],
        "notifications": [
            {"kind": _coded(n, "kind"), "sent_at": _iso(n.sent_at)}
            for n in sorted(request.notifications.all(), key=lambda n: (n.created_at, n.pk))
        ],
    }


def _appointment_json(appointment) -> dict:
    local = appointment.start.astimezone(appointment.location.zone)
    return {
        "id": appointment.pk,
        "start": _iso(appointment.start),
        "end": _iso(appointment.end),
        "local_time": f"{timefmt.short_date(local)}, {timefmt.clock(local)} {timefmt.zone_name(local.tzinfo)}",
        "status": _coded(appointment, "status"),
        "visit_type": appointment.appointment_type.name,
        "practitioner": {"id": appointment.practitioner_id, "name": appointment.practitioner.name},
        "location": {"id": appointment.location_id, "name": appointment.location.name},
        "room": appointment.room.name,
        "booked_online": appointment.booked_online,
        "created_at": _iso(appointment.created_at),
        "arrived_at": _iso(appointment.arrived_at),
        "completed_at": _iso(appointment.completed_at),
        "cancelled_at": _iso(appointment.cancelled_at),
        "cancellation_reason": appointment.cancellation_reason,
        "from_request": appointment.request.reference
        if appointment.request_id and appointment.request
        else None,
        "treatment_plan": appointment.plan_id,
    }


def patient_json(
    *,
    patient: Patient,
    requests: list[AppointmentRequest],
    appointments: list | None = None,
    now: datetime | None = None,
) -> dict:
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "exported_at": (now or timezone.now()).isoformat(),
        "patient": {
            "id": patient.pk,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "phone": patient.phone,
            "email": patient.email,
            "address": patient.address,
            "insurance": {
                "carrier": patient.insurance_carrier,
                "member_id": patient.insurance_member_id,
                "has_medicare": patient.has_medicare,
            },
            "created_at": _iso(patient.created_at),
            "updated_at": _iso(patient.updated_at),
        },
        "appointments": [_appointment_json(a) for a in appointments or []],
        "appointment_requests": [_request_json(r, patient=patient) for r in requests],
    }


# --- FHIR -------------------------------------------------------------------------------------------------


def identifier_system(kind: str) -> str:
    """The URI under which our ids are unique, e.g. https://clinic.example/fhir/identifier/patient."""
    return f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}/fhir/identifier/{kind}"


def full_url(kind: str, key) -> str:
    return f"urn:uuid:{uuid.uuid5(_UUID_NAMESPACE, f'{kind}/{key}')}"


SERVICE_REQUEST_STATUS = {
    # (status, end reason) -> ServiceRequest.status
    AppointmentRequest.EndReason.BOOKED: "completed",
    AppointmentRequest.EndReason.DECLINED: "revoked",
    AppointmentRequest.EndReason.UNREACHABLE: "revoked",
    AppointmentRequest.EndReason.DUPLICATE: "revoked",
    AppointmentRequest.EndReason.SPAM: "entered-in-error",
}
REACHED = {ContactAttempt.Outcome.REACHED, ContactAttempt.Outcome.VOICEMAIL, ContactAttempt.Outcome.SENT}


def _service_request_status(request: AppointmentRequest) -> str:
    if request.status != AppointmentRequest.Status.ENDED:
        return "active"
    return SERVICE_REQUEST_STATUS.get(request.end_reason, "revoked")


def _patient_resource(patient: Patient) -> dict:
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [{"use": "usual", "system": identifier_system("patient"), "value": str(patient.pk)}],
        "active": True,
        "name": [{"use": "official", "family": patient.last_name, "given": [patient.first_name]}],
        "birthDate": patient.date_of_birth.isoformat(),
    }
    if telecom:
        resource["telecom"] = telecom
    return resource


def _coverage_resource(carrier: str, member_id: str, *, patient_ref: dict) -> dict:
    resource = {
        "resourceType": "Coverage",
        "status": "active",
        "beneficiary": patient_ref,
        "payor": [{"display": carrier}],
    }
    if member_id:
        resource["subscriberId"] = member_id
    return resource


def _service_request_resource(
    request: AppointmentRequest, *, patient_ref: dict, coverage_ref: dict | None
) -> dict:
    reason = request.get_reason_display() + (f": {request.reason_detail}" if request.reason_detail else "")
    notes = [f"Pain for: {request.get_pain_duration_display().lower()}."]
    slots = list(request.preferred_times.all())
    if slots:
        notes.append(
            "Preferred times: "
            + "; ".join(
                f"{slot.date.isoformat()} ({slot.get_time_of_day_display().lower()})" for slot in slots
            )
            + "."
        )
    notes.append(f"Contact by: {request.get_contact_method_display().lower()}.")
    if request.has_medicare:
        notes.append("Has Medicare.")
    if request.end_reason:
        notes.append(f"Request ended: {request.get_end_reason_display().lower()}.")
    if request.message:
        notes.append(f"Message: {request.message}")
    resource = {
        "resourceType": "ServiceRequest",
        "id": request.reference,
        "identifier": [{"system": identifier_system("appointment-request"), "value": request.reference}],
        "status": _service_request_status(request),
        "intent": "proposal",
        "category": [{"text": "Appointment request"}],
        "code": {"text": "Acupuncture appointment"},
        "subject": patient_ref,
        "requester": patient_ref,
        "authoredOn": request.submitted_at.isoformat(),
        "reasonCode": [{"text": reason}],
        "note": [{"text": text} for text in notes],
    }
    if slots:
        resource["occurrenceTiming"] = {"event": [slot.date.isoformat() for slot in slots]}
    if request.preferred_practitioner:
        resource["performer"] = [{"display": request.preferred_practitioner.name}]
    if coverage_ref:
        resource["insurance"] = [coverage_ref]
    return resource


def _communication_resource(attempt: ContactAttempt, *, patient_ref: dict, request_ref: dict) -> dict:
    resource = {
        "resourceType": "Communication",
        "id": f"contact-attempt-{attempt.pk}",
        "basedOn": [request_ref],
        "status": "completed" if attempt.outcome in REACHED else "not-done",
        "subject": patient_ref,
        "recipient": [patient_ref],
        "medium": [{"text": attempt.get_method_display()}],
        "sent": attempt.at.isoformat(),
        "note": [{"text": attempt.get_outcome_display()}],
    }
    if attempt.outcome not in REACHED:
        resource["statusReason"] = {"text": attempt.get_outcome_display()}
    if attempt.note:
        resource["note"].append({"text": attempt.note})
    return resource


def _appointment_resource(appointment, *, patient_ref: dict) -> dict:
    """A FHIR Appointment: status as scheduling.fhir maps it; the Patient (this bundle's entry), the Practitioner
    and the Location as participants."""
    from acuclinic.scheduling.fhir import STATUS_TO_FHIR, service_type

    resource = {
        "resourceType": "Appointment",
        "id": f"appointment-{appointment.pk}",
        "identifier": [{"system": identifier_system("appointment"), "value": str(appointment.pk)}],
        "status": STATUS_TO_FHIR[appointment.status],
        "serviceType": [service_type(appointment.appointment_type)],
        "start": _instant(appointment.start),
        "end": _instant(appointment.end),
        "minutesDuration": max(1, int((appointment.end - appointment.start).total_seconds() // 60)),
        "created": appointment.created_at.date().isoformat(),
        "participant": [
            {"actor": patient_ref, "required": "required", "status": "accepted"},
            {
                "actor": {
                    "reference": f"Practitioner/{appointment.practitioner_id}",
                    "display": appointment.practitioner.name,
                },
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {
                    "reference": f"Location/{appointment.location_id}",
                    "display": appointment.location.name,
                },
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if appointment.status == "cancelled" and appointment.cancellation_reason:
        resource["cancelationReason"] = {"text": appointment.cancellation_reason}
    return resource


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def patient_fhir_bundle(
    *,
    patient: Patient,
    requests: list[AppointmentRequest],
    appointments: list | None = None,
    now: datetime | None = None,
) -> dict:
    """The Bundle as plain JSON-ready data (validate with `validate_fhir_bundle`)."""
    now = now or timezone.now()
    patient_url = full_url("patient", patient.pk)
    patient_ref = {"reference": patient_url}
    entries = [{"fullUrl": patient_url, "resource": _patient_resource(patient)}]
    coverages: dict[tuple[str, str], dict] = {}
    # The record's own insurance first (what the desk keeps), then any other carrier named in a request.
    if patient.insurance_carrier.strip():
        key = (patient.insurance_carrier.strip().casefold(), patient.insurance_member_id.strip())
        url = full_url("coverage", f"{patient.pk}/{key[0]}/{key[1]}")
        coverages[key] = {"reference": url}
        entries.append(
            {
                "fullUrl": url,
                "resource": _coverage_resource(
                    patient.insurance_carrier.strip(), key[1], patient_ref=patient_ref
                ),
            }
        )
    if patient.has_medicare:
        url = full_url("coverage", f"{patient.pk}/medicare")
        entries.append(
            {
                "fullUrl": url,
                "resource": {
                    "resourceType": "Coverage",
                    "status": "active",
                    "type": {"text": "Medicare"},
                    "beneficiary": patient_ref,
                    "payor": [{"display": "Medicare"}],
                },
            }
        )
    for appointment in appointments or []:
        entries.append(
            {
                "fullUrl": full_url("appointment", appointment.pk),
                "resource": _appointment_resource(appointment, patient_ref=patient_ref),
            }
        )
    for request in requests:
        coverage_ref = None
        carrier = request.insurance_carrier.strip()
        if carrier:
            key = (carrier.casefold(), request.insurance_member_id.strip())
            if key not in coverages:
                url = full_url("coverage", f"{patient.pk}/{key[0]}/{key[1]}")
                coverages[key] = {"reference": url}
                entries.append(
                    {
                        "fullUrl": url,
                        "resource": _coverage_resource(carrier, key[1], patient_ref=patient_ref),
                    }
                )
            coverage_ref = coverages[key]
        request_url = full_url("appointment-request", request.reference)
        entries.append(
            {
                "fullUrl": request_url,
                "resource": _service_request_resource(
                    request, patient_ref=patient_ref, coverage_ref=coverage_ref
                ),
            }
        )
        for attempt in request.contact_attempts.all():
            entries.append(
                {
                    "fullUrl": full_url("contact-attempt", attempt.pk),
                    "resource": _communication_resource(
                        attempt, patient_ref=patient_ref, request_ref={"reference": request_url}
                    ),
                }
            )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now.isoformat()},
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": entries,
    }


def validate_fhir_bundle(data: dict):
    """Parse the data with fhir.resources' R4B models; raises pydantic's ValidationError when it is not valid."""
    from fhir.resources.R4B.bundle import Bundle

    return Bundle.model_validate(data)

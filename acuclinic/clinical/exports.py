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
      ],
      # The clinical course (added keys, still version 1). Oldest first; every row, whatever its status.
      "episodes": [
        {
          "id": 3, "complaint": "Low back pain", "status": {"code": "active", "display": "Open"},
          "onset_date": "2025-01-10" | null, "opened_at": "…", "closed_at": "…" | null,
          "diagnosis": {"code": "M54.50", "display": "…"} | null,   # ICD-10-CM
          "diagnosis_confirmed": true, "diagnosis_confirmed_by": "Casey Example" | null,
          "diagnosis_confirmed_at": "…" | null
        }
      ],
      "questionnaire_responses": [
        {
          "id": 7, "instrument": {"key": "intake", "title": "…"}, "version": 1,
          "status": {"code": "completed", "display": "Completed"}, "source": {…},
          "episode": 3 | null, "appointment": 12 | null,
          "created_at": "…", "updated_at": "…", "completed_at": "…" | null,
          "urgency": {…} | null, "urgency_reasons": ["…"], "urgent_acknowledged_at": "…" | null,
          "answers": [                                        # in the order of the questionnaire
            {"link_id": "pain.where", "question": "Where is the pain? …", "value": ["low-middle"],
             "display": "The middle of my lower back"}      # value as stored; display as a person reads it
          ]
        }
      ],
      "consents": [
        {
          "id": 4, "instrument": "consent", "version": 1, "text": "…",   # the exact text signed
          "signed_name": "…", "signed_date": "2025-05-06", "agreed": true, "signed_at": "…",
          "ip_address": "…" | null, "withdrawn": false, "withdrawn_at": "…" | null, "withdrawn_ip": "…" | null,
          "intake_response": 7 | null
        }
      ],
      "safety_flags": [
        {
          "id": 9, "rule": "pacemaker", "kind": {"code": "contraindication", "display": "…"}, "finding": "…",
          "effect": "…", "source": "…", "avoid_points": ["LI4"], "no_electro": true, "do_not_treat": false,
          "from_response": 7 | null, "raised_at": "…", "active": true, "cleared_at": "…" | null,
          "acknowledged": {"at": "…", "by": "Casey Example"} | null
        }
      ]
    }

Staff names (who called, who is assigned) and internal bookkeeping (spam scoring, ranks) are not the patient's data
and are left out; the clinician who confirmed a diagnosis or acknowledged a safety flag is part of the clinical
record and is named (their practitioner name, else their account's full name).

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
  Practitioner and the Location as participants);
- per episode of care, an EpisodeOfCare and its Condition (low back pain: ICD-10-CM code when one is set,
  verificationStatus "confirmed" once a clinician confirmed it, else "provisional"; clinicalStatus active while the
  episode is open, inactive after; onset from the episode), the Condition as the episode's chief complaint;
- per instrument version answered or signed, a Questionnaire (the stored definition, canonical url
  `<settings.FHIR_CANONICAL_BASE>/Questionnaire/<key>` and version; a consent form's display item carries the
  exact text of that version; versions no longer current are "retired");
- per response, a QuestionnaireResponse (questionnaire "<canonical>|<version>", status, authored, the answers in
  the questionnaire's groups, each of its item's value[x] type: valueBoolean, valueCoding, valueInteger,
  valueDecimal, valueDate, valueString);
- per consent, a QuestionnaireResponse to the consent form (the typed name, the date, "I agree") and a Consent
  (status active, or inactive once withdrawn; scope "treatment"; category LOINC 59284-0; sourceReference to that
  response; policy the form's canonical|version; provision period from signing to withdrawal);
- per safety flag, a Flag (active, or inactive once a later intake cleared it; category "clinical"; the finding as
  code text; period from raised to cleared).
Entries are linked by deterministic urn:uuid full URLs, so two exports of the same data are comparable.
"""

import copy
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


def staff_name(user) -> str | None:
    """The clinician as the patient knows them: their practitioner name, else their account's full name."""
    if user is None:
        return None
    practitioner = getattr(user, "practitioner", None)
    if practitioner is not None:
        return practitioner.name
    return user.get_full_name() or user.get_username()


def _episode_json(episode) -> dict:
    return {
        "id": episode.pk,
        "complaint": episode.complaint,
        "status": _coded(episode, "status"),
        "onset_date": episode.onset_date.isoformat() if episode.onset_date else None,
        "opened_at": _iso(episode.opened_at),
        "closed_at": _iso(episode.closed_at),
        "diagnosis": _coded(episode, "diagnosis"),
        "diagnosis_confirmed": episode.diagnosis_confirmed_at is not None,
        "diagnosis_confirmed_by": staff_name(episode.diagnosis_confirmed_by),
        "diagnosis_confirmed_at": _iso(episode.diagnosis_confirmed_at),
    }


def _answers_json(response) -> list[dict]:
    """Every stored answer with its question's words, in the questionnaire's order (then any the definition no
    longer names, as stored)."""
    from .instruments import questionnaire as q

    answers = response.answers or {}
    rows = []
    for item in q.all_answer_items(response.version.definition):
        link = item["linkId"]
        if link in answers:
            value = answers[link]
            rows.append(
                {
                    "link_id": link,
                    "question": item.get("text", ""),
                    "value": value,
                    "display": q.display_value(item, value),
                }
            )
    named = {row["link_id"] for row in rows}
    for link, value in answers.items():
        if link not in named:
            rows.append({"link_id": link, "question": None, "value": value, "display": str(value)})
    return rows


def _response_json(response) -> dict:
    return {
        "id": response.pk,
        "instrument": {"key": response.instrument.key, "title": response.instrument.title},
        "version": response.version.version,
        "status": _coded(response, "status"),
        "source": _coded(response, "source"),
        "episode": response.episode_id,
        "appointment": response.appointment_id,
        "created_at": _iso(response.created_at),
        "updated_at": _iso(response.updated_at),
        "completed_at": _iso(response.completed_at),
        "urgency": {"code": response.urgency, "display": urgency_label(response.urgency)}
        if response.urgency
        else None,
        "urgency_reasons": list(response.urgency_reasons or []),
        "urgent_acknowledged_at": _iso(response.urgent_acknowledged_at),
        "answers": _answers_json(response),
    }


def _consent_json(consent) -> dict:
    return {
        "id": consent.pk,
        "instrument": consent.version.instrument.key,
        "version": consent.version.version,
        "text": consent.version.text,
        "signed_name": consent.signed_name,
        "signed_date": consent.signed_date.isoformat(),
        "agreed": consent.agreed,
        "signed_at": _iso(consent.signed_at),
        "ip_address": consent.ip_address,
        "withdrawn": consent.withdrawn_at is not None,
        "withdrawn_at": _iso(consent.withdrawn_at),
        "withdrawn_ip": consent.withdrawn_ip,
        "intake_response": consent.response_id,
    }


def _flag_json(flag) -> dict:
    return {
        "id": flag.pk,
        "rule": flag.rule,
        "kind": _coded(flag, "kind"),
        "finding": flag.finding,
        "effect": flag.effect,
        "source": flag.source,
        "avoid_points": list(flag.avoid_points or []),
        "no_electro": flag.no_electro,
        "do_not_treat": flag.do_not_treat,
        "from_response": flag.response_id,
        "raised_at": _iso(flag.raised_at),
        "active": flag.cleared_at is None,
        "cleared_at": _iso(flag.cleared_at),
        "acknowledged": {"at": _iso(flag.acknowledged_at), "by": staff_name(flag.acknowledged_by)}
        if flag.acknowledged_at
        else None,
    }


def patient_json(
    *,
    patient: Patient,
    requests: list[AppointmentRequest],
    appointments: list | None = None,
    course=None,
    now: datetime | None = None,
) -> dict:
    """`course`: the patient's clinical course (selectors.clinical_course_for_export); None exports none."""
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
        "episodes": [_episode_json(e) for e in course.episodes] if course else [],
        "questionnaire_responses": [_response_json(r) for r in course.responses] if course else [],
        "consents": [_consent_json(c) for c in course.consents] if course else [],
        "safety_flags": [_flag_json(f) for f in course.flags] if course else [],
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


# --- FHIR: the clinical course ---------------------------------------------------------------------------------

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
LOINC = "http://loinc.org"


def questionnaire_url(key: str) -> str:
    """The canonical url of an instrument (settings.FHIR_CANONICAL_BASE), the same for every version of it."""
    return f"{settings.FHIR_CANONICAL_BASE.rstrip('/')}/Questionnaire/{key}"


def questionnaire_canonical(version) -> str:
    """ "<url>|<version>": the exact version a response answered or a consent signed."""
    return f"{questionnaire_url(version.instrument.key)}|{version.version}"


def _fhir_id(text: str) -> str:
    """An id FHIR accepts ([A-Za-z0-9.-]{1,64}) from a slug."""
    return "".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in text)[:64]


def _episode_resources(episode, *, patient_ref: dict) -> list[dict]:
    """The EpisodeOfCare and its Condition (low back pain, ICD-10-CM as the clinician confirms)."""
    condition_url = full_url("condition", f"episode/{episode.pk}")
    episode_url = full_url("episode", episode.pk)
    is_open = episode.status == episode.Status.OPEN
    confirmed = bool(episode.diagnosis and episode.diagnosis_confirmed_at)
    code = {"text": episode.complaint}
    if episode.diagnosis:
        label = episode.get_diagnosis_display()
        code["coding"] = [
            {
                "system": ICD10CM,
                "code": episode.diagnosis,
                "display": label.removeprefix(episode.diagnosis).strip(),
            }
        ]
    condition = {
        "resourceType": "Condition",
        "id": f"episode-{episode.pk}-condition",
        "clinicalStatus": {
            "coding": [{"system": CONDITION_CLINICAL, "code": "active" if is_open else "inactive"}]
        },
        "verificationStatus": {
            "coding": [
                {"system": CONDITION_VERIFICATION, "code": "confirmed" if confirmed else "provisional"}
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": CONDITION_CATEGORY,
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }
                ]
            }
        ],
        "code": code,
        "subject": patient_ref,
        "recordedDate": episode.opened_at.isoformat(),
    }
    if episode.onset_date:
        condition["onsetDateTime"] = episode.onset_date.isoformat()
    if confirmed and episode.diagnosis_confirmed_by_id:
        condition["asserter"] = {"display": staff_name(episode.diagnosis_confirmed_by)}
    period = {"start": episode.opened_at.isoformat()}
    if episode.closed_at:
        period["end"] = episode.closed_at.isoformat()
    episode_resource = {
        "resourceType": "EpisodeOfCare",
        "id": f"episode-{episode.pk}",
        "identifier": [{"system": identifier_system("episode"), "value": str(episode.pk)}],
        "status": episode.status,
        "type": [{"text": episode.complaint}],
        "diagnosis": [
            {
                "condition": {"reference": condition_url},
                "role": {"coding": [{"system": DIAGNOSIS_ROLE, "code": "CC", "display": "Chief complaint"}]},
                "rank": 1,
            }
        ],
        "patient": patient_ref,
        "period": period,
    }
    return [
        {"fullUrl": episode_url, "resource": episode_resource},
        {"fullUrl": condition_url, "resource": condition},
    ]


def _questionnaire_resource(version) -> dict:
    """The stored definition as a Questionnaire with its canonical url and version. A consent form's first display
    item carries the text of that version: the Questionnaire is then exactly what was signed."""
    instrument = version.instrument
    resource = copy.deepcopy(version.definition)
    resource.update(
        {
            "resourceType": "Questionnaire",
            "id": _fhir_id(f"{instrument.key}-{version.version}"),
            "url": questionnaire_url(instrument.key),
            "version": str(version.version),
            "title": resource.get("title") or instrument.title,
            "date": version.created_at.isoformat(),
        }
    )
    current = instrument.current
    if current is not None and current.pk != version.pk:
        resource["status"] = "retired"
    resource.setdefault("status", "active")
    if instrument.licence_note:
        resource["copyright"] = instrument.licence_note
    if version.text:
        displays = [item for item in _walk_items(resource.get("item", [])) if item.get("type") == "display"]
        if displays:
            displays[0]["text"] = version.text
        else:
            resource.setdefault("item", []).insert(
                0, {"linkId": f"{instrument.key}.text", "type": "display", "text": version.text}
            )
    return resource


def _walk_items(items):
    for item in items:
        yield item
        yield from _walk_items(item.get("item", []))


def _fhir_answers(item: dict, value) -> list[dict]:
    """One stored answer as FHIR answers of the item's value[x] type (a multiple choice gives one per code)."""
    kind = item.get("type")
    if kind == "boolean":
        return [{"valueBoolean": bool(value)}]
    if kind in ("choice", "open-choice"):
        codings, integers = {}, set()
        for option in item.get("answerOption", []):
            if "valueCoding" in option:
                codings[str(option["valueCoding"]["code"])] = option["valueCoding"]
            elif "valueInteger" in option:
                integers.add(str(option["valueInteger"]))
        answers = []
        for code in value if isinstance(value, list) else [value]:
            if str(code) in codings:
                coding = codings[str(code)]
                answers.append(
                    {"valueCoding": {k: coding[k] for k in ("system", "code", "display") if k in coding}}
                )
            elif str(code) in integers:
                answers.append({"valueInteger": int(code)})
            else:  # a valueString option, or an open choice's own words
                answers.append({"valueString": str(code)})
        return answers
    if kind == "integer":
        return [{"valueInteger": int(value)}]
    if kind == "decimal":
        return [{"valueDecimal": value}]
    if kind == "date":
        return [{"valueDate": str(value)}]
    return [{"valueString": str(value)}]


def _response_items(definition: dict, answers: dict) -> list[dict]:
    """The answered items in the questionnaire's structure (groups kept, unanswered items and empty groups left
    out); answers the definition does not name are left out too (the JSON export keeps them)."""

    def build(items):
        built = []
        for item in items:
            kind = item.get("type")
            if kind == "group":
                children = build(item.get("item", []))
                if children:
                    group = {"linkId": item["linkId"], "item": children}
                    if item.get("text"):
                        group["text"] = item["text"]
                    built.append(group)
            elif kind != "display" and answers.get(item["linkId"]) not in (None, "", []):
                entry = {"linkId": item["linkId"], "answer": _fhir_answers(item, answers[item["linkId"]])}
                if item.get("text"):
                    entry["text"] = item["text"]
                built.append(entry)
        return built

    return build(definition.get("item", []))


def _questionnaire_response_resource(response, *, patient_ref: dict) -> dict:
    authored = response.completed_at or response.updated_at
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": f"response-{response.pk}",
        "identifier": {"system": identifier_system("questionnaire-response"), "value": str(response.pk)},
        "questionnaire": questionnaire_canonical(response.version),
        "status": response.status,
        "subject": patient_ref,
        "authored": authored.isoformat(),
        "author": patient_ref,
        "source": patient_ref,
    }
    items = _response_items(response.version.definition, response.answers or {})
    if items:
        resource["item"] = items
    return resource


def _consent_resources(consent, *, patient_ref: dict) -> list[dict]:
    """The signed consent form as a QuestionnaireResponse and the Consent it is the source of."""
    version = consent.version
    form_url = full_url("consent-form", consent.pk)
    signature = {"consent.name": consent.signed_name, "consent.date": consent.signed_date.isoformat()}
    signature["consent.agree"] = consent.agreed
    form = {
        "resourceType": "QuestionnaireResponse",
        "id": f"consent-{consent.pk}-form",
        "questionnaire": questionnaire_canonical(version),
        "status": "completed",
        "subject": patient_ref,
        "authored": consent.signed_at.isoformat(),
        "author": patient_ref,
        "source": patient_ref,
        "item": _response_items(version.definition, signature),
    }
    if not form["item"]:  # a clinic's definition with other linkIds: the signature as plain items
        form["item"] = [
            {"linkId": "consent.name", "answer": [{"valueString": consent.signed_name}]},
            {"linkId": "consent.date", "answer": [{"valueDate": consent.signed_date.isoformat()}]},
            {"linkId": "consent.agree", "answer": [{"valueBoolean": consent.agreed}]},
        ]
    provision = {"type": "permit", "period": {"start": consent.signed_at.isoformat()}}
    if consent.withdrawn_at:
        provision["period"]["end"] = consent.withdrawn_at.isoformat()
    resource = {
        "resourceType": "Consent",
        "id": f"consent-{consent.pk}",
        "identifier": [{"system": identifier_system("consent"), "value": str(consent.pk)}],
        "status": "inactive" if consent.withdrawn_at else "active",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "treatment", "display": "Treatment"}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Consent Document"}]}],
        "patient": patient_ref,
        "dateTime": consent.signed_at.isoformat(),
        "performer": [patient_ref],
        "sourceReference": {"reference": form_url},
        "policy": [{"uri": questionnaire_canonical(version)}],
        "policyRule": {
            "text": f"{version.instrument.title}, version {version.version}: typed full name, date and "
            "\u201cI agree\u201d (electronic signature, E-SIGN Act)"
        },
        "provision": provision,
    }
    return [
        {"fullUrl": form_url, "resource": form},
        {"fullUrl": full_url("consent", consent.pk), "resource": resource},
    ]


def _flag_resource(flag, *, patient_ref: dict) -> dict:
    period = {"start": flag.raised_at.isoformat()}
    if flag.cleared_at:
        period["end"] = flag.cleared_at.isoformat()
    return {
        "resourceType": "Flag",
        "id": f"safety-flag-{flag.pk}",
        "identifier": [{"system": identifier_system("safety-flag"), "value": str(flag.pk)}],
        "status": "inactive" if flag.cleared_at else "active",
        "category": [
            {"coding": [{"system": FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}]},
            {"text": flag.get_kind_display()},
        ],
        "code": {"text": flag.finding},
        "subject": patient_ref,
        "period": period,
    }


def _clinical_course_entries(course, *, patient_ref: dict) -> list[dict]:
    entries = []
    for episode in course.episodes:
        entries += _episode_resources(episode, patient_ref=patient_ref)
    versions = {}
    for row in [*course.responses, *course.consents]:
        versions.setdefault(row.version.pk, row.version)
    for version in sorted(versions.values(), key=lambda v: (v.instrument.key, v.version)):
        entries.append(
            {
                "fullUrl": full_url("questionnaire", f"{version.instrument.key}|{version.version}"),
                "resource": _questionnaire_resource(version),
            }
        )
    for response in course.responses:
        entries.append(
            {
                "fullUrl": full_url("questionnaire-response", response.pk),
                "resource": _questionnaire_response_resource(response, patient_ref=patient_ref),
            }
        )
    for consent in course.consents:
        entries += _consent_resources(consent, patient_ref=patient_ref)
    for flag in course.flags:
        entries.append(
            {
                "fullUrl": full_url("safety-flag", flag.pk),
                "resource": _flag_resource(flag, patient_ref=patient_ref),
            }
        )
    return entries


def patient_fhir_bundle(
    *,
    patient: Patient,
    requests: list[AppointmentRequest],
    appointments: list | None = None,
    course=None,
    now: datetime | None = None,
) -> dict:
    """The Bundle as plain JSON-ready data (validate with `validate_fhir_bundle`). `course`: the clinical course
    (selectors.clinical_course_for_export); None adds none of it."""
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
    if course is not None:
        entries += _clinical_course_entries(course, patient_ref=patient_ref)
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

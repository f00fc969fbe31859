"""Writes of the intake: prepared when a first visit is booked, saved step by step, completed with the consent.

Every write is audited with references only (the response, the step) — never an answer. The warning-sign answers go
through appointments/triage.py, the request form's rule set; the health answers through clinical/safety/rules.py.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments import triage

from ..consent import services as consent_services
from ..coverage import medicare
from ..episodes.services import open_episode
from ..instruments import questionnaire as q
from ..instruments.models import QuestionnaireResponse
from ..instruments.selectors import INTAKE_KEY, current_version
from ..safety import services as safety_services
from . import selectors

RED_FLAG_PREFIX = "redflag."


class IntakeClosed(Exception):
    """The intake was completed: the link shows the summary (and the consent's withdrawal), not the form."""


def prepare_intake(
    *, appointment, source: str = QuestionnaireResponse.Source.LINK
) -> QuestionnaireResponse | None:
    """The visit's intake, created when a first visit is booked (online, at the desk, from a request).

    None when the patient has been treated before or already completed an intake in their open episode, or when the
    clinic has switched the intake off. Idempotent: a second call returns the same response.
    """
    if not selectors.needs_intake(patient=appointment.patient, appointment=appointment):
        return None
    version = current_version(key=INTAKE_KEY)
    if version is None:
        return None
    existing = QuestionnaireResponse.objects.filter(
        appointment=appointment, instrument=version.instrument
    ).first()
    if existing is not None:
        return existing
    episode = open_episode(patient=appointment.patient)
    try:
        with transaction.atomic():
            response = QuestionnaireResponse.objects.create(
                patient=appointment.patient,
                instrument=version.instrument,
                version=version,
                episode=episode,
                appointment=appointment,
                source=source,
            )
    except IntegrityError:
        return QuestionnaireResponse.objects.get(appointment=appointment, instrument=version.instrument)
    audit.record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        obj=response,
        detail=f"intake for appointment #{appointment.pk}",
    )
    return response


def _triage(response: QuestionnaireResponse, answers: dict, today: date) -> triage.TriageResult:
    red_flags = {
        link[len(RED_FLAG_PREFIX) :]: bool(value)
        for link, value in answers.items()
        if link.startswith(RED_FLAG_PREFIX)
    }
    onset = answers.get("pain.onset")
    chronic = medicare.is_chronic(date.fromisoformat(onset), today) if onset else None
    return triage.evaluate(
        answers=red_flags,
        date_of_birth=response.patient.date_of_birth,
        pain_is_new=chronic is False,
        today=today,
    )


@transaction.atomic
def save_step(
    *, response: QuestionnaireResponse, index: int, answers: dict, by=None, today: date | None = None
):
    """Keep one step's answers (replacing what that step held before) and move the patient on.

    Saving the same step twice (a double submit, a refresh) gives the same result. Raises IntakeClosed once the
    intake is completed.
    """
    today = today or timezone.localdate()
    response = QuestionnaireResponse.objects.select_for_update().select_related("patient").get(pk=response.pk)
    if response.status == QuestionnaireResponse.Status.COMPLETED:
        raise IntakeClosed()
    step_links = {
        item["linkId"] for item in q.answer_items(q.steps(response.version.definition)[index]["item"])
    }
    kept = {link: value for link, value in response.answers.items() if link not in step_links}
    kept.update(answers)
    response.answers = kept
    response.step = max(response.step, index + 1)
    if any(link.startswith(RED_FLAG_PREFIX) for link in step_links) or "pain.onset" in step_links:
        result = _triage(response, kept, today)
        if any(link.startswith(RED_FLAG_PREFIX) for link in kept):
            response.urgency = result.urgency.key
            response.urgency_rank = int(result.urgency)
            response.urgency_reasons = list(result.reasons)
    response.save()
    if "pain.onset" in answers and response.episode_id:
        response.episode.onset_date = date.fromisoformat(answers["pain.onset"])
        response.episode.save(update_fields=["onset_date"])
    audit.record(
        actor=by, action=AuditEvent.Action.CHANGE, obj=response, detail=f"intake step {index + 1} saved"
    )
    return response


@transaction.atomic
def complete(
    *,
    response: QuestionnaireResponse,
    consent_version,
    signed_name: str,
    signed_date: date,
    agreed: bool,
    ip_address: str | None,
    by=None,
    now=None,
) -> QuestionnaireResponse:
    """Sign the consent and complete the intake in one transaction; raise the safety flags; copy the coverage.

    A second call (a double submit) finds the intake completed and changes nothing.
    """
    now = now or timezone.now()
    response = QuestionnaireResponse.objects.select_for_update().select_related("patient").get(pk=response.pk)
    if response.status == QuestionnaireResponse.Status.COMPLETED:
        return response
    missing = selectors.unanswered_steps(response)
    if missing:
        raise ValidationError(f"Please finish these parts first: {', '.join(missing)}.")
    consent_services.sign(
        patient=response.patient,
        version=consent_version,
        signed_name=signed_name,
        signed_date=signed_date,
        agreed=agreed,
        ip_address=ip_address,
        response=response,
        now=now,
    )
    response.status = QuestionnaireResponse.Status.COMPLETED
    response.completed_at = now
    response.save(update_fields=["status", "completed_at", "updated_at"])
    _copy_coverage(response)
    safety_services.raise_flags(response=response)
    audit.record(actor=by, action=AuditEvent.Action.CHANGE, obj=response, detail="intake completed")
    return response


def _copy_coverage(response: QuestionnaireResponse) -> None:
    """The patient's coverage as the intake gave it (the desk can correct it on the record)."""
    answers = response.answers
    patient = response.patient
    fields = []
    if "coverage.medicare" in answers:
        patient.has_medicare = bool(answers["coverage.medicare"])
        fields.append("has_medicare")
    for link, field in (
        ("coverage.carrier", "insurance_carrier"),
        ("coverage.member_id", "insurance_member_id"),
    ):
        if answers.get(link):
            setattr(patient, field, str(answers[link])[: 40 if field == "insurance_member_id" else 100])
            fields.append(field)
    if fields:
        patient.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def acknowledge_urgent(*, response: QuestionnaireResponse, by) -> None:
    response = QuestionnaireResponse.objects.select_for_update().get(pk=response.pk)
    if response.urgent_acknowledged_at is None:
        response.urgent_acknowledged_at = timezone.now()
        response.urgent_acknowledged_by = by
        response.save(update_fields=["urgent_acknowledged_at", "urgent_acknowledged_by", "updated_at"])
        audit.record(
            actor=by, action=AuditEvent.Action.CHANGE, obj=response, detail="urgent intake acknowledged"
        )

"""Reads of the intake: whether a patient needs one, where they stopped, and the summary the clinician reads."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, QuerySet, Window

from acuclinic.accounts.patient_links import Purpose, make_token

from ..instruments import questionnaire as q
from ..instruments.models import QuestionnaireResponse
from ..instruments.selectors import INTAKE_KEY

URGENT_KEYS = ("emergency", "urgent_today")


def needs_intake(*, patient, appointment=None) -> bool:
    """A first visit needs an intake: not treated here before (no other visit arrived or completed — the visit
    itself may already be under way, the patient filling it in at the desk), and no completed intake in the open
    episode."""
    from acuclinic.scheduling.models import Appointment
    from acuclinic.scheduling.selectors import RETURNING_STATUSES

    treated = Appointment.objects.filter(patient=patient, status__in=RETURNING_STATUSES)
    if appointment is not None:
        treated = treated.exclude(pk=appointment.pk)
    if treated.exists():
        return False
    return not QuestionnaireResponse.objects.filter(
        patient=patient,
        instrument__key=INTAKE_KEY,
        status=QuestionnaireResponse.Status.COMPLETED,
        episode__status="active",
    ).exists()


def token_for(response: QuestionnaireResponse) -> str:
    return make_token(purpose=Purpose.QUESTIONNAIRE, object_id=response.pk)


def intake_for_appointment(*, appointment) -> QuestionnaireResponse | None:
    return (
        QuestionnaireResponse.objects.filter(appointment=appointment, instrument__key=INTAKE_KEY)
        .select_related("version")
        .first()
    )


def latest_intake(*, patient) -> QuestionnaireResponse | None:
    """The patient's newest intake, completed ones first."""
    return (
        QuestionnaireResponse.objects.filter(patient=patient, instrument__key=INTAKE_KEY)
        .select_related("version", "episode")
        .order_by("-completed_at", "-created_at")
        .first()
        if patient.pk
        else None
    )


def unanswered_steps(response: QuestionnaireResponse) -> list[str]:
    """Titles of the steps whose required (and enabled) items are not all answered."""
    missing = []
    for step in q.steps(response.version.definition):
        for item in q.answer_items(step.get("item", [])):
            if (
                item.get("required")
                and q.enabled(item, response.answers)
                and item["linkId"] not in response.answers
            ):
                missing.append(step.get("text", step["linkId"]))
                break
    return missing


def unacknowledged_urgent_intakes() -> QuerySet:
    """Intakes whose warning signs were an emergency or urgent-today, not yet acknowledged by the desk."""
    return (
        QuestionnaireResponse.objects.filter(urgency__in=URGENT_KEYS, urgent_acknowledged_at__isnull=True)
        .select_related("patient")
        .only(
            "pk",
            "urgency",
            "urgency_rank",
            "updated_at",
            "appointment_id",
            "patient__first_name",
            "patient__last_name",
            "patient__id",
        )
        .annotate(total=Window(Count("pk")))
        .order_by("-urgency_rank", "updated_at", "pk")
    )


@dataclass(frozen=True)
class Answer:
    link_id: str
    question: str
    value: str


@dataclass(frozen=True)
class Section:
    title: str
    answers: tuple[Answer, ...]


def answered_sections(response: QuestionnaireResponse) -> list[Section]:
    """Every step with each enabled question and its answer as a person reads it."""
    sections = []
    for step in q.steps(response.version.definition):
        rows = tuple(
            Answer(
                item["linkId"],
                item.get("text", ""),
                q.display_value(item, response.answers.get(item["linkId"])),
            )
            for item in q.answer_items(step.get("item", []))
            if q.enabled(item, response.answers)
        )
        sections.append(Section(step.get("text", ""), rows))
    return sections


@dataclass(frozen=True)
class Summary:
    onset: date | None
    chronic: bool | None
    weeks: int | None
    legs: str
    started: str
    tried: str
    medications: str
    blood_thinners: str
    pain_now: int | None
    pain_average: int | None
    completed: bool


def summary(response: QuestionnaireResponse, *, on: date) -> Summary:
    from ..coverage.medicare import is_chronic

    answers = response.answers
    items = {item["linkId"]: item for item in q.all_answer_items(response.version.definition)}

    def words(link):
        return q.display_value(items[link], answers.get(link)) if link in items else "\u2014"

    onset = date.fromisoformat(answers["pain.onset"]) if answers.get("pain.onset") else None
    tried = words("tried.treatments")
    if answers.get("tried.other"):
        tried = (
            f"{tried}; {answers['tried.other']}"
            if answers.get("tried.treatments")
            else answers["tried.other"]
        )
    return Summary(
        onset=onset,
        chronic=is_chronic(onset, on),
        weeks=(on - onset).days // 7 if onset else None,
        legs=words("pain.legs"),
        started=words("pain.start"),
        tried=tried,
        medications=answers.get("health.medications", "\u2014"),
        blood_thinners=words("health.blood_thinners"),
        pain_now=answers.get("pain.now"),
        pain_average=answers.get("pain.average"),
        completed=response.status == QuestionnaireResponse.Status.COMPLETED,
    )


def intake_link(response: QuestionnaireResponse) -> str:
    """The path of the patient's link to this intake (signed, expiring, single-purpose)."""
    from django.urls import reverse

    return reverse("intake_start", kwargs={"token": token_for(response)})


def urgent_intake_for(*, user, appointment) -> QuestionnaireResponse | None:
    """The visit's intake when its warning signs were an emergency or urgent-today and the desk (who may work
    requests) has not yet acknowledged it."""
    from acuclinic.appointments.selectors import can_work_requests

    if not can_work_requests(user):
        return None
    return (
        QuestionnaireResponse.objects.filter(
            appointment=appointment, urgency__in=URGENT_KEYS, urgent_acknowledged_at__isnull=True
        )
        .only("pk", "urgency", "urgency_reasons", "updated_at")
        .first()
    )

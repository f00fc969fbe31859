"""The clinician's chart header: the one read every clinical screen shows at its top.

Name, age, safety flags (and which still need acknowledging), consent status, the intake summary, baseline pain,
coverage and Medicare's eligibility checks (clinical-rules §7) — each check with the answer it came from.
"""

from dataclasses import dataclass, field
from datetime import date

from acuclinic.appointments.triage import age_on

from .consent.selectors import ConsentStatus, consent_status
from .coverage import medicare
from .episodes.selectors import open_episode_of
from .intake import selectors as intake_selectors
from .safety import rules
from .safety.selectors import active_flags, unacknowledged


@dataclass
class ChartHeader:
    patient: object
    age: int
    flags: list
    unacknowledged: list
    consent: ConsentStatus
    intake: object | None
    summary: object | None
    episode: object | None
    medicare_checks: list
    medicare_result: str
    first_visit: bool
    first_visit_practice: tuple[str, str]
    do_not_treat: bool
    no_electro: bool
    avoid_points: list
    diagnosis: dict = field(default_factory=dict)  # the episode's diagnosis and, for clinicians, its form

    @property
    def coverage(self) -> str:
        patient = self.patient
        parts = []
        if patient.has_medicare:
            parts.append("Medicare")
        if patient.insurance_carrier:
            parts.append(
                patient.insurance_carrier
                + (f" ({patient.insurance_member_id})" if patient.insurance_member_id else "")
            )
        return ", ".join(parts) or "Self-pay (no insurance on file)"


def chart_header(*, patient, on: date) -> ChartHeader:
    from acuclinic.scheduling.models import Appointment, AppointmentStatus

    flags = active_flags(patient=patient)
    intake = intake_selectors.latest_intake(patient=patient)
    summary = intake_selectors.summary(intake, on=on) if intake else None
    episode = open_episode_of(patient=patient)
    answers = intake.answers if intake else {}
    onset = (episode.onset_date if episode and episode.onset_date else None) or (
        summary.onset if summary else None
    )
    checks = medicare.eligibility(answers=answers, onset=onset, on=on)
    consent = consent_status(patient=patient)
    avoid = sorted({point for flag in flags for point in flag.avoid_points})
    return ChartHeader(
        patient=patient,
        age=age_on(patient.date_of_birth, on),
        flags=flags,
        unacknowledged=unacknowledged(flags),
        consent=consent,
        intake=intake,
        summary=summary,
        episode=episode,
        medicare_checks=checks,
        medicare_result=medicare.eligible(checks),
        # The first treatment: no visit completed yet (today's may be under way).
        first_visit=not Appointment.objects.filter(
            patient=patient, status=AppointmentStatus.COMPLETED
        ).exists(),
        first_visit_practice=rules.FIRST_VISIT_PRACTICE,
        do_not_treat=any(flag.do_not_treat for flag in flags) or not consent.signed,
        no_electro=any(flag.no_electro for flag in flags),
        avoid_points=avoid,
    )


CLINICAL_RECORD_PERMISSION = "clinical.view_clinical_record"


def can_see_charts(user) -> bool:
    """Clinicians (and superusers): the intake, consent and flags are clinical, not the desk's."""
    return bool(
        user and user.is_authenticated and user.is_active and user.has_perm(CLINICAL_RECORD_PERMISSION)
    )


def chart_for_view(request, *, patient, on: date):
    """The chart header for a screen, or None when the user may not read it. Every read is audited here, the one
    choke point for staff reads of intake, consent and flags."""
    from acuclinic.accounts import audit
    from acuclinic.accounts.models import AuditEvent

    from .selectors import may_see_patient

    user = request.user
    if not (can_see_charts(user) and may_see_patient(user, patient)):
        return None
    from .episodes.admin_views import diagnosis_context

    header = chart_header(patient=patient, on=on)
    header.diagnosis = diagnosis_context(
        user=user, patient=patient, episode=header.episode, next_url=request.path
    )
    audit.record(
        actor=user,
        action=AuditEvent.Action.READ,
        obj=patient,
        detail="chart: intake, consent, safety flags",
        request=request,
    )
    return header


@dataclass(frozen=True)
class SafetyLine:
    """One line per patient for a clinician's day: what stands between them and the first needle."""

    to_acknowledge: int
    do_not_treat: bool
    consent: bool

    @property
    def text(self) -> str:
        if not self.consent:
            return "No consent \u2014 do not treat"
        if self.do_not_treat:
            return "Do not treat (see the flags)"
        if self.to_acknowledge:
            return f"{self.to_acknowledge} flag{'s' if self.to_acknowledge != 1 else ''} to acknowledge"
        return "Ready"


def safety_lines(*, patient_ids) -> dict[int, SafetyLine]:
    """Two queries whatever the number of patients."""
    from django.db.models import Count, Q

    from .consent.models import ConsentRecord
    from .safety.models import SafetyFlag

    ids = set(patient_ids)
    flags = {
        row["patient_id"]: row
        for row in SafetyFlag.objects.filter(patient_id__in=ids, cleared_at__isnull=True)
        .values("patient_id")
        .annotate(
            open=Count("pk", filter=Q(acknowledged_at__isnull=True)),
            stop=Count("pk", filter=Q(do_not_treat=True)),
        )
    }
    consented = set(
        ConsentRecord.objects.filter(patient_id__in=ids, withdrawn_at__isnull=True).values_list(
            "patient_id", flat=True
        )
    )
    return {
        pid: SafetyLine(
            to_acknowledge=flags.get(pid, {}).get("open", 0),
            do_not_treat=bool(flags.get(pid, {}).get("stop", 0)),
            consent=pid in consented,
        )
        for pid in ids
    }

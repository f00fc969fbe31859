"""Writes of safety flags: raised from a completed intake, acknowledged by the clinician before treating."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments import triage

from . import rules
from .models import SafetyFlag

# What each triage level means for the acupuncturist (clinical-rules §1): the red flags of the request form's rules.
RED_FLAG_EFFECT = {
    triage.Urgency.EMERGENCY: "The patient was told to call 911 or go to an emergency department now. Do not treat "
    "until a doctor has seen them.",
    triage.Urgency.URGENT_TODAY: "The patient was told to get medical care today. Do not treat until a doctor has "
    "seen them.",
    triage.Urgency.SOON: "The patient was told to see a doctor soon, before or alongside acupuncture.",
}
RED_FLAG_FINDING = {
    "bladder_bowel": "New bladder or bowel trouble",
    "saddle_numbness": "Saddle numbness",
    "leg_weakness": "Weakness in the legs",
    "both_legs": "Symptoms in both legs",
    "serious_injury": "Began after a serious fall or accident",
    "fever": "Fever or chills",
    "infection_risk": "Infection risk (drug use, weakened immunity or recent infection)",
    "cancer_history": "History of cancer",
    "weight_loss": "Unexplained weight loss",
    "night_pain": "Pain worse at night or at rest",
    "minor_injury_or_bone_risk": "Began after a minor injury, or bone risk (osteoporosis, long-term steroids)",
    "age": "New back pain under 20 or over 50",
}


def _wanted(response) -> dict[str, dict]:
    answers = response.answers
    wanted = {}
    for rule in rules.flags_for(answers):
        wanted[rule.key] = {
            "kind": rule.kind,
            "finding": rule.finding,
            "effect": rule.effect,
            "source": rule.source,
            "avoid_points": list(rule.avoid_points),
            "no_electro": rule.no_electro,
            "do_not_treat": rule.do_not_treat,
        }
    for key in response.urgency_reasons or []:
        level = triage.QUESTIONS_BY_KEY[key].level if key in triage.QUESTIONS_BY_KEY else triage.Urgency.SOON
        source = (
            triage.QUESTIONS_BY_KEY[key].source
            if key in triage.QUESTIONS_BY_KEY
            else "clinical-rules \u00a71"
        )
        wanted[f"redflag.{key}"] = {
            "kind": SafetyFlag.Kind.RED_FLAG,
            "finding": RED_FLAG_FINDING.get(key, key),
            "effect": RED_FLAG_EFFECT[level],
            "source": source,
            "avoid_points": [],
            "no_electro": False,
            "do_not_treat": level >= triage.Urgency.URGENT_TODAY,
        }
    # The triage keeps only the reasons of the highest level; the clinician sees every red flag answered "yes".
    for link, value in answers.items():
        key = link.removeprefix("redflag.")
        if (
            link.startswith("redflag.")
            and value
            and f"redflag.{key}" not in wanted
            and key in triage.QUESTIONS_BY_KEY
        ):
            question = triage.QUESTIONS_BY_KEY[key]
            wanted[link] = {
                "kind": SafetyFlag.Kind.RED_FLAG,
                "finding": RED_FLAG_FINDING.get(key, key),
                "effect": RED_FLAG_EFFECT[question.level],
                "source": question.source,
                "avoid_points": [],
                "no_electro": False,
                "do_not_treat": question.level >= triage.Urgency.URGENT_TODAY,
            }
    return wanted


@transaction.atomic
def raise_flags(*, response) -> list[SafetyFlag]:
    """Make the patient's flags match this intake: new findings raise a flag, those it no longer reports clear."""
    wanted = _wanted(response)
    active = {
        f.rule: f
        for f in SafetyFlag.objects.select_for_update().filter(
            patient=response.patient, cleared_at__isnull=True
        )
    }
    now = timezone.now()
    raised = []
    for rule, fields in wanted.items():
        if rule in active:
            continue
        raised.append(
            SafetyFlag.objects.create(patient=response.patient, rule=rule, response=response, **fields)
        )
    for rule, flag in active.items():
        if rule not in wanted:
            flag.cleared_at = now
            flag.save(update_fields=["cleared_at"])
    if raised:
        audit.record(
            actor=None,
            action=AuditEvent.Action.CREATE,
            object_type=SafetyFlag._meta.label_lower,
            object_id=",".join(str(f.pk) for f in raised)[:100],
            detail=f"{len(raised)} safety flag(s) from intake response #{response.pk}",
        )
    return raised


@transaction.atomic
def acknowledge(*, flag: SafetyFlag, by) -> SafetyFlag:
    """The clinician has read the flag (who and when, audited). Only a clinician who sees the patient may."""
    from ..chart import can_see_charts
    from ..selectors import may_see_patient

    if not (can_see_charts(by) and may_see_patient(by, flag.patient)):
        raise PermissionDenied
    flag = SafetyFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.acknowledged_at is None:
        flag.acknowledged_at = timezone.now()
        flag.acknowledged_by = by
        flag.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit.record(actor=by, action=AuditEvent.Action.CHANGE, obj=flag, detail="safety flag acknowledged")
    return flag

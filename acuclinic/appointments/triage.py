"""Red-flag triage for back pain, as data a clinician can read and change in one place.

Levels follow the NHS urgent-care cards. Sources: NICE NG59 and NHS back-pain pathways (cauda equina, infection);
Chou et al., ACP/APS guideline 2007, Ann Intern Med 147:478, PMID 17909209; BMJ Best Practice, low back pain
(see ../shared/clinical-rules.md §1). Where the issue and the clinical rules disagree, the stricter level is used:
back pain after a *serious* fall or accident is an emergency (a minor fall or injury is "see a doctor soon"), and
fever with back pain is "urgent, same day" rather than "soon".
"""

from dataclasses import dataclass
from datetime import date
from enum import IntEnum


class Urgency(IntEnum):
    ROUTINE = 0
    SOON = 1  # see a doctor soon, before or alongside acupuncture
    URGENT_TODAY = 2  # get medical care today
    EMERGENCY = 3  # call 911 or go to an emergency department now

    @property
    def key(self) -> str:
        return self.name.lower()


URGENCY_LABELS = {
    Urgency.ROUTINE: "Routine",
    Urgency.SOON: "See a doctor soon",
    Urgency.URGENT_TODAY: "Urgent — medical care today",
    Urgency.EMERGENCY: "Emergency — told to call 911",
}


@dataclass(frozen=True)
class RedFlagQuestion:
    key: str
    question: str  # plain words, as a patient in pain reads them on a phone
    level: Urgency
    source: str


QUESTIONS: tuple[RedFlagQuestion, ...] = (
    RedFlagQuestion(
        "bladder_bowel",
        "Since your back pain started, have you had new trouble passing urine, or lost control of your bladder or "
        "bowels?",
        Urgency.EMERGENCY,
        "NICE NG59; NHS cauda equina syndrome card",
    ),
    RedFlagQuestion(
        "saddle_numbness",
        "Do you have numbness or tingling around your genitals, bottom (buttocks) or inner thighs?",
        Urgency.EMERGENCY,
        "NICE NG59; NHS cauda equina syndrome card",
    ),
    RedFlagQuestion(
        "leg_weakness",
        "Are your legs getting weaker, or is one leg so weak that you trip or cannot stand on it?",
        Urgency.EMERGENCY,
        "NHS back pain pathway; BMJ Best Practice, low back pain",
    ),
    RedFlagQuestion(
        "both_legs",
        "Do you have pain, numbness or tingling going down both legs?",
        Urgency.EMERGENCY,
        "NICE NG59; NHS cauda equina syndrome card",
    ),
    RedFlagQuestion(
        "serious_injury",
        "Did your back pain start after a serious fall, a car crash or another accident?",
        Urgency.EMERGENCY,
        "Chou et al. 2007 (PMID 17909209); stricter reading of clinical-rules §1",
    ),
    RedFlagQuestion(
        "fever",
        "Do you have a fever or chills as well as back pain?",
        Urgency.URGENT_TODAY,
        "NHS back pain pathway (infection); Chou et al. 2007",
    ),
    RedFlagQuestion(
        "infection_risk",
        "Do you inject drugs, have a weakened immune system (for example from chemotherapy or long-term steroids), "
        "or have you had an infection recently?",
        Urgency.URGENT_TODAY,
        "Chou et al. 2007 (PMID 17909209)",
    ),
    RedFlagQuestion(
        "cancer_history",
        "Have you ever had cancer?",
        Urgency.SOON,
        "Chou et al. 2007 (PMID 17909209); NICE NG59",
    ),
    RedFlagQuestion(
        "weight_loss",
        "Have you lost weight recently without trying?",
        Urgency.SOON,
        "Chou et al. 2007 (PMID 17909209)",
    ),
    RedFlagQuestion(
        "night_pain",
        "Is the pain worse at night or when you are resting?",
        Urgency.SOON,
        "NHS back pain pathway; BMJ Best Practice, low back pain",
    ),
    RedFlagQuestion(
        "minor_injury_or_bone_risk",
        "Did the pain start after a smaller fall or injury, or do you have thin bones (osteoporosis) or take steroid "
        "tablets long-term?",
        Urgency.SOON,
        "Chou et al. 2007 (PMID 17909209)",
    ),
)

QUESTIONS_BY_KEY = {q.key: q for q in QUESTIONS}

# New back pain (not chronic) at these ages is a "see a doctor soon" flag (clinical-rules §1).
NEW_PAIN_YOUNGER_THAN = 20
NEW_PAIN_OLDER_THAN = 50


# How soon the front desk must first contact the patient, per level: a clinic rule that follows from what the patient
# was told (clinical-rules §1). The deadline itself is computed from the clinic's open days, opening window and
# closures by appointments.selectors.first_contact_deadline.
@dataclass(frozen=True)
class FirstContactRule:
    within: str  # "now" | "same_day" | "next_business_day"
    label: str  # how the back office says it: "Not contacted <label>"
    source: str


FIRST_CONTACT: dict[Urgency, FirstContactRule] = {
    Urgency.EMERGENCY: FirstContactRule(
        "now",
        "at once",
        "clinical-rules §1, emergency now: the patient was told to call 911 or go to an emergency department now; "
        "the desk calls back at once, whatever the hours",
    ),
    Urgency.URGENT_TODAY: FirstContactRule(
        "same_day",
        "the same day (by closing time, or at the next opening)",
        "clinical-rules §1, urgent, same day: the patient was told to get medical care today; by today's closing "
        "if the clinic is open, else at its next opening",
    ),
    Urgency.SOON: FirstContactRule(
        "next_business_day",
        "within 1 business day",
        "clinical-rules §1, see a doctor soon: no same-day rule; the clinic's 1-business-day standard",
    ),
    Urgency.ROUTINE: FirstContactRule(
        "next_business_day", "within 1 business day", "the clinic's 1-business-day standard (README)"
    ),
}


@dataclass(frozen=True)
class TriageResult:
    urgency: Urgency
    reasons: tuple[str, ...]  # question keys (or "age") that raised the level


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def evaluate(
    *, answers: dict[str, bool], date_of_birth: date | None, pain_is_new: bool, today: date
) -> TriageResult:
    """The highest level any answer reaches, and which answers reached it."""
    level = Urgency.ROUTINE
    raised: dict[Urgency, list[str]] = {}
    for question in QUESTIONS:
        if answers.get(question.key):
            raised.setdefault(question.level, []).append(question.key)
            level = max(level, question.level)
    if date_of_birth and pain_is_new:
        age = age_on(date_of_birth, today)
        if age < NEW_PAIN_YOUNGER_THAN or age > NEW_PAIN_OLDER_THAN:
            raised.setdefault(Urgency.SOON, []).append("age")
            level = max(level, Urgency.SOON)
    return TriageResult(urgency=level, reasons=tuple(raised.get(level, [])))

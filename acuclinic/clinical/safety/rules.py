"""Contraindications and precautions, as data: what an intake answer means for the acupuncturist.

Source table: clinical-rules §2 — WHO, *Guidelines on basic training and safety in acupuncture* (1999); CCAOM,
*Clean Needle Technique* manual; the exclusion criteria of the GERAC (Haake 2007, Arch Intern Med 167:1892,
PMID 17893311) and Cherkin 2009 (Arch Intern Med 169:858, PMID 19433697) trials. Each rule names the intake answers
that raise it; `flags_for` is the one pure function that applies them. Red flags (clinical-rules §1) are not here:
they come from appointments/triage.py, the same rule set as the request form, and become flags in services.py.
"""

from dataclasses import dataclass, field

WHO_1999 = "WHO, Guidelines on basic training and safety in acupuncture (1999)"
CNT = "CCAOM, Clean Needle Technique manual"
TRIALS = "GERAC (Haake 2007, PMID 17893311) and Cherkin 2009 (PMID 19433697) exclusion criteria"

# Points marked "avoid" in pregnancy (clinical-rules §2).
PREGNANCY_AVOID_POINTS = ("LI4", "SP6", "BL60", "BL67")
# Electroacupuncture CPT codes that a pacemaker blocks (clinical-rules §2, §10).
ELECTRO_CODES = ("97813", "97814")


@dataclass(frozen=True)
class FlagRule:
    key: str
    kind: str  # SafetyFlag.Kind value
    finding: str  # what the clinician reads: the finding in a few words
    effect: str  # what it means for treatment
    source: str
    # Any of these (linkId, value) pairs raises the flag; a list answer matches when it contains the value.
    when: tuple[tuple[str, object], ...]
    avoid_points: tuple[str, ...] = ()
    no_electro: bool = False
    do_not_treat: bool = False
    needs_acknowledgement: bool = field(default=True)


RULES: tuple[FlagRule, ...] = (
    FlagRule(
        "pregnancy",
        "precaution",
        "Pregnant, or might be",
        "First trimester: no lumbosacral or lower-abdominal points. Later: also no upper-abdominal points and no "
        "strong stimulation. LI4, SP6, BL60 and BL67 are marked \u201cavoid\u201d; an override needs a reason.",
        f"{WHO_1999}; {CNT}",
        when=(("health.pregnant", "yes"), ("health.pregnant", "maybe")),
        avoid_points=PREGNANCY_AVOID_POINTS,
    ),
    FlagRule(
        "pacemaker",
        "contraindication",
        "Pacemaker or implanted defibrillator",
        "No electroacupuncture (97813/97814 blocked). Manual needling only.",
        f"{WHO_1999}; {CNT}",
        when=(("health.pacemaker", True),),
        no_electro=True,
    ),
    FlagRule(
        "anticoagulant",
        "precaution",
        "Takes a blood thinner",
        "Acknowledge before treatment; press each point after the needle is removed; watch for bleeding.",
        f"{CNT}; {TRIALS}",
        when=(("health.blood_thinners", "yes"),),
    ),
    FlagRule(
        "anticoagulant_unsure",
        "precaution",
        "Not sure whether they take a blood thinner",
        "Ask which medicines they take before needling; until then treat as on a blood thinner.",
        f"{CNT} (stricter reading: unknown is treated as yes)",
        when=(("health.blood_thinners", "unsure"),),
    ),
    FlagRule(
        "bleeding_disorder",
        "precaution",
        "Bleeding disorder, or bleeds or bruises easily",
        "Acknowledge before treatment; press each point after the needle is removed.",
        f"{WHO_1999}; {CNT}",
        when=(("health.conditions", "bleeding"),),
    ),
    FlagRule(
        "immunosuppression",
        "precaution",
        "Weakened immune system",
        "Acknowledge; strict clean-needle technique; watch needle sites for infection.",
        f"{WHO_1999}; {CNT}",
        when=(("health.conditions", "immune"),),
    ),
    FlagRule(
        "diabetes",
        "precaution",
        "Diabetes",
        "Acknowledge; check the skin before needling; slower healing and a higher infection risk.",
        CNT,
        when=(("health.conditions", "diabetes"),),
    ),
    FlagRule(
        "heart_valve",
        "precaution",
        "Heart-valve problem or replaced valve",
        "Acknowledge; infection risk (endocarditis): strict clean-needle technique, no indwelling needles.",
        f"{WHO_1999}; {CNT}",
        when=(("health.conditions", "valve"),),
    ),
    FlagRule(
        "lymphoedema",
        "precaution",
        "Lymphedema",
        "No needling in the swollen limb.",
        f"{WHO_1999}; {CNT}",
        when=(("health.conditions", "lymphoedema"),),
    ),
    FlagRule(
        "skin_lesion",
        "local",
        "Skin infection, rash, wound or sore on the back",
        "No needling at or near the affected skin.",
        f"{WHO_1999}; {CNT}",
        when=(("health.conditions", "skin"),),
    ),
    FlagRule(
        "seizures",
        "precaution",
        "Epilepsy or seizures",
        "Acknowledge; treat lying down.",
        f"{WHO_1999}; {TRIALS}",
        when=(("health.conditions", "seizures"),),
    ),
    FlagRule(
        "needle_phobia",
        "contraindication",
        "Needle phobia (has fainted or panicked with needles)",
        "Do not treat with needles. Talk it through with the patient first.",
        f"{WHO_1999}; {TRIALS}",
        when=(("health.needle_fear", "phobia"),),
        do_not_treat=True,
    ),
)

RULES_BY_KEY = {rule.key: rule for rule in RULES}

# Shown for a patient's first treatment (clinical-rules §2, "first visit: practice"): not a flag on the patient.
FIRST_VISIT_PRACTICE = (
    "First treatment: treat lying down; the patient should have eaten 1\u20132 hours before.",
    f"{WHO_1999}; {CNT}",
)


def _matches(answers: dict, link_id: str, value) -> bool:
    answer = answers.get(link_id)
    if isinstance(answer, list):
        return value in answer
    return answer == value


def flags_for(answers: dict) -> list[FlagRule]:
    """The rules an intake's answers raise, in the table's order."""
    return [rule for rule in RULES if any(_matches(answers, link, value) for link, value in rule.when)]

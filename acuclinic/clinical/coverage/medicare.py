"""Medicare's coverage of acupuncture for chronic low back pain: the eligibility checks, as data plus one function.

Source: CMS National Coverage Determination 30.3.3 (effective 2020-01-21) and decision memo CAG-00452N
(clinical-rules §7). Covered only for low back pain that has lasted at least 12 weeks, is nonspecific (no systemic
cause such as metastatic, inflammatory or infectious disease), is not associated with surgery and is not associated
with pregnancy. Each check answers met / not met / unknown with the intake answer it came from; the visit limits
(12 in 90 days, 8 more with improvement, 20 a year) come with the coverage part of the clinical course.
"""

from dataclasses import dataclass
from datetime import date, timedelta

SOURCE = "CMS NCD 30.3.3 (effective 2020-01-21); decision memo CAG-00452N"
CHRONIC_AFTER = timedelta(weeks=12)

MET, NOT_MET, UNKNOWN = "met", "not met", "unknown"

# Intake answers that point to a systemic cause (cancer, infection, inflammatory disease): not "nonspecific".
SYSTEMIC_SIGNS = (
    ("redflag.cancer_history", True, "history of cancer"),
    ("redflag.fever", True, "fever or chills"),
    ("redflag.infection_risk", True, "infection risk (drug use, weakened immunity, recent infection)"),
    ("redflag.weight_loss", True, "unexplained weight loss"),
    ("health.conditions", "inflammatory", "inflammatory arthritis of the spine"),
)


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    result: str  # MET / NOT_MET / UNKNOWN
    because: str  # the answer it came from, in plain words
    source: str = SOURCE


def _has(answers: dict, link_id: str, value) -> bool:
    answer = answers.get(link_id)
    return value in answer if isinstance(answer, list) else answer == value


def is_chronic(onset: date | None, on: date) -> bool | None:
    """Low back pain that has lasted 12 weeks or more on `on` (None when the onset is not known)."""
    if onset is None:
        return None
    return on - onset >= CHRONIC_AFTER


def eligibility(*, answers: dict, onset: date | None, on: date) -> list[Check]:
    checks = []
    chronic = is_chronic(onset, on)
    if chronic is None:
        checks.append(Check("chronic", "Pain for 12 weeks or more", UNKNOWN, "no onset date"))
    else:
        weeks = (on - onset).days // 7
        checks.append(
            Check(
                "chronic",
                "Pain for 12 weeks or more",
                MET if chronic else NOT_MET,
                f"began {onset:%m/%d/%Y} ({weeks} week{'s' if weeks != 1 else ''} ago)",
            )
        )
    systemic = [words for link, value, words in SYSTEMIC_SIGNS if _has(answers, link, value)]
    answered = all(link in answers for link, _value, _words in SYSTEMIC_SIGNS if link.startswith("redflag."))
    if systemic:
        checks.append(Check("nonspecific", "Nonspecific (no systemic cause)", NOT_MET, "; ".join(systemic)))
    elif answered:
        checks.append(
            Check(
                "nonspecific",
                "Nonspecific (no systemic cause)",
                MET,
                "no sign of a systemic cause in the intake",
            )
        )
    else:
        checks.append(
            Check("nonspecific", "Nonspecific (no systemic cause)", UNKNOWN, "warning signs not answered")
        )
    if _has(answers, "pain.start", "surgery"):
        checks.append(
            Check("not_surgical", "Not associated with surgery", NOT_MET, "began after a back operation")
        )
    elif "pain.start" in answers and "pain.back_surgery" in answers:
        if answers["pain.back_surgery"]:
            because = "had a back operation before: does this pain follow it? (the clinician decides)"
            checks.append(Check("not_surgical", "Not associated with surgery", UNKNOWN, because))
        else:
            checks.append(Check("not_surgical", "Not associated with surgery", MET, "no back operation"))
    else:
        checks.append(Check("not_surgical", "Not associated with surgery", UNKNOWN, "not answered"))
    if _has(answers, "pain.start", "pregnancy") or answers.get("health.pregnant") in ("yes", "maybe"):
        why = "began during or after a pregnancy" if _has(answers, "pain.start", "pregnancy") else "pregnant"
        checks.append(Check("not_pregnancy", "Not associated with pregnancy", NOT_MET, why))
    elif "health.pregnant" in answers and "pain.start" in answers:
        checks.append(Check("not_pregnancy", "Not associated with pregnancy", MET, "not pregnant"))
    else:
        checks.append(Check("not_pregnancy", "Not associated with pregnancy", UNKNOWN, "not answered"))
    return checks


def eligible(checks: list[Check]) -> str:
    """MET when every check is met, NOT_MET when any is not, else UNKNOWN."""
    results = {check.result for check in checks}
    if NOT_MET in results:
        return NOT_MET
    return MET if results == {MET} else UNKNOWN

"""The clinical rules against their sources' tables: clinical-rules §1 (red flags), §2 (contraindications and
precautions) and §7 (Medicare eligibility), and the intake shown to use the request form's rule set."""

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from acuclinic.appointments import triage
from acuclinic.appointments.forms import AppointmentRequestForm
from acuclinic.clinical.coverage import medicare
from acuclinic.clinical.instruments import questionnaire as q
from acuclinic.clinical.safety import rules
from acuclinic.core.models import ClinicSettings

INTAKE = json.loads(
    (Path(__file__).resolve().parents[2] / "acuclinic/clinical/instruments/data/intake-v1.json").read_text()
)

# clinical-rules §1: each finding and its level.
SECTION_1 = {
    "bladder_bowel": triage.Urgency.EMERGENCY,
    "saddle_numbness": triage.Urgency.EMERGENCY,
    "both_legs": triage.Urgency.EMERGENCY,
    "leg_weakness": triage.Urgency.EMERGENCY,
    "serious_injury": triage.Urgency.EMERGENCY,  # stricter reading (triage.py's docstring)
    "fever": triage.Urgency.URGENT_TODAY,
    "infection_risk": triage.Urgency.URGENT_TODAY,
    "cancer_history": triage.Urgency.SOON,
    "weight_loss": triage.Urgency.SOON,
    "night_pain": triage.Urgency.SOON,
    "minor_injury_or_bone_risk": triage.Urgency.SOON,
}


@pytest.mark.parametrize(("key", "level"), SECTION_1.items())
def test_each_red_flag_reaches_its_level(key, level):
    result = triage.evaluate(
        answers={key: True}, date_of_birth=date(1980, 1, 1), pain_is_new=False, today=date(2026, 1, 1)
    )
    assert result.urgency == level and result.reasons == (key,)


@pytest.mark.parametrize(
    ("born", "level"),
    [
        (date(2006, 1, 2), triage.Urgency.SOON),
        (date(2006, 1, 1), triage.Urgency.ROUTINE),
        (date(1975, 1, 1), triage.Urgency.SOON),
        (date(1975, 1, 2), triage.Urgency.ROUTINE),
    ],
)
def test_new_pain_under_20_or_over_50(born, level):
    # On 2026-01-01: born 2006-01-02 is 19 (under 20); 2006-01-01 is 20; 1975-01-01 is 51; 1975-01-02 is 50.
    result = triage.evaluate(answers={}, date_of_birth=born, pain_is_new=True, today=date(2026, 1, 1))
    assert result.urgency == level


def test_the_intake_asks_the_request_forms_warning_questions_word_for_word():
    """One rule set: the intake's warning step is triage.QUESTIONS, as the request form's is."""
    warning = next(step for step in q.steps(INTAKE) if step["linkId"] == "warning")
    asked = {item["linkId"].removeprefix("redflag."): item["text"] for item in warning["item"]}
    assert asked == {question.key: question.question for question in triage.QUESTIONS}
    form = AppointmentRequestForm(clinic=ClinicSettings())
    assert {name.removeprefix("flag_") for name in form.fields if name.startswith("flag_")} == set(asked)
    assert [field.label for field in form.red_flag_fields] == list(asked.values())


# clinical-rules §2: finding → (kind, effect in data).
SECTION_2 = [
    ({"health.pregnant": "yes"}, "pregnancy", "precaution"),
    ({"health.pregnant": "maybe"}, "pregnancy", "precaution"),
    ({"health.pacemaker": True}, "pacemaker", "contraindication"),
    ({"health.blood_thinners": "yes"}, "anticoagulant", "precaution"),
    ({"health.conditions": ["bleeding"]}, "bleeding_disorder", "precaution"),
    ({"health.conditions": ["immune"]}, "immunosuppression", "precaution"),
    ({"health.conditions": ["diabetes"]}, "diabetes", "precaution"),
    ({"health.conditions": ["valve"]}, "heart_valve", "precaution"),
    ({"health.conditions": ["lymphoedema"]}, "lymphoedema", "precaution"),
    ({"health.conditions": ["skin"]}, "skin_lesion", "local"),
    ({"health.conditions": ["seizures"]}, "seizures", "precaution"),
    ({"health.needle_fear": "phobia"}, "needle_phobia", "contraindication"),
]


@pytest.mark.parametrize(("answers", "rule", "kind"), SECTION_2)
def test_each_finding_raises_its_flag(answers, rule, kind):
    raised = rules.flags_for(answers)
    assert [r.key for r in raised] == [rule]
    assert raised[0].kind == kind and raised[0].source


def test_the_effects_named_in_section_2():
    assert rules.RULES_BY_KEY["pregnancy"].avoid_points == ("LI4", "SP6", "BL60", "BL67")
    assert (
        "lumbosacral" in rules.RULES_BY_KEY["pregnancy"].effect
        and "lower-abdominal" in rules.RULES_BY_KEY["pregnancy"].effect
    )
    assert rules.RULES_BY_KEY["pacemaker"].no_electro and rules.ELECTRO_CODES == ("97813", "97814")
    assert rules.RULES_BY_KEY["needle_phobia"].do_not_treat
    assert "lying down" in rules.RULES_BY_KEY["seizures"].effect
    assert "lying down" in rules.FIRST_VISIT_PRACTICE[0] and "1\u20132 hours" in rules.FIRST_VISIT_PRACTICE[0]


def test_nothing_raises_nothing():
    assert (
        rules.flags_for(
            {
                "health.pregnant": "no",
                "health.pacemaker": False,
                "health.blood_thinners": "no",
                "health.conditions": [],
                "health.needle_fear": "nervous",
            }
        )
        == []
    )


def test_every_rule_answer_is_an_intake_option():
    """A rule that names an answer the intake cannot give would never fire."""
    items = {item["linkId"]: item for item in q.all_answer_items(INTAKE)}
    for rule in rules.RULES:
        for link, value in rule.when:
            item = items[link]
            if item["type"] == "boolean":
                assert isinstance(value, bool)
            else:
                assert value in dict(q.options(item)), (rule.key, value)


# clinical-rules §7: 12 weeks, at the threshold.
ON = date(2026, 6, 1)
NO_SIGNS = {f"redflag.{key}": False for key in SECTION_1} | {
    "pain.start": "gradual",
    "pain.back_surgery": False,
    "health.pregnant": "no",
}


@pytest.mark.parametrize(
    ("days", "result"), [(84, medicare.MET), (83, medicare.NOT_MET), (400, medicare.MET)]
)
def test_chronic_means_12_weeks(days, result):
    checks = {
        c.key: c for c in medicare.eligibility(answers=NO_SIGNS, onset=ON - timedelta(days=days), on=ON)
    }
    assert checks["chronic"].result == result
    assert medicare.eligible(list(checks.values())) == result


@pytest.mark.parametrize(
    ("change", "key", "result"),
    [
        ({"redflag.cancer_history": True}, "nonspecific", medicare.NOT_MET),
        ({"redflag.fever": True}, "nonspecific", medicare.NOT_MET),
        ({"health.conditions": ["inflammatory"]}, "nonspecific", medicare.NOT_MET),
        ({"pain.start": "surgery"}, "not_surgical", medicare.NOT_MET),
        ({"pain.back_surgery": True}, "not_surgical", medicare.UNKNOWN),
        ({"pain.start": "pregnancy"}, "not_pregnancy", medicare.NOT_MET),
        ({"health.pregnant": "yes"}, "not_pregnancy", medicare.NOT_MET),
    ],
)
def test_each_medicare_condition(change, key, result):
    checks = {
        c.key: c for c in medicare.eligibility(answers={**NO_SIGNS, **change}, onset=date(2025, 1, 1), on=ON)
    }
    assert checks[key].result == result and checks[key].because


def test_unknown_without_answers():
    checks = medicare.eligibility(answers={}, onset=None, on=ON)
    assert {c.result for c in checks} == {medicare.UNKNOWN}
    assert medicare.eligible(checks) == medicare.UNKNOWN

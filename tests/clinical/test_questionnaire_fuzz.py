"""Hostile Questionnaires: whatever a clinic pastes, the check never raises, and whatever it accepts, the back office
can show and the patient's step form can render and validate (no 500 later, on a patient's phone).

Pure functions, no database: random mutations of a valid Questionnaire (values of the wrong type, removed or added
keys, odd extensions, enableWhen to anywhere) through fhir.definition_problems, then outline() and StepForm.
"""

import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acuclinic.clinical.instruments import questionnaire as q
from acuclinic.clinical.instruments.fhir import definition_problems
from acuclinic.clinical.instruments.forms import StepForm, field_name
from acuclinic.clinical.instruments.outline import outline

BASE = {
    "resourceType": "Questionnaire",
    "status": "active",
    "title": "Fuzz",
    "item": [
        {"linkId": "a", "type": "boolean", "required": True, "text": "A?"},
        {
            "linkId": "b",
            "type": "choice",
            "text": "B?",
            "answerOption": [{"valueCoding": {"code": "x", "display": "X"}}, {"valueString": "y"}],
            "enableWhen": [{"question": "a", "operator": "=", "answerBoolean": True}],
        },
        {
            "linkId": "c",
            "type": "integer",
            "text": "C?",
            "extension": [
                {"url": q.MIN_VALUE, "valueInteger": 0},
                {"url": q.MAX_VALUE, "valueInteger": 5},
            ],
        },
        {"linkId": "d", "type": "date", "text": "D?"},
    ],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(
        ["a", "b", "c", "d", "group", "display", "choice", "integer", "decimal", "date", "=", "!=", "exists"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
ANSWERS = {
    "answerBoolean": st.booleans(),
    "answerInteger": st.integers(-3, 3),
    "answerString": st.text(min_size=1, max_size=3),
    "answerCoding": st.builds(lambda code: {"code": code}, st.text(min_size=1, max_size=3)),
}
ITEM_KEYS = [
    "linkId",
    "type",
    "text",
    "required",
    "repeats",
    "answerOption",
    "enableWhen",
    "enableBehavior",
    "item",
]
EXTENSION_VALUES = ["valueInteger", "valueDecimal", "valueString", "valueBoolean", "valueDate"]


@st.composite
def mutated(draw):
    definition = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(1, 4))):
        item = draw(st.sampled_from(definition["item"]))
        # Mostly mutations that stay valid FHIR, so that the renderer's side is reached too.
        action = draw(
            st.sampled_from(["set", "delete", "options", *["extension", "enable", "nest", "type"] * 3])
        )
        if action == "set":
            item[draw(st.sampled_from(ITEM_KEYS))] = draw(values)
        elif action == "options":
            item["type"] = draw(st.sampled_from(["choice", "open-choice", "string"]))
            item["repeats"] = draw(st.booleans())
            item["answerOption"] = [
                draw(
                    st.one_of(
                        st.builds(lambda c: {"valueCoding": {"code": c}}, st.text(min_size=1, max_size=3)),
                        st.builds(lambda v: {"valueString": v}, st.text(min_size=1, max_size=3)),
                        st.builds(lambda v: {"valueInteger": v}, st.integers(-3, 3)),
                        st.builds(lambda v: {"valueDate": v}, st.just("2020-01-01")),
                    )
                )
                for _ in range(draw(st.integers(0, 3)))
            ]
        elif action == "delete" and item:
            item.pop(draw(st.sampled_from(sorted(item))), None)
        elif action == "extension":
            item["type"] = draw(st.sampled_from(["integer", "decimal"]))
            key = draw(st.sampled_from(EXTENSION_VALUES))
            value = draw(
                st.one_of(st.integers(-5, 20), st.text(max_size=4), st.booleans(), st.just("2020-01-01"))
            )
            item["extension"] = [{"url": draw(st.sampled_from([q.MIN_VALUE, q.MAX_VALUE])), key: value}]
        elif action == "enable":
            answer = draw(st.sampled_from(["answerBoolean", "answerString", "answerInteger", "answerCoding"]))
            item["enableWhen"] = [
                {
                    "question": draw(st.sampled_from(["a", "b", "c", "d", "zz"])),
                    "operator": draw(st.sampled_from(["=", "!=", "exists", ">"])),
                    answer: draw(ANSWERS[answer]),
                }
            ]
        elif action == "nest":
            item["type"] = "group"
            item["item"] = [
                {"linkId": draw(st.sampled_from(["e", "a", "f.g"])), "type": "string", "text": "E"}
            ]
        else:
            item["type"] = draw(st.sampled_from(sorted(q.SUPPORTED_TYPES | {"open-choice", "attachment"})))
    return definition


def answers_for(form: StepForm) -> dict:
    data = {}
    for item in form.items:
        name = field_name(item["linkId"])
        data[name] = {"boolean": "yes", "integer": "3", "decimal": "1.5", "date": "2020-01-02"}.get(
            item["type"], "x"
        )
    return data


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples on every run: the same commit, the same verdict
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(definition=mutated())
def test_what_the_check_accepts_is_shown_and_rendered(definition):
    accepted, found = definition_problems(json.dumps(definition))
    assert (accepted is None) == bool(found)
    if accepted is None:
        return
    outline(accepted)
    for step in q.steps(accepted):
        form = StepForm(step=step, answers={}, today=date(2026, 12, 5))
        form.as_div()
        bound = StepForm(answers_for(form), step=step, answers={}, today=date(2026, 12, 5))
        if bound.is_valid():
            bound.stored_answers()

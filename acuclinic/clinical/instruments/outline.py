"""A definition as staff read it in the back office: its steps, each question with its type, whether it is required,
its answer options, its range and when it is asked (enableWhen in words)."""

from dataclasses import dataclass

from . import questionnaire as q

TYPE_WORDS = {
    "boolean": "Yes / no",
    "choice": "One choice",
    "open-choice": "One choice or own words",
    "integer": "Whole number",
    "decimal": "Number",
    "date": "Date",
    "string": "Short text",
    "text": "Long text",
    "display": "Text shown (no answer)",
    "group": "Section",
}
OPERATOR_WORDS = {"=": "is", "!=": "is not"}


@dataclass(frozen=True)
class Question:
    link_id: str
    text: str
    kind: str
    required: bool
    options: tuple[str, ...]
    range: str
    asked_when: str


@dataclass(frozen=True)
class Step:
    title: str
    questions: tuple[Question, ...]


def _answer_words(condition: dict, items: dict) -> str:
    value = q._condition_value(condition)
    target = items.get(condition.get("question"), {})
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):  # a Quantity, a Reference…: shown as FHIR gives it
        return ", ".join(f"{k} {v}" for k, v in value.items())
    words = dict(q.options(target)) if target.get("type") in ("choice", "open-choice") else {}
    return f"\u201c{words.get(str(value), value)}\u201d"


def condition_words(item: dict, items: dict) -> str:
    """ "Asked when 'Do you have pain in a leg?' is yes" (several conditions joined by "and" or "or")."""
    parts = []
    for condition in item.get("enableWhen") or []:
        target = items.get(condition.get("question"), {})
        question = f"\u201c{target.get('text') or condition.get('question')}\u201d"
        operator = condition.get("operator", "=")
        if operator == "exists":
            wanted = q._condition_value(condition)
            parts.append(f"{question} {'is answered' if wanted in (True, None) else 'is not answered'}")
        else:
            parts.append(
                f"{question} {OPERATOR_WORDS.get(operator, operator)} {_answer_words(condition, items)}"
            )
    if not parts:
        return ""
    joiner = " and " if item.get("enableBehavior") == "all" else " or "
    return "Asked when " + joiner.join(parts)


def _range(item: dict) -> str:
    low, high = q.extension(item, q.MIN_VALUE), q.extension(item, q.MAX_VALUE)
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return ""


def _questions(items: list[dict], everything: dict):
    for item in items:
        if item.get("type") == "group":
            yield from _questions(item.get("item", []), everything)
            continue
        yield Question(
            link_id=item.get("linkId", ""),
            text=item.get("text", ""),
            kind="Several choices"
            if item.get("repeats") and item.get("type") in ("choice", "open-choice")
            else TYPE_WORDS.get(item.get("type"), str(item.get("type"))),
            required=bool(item.get("required")),
            options=tuple(words for _code, words in q.options(item)),
            range=_range(item),
            asked_when=condition_words(item, everything),
        )


def _all_items(items: list[dict]):
    for item in items:
        yield item
        yield from _all_items(item.get("item", []))


def outline(definition: dict) -> list[Step]:
    everything = {item.get("linkId"): item for item in _all_items(definition.get("item", []))}
    return [
        Step(step.get("text") or step.get("linkId", ""), tuple(_questions(step.get("item", []), everything)))
        for step in q.steps(definition)
    ]

"""Reading a FHIR-Questionnaire-shaped definition: its steps, its items, enableWhen, and an answer's plain value.

One renderer serves every instrument (intake, consent, NRS, PEG, or one a clinic adds), so a new instrument needs no
code. Supported item types: group (a step), display, boolean, choice (repeats = several), integer (minValue and
maxValue extensions), decimal, date, string, text. enableWhen supports the operators "=", "!=" and "exists", with
enableBehavior "any" (default) or "all".
"""

from collections.abc import Iterator
from datetime import date

MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

ANSWER_TYPES = {"boolean", "choice", "open-choice", "integer", "decimal", "date", "string", "text"}
SUPPORTED_TYPES = ANSWER_TYPES | {"group", "display"}


def steps(definition: dict) -> list[dict]:
    """The top-level groups, one step each; a definition without groups is one step."""
    items = definition.get("item", [])
    if items and all(item.get("type") == "group" for item in items):
        return items
    return [{"linkId": "all", "type": "group", "text": definition.get("title", ""), "item": items}]


def answer_items(items: list[dict]) -> Iterator[dict]:
    for item in items:
        if item.get("type") == "group":
            yield from answer_items(item.get("item", []))
        elif item.get("type") in ANSWER_TYPES:
            yield item


def all_answer_items(definition: dict) -> list[dict]:
    return list(answer_items(definition.get("item", [])))


def extension(item: dict, url: str):
    for ext in item.get("extension", []):
        if ext.get("url") == url:
            for key, value in ext.items():
                if key.startswith("value"):
                    return value
    return None


def options(item: dict) -> list[tuple[str, str]]:
    """(code, display) of each answer option (valueCoding, valueString or valueInteger)."""
    result = []
    for option in item.get("answerOption", []):
        if "valueCoding" in option:
            coding = option["valueCoding"]
            result.append((str(coding["code"]), coding.get("display", str(coding["code"]))))
        elif "valueString" in option:
            result.append((option["valueString"], option["valueString"]))
        elif "valueInteger" in option:
            result.append((str(option["valueInteger"]), str(option["valueInteger"])))
    return result


def _condition_value(condition: dict):
    for key, value in condition.items():
        if key.startswith("answer"):
            return value["code"] if key == "answerCoding" else value
    return None


def _condition_holds(condition: dict, answers: dict) -> bool:
    answer = answers.get(condition["question"])
    operator = condition.get("operator", "=")
    if operator == "exists":
        wanted = _condition_value(condition)
        present = answer not in (None, "", [])
        return present if wanted in (True, None) else not present
    value = _condition_value(condition)
    equal = value in answer if isinstance(answer, list) else answer == value
    return equal if operator == "=" else not equal


def enabled(item: dict, answers: dict) -> bool:
    conditions = item.get("enableWhen")
    if not conditions:
        return True
    results = [_condition_holds(condition, answers) for condition in conditions]
    return all(results) if item.get("enableBehavior") == "all" else any(results)


def display_value(item: dict, value) -> str:
    """An answer as a person reads it: "Yes", the option's words, "7", "03/02/2026"."""
    if value in (None, "", []):
        return "\u2014"
    if item["type"] == "boolean":
        return "Yes" if value else "No"
    if item["type"] in ("choice", "open-choice"):
        words = dict(options(item))
        values = value if isinstance(value, list) else [value]
        return "; ".join(words.get(str(v), str(v)) for v in values)
    if item["type"] == "date":
        return date.fromisoformat(value).strftime("%m/%d/%Y")
    return str(value)


def problems(definition: dict) -> list[str]:
    """What makes a definition unusable by the renderer (types, duplicate linkIds, enableWhen targets)."""
    found = []
    seen = set()

    def walk(items, depth):
        for item in items:
            link = item.get("linkId")
            if not link:
                found.append("An item has no linkId.")
                continue
            if link in seen:
                found.append(f"The linkId {link!r} is used twice.")
            seen.add(link)
            kind = item.get("type")
            if kind not in SUPPORTED_TYPES:
                found.append(f"Item {link!r}: the type {kind!r} is not supported.")
            if any(
                "code" not in option.get("valueCoding", {"code": ""})
                for option in item.get("answerOption", [])
            ):
                found.append(f"Item {link!r}: an answer option has no code.")
            elif kind in ("choice", "open-choice") and not options(item):
                found.append(f"Item {link!r}: a choice needs answer options.")
            if kind in ("integer", "decimal"):
                for url, word in ((MIN_VALUE, "minValue"), (MAX_VALUE, "maxValue")):
                    bound = extension(item, url)
                    if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
                        found.append(f"Item {link!r}: its {word} must be a number.")
            if kind == "group":
                if depth > 0:
                    found.append(f"Item {link!r}: groups inside groups are not supported.")
                walk(item.get("item", []), depth + 1)

    walk(definition.get("item", []), 0)
    for item in answer_items(definition.get("item", [])):
        for condition in item.get("enableWhen", []):
            if condition.get("question") not in seen:
                found.append(f"Item {item['linkId']!r}: enableWhen names an unknown question.")
            if "code" not in condition.get("answerCoding", {"code": ""}):
                found.append(f"Item {item['linkId']!r}: enableWhen's answerCoding has no code.")
    if not definition.get("item"):
        found.append("The questionnaire has no items.")
    return found

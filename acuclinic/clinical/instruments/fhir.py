"""An instrument version as a FHIR R4 Questionnaire, and the check of a Questionnaire a clinic pastes or uploads.

The canonical `url` of an instrument is the site's FHIR base (the same `WAGTAILADMIN_BASE_URL` + "/fhir" that
scheduling/fhir.py names its code systems and extensions with) + "/Questionnaire/<key>"; `version` is the version
number, `status` "active" or "draft" as the instrument is switched on or off. Validated with fhir.resources' R4B
models (the same shape as R4 4.0.1 for Questionnaire).
"""

import json

from django.conf import settings

from . import questionnaire as q

# A questionnaire of a few hundred questions is a few hundred kilobytes; more is a mistake, not an instrument.
MAX_BYTES = 512 * 1024
MAX_MESSAGES = 12
CONSENT_TEXT_LINK = "consent.text"


def canonical_base() -> str:
    return f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}/fhir"


def canonical_url(key: str) -> str:
    return f"{canonical_base()}/Questionnaire/{key}"


def questionnaire_resource(version) -> dict:
    """The version's definition as a Questionnaire resource (plain JSON-ready data)."""
    instrument = version.instrument
    data = json.loads(json.dumps(version.definition))  # a deep copy: the stored definition is never touched
    data.pop("id", None)
    data.update(
        resourceType="Questionnaire",
        url=canonical_url(instrument.key),
        version=str(version.version),
        status="active" if instrument.active else "draft",
        title=data.get("title") or instrument.title,
        date=version.created_at.isoformat(timespec="seconds"),
    )
    if instrument.licence_note and not data.get("copyright"):
        data["copyright"] = instrument.licence_note
    if version.text:
        # A consent form's display item carries the exact text of this version.
        for item in data.get("item", []):
            if item.get("linkId") == CONSENT_TEXT_LINK and item.get("type") == "display":
                item["text"] = version.text
    return data


def validate_questionnaire(data: dict):
    """Parse with fhir.resources' R4B Questionnaire; raises pydantic's ValidationError when it is not valid."""
    from fhir.resources.R4B.questionnaire import Questionnaire

    return Questionnaire.model_validate(data)


def _pydantic_messages(error) -> list[str]:
    messages = []
    for detail in error.errors()[:MAX_MESSAGES]:
        where = ".".join(str(part) for part in detail.get("loc", ()) if part != "__root__")
        text = detail.get("msg", "invalid")
        messages.append(f"{where}: {text}" if where else text)
    return messages


def definition_problems(raw: bytes | str) -> tuple[dict | None, list[str]]:
    """(definition, []) for a usable FHIR R4 Questionnaire, else (None, what is wrong, in words).

    Never raises on bad input: too large, not UTF-8, not JSON, nested too deeply, not an object, not a
    Questionnaire, not valid R4 (fhir.resources R4B), or not something the renderer can show (questionnaire.problems).
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="replace")
    if len(raw) > MAX_BYTES:
        return None, [
            f"This is {len(raw) // 1024} KB; a questionnaire may be at most {MAX_BYTES // 1024} KB."
        ]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, ["This is not a text file in UTF-8: export the Questionnaire as JSON and try again."]
    if not text.strip():
        return None, ["Paste the FHIR Questionnaire as JSON, or choose a .json file."]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return None, [f"This is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."]
    except RecursionError:
        return None, ["This JSON is nested too deeply to be a questionnaire."]
    if not isinstance(data, dict):
        return None, ["This JSON is not a FHIR resource: it must be an object starting with {."]
    if data.get("resourceType") != "Questionnaire":
        found = data.get("resourceType")
        return None, [
            f"This is a FHIR {found!s} resource, not a Questionnaire."
            if isinstance(found, str) and found
            else 'This is not a FHIR Questionnaire: "resourceType" must be "Questionnaire".'
        ]
    from pydantic import ValidationError as PydanticError

    try:
        validate_questionnaire(data)
    except PydanticError as error:
        return None, [
            "This is not a valid FHIR R4 Questionnaire:",
            *_pydantic_messages(error),
        ]
    except (RecursionError, ValueError, TypeError) as error:
        return None, [f"This is not a valid FHIR R4 Questionnaire ({type(error).__name__})."]
    try:
        found = q.problems(data)
    except (KeyError, TypeError, AttributeError, ValueError):
        found = ["Some items cannot be read (an answer option or a condition without its code or value)."]
    if found:
        return None, found[:MAX_MESSAGES]
    return data, []

"""Request and response bodies of the JSON API.

The input schemas check only the *shape* of the JSON (text where text belongs, true/false for a yes/no, no
unknown fields). Every value is then validated by the public form, ``AppointmentRequestForm``, so a patient's
app and the web form give the same messages. That is why fields the form requires are optional here (a
missing first name gets the form's "Enter your first name.", not a generic "Field required") while the
OpenAPI schema still lists them as required.
"""

from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, WithJsonSchema, create_model

from acuclinic.appointments import triage
from acuclinic.appointments.models import AppointmentRequest, PreferredTime

MAX_PREFERRED_DATES = 3
MDY_PATTERN = r"^\d{2}/\d{2}/\d{4}$"
# The schema says what the form takes, where a pattern can say it (schemathesis checks both ways): no NUL character
# (Django refuses it), a name with something besides spaces, a real past birth date, a number that is a US number.
NO_NUL = r"^[^\x00]*$"
SOME_TEXT = r"^[^\x00]*\S[^\x00]*$"
_MD = r"((0[13578]|1[02])/(0[1-9]|[12]\d|3[01])|(0[469]|11)/(0[1-9]|[12]\d|30)|02/(0[1-9]|1\d|2[0-8]))"
# Born 1920–2019: in the past and younger than the form's MAX_AGE_YEARS whatever today is.
BIRTH_MDY_PATTERN = (
    rf"^({_MD}/(19[2-9]\d|20[01]\d)|02/29/(19(2[048]|[3579][26]|[468][048])|20(0[048]|1[26])))$"
)
EMAIL_PATTERN = (
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$"
)


def _us_phone_pattern() -> str:
    """(212) 555-0142 with an area code that phonenumbers takes as a US or Canadian number."""
    import phonenumbers

    codes = [
        str(code)
        for code in range(200, 1000)
        if all(
            phonenumbers.is_valid_number(phonenumbers.parse(f"({code}) {exchange}-0142", "US"))
            for exchange in ("234", "555", "987")
        )
    ]
    return rf"^\(({'|'.join(codes)})\) [2-9]\d{{2}}-\d{{4}}$"


def _text(description: str, *, max_length: int | None = None, nullable: bool = False, **extra: Any):
    """``nullable``: an optional field, which the API takes as null too (null is the same as leaving it out)."""
    schema: dict[str, Any] = {
        "type": ["string", "null"] if nullable else "string",
        "description": description,
        "pattern": NO_NUL,
        **extra,
    }
    if max_length:
        schema["maxLength"] = max_length
    return Annotated[StrictStr | None, WithJsonSchema(schema)]


def _choice(description: str, choices, *, nullable: bool = False) -> Any:
    values = [value for value, _ in choices]
    schema = {
        "type": ["string", "null"] if nullable else "string",
        "enum": [*values, None] if nullable else values,
        "description": description,
    }
    return Annotated[StrictStr | None, WithJsonSchema(schema)]


def _flag(description: str, *, nullable: bool = False) -> Any:
    schema = {"type": ["boolean", "null"] if nullable else "boolean", "description": description}
    return Annotated[StrictBool | None, WithJsonSchema(schema)]


def _requires(*names: str, example: dict | None = None, rules: list | None = None):
    """Document fields as required without letting pydantic reject them first (the form words the message);
    ``rules``: the form's conditional requirements, as JSON Schema if/then."""

    def extra(schema: dict[str, Any]) -> None:
        schema["required"] = list(names)
        if example:
            schema["examples"] = [example]
        if rules:
            schema["allOf"] = rules

    return extra


def _when(field: str, value, *, then: dict) -> dict:
    return {"if": {"required": [field], "properties": {field: {"const": value}}}, "then": then}


NEEDS_EMAIL = {"required": ["email"], "properties": {"email": {"type": "string", "minLength": 1}}}
# The form's clean(): an e-mail address for contact by e-mail or for the copy; words for the pain "elsewhere".
REQUEST_RULES = [
    _when("contact_method", "email", then=NEEDS_EMAIL),
    _when("wants_email_acknowledgement", True, then=NEEDS_EMAIL),
    _when(
        "reason",
        "other",
        then={
            "required": ["reason_detail"],
            "properties": {"reason_detail": {"type": "string", "pattern": SOME_TEXT}},
        },
    ),
]


def _not_null(schema: dict[str, Any]) -> None:
    """The form needs a value: document the field without the ``null`` that its Python default allows."""
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    schema.pop("default", None)


EXAMPLE_REQUEST = {
    "first_name": "Maria",
    "last_name": "Lopez",
    "date_of_birth": "04/27/1961",
    "phone": "(212) 555-0142",
    "email": "maria@example.org",
    "contact_method": "phone",
    "patient_status": "new",
    "reason": "lower_back",
    "pain_duration": "chronic",
    "has_medicare": False,
    "consent_to_contact": True,
    "red_flags": {q.key: False for q in triage.QUESTIONS},
}


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class PreferredDateIn(_Strict):
    """One preferred day; an entry without a date is skipped, as an empty row of the form is."""

    model_config = ConfigDict(extra="forbid")

    date: _text(
        "A day the clinic is open, from tomorrow up to six months ahead, as MM/DD/YYYY.",
        pattern=r"^$|" + MDY_PATTERN,  # empty: skipped, as an empty row of the form
        nullable=True,
    ) = None
    time_of_day: _choice(
        "Time of day; “any” when left out.", PreferredTime.TimeOfDay.choices, nullable=True
    ) = None


class _RedFlagBase(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_requires(*(q.key for q in triage.QUESTIONS)))


# One boolean per safety question of acuclinic/appointments/triage.py, so the schema follows the questions.
RedFlagAnswers = create_model(
    "RedFlagAnswers",
    __base__=_RedFlagBase,
    __doc__="The safety questions: question key → the patient's yes (true) or no (false). Answer every one.",
    **{q.key: (_flag(q.question), None) for q in triage.QUESTIONS},
)


class AppointmentRequestIn(_Strict):
    """The fields of the public form; see the form at /request-appointment/ for the wording patients see."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_requires(
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "contact_method",
            "patient_status",
            "reason",
            "pain_duration",
            "has_medicare",
            "consent_to_contact",
            "red_flags",
            example=EXAMPLE_REQUEST,
            rules=REQUEST_RULES,
        ),
    )

    first_name: _text("First name.", max_length=100, pattern=SOME_TEXT, examples=["Maria"]) = None
    last_name: _text("Last name.", max_length=100, pattern=SOME_TEXT, examples=["Lopez"]) = None
    date_of_birth: _text(
        "MM/DD/YYYY, a real date in the past.", pattern=BIRTH_MDY_PATTERN, examples=["04/27/1961"]
    ) = None
    phone: _text(
        "A number the clinic can call or text, e.g. (212) 555-0142.",
        max_length=32,
        pattern=_us_phone_pattern(),
        examples=["(212) 555-0142"],
    ) = None
    email: _text(
        "Needed when contact_method is “email” or wants_email_acknowledgement is true.",
        max_length=254,
        nullable=True,
        pattern=EMAIL_PATTERN.replace("^", "^$|^", 1),
    ) = None
    contact_method: _choice(
        "How the clinic should contact the patient.", AppointmentRequest.ContactMethod.choices
    ) = None
    patient_status: _choice("New or returning patient.", AppointmentRequest.PatientStatus.choices) = None
    reason: _choice("Where the pain is.", AppointmentRequest.Reason.choices) = None
    reason_detail: _text(
        "Where the pain is, in words; needed when reason is “other”.", max_length=200, nullable=True
    ) = None
    pain_duration: _choice(
        "How long the patient has had the pain.", AppointmentRequest.PainDuration.choices
    ) = None
    preferred_practitioner: Annotated[
        StrictInt | None,
        WithJsonSchema({"type": ["integer", "null"], "description": "Id of an active practitioner or null."}),
    ] = None
    preferred_dates: list[PreferredDateIn] | None = Field(
        None,
        max_length=MAX_PREFERRED_DATES,
        description=f"Up to {MAX_PREFERRED_DATES} preferred days, first choice first.",
    )
    insurance_carrier: _text("Insurance company.", max_length=100, nullable=True) = None
    insurance_member_id: _text("Member ID.", max_length=40, nullable=True) = None
    has_medicare: _flag("Whether the patient has Medicare.") = None
    message: _text("Anything else the clinic should know.", max_length=1000, nullable=True) = None
    consent_to_contact: Annotated[
        StrictBool | None,
        WithJsonSchema(
            {
                "type": "boolean",
                "enum": [True],
                "description": "Must be true: the patient agrees that the clinic may contact them.",
            }
        ),
    ] = None
    wants_email_acknowledgement: _flag(
        "E-mail the patient a copy of the reference number.", nullable=True
    ) = None
    red_flags: RedFlagAnswers | None = Field(
        None, description="Answers to the safety questions (every one).", json_schema_extra=_not_null
    )


class AppointmentRequestCreated(Schema):
    reference: str = Field(description="The request's reference, e.g. ABCD-2345: the patient quotes it.")
    urgency: str = Field(
        description="routine, soon, urgent_today or emergency.",
        json_schema_extra={"enum": [level.key for level in triage.Urgency]},
    )
    guidance: str = Field(description="What the patient must be told first, e.g. to call 911.")
    guidance_detail: str = Field(description="One or two sentences explaining the guidance.")


class FieldError(Schema):
    field: str | None = Field(
        description="The field, as a path into the request body (red_flags.fever, preferred_dates[0].date), "
        "“Idempotency-Key” for the header, “body” for the body as a whole, or null."
    )
    message: str


class ErrorsOut(Schema):
    errors: list[FieldError]

"""The JSON API: ``POST /api/v1/appointment-requests``, its OpenAPI schema (/api/v1/openapi.json) and docs.

A request from the API is the same as one from the public form: the JSON is turned into the form's data and
validated by ``AppointmentRequestForm`` (same messages), triaged the same way and stored by the one write
path, ``services.submit_appointment_request`` (channel "api"). Every error is a 422
``{"errors": [{"field": …, "message": …}]}`` (malformed JSON, wrong types and bodies over
DATA_UPLOAD_MAX_MEMORY_SIZE included), never a 500; a body that is not sent as application/json is a 415;
more than the form's hourly allowance from one address is a 429.

The form's spam defences (honeypot, fill-time stamp) are for browsers and are not applied here; the rate
limit is. An optional ``Idempotency-Key`` header makes retries safe: the same key with the same request
answers with the request already stored; the same key with a different request is refused, so one client
can never read another's reference by reusing a key.
"""

import hashlib
import json
import re

from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from ninja import Header, NinjaAPI, Status
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser

from acuclinic.appointments import triage
from acuclinic.appointments.forms import AppointmentRequestForm, request_fields_from
from acuclinic.appointments.models import AppointmentRequest
from acuclinic.appointments.services import over_rate_limit, submit_appointment_request
from acuclinic.appointments.views import client_ip, clinic_for

from .fhir import router as fhir_router
from .middleware import is_fhir, outcome_response
from .schemas import AppointmentRequestCreated, AppointmentRequestIn, ErrorsOut


class NotJSON(Exception):
    pass


class JSONParser(Parser):
    """JSON that is also valid text: a lone surrogate ("\\ud800") is valid JSON but cannot be stored."""

    def parse_body(self, request):
        # JSON only: a form on another site can post text/plain or form data without a CORS preflight, never
        # application/json, so this keeps cross-site forms (and their visitors' addresses) out of the API.
        if request.content_type != "application/json":
            raise NotJSON
        data = json.loads(request.body)
        json.dumps(data, ensure_ascii=False).encode()  # UnicodeEncodeError (a ValueError) for lone surrogates
        return data


IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x21-\x7e]+$"}


class _Api(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """The Idempotency-Key headers as the views check them (the view words its own message, so the
        parameter itself is a plain optional string)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in schema["paths"].values():
            for operation in item.values():
                for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                    if parameter.get("name") == "Idempotency-Key":
                        parameter["schema"] = IDEMPOTENCY_KEY_SCHEMA
        return schema


api = _Api(
    title="Acuclinic API",
    version="1",
    description="Appointment requests for the clinic. Every request is triaged: show the patient `guidance`.",
    urls_namespace="acuclinic_api",
    openapi_url="/v1/openapi.json",
    docs_url="/v1/docs",
    parser=JSONParser(),
)

api.add_router("/fhir", fhir_router)

# What the patient must be told, by urgency: the same words as the confirmation page
# (templates/appointments/received.html; tests/api/test_appointment_api.py checks that they agree).
GUIDANCE = {
    triage.Urgency.EMERGENCY.key: (
        "Call 911 or go to the nearest emergency department now",
        "Some of your answers can be signs of a serious problem that needs treatment straight away. "
        "Do not wait for us to contact you.",
    ),
    triage.Urgency.URGENT_TODAY.key: (
        "Please get medical care today",
        "Some of your answers mean a doctor should see you today: call your doctor's office, an urgent care "
        "center, or 911 if you feel very unwell.",
    ),
    triage.Urgency.SOON.key: (
        "Request received — please also see a doctor soon",
        "Some of your answers mean a doctor should check your back, before or alongside acupuncture. "
        "Book an appointment with your own doctor in the next few days.",
    ),
    triage.Urgency.ROUTINE.key: (
        "Request received",
        "Our office will contact you, usually within one business day.",
    ),
}

IDEMPOTENCY_KEY_MAX_LENGTH = 255
_IDEMPOTENCY_KEY = re.compile(rf"^[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$")
_PYDANTIC_MESSAGES = {
    "string_type": "Must be text (a JSON string).",
    "bool_type": "Must be true or false.",
    "int_type": "Must be a whole number, or null.",
    "list_type": "Must be a list.",
    "model_type": "Must be an object.",
    "model_attributes_type": "Must be an object.",
    "dict_type": "Must be an object.",
    "extra_forbidden": "Unknown field.",
    "missing": "Send the appointment request as a JSON object.",
}


def _errors(*pairs) -> dict:
    return {"errors": [{"field": field, "message": message} for field, message in pairs]}


def _api_field(form_field: str) -> str | None:
    """The form's field name → its path in the JSON body."""
    if form_field == "__all__":
        return None
    if form_field.startswith("flag_"):
        return f"red_flags.{form_field.removeprefix('flag_')}"
    for number, date_name, time_name in AppointmentRequestForm.PREFERRED:
        if form_field == date_name:
            return f"preferred_dates[{number - 1}].date"
        if form_field == time_name:
            return f"preferred_dates[{number - 1}].time_of_day"
    return form_field


def _path(loc) -> str:
    parts = list(loc)
    if parts[:1] == ["header"]:
        return "Idempotency-Key"
    parts = parts[2:] if parts[:1] == ["body"] else parts  # ("body", "<param name>", ...)
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


@api.exception_handler(ValidationError)
def _shape_errors(request, exc: ValidationError):
    if is_fhir(request):
        first = exc.errors[0] if exc.errors else {}
        return outcome_response(
            422, first.get("msg") or "Invalid value.", expression=_path(first.get("loc", ()))
        )
    pairs = []
    for error in exc.errors:
        field = _path(error.get("loc", ()))
        kind = error.get("type", "")
        if kind == "too_long" and field == "preferred_dates":
            message = "Choose at most 3 preferred dates."
        else:
            message = _PYDANTIC_MESSAGES.get(kind) or error.get("msg") or "Invalid value."
        pairs.append((field, message))
    return api.create_response(request, _errors(*pairs), status=422)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if is_fhir(request):
        return outcome_response(exc.status_code)
    if isinstance(exc.__cause__, NotJSON):  # ninja wraps every parser error in a 400
        message = "Send the appointment request as JSON (Content-Type: application/json)."
        return api.create_response(request, _errors(("body", message)), status=415)
    if exc.status_code == 400:  # ninja's "Cannot parse request body": not JSON, or not UTF-8
        return api.create_response(
            request, _errors(("body", "The body is not valid JSON (UTF-8 text).")), status=422
        )
    return api.create_response(request, _errors((None, str(exc))), status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    if is_fhir(request):
        return outcome_response(413, "The request is too large.")
    return api.create_response(request, _errors(("body", "The request is too large.")), status=422)


_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "email",
    "contact_method",
    "patient_status",
    "reason",
    "reason_detail",
    "pain_duration",
    "insurance_carrier",
    "insurance_member_id",
    "message",
)


def form_data(payload: AppointmentRequestIn) -> dict:
    """The JSON body as the public form's POST data (missing and null values are simply not sent)."""
    data = {}
    for name in _TEXT_FIELDS:
        value = getattr(payload, name)
        if value is not None:
            data[name] = value
    if payload.preferred_practitioner is not None:
        data["preferred_practitioner"] = str(payload.preferred_practitioner)
    if payload.has_medicare is not None:
        data["has_medicare"] = "yes" if payload.has_medicare else "no"
    if payload.consent_to_contact:
        data["consent_to_contact"] = "on"
    if payload.wants_email_acknowledgement:
        data["wants_email_acknowledgement"] = "on"
    for (_number, date_name, time_name), wanted in zip(
        AppointmentRequestForm.PREFERRED, payload.preferred_dates or [], strict=False
    ):
        if wanted.date is not None:
            data[date_name] = wanted.date
        if wanted.time_of_day is not None:
            data[time_name] = wanted.time_of_day
    for key, answer in (payload.red_flags.model_dump() if payload.red_flags else {}).items():
        if answer is not None:
            data[f"flag_{key}"] = "yes" if answer else "no"
    return data


def submission_token(idempotency_key: str) -> str:
    """A fixed-length token in the API's own namespace: never a web form's token, always ≤ 64 characters."""
    return "api:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:60]


def _same_request(existing: AppointmentRequest, fields: dict, answers: dict) -> bool:
    for name, value in fields.items():
        stored = getattr(existing, name)
        if name == "preferred_practitioner":
            stored, value = existing.preferred_practitioner_id, value.pk if value else None
        if stored != value:
            return False
    return existing.red_flag_answers == answers


def _created(request, appointment_request: AppointmentRequest):
    guidance, detail = GUIDANCE[appointment_request.urgency]
    return Status(
        201,
        {
            "reference": appointment_request.reference,
            "urgency": appointment_request.urgency,
            "guidance": guidance,
            "guidance_detail": detail,
        },
    )


_KEY_REUSED = (
    "Idempotency-Key",
    "This Idempotency-Key was already used for a different request. Use a new key.",
)


@api.post(
    "/v1/appointment-requests",
    response={201: AppointmentRequestCreated, 415: ErrorsOut, 422: ErrorsOut, 429: ErrorsOut},
    summary="Request an appointment",
    description=(
        "Validates like the public form and returns the reference and the triage result. When `urgency` is "
        "`emergency` or `urgent_today`, show `guidance` to the patient before anything else."
    ),
    operation_id="create_appointment_request",
    tags=["appointment requests"],
)
def create_appointment_request(
    request,
    payload: AppointmentRequestIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Any unique string (e.g. a UUID), up to 255 visible ASCII characters: a retry with the "
        "same key and body returns the request already stored instead of storing it twice.",
    ),
):
    # The submission token (none yet), not a password: bandit B105 misreads the name.
    token = ""  # nosec B105
    if idempotency_key is not None:
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            message = f"Use 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters, for example a UUID."
            return Status(422, _errors(("Idempotency-Key", message)))
        token = submission_token(idempotency_key)

    form = AppointmentRequestForm(form_data(payload), clinic=clinic_for(request))
    if not form.is_valid():
        pairs = [
            (_api_field(name), message) for name, messages in form.errors.items() for message in messages
        ]
        return Status(422, _errors(*pairs))
    fields = request_fields_from(form)
    answers = form.red_flag_answers()

    if token:
        existing = AppointmentRequest.objects.filter(submission_token=token).first()
        if existing:  # a retry: answer as the first time, without counting it against the allowance again
            if not _same_request(existing, fields, answers):
                return Status(422, _errors(_KEY_REUSED))
            return _created(request, existing)
    if over_rate_limit(ip=client_ip(request)):
        now = timezone.now()
        seconds_left_in_hour = 3600 - (now.minute * 60 + now.second)
        message = "Too many requests from this address. Please try again later."
        response = api.create_response(request, _errors((None, message)), status=429)
        response["Retry-After"] = str(max(seconds_left_in_hour, 1))
        return response

    submission = submit_appointment_request(
        fields=fields,
        red_flag_answers=answers,
        preferred_times=form.preferred_times(),
        today=form.today,
        token=token,
        channel="api",
    )
    if not submission.created and not _same_request(submission.request, fields, answers):
        return Status(422, _errors(_KEY_REUSED))  # the same key, sent at the same moment with another body
    return _created(request, submission.request)

"""FHIR R4 scheduling: ``/api/fhir/Schedule``, ``/api/fhir/Slot``, ``/api/fhir/Appointment``.

Schedules and slots are public (practitioners, places and free times; no patient data). A booking is made with
``POST /api/fhir/Appointment`` — a FHIR Appointment naming a Slot (or a start, end and practitioner) with the
patient's details as a contained Patient — and goes through the one write path, so it can never double-book. It
answers 201 with the Appointment and its manage token (extension and ``Location`` header), 409 with the next free
starts when the time was taken, 422 for invalid input, 415 when the body is not JSON, 429 over the hourly allowance
per address (the same allowance as appointment requests). ``GET /api/fhir/Appointment/{token}`` reads a booking by
that token only: no booking is reachable by its id. Every answer is ``application/fhir+json``; errors are
OperationOutcomes. An ``Idempotency-Key`` header makes a retried booking answer with the booking already made.
"""

import hashlib
import json
import logging
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpResponse
from django.utils import timezone
from ninja import Router
from pydantic import ValidationError as PydanticValidationError

from acuclinic.accounts.patient_links import InvalidLink, Purpose, make_token, read_token
from acuclinic.api.clients import actor, over_allowance
from acuclinic.appointments import services as appointment_services
from acuclinic.appointments.views import client_ip
from acuclinic.core import instants
from acuclinic.core.validators import normalise_phone
from acuclinic.scheduling import availability, selectors
from acuclinic.scheduling import fhir as mapping
from acuclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Location,
    Practitioner,
)
from acuclinic.scheduling.services import (
    KeyReused,
    SlotTaken,
    book_for_patient_details,
    book_for_patient_details_once,
    booking_for_key,
    cancel_appointment,
)

logger = logging.getLogger(__name__)

router = Router(tags=["FHIR scheduling"])

FHIR_JSON = "application/fhir+json"
ACCEPTED_CONTENT_TYPES = {"application/json", FHIR_JSON}
DEFAULT_SEARCH_DAYS = 7
MAX_SEARCH_DAYS = 31
MAX_FIELD = {"given": 100, "family": 100, "email": 254, "phone": 32}

_FHIR_RESPONSE = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}


def _responses(**codes: str) -> dict:
    return {
        "responses": {
            # int keys, as django-ninja uses: a "200" string beside its 200 would be a duplicate key in the JSON
            int(code.lstrip("_")): {"description": text, **_FHIR_RESPONSE}
            for code, text in codes.items()
        }
    }


def fhir_response(data: dict, status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(data), content_type=FHIR_JSON, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _problem(status: int, *issues) -> HttpResponse:
    return fhir_response(mapping.operation_outcome(*issues), status=status)


def _invalid(*pairs) -> HttpResponse:
    """422 with one issue per (expression, message)."""
    return _problem(422, *(("error", "invalid", message, expression) for expression, message in pairs))


def _not_found(message: str) -> HttpResponse:
    return _problem(404, ("error", "not-found", message, None))


def server_base(request) -> str:
    """This server's FHIR base as the client reached it: where a ``fullUrl`` or ``next`` link resolves."""
    return request.build_absolute_uri("/api/fhir").rstrip("/")


DEFAULT_COUNT = 100
MAX_COUNT = 500
MAX_OFFSET = 100_000
PAGING_PARAMETERS = [
    {
        "name": "_count",
        "in": "query",
        "description": f"Entries per page (default {DEFAULT_COUNT}, at most {MAX_COUNT}; 0: the total only).",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
    },
    {
        "name": "_offset",
        "in": "query",
        "description": "Where the page starts: follow the Bundle's `next` link rather than setting it.",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
    },
]


def _whole(value: str | None, name: str, default: int, maximum: int) -> int | HttpResponse:
    if value is None:
        return default
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 7 or int(value) > maximum:
        return _invalid((name, f"Use a whole number from 0 to {maximum}."))
    return int(value)


def searchset_page(
    request, resource_type: str, resources: list[dict], *, warning: str | None = None
) -> HttpResponse:
    """One page of a search (``_count``, ``_offset``), with a ``next`` link while more entries follow.
    ``warning``: an OperationOutcome entry (search mode "outcome") saying how the search was limited."""
    count = _whole(request.GET.get("_count"), "_count", DEFAULT_COUNT, MAX_COUNT)
    if isinstance(count, HttpResponse):
        return count
    offset = _whole(request.GET.get("_offset"), "_offset", 0, MAX_OFFSET)
    if isinstance(offset, HttpResponse):
        return offset
    base = server_base(request)
    page = resources[offset : offset + count]
    next_url = None
    if count and offset + count < len(resources):
        params = request.GET.copy()
        params["_count"], params["_offset"] = str(count), str(offset + count)
        next_url = f"{base}/{resource_type}?{params.urlencode()}"
    bundle = mapping.searchset(
        page, base=base, self_url=request.build_absolute_uri(), total=len(resources), next_url=next_url
    )
    if warning:
        outcome = mapping.operation_outcome(("warning", "too-costly", warning, "start"))
        bundle["entry"].append({"resource": outcome, "search": {"mode": "outcome"}})
    return fhir_response(bundle)


# --- Schedule ----------------------------------------------------------------------------------------------------


def _schedule(schedule_ref: str) -> tuple[Practitioner, Location] | None:
    """The bookable (practitioner, location) a Schedule id (or "Schedule/<id>") names, or None."""
    ids = mapping.parse_schedule_id(schedule_ref.removeprefix("Schedule/"))
    if ids is None:
        return None
    practitioner = selectors.public_practitioners().filter(pk=ids[0]).first()
    if practitioner is None:
        return None
    location = next((loc for loc in selectors.bookable_locations(practitioner) if loc.pk == ids[1]), None)
    return (practitioner, location) if location else None


@router.get(
    "/Schedule",
    summary="Schedules: one per practitioner and location that can be booked",
    operation_id="fhir_schedule_search",
    openapi_extra={
        "parameters": PAGING_PARAMETERS,
        **_responses(_200="A FHIR searchset Bundle of Schedules.", _422="An OperationOutcome."),
    },
)
def fhir_schedule_search(request):
    resources = [mapping.schedule_resource(p, loc) for p, loc in selectors.bookable_pairs()]
    return searchset_page(request, "Schedule", resources)


@router.get(
    "/Schedule/{schedule_id}",
    summary="One Schedule",
    operation_id="fhir_schedule_read",
    openapi_extra=_responses(_200="A FHIR Schedule.", _404="An OperationOutcome: no such bookable schedule."),
)
def fhir_schedule_read(request, schedule_id: str):
    found = _schedule(schedule_id)
    if found is None:
        return _not_found("No bookable schedule with that id.")
    return fhir_response(mapping.schedule_resource(*found))


# --- Slot --------------------------------------------------------------------------------------------------------

_PREFIXES = ("ge", "gt", "le", "lt", "eq")
# A real date (leap years included) between 1900 and 2199, optionally a time with its offset (at most ±14:00): what
# instants.parse_day / parse_instant take, so that the schema is neither looser nor stricter than the server.
_YEAR_DAY = (
    r"(19|20|21)\d{2}-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)|02-(0[1-9]|1\d|2[0-8]))"
    r"|(19(0[48]|[2468][048]|[13579][26])|20([02468][048]|[13579][26])|21(0[48]|[2468][048]|[13579][26]))-02-29"
)
START_PATTERN = (
    rf"^(ge|gt|le|lt|eq)?({_YEAR_DAY})"
    r"(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?$"
)


def _parse_bound(value: str, zone) -> tuple[str, datetime, datetime] | None:
    """("ge", start of the value, end of the value) for a FHIR date search value; None when it is not one."""
    if value != value.strip() or " " in value:  # exactly as the OpenAPI pattern: nothing around the value
        return None
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    text = value[2:] if value[:2] in _PREFIXES else value
    try:
        if "T" in text:
            moment = instants.parse_instant(text)
            return prefix, moment, moment
        day = instants.parse_day(text)
    except instants.InvalidInstant:  # FHIR: a time needs its zone; out-of-range years and offsets are refused
        return None
    first = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    after = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return prefix, first, after


def _search_range(values: list[str], zone, now: datetime) -> tuple[datetime, datetime, bool] | str:
    """[low, high) from the ``start`` parameters and whether it was cut to MAX_SEARCH_DAYS, or a message saying
    what is wrong."""
    low, high = now, None
    for value in values:
        bound = _parse_bound(value, zone)
        if bound is None:
            return (
                "Use a date (2026-12-01) or a date-time with its zone (2026-12-01T09:00:00-05:00), with a prefix"
                " ge, gt, le or lt, between the years 1900 and 2199 (offsets up to ±14:00)."
            )
        prefix, first, after = bound
        if prefix in ("ge", "eq"):
            low = max(low, first)
        if prefix == "gt":
            low = max(low, after if after != first else first + timedelta(microseconds=1))
        if prefix in ("lt",):
            high = first if high is None else min(high, first)
        if prefix in ("le", "eq"):
            end = after if after != first else first + timedelta(microseconds=1)
            high = end if high is None else min(high, end)
    if high is None:
        high = low + timedelta(days=DEFAULT_SEARCH_DAYS)
    if high - low > timedelta(days=MAX_SEARCH_DAYS):  # searched as far as we search; the bundle says so
        return low, low + timedelta(days=MAX_SEARCH_DAYS), True
    return low, high, False


def _types_for(practitioner: Practitioner, codes: list[str]) -> list[AppointmentType] | None:
    offered = sorted(practitioner.appointment_types.all(), key=lambda t: (t.name, t.pk))
    if not codes:
        return offered
    wanted = set()
    for code in codes:
        for part in code.split(","):
            system, _, value = part.rpartition("|")
            if not system or system == mapping.type_system():  # another system's code matches none of ours
                wanted.add(value.strip())
    return [t for t in offered if str(t.pk) in wanted]


@router.get(
    "/Slot",
    summary="Free slots of a schedule",
    description=(
        "Search parameters: `schedule` (required: a Schedule id), `start` (repeatable, with a prefix: "
        "`start=ge2026-12-01&start=lt2026-12-08`; dates are in the location's time zone; default the next 7 "
        "days; one search covers 31 days at most, and says so in an OperationOutcome entry), `service-type` "
        "(appointment type codes, optional), `_count`. Only free slots are listed; an unknown schedule matches "
        "nothing."
    ),
    operation_id="fhir_slot_search",
    openapi_extra={
        "parameters": [
            {
                "name": "schedule",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "pattern": r"^(Schedule/)?\d{1,18}-\d{1,18}$"},
            },
            {
                "name": "start",
                "in": "query",
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "string",
                        # A date, or a date-time with its offset; the year and offset ranges are checked on use.
                        "pattern": START_PATTERN,
                    },
                },
            },
            {"name": "service-type", "in": "query", "schema": {"type": "string"}},
            *PAGING_PARAMETERS,
        ],
        **_responses(_200="A FHIR searchset Bundle of free Slots.", _422="An OperationOutcome."),
    },
)
def fhir_slot_search(request):
    schedule_ref = request.GET.get("schedule", "")
    if not schedule_ref:
        return _invalid(("schedule", "Give the schedule to search (a Schedule id)."))
    if mapping.parse_schedule_id(schedule_ref.removeprefix("Schedule/")) is None:
        return _invalid(("schedule", "Give a Schedule id (see /api/fhir/Schedule)."))
    found = _schedule(schedule_ref)
    now = timezone.now()
    # The parameters are checked whether or not the schedule exists: the same request, the same answer.
    search = _search_range(request.GET.getlist("start"), found[1].zone if found else UTC, now)
    if isinstance(search, str):
        return _invalid(("start", search))
    if found is None:  # a reference to no schedule of ours matches nothing (FHIR search semantics)
        return searchset_page(request, "Slot", [])
    practitioner, location = found
    low, high, cut = search
    clamped = None
    if cut:
        clamped = (
            f"Searched {MAX_SEARCH_DAYS} days from {mapping.instant(low)} (the most one search covers); "
            "search again from there for later slots."
        )
    types = _types_for(practitioner, request.GET.getlist("service-type"))
    if types is None:
        return _invalid(("service-type", f"Use codes of {mapping.type_system()}."))
    resources = []
    if low < high:
        day_from, day_to = low.astimezone(location.zone).date(), high.astimezone(location.zone).date()
        for appointment_type in types:
            for slot in availability.free_slots(
                appointment_type=appointment_type,
                location=location,
                practitioner=practitioner,
                day_from=day_from,
                day_to=day_to,
                now=now,
            ):
                if low <= slot.start < high:
                    resources.append(
                        (slot.start, appointment_type.name, mapping.slot_resource(slot, appointment_type))
                    )
    resources.sort(key=lambda item: item[:2])
    return searchset_page(request, "Slot", [r for *_key, r in resources], warning=clamped)


@router.get(
    "/Slot/{slot_id}",
    summary="One Slot: free, or busy once taken",
    operation_id="fhir_slot_read",
    openapi_extra=_responses(_200="A FHIR Slot.", _404="An OperationOutcome: not a slot of this server."),
)
def fhir_slot_read(request, slot_id: str):
    key = mapping.parse_slot_id(slot_id)
    found = _schedule(f"{key.practitioner_id}-{key.location_id}") if key else None
    if found is None:
        return _not_found("No slot with that id (see /api/fhir/Slot).")
    practitioner, location = found
    appointment_type = next((t for t in practitioner.appointment_types.all() if t.pk == key.type_id), None)
    if appointment_type is None or not availability.on_grid(location, key.start):
        return _not_found("No slot with that id (see /api/fhir/Slot).")
    day = key.start.astimezone(location.zone).date()
    free = next(
        (
            slot
            for slot in availability.free_slots(
                appointment_type=appointment_type,
                location=location,
                practitioner=practitioner,
                day_from=day,
                day_to=day,
            )
            if slot.start == key.start
        ),
        None,
    )
    if free is not None:
        return fhir_response(mapping.slot_resource(free, appointment_type))
    end = key.start + appointment_type.duration
    if not availability.within_availability(
        practitioner=practitioner, location=location, start=key.start, end=end
    ):
        return _not_found("No slot with that id (see /api/fhir/Slot).")
    taken = availability.Slot(key.start, end, practitioner.pk, 0, location.pk)
    return fhir_response(mapping.slot_resource(taken, appointment_type, status="busy"))


# --- Practitioner, Location (public data only) ----------------------------------------------------------------------


@router.get(
    "/Practitioner",
    summary="Practitioners who can be booked (public profile data only)",
    operation_id="fhir_practitioner_search",
    openapi_extra={
        "parameters": PAGING_PARAMETERS,
        **_responses(_200="A FHIR searchset Bundle of Practitioners.", _422="An OperationOutcome."),
    },
)
def fhir_practitioner_search(request):
    resources = [mapping.practitioner_resource(p) for p in selectors.public_practitioners()]
    return searchset_page(request, "Practitioner", resources)


@router.get(
    "/Practitioner/{practitioner_id}",
    summary="One practitioner (public profile data only)",
    operation_id="fhir_practitioner_read",
    openapi_extra=_responses(_200="A FHIR Practitioner.", _404="An OperationOutcome: no such practitioner."),
)
def fhir_practitioner_read(request, practitioner_id: str):
    practitioner = (
        selectors.public_practitioners().filter(pk=int(practitioner_id)).first()
        if practitioner_id.isascii() and practitioner_id.isdigit() and len(practitioner_id) <= 18
        else None
    )
    if practitioner is None:
        return _not_found("No practitioner with that id.")
    return fhir_response(mapping.practitioner_resource(practitioner))


def _public_locations():
    return Location.objects.order_by("name", "pk")


@router.get(
    "/Location",
    summary="The clinic's locations",
    operation_id="fhir_location_search",
    openapi_extra={
        "parameters": PAGING_PARAMETERS,
        **_responses(_200="A FHIR searchset Bundle of Locations.", _422="An OperationOutcome."),
    },
)
def fhir_location_search(request):
    return searchset_page(
        request, "Location", [mapping.location_resource(loc) for loc in _public_locations()]
    )


@router.get(
    "/Location/{location_id}",
    summary="One location",
    operation_id="fhir_location_read",
    openapi_extra=_responses(_200="A FHIR Location.", _404="An OperationOutcome: no such location."),
)
def fhir_location_read(request, location_id: str):
    location = (
        _public_locations().filter(pk=int(location_id)).first()
        if location_id.isascii() and location_id.isdigit() and len(location_id) <= 18
        else None
    )
    if location is None:
        return _not_found("No location with that id.")
    return fhir_response(mapping.location_resource(location))


# --- Our CodeSystem and extensions, at their canonical URLs ---------------------------------------------------------


def _code_system() -> dict:
    return mapping.code_system_resource(list(AppointmentType.objects.order_by("name", "pk")))


def _definitions(kind: str) -> dict[str, dict]:
    if kind == "CodeSystem":
        return {mapping.TYPE_SYSTEM_ID: _code_system()}
    return {ext_id: mapping.structure_definition_resource(ext_id) for ext_id in mapping.EXTENSIONS}


def _definition_routes(kind: str) -> None:
    @router.get(
        f"/{kind}",
        summary=f"Our {kind} resources (search by canonical `url`)",
        operation_id=f"fhir_{kind.lower()}_search",
        url_name=f"fhir_{kind.lower()}_search",
        openapi_extra={
            "parameters": [{"name": "url", "in": "query", "schema": {"type": "string"}}, *PAGING_PARAMETERS],
            **_responses(_200=f"A FHIR searchset Bundle of {kind} resources.", _422="An OperationOutcome."),
        },
    )
    def search(request):
        found = list(_definitions(kind).values())
        url = request.GET.get("url")
        if url is not None:
            found = [r for r in found if r["url"] == url.split("|", 1)[0]]
        return searchset_page(request, kind, found)

    @router.get(
        f"/{kind}/{{resource_id}}",
        summary=f"One {kind}",
        operation_id=f"fhir_{kind.lower()}_read",
        url_name=f"fhir_{kind.lower()}_read",
        openapi_extra=_responses(_200=f"A FHIR {kind}.", _404="An OperationOutcome."),
    )
    def read(request, resource_id: str):
        resource = _definitions(kind).get(resource_id)
        if resource is None:
            return _not_found(f"No {kind} with that id.")
        return fhir_response(resource)


_definition_routes("CodeSystem")
_definition_routes("StructureDefinition")


# --- Appointment -------------------------------------------------------------------------------------------------


def _manage_token(appointment: Appointment) -> str:
    return make_token(purpose=Purpose.MANAGE_BOOKING, object_id=appointment.pk)


def _created(request, appointment: Appointment) -> HttpResponse:
    token = _manage_token(appointment)
    response = fhir_response(mapping.appointment_resource(appointment, token=token), status=201)
    response["Location"] = request.build_absolute_uri(f"/api/fhir/Appointment/{token}")
    return response


class BadBooking(Exception):
    def __init__(self, *pairs, status: int = 422):
        self.pairs = pairs
        self.status = status


NO_SUCH_SLOT = "No such slot (see /api/fhir/Slot)."
# Refusals of the booking service that say the time is not free *now* (the schedule's state, the clock): 409, like a
# time just taken, whatever else is wrong. The others are about the request itself (a start off the grid, a visit
# the patient may not book online): 422.
UNAVAILABLE_CODES = {
    "too_soon",
    "too_far",
    "closed",
    "unavailable",
    "not_licensed",
    "practitioner_inactive",
    "room_inactive",
    "not_offered",
    "no_room",
    "past",
}


def _refused(exc: ValidationError) -> HttpResponse:
    if any(error.code in UNAVAILABLE_CODES for error in exc.error_list):  # the time is not free: that first
        return _problem(
            409, *(("error", "conflict", f"That time is not available: {m}", None) for m in exc.messages)
        )
    return _problem(422, *(("error", "business-rule", message, None) for message in exc.messages))


def _pydantic_pairs(exc: PydanticValidationError) -> list[tuple[str, str]]:
    pairs = []
    for error in exc.errors()[:20]:
        path = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__") or "Appointment"
        pairs.append(
            (f"Appointment.{path}" if path != "Appointment" else path, error.get("msg", "Invalid value."))
        )
    return pairs


def _reference_id(reference: str, kind: str) -> str | None:
    return reference.removeprefix(f"{kind}/") if reference.startswith(f"{kind}/") else None


def _patient_details(resource) -> dict:
    contained = [r for r in (resource.contained or []) if r.get_resource_type() == "Patient"]
    if len(contained) != 1:
        raise BadBooking(("Appointment.contained", "Send the patient's details as one contained Patient."))
    patient = contained[0]
    name = (patient.name or [None])[0]
    given = " ".join(name.given or []).strip() if name else ""
    family = (name.family or "").strip() if name else ""
    problems = []
    if not given:
        problems.append(("Patient.name.given", "Enter the patient's first name."))
    if not family:
        problems.append(("Patient.name.family", "Enter the patient's last name."))
    birth = patient.birthDate
    if birth is None:
        problems.append(("Patient.birthDate", "Enter the patient's date of birth."))
    elif not isinstance(birth, date) or birth > timezone.localdate() or birth.year < 1900:
        problems.append(("Patient.birthDate", "Enter a real date of birth, as YYYY-MM-DD."))
    email = phone = ""
    for point in patient.telecom or []:
        if point.system == "email" and point.value and not email:
            email = point.value.strip()
        elif point.system in ("phone", "sms") and point.value and not phone:
            phone = point.value.strip()
    if not email and not phone:
        problems.append(("Patient.telecom", "Give an e-mail address or a phone number."))
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            problems.append(("Patient.telecom", "Enter a valid e-mail address."))
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValidationError:
            problems.append(("Patient.telecom", "Enter a valid phone number."))
    for expression, value, key in (
        ("Patient.name.given", given, "given"),
        ("Patient.name.family", family, "family"),
        ("Patient.telecom", email, "email"),
    ):
        if len(value) > MAX_FIELD[key]:
            problems.append((expression, f"At most {MAX_FIELD[key]} characters."))
    if problems:
        raise BadBooking(*problems)
    return {"first_name": given, "last_name": family, "date_of_birth": birth, "email": email, "phone": phone}


def _instant(value: datetime, expression: str) -> datetime:
    try:
        return instants.check_instant(value)
    except instants.InvalidInstant as error:
        raise BadBooking((expression, error.message)) from None


def _what_to_book(resource) -> dict:
    """Practitioner, location, type and start from a Slot reference, or from start/end + participants."""
    if resource.status not in mapping.FHIR_TO_NEW_STATUS:
        raise BadBooking(("Appointment.status", "A new appointment is “booked” or “proposed”."))
    slots = resource.slot or []
    if len(slots) > 1:
        raise BadBooking(("Appointment.slot", "Book one slot at a time."))
    participants = {}
    for participant in resource.participant or []:
        reference = (participant.actor.reference or "") if participant.actor else ""
        for kind in ("Practitioner", "Location"):
            ref_id = _reference_id(reference, kind)
            if ref_id is not None:
                participants.setdefault(kind, ref_id)
    if slots:
        key = mapping.parse_slot_id(_reference_id(slots[0].reference or "", "Slot") or "")
        if key is None:
            raise BadBooking(("Appointment.slot", "Not a slot of this server (see /api/fhir/Slot)."))
        practitioner_id, location_id, type_id, start = (
            key.practitioner_id,
            key.location_id,
            key.type_id,
            key.start,
        )
        if participants.get("Practitioner", str(practitioner_id)) != str(practitioner_id):
            raise BadBooking(("Appointment.participant", "The practitioner is not the slot's."))
        if participants.get("Location", str(location_id)) != str(location_id):
            raise BadBooking(("Appointment.participant", "The location is not the slot's."))
        if resource.start is not None and _instant(resource.start, "Appointment.start") != start:
            raise BadBooking(("Appointment.start", "The start is not the slot's."))
    else:
        if resource.start is None or resource.end is None:
            raise BadBooking(("Appointment.slot", "Give a slot reference, or a start and an end."))
        start = _instant(resource.start, "Appointment.start")
        end = _instant(resource.end, "Appointment.end")
        if not participants.get("Practitioner", "").isdigit():
            raise BadBooking(("Appointment.participant", "Name the practitioner (Practitioner/<id>)."))
        practitioner_id = int(participants["Practitioner"])
        location_id = int(participants["Location"]) if participants.get("Location", "").isdigit() else None
        type_id = None
        for concept in [
            *(resource.serviceType or []),
            *([resource.appointmentType] if resource.appointmentType else []),
        ]:
            for coding in concept.coding or []:
                if coding.system == mapping.type_system() and (coding.code or "").isdigit():
                    type_id = int(coding.code)
        if type_id is None:  # the only type of that length the practitioner offers
            matches = AppointmentType.objects.filter(
                practitioners=practitioner_id, duration_minutes=(end - start).total_seconds() / 60
            )
            if matches.count() != 1:
                raise BadBooking(
                    ("Appointment.serviceType", f"Give the appointment type ({mapping.type_system()}).")
                )
            type_id = matches.get().pk
    missing = 404 if slots else 422  # a Slot reference that names nothing of ours: that Slot does not exist
    practitioner = selectors.public_practitioners().filter(pk=practitioner_id).first()
    if practitioner is None:
        raise BadBooking(
            (
                "Appointment.slot" if slots else "Appointment.participant",
                NO_SUCH_SLOT if slots else "No such practitioner.",
            ),
            status=missing,
        )
    locations = list(practitioner.locations.all())
    if location_id is None and len(locations) == 1:
        location_id = locations[0].pk
    location = next((loc for loc in locations if loc.pk == location_id), None)
    if location is None:
        raise BadBooking(
            ("Appointment.slot", NO_SUCH_SLOT)
            if slots
            else ("Appointment.participant", "Name a location where the practitioner works (Location/<id>)."),
            status=missing,
        )
    appointment_type = practitioner.appointment_types.filter(pk=type_id).first()
    if appointment_type is None:
        raise BadBooking(
            ("Appointment.slot", NO_SUCH_SLOT)
            if slots
            else ("Appointment.serviceType", "The practitioner does not offer that appointment type."),
            status=missing,
        )
    if not slots and end - start != appointment_type.duration:
        raise BadBooking(
            (
                "Appointment.end",
                f"A {appointment_type.name} lasts {appointment_type.duration_minutes} minutes.",
            )
        )
    return {
        "practitioner": practitioner,
        "location": location,
        "appointment_type": appointment_type,
        "start": start,
        "status": mapping.FHIR_TO_NEW_STATUS[resource.status],
    }


def _key_reused() -> HttpResponse:
    return _invalid(("Idempotency-Key", "This key was already used for a different booking."))


def _for_answer(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_related("patient", "practitioner", "location", "appointment_type").get(
        pk=appointment.pk
    )


def _idempotency(request, body: bytes) -> tuple[str, str] | HttpResponse | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not (1 <= len(key) <= 255 and all(0x21 <= ord(c) <= 0x7E for c in key)):
        return _invalid(("Idempotency-Key", "Use 1 to 255 visible ASCII characters, for example a UUID."))
    return hashlib.sha256(key.encode()).hexdigest(), hashlib.sha256(body).hexdigest()


def _over_rate_limit(ip: str) -> bool:
    # Its own counter, the appointment requests' allowance: a booking client does not use up the form's.
    bucket = f"fhir:appointment:rate:{appointment_services.client_key(ip)}:{timezone.now():%Y%m%d%H}"
    cache.add(bucket, 0, 60 * 60)
    try:
        count = cache.incr(bucket)
    except ValueError:
        cache.set(bucket, 1, 60 * 60)
        count = 1
    return count > appointment_services.RATE_LIMIT_PER_HOUR


# The example books a slot id as /api/fhir/Slot gives it; a slot that is not free (any more) answers 409.
APPOINTMENT_EXAMPLE = {
    "resourceType": "Appointment",
    "status": "booked",
    "slot": [{"reference": "Slot/1-1.1.20301203T1500"}],
    "participant": [{"actor": {"reference": "#patient"}, "status": "accepted"}],
    "contained": [
        {
            "resourceType": "Patient",
            "id": "patient",
            "name": [{"family": "Lopez", "given": ["Maria"]}],
            "birthDate": "1961-04-27",
            "telecom": [{"system": "email", "value": "maria@example.org"}],
        }
    ],
}
_PRINTABLE_NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 100,
    # Some visible character; no control characters.
    "pattern": r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
}
EMAIL_PATTERN = (
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$"
)
_DAY = r"(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])"  # every month has these days
SLOT_REFERENCE_PATTERN = (
    r"^Slot/\d{1,9}-\d{1,9}\.\d{1,9}\.20[2-9]\d(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3])(00|30)$"
)
# What a client sends, as strictly as the server takes it (the start/end form of the description is left out:
# a slot from the search is the way to book).
APPOINTMENT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["resourceType", "status", "slot", "participant", "contained"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Appointment"]},
        "status": {"type": "string", "enum": ["booked", "proposed"]},
        # FHIR requires a participant: the patient (the slot names the practitioner and the place).
        "participant": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["actor", "status"],
                "properties": {
                    "actor": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["reference"],
                        "properties": {"reference": {"type": "string", "enum": ["#patient"]}},
                    },
                    "status": {"type": "string", "enum": ["accepted"]},
                },
            },
        },
        "slot": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["reference"],
                "properties": {"reference": {"type": "string", "pattern": SLOT_REFERENCE_PATTERN}},
            },
        },
        "contained": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["resourceType", "name", "birthDate", "telecom"],
                "properties": {
                    "resourceType": {"type": "string", "enum": ["Patient"]},
                    "id": {"type": "string", "enum": ["patient"]},
                    "name": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["family", "given"],
                            "properties": {
                                "family": _PRINTABLE_NAME,
                                "given": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": 1,
                                    "items": _PRINTABLE_NAME,
                                },
                            },
                        },
                    },
                    "birthDate": {"type": "string", "pattern": rf"^(19[2-9]\d|200\d)-{_DAY}$"},
                    "telecom": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["system", "value"],
                            "properties": {
                                "system": {"type": "string", "enum": ["email"]},
                                "value": {"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN},
                            },
                        },
                    },
                },
            },
        },
    },
}
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^[\x21-\x7e]{1,255}$",
}


@router.post(
    "/Appointment",
    summary="Book an appointment",
    description=(
        "A FHIR Appointment with status `booked` (or `proposed`: held, awaiting the clinic's confirmation), one "
        "`slot` reference from `/api/fhir/Slot` — or `start`, `end`, a `Practitioner/<id>` participant, a "
        "`Location/<id>` participant and the type in `serviceType` — and the patient as a contained Patient "
        "(name, birthDate, telecom email and/or phone). The manage token in the answer's extension reads the "
        "booking back (`GET /api/fhir/Appointment/{token}`) and is the patient's only key to it."
    ),
    operation_id="fhir_appointment_create",
    openapi_extra={
        "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": IDEMPOTENCY_KEY_SCHEMA}],
        "requestBody": {
            "required": True,
            "content": {
                FHIR_JSON: {"schema": APPOINTMENT_SCHEMA, "example": APPOINTMENT_EXAMPLE},
                "application/json": {"schema": APPOINTMENT_SCHEMA, "example": APPOINTMENT_EXAMPLE},
            },
        },
        **_responses(
            _201="The booked Appointment, with the manage token.",
            _404="An OperationOutcome: the Slot named does not exist.",
            _409="An OperationOutcome: the time is not free (taken, past, too soon or too far ahead); the next free "
            "starts are listed when it was just taken.",
            _415="An OperationOutcome: send application/fhir+json.",
            _422="An OperationOutcome: what to fix.",
            _429="An OperationOutcome: too many bookings from this address.",
        ),
    },
)
def fhir_appointment_create(request):
    if request.content_type not in ACCEPTED_CONTENT_TYPES:
        return _problem(
            415, ("error", "not-supported", "Send the Appointment as application/fhir+json.", None)
        )
    body = request.body
    try:
        data = json.loads(body)
        json.dumps(data, ensure_ascii=False).encode()  # lone surrogates cannot be stored
    except ValueError:
        return _invalid((None, "The body is not valid JSON (UTF-8 text)."))
    if not isinstance(data, dict) or data.get("resourceType") != "Appointment":
        return _invalid(("Appointment", "Send one FHIR Appointment resource."))
    idempotency = _idempotency(request, body)
    if isinstance(idempotency, HttpResponse):
        return idempotency
    from fhir.resources.R4B.appointment import Appointment as FhirAppointment

    try:
        resource = FhirAppointment.model_validate(data)
        patient = _patient_details(resource)
        booking = _what_to_book(resource)
    except PydanticValidationError as exc:
        return _invalid(*_pydantic_pairs(exc))
    except (LookupError, TypeError, ValueError):
        # fhir.resources on a contained resource of no FHIR type ("resourceType": "AAA" or {}): found by schemathesis
        return _invalid(("Appointment.contained", "Send the patient's details as one contained Patient."))
    except BadBooking as exc:
        if exc.status == 404:
            return _problem(404, *(("error", "not-found", message, where) for where, message in exc.pairs))
        return _invalid(*exc.pairs)

    if idempotency:
        try:
            replayed = booking_for_key(key_digest=idempotency[0], body_digest=idempotency[1])
        except KeyReused:
            return _key_reused()
        if replayed is not None:
            return _created(request, _for_answer(replayed))
    client = getattr(request, "api_client", None)
    if client is not None and over_allowance(client):
        response = _problem(
            429, ("error", "throttled", "This client's bookings per hour are used up. Try again later.", None)
        )
        response["Retry-After"] = str(max(3600 - (timezone.now().minute * 60 + timezone.now().second), 1))
        return response
    if client is None and _over_rate_limit(client_ip(request)):
        response = _problem(
            429, ("error", "throttled", "Too many bookings from this address. Try again later.", None)
        )
        response["Retry-After"] = str(max(3600 - (timezone.now().minute * 60 + timezone.now().second), 1))
        return response
    by = actor(client)
    source = f"FHIR API booking by {client.name}" if client else "FHIR API booking"
    try:
        if idempotency:
            appointment, replayed = book_for_patient_details_once(
                key_digest=idempotency[0],
                body_digest=idempotency[1],
                **patient,
                **booking,
                source=source,
                by=by,
            )
            if replayed:
                return _created(request, _for_answer(appointment))
        else:
            appointment = book_for_patient_details(**patient, **booking, source=source, by=by)
    except KeyReused:
        return _key_reused()
    except SlotTaken as exc:
        return fhir_response(mapping.slot_taken_outcome(exc.next_free), status=409)
    except ValidationError as exc:
        return _refused(exc)
    except IntegrityError:  # e.g. a value the database refuses; never a 500
        logger.warning("FHIR booking refused by the database")
        return _invalid((None, "The booking could not be stored. Check the values and try again."))
    logger.info("appointment booked through the FHIR API", extra={"appointment": appointment.pk})
    return _created(request, appointment)


@router.get(
    "/Appointment/{token}",
    summary="Read one's own appointment with its manage token",
    operation_id="fhir_appointment_read",
    openapi_extra=_responses(_200="The Appointment.", _404="An OperationOutcome: the link no longer works."),
)
def fhir_appointment_read(request, token: str):
    try:
        pk = read_token(purpose=Purpose.MANAGE_BOOKING, token=token)
    except InvalidLink:
        return _not_found("This token does not work (any more).")
    appointment = (
        Appointment.objects.select_related("patient", "practitioner", "location", "appointment_type")
        .filter(pk=pk)
        .first()
    )
    if appointment is None:
        return _not_found("This token does not work (any more).")
    return fhir_response(mapping.appointment_resource(appointment, token=token))


# --- Cancelling one's own appointment ---------------------------------------------------------------------------

PATCH_TYPES = {"application/json-patch+json", "application/merge-patch+json", *ACCEPTED_CONTENT_TYPES}
ONLY_CANCEL = "Only a cancellation can be sent here (status “cancelled”); to move a booking, use the link."


def _asks_to_cancel(data) -> bool:
    """A JSON Patch replacing /status with "cancelled", or an Appointment (or merge patch) whose status is that."""
    if isinstance(data, list):
        return bool(data) and all(
            isinstance(op, dict)
            and (
                (
                    op.get("op") in ("replace", "add")
                    and op.get("path") == "/status"
                    and op.get("value") == "cancelled"
                )
                or (op.get("op") == "test")
            )
            for op in data
        )
    return (
        isinstance(data, dict)
        and data.get("resourceType", "Appointment") == "Appointment"
        and data.get("status") == "cancelled"
    )


CANCEL_DOC = {
    "parameters": [],
    "requestBody": {
        "required": True,
        "content": {
            FHIR_JSON: {
                "schema": {
                    "type": "object",
                    "required": ["resourceType", "status"],
                    "properties": {
                        "resourceType": {"type": "string", "enum": ["Appointment"]},
                        "status": {"type": "string", "enum": ["cancelled"]},
                    },
                },
                "example": {"resourceType": "Appointment", "status": "cancelled"},
            },
        },
    },
    **_responses(
        _200="The cancelled Appointment.",
        _404="An OperationOutcome: the token does not work (any more).",
        _409="An OperationOutcome: too close to the visit to cancel online, or already past.",
        _415="An OperationOutcome: send application/fhir+json (or a JSON Patch).",
        _422="An OperationOutcome: only a cancellation can be sent.",
    ),
}


def _cancel(request, token: str) -> HttpResponse:
    if request.content_type not in PATCH_TYPES:
        return _problem(415, ("error", "not-supported", "Send application/fhir+json or a JSON Patch.", None))
    try:
        data = json.loads(request.body)
    except ValueError:
        return _invalid((None, "The body is not valid JSON (UTF-8 text)."))
    if not _asks_to_cancel(data):
        return _invalid(("Appointment.status", ONLY_CANCEL))
    try:
        pk = read_token(purpose=Purpose.MANAGE_BOOKING, token=token)
    except InvalidLink:
        return _not_found("This token does not work (any more).")
    appointment = _for_answer_or_none(pk)
    if appointment is None:
        return _not_found("This token does not work (any more).")
    if appointment.status != AppointmentStatus.CANCELLED:
        from acuclinic.scheduling.booking_views import _changeable

        changeable, cutoff = _changeable(request, appointment)
        if not changeable:
            hours = int(cutoff.total_seconds() // 3600)
            message = (
                f"This appointment can no longer be cancelled online (less than {hours} hours before it, or it "
                "is not open any more). Please call the clinic."
            )
            return _problem(409, ("error", "business-rule", message, "Appointment.status"))
        try:
            client = getattr(request, "api_client", None)
            cancel_appointment(
                appointment=appointment,
                by=actor(client),
                reason=f"Patient online (FHIR API{f', {client.name}' if client else ''})",
                online=True,
            )
        except ValidationError as exc:
            return _problem(409, *(("error", "business-rule", m, None) for m in exc.messages))
        appointment = _for_answer_or_none(pk)
    return fhir_response(mapping.appointment_resource(appointment, token=token))


def _for_answer_or_none(pk: int) -> Appointment | None:
    return (
        Appointment.objects.select_related("patient", "practitioner", "location", "appointment_type")
        .filter(pk=pk)
        .first()
    )


@router.patch(
    "/Appointment/{token}",
    summary="Cancel one's own appointment (JSON Patch or a partial Appointment with status cancelled)",
    operation_id="fhir_appointment_patch",
    openapi_extra=CANCEL_DOC,
)
def fhir_appointment_patch(request, token: str):
    return _cancel(request, token)


@router.put(
    "/Appointment/{token}",
    summary="Cancel one's own appointment (the Appointment with status cancelled)",
    operation_id="fhir_appointment_update",
    openapi_extra=CANCEL_DOC,
)
def fhir_appointment_update(request, token: str):
    return _cancel(request, token)


# --- What this server offers ------------------------------------------------------------------------------------

CAPABILITY_DATE = "2026-12-05"


def _resource(kind: str, interactions: list[str], documentation: str, params=()) -> dict:
    entry = {
        "type": kind,
        "documentation": documentation,
        "interaction": [{"code": code} for code in interactions],
    }
    if params:
        entry["searchParam"] = [
            {"name": name, "type": kind_, "documentation": text} for name, kind_, text in params
        ]
    return entry


def capability_statement(base: str) -> dict:
    paging = "Searches page with `_count` (and the Bundle's `next` link)."
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CAPABILITY_DATE,
        "publisher": "Acuclinic",
        "kind": "instance",
        "software": {"name": "Acuclinic"},
        "implementation": {
            "description": "The clinic's scheduling: free slots and online booking",
            "url": base,
        },
        "fhirVersion": mapping.FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Public data only: practitioners, locations, schedules and free slots. A booking is made "
                    "with POST Appointment and read or cancelled only with its manage token (extension "
                    f"{mapping.manage_token_url()}). Every error is an OperationOutcome. {paging}"
                ),
                "resource": [
                    _resource(
                        "Appointment",
                        ["create", "read", "update", "patch"],
                        "create: book a Slot for a contained Patient (Idempotency-Key header supported). read, "
                        "update, patch: by the manage token only; update and patch only cancel "
                        "(status cancelled).",
                    ),
                    _resource(
                        "Slot",
                        ["read", "search-type"],
                        f"Free slots of a schedule (31 days at most per search). {paging}",
                        [
                            ("schedule", "reference", "Required: the Schedule (Schedule/<id>)."),
                            ("start", "date", "With a prefix ge, gt, le, lt or eq; repeatable."),
                            ("service-type", "token", f"Appointment type codes of {mapping.type_system()}."),
                        ],
                    ),
                    _resource(
                        "Schedule", ["read", "search-type"], f"One per practitioner and location. {paging}"
                    ),
                    _resource("Practitioner", ["read", "search-type"], "Public profile: name, credentials."),
                    _resource(
                        "Location", ["read", "search-type"], "Name, address, time zone, opening hours."
                    ),
                    _resource(
                        "CodeSystem",
                        ["read", "search-type"],
                        "The appointment types.",
                        [("url", "uri", "The canonical URL.")],
                    ),
                    _resource(
                        "StructureDefinition",
                        ["read", "search-type"],
                        "Our extensions.",
                        [("url", "uri", "The canonical URL.")],
                    ),
                ],
            }
        ],
    }


@router.get(
    "/metadata",
    summary="The CapabilityStatement: every resource, interaction and search parameter this server supports",
    operation_id="fhir_metadata",
    openapi_extra=_responses(_200="A FHIR CapabilityStatement."),
)
def fhir_metadata(request):
    return fhir_response(capability_statement(server_base(request)))

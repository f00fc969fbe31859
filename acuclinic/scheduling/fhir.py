"""FHIR R4 shapes of the schedule: Schedule, Slot, Appointment, OperationOutcome. Pure functions, no writes.

Validated in tests with fhir.resources' R4B models (the same shape as R4 4.0.1 for these resources).

Ids (FHIR ids allow ``[A-Za-z0-9.-]{1,64}``):
- Schedule ``<practitioner id>-<location id>``: one per practitioner and location where they can be booked;
- Slot ``<schedule id>.<appointment type id>.<start, UTC, YYYYMMDDTHHMM>``: a free time of one type, so that a
  client can book it by reference alone;
- Appointment: none. A booking is read back only with its manage token (extension ``MANAGE_TOKEN_URL``), never
  by an id.
Appointment types are codes in ``type_system()``; the type's name is the display.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from acuclinic.core import instants, timefmt

from .models import Appointment, AppointmentStatus, AppointmentType, Location, Practitioner

_SCHEDULE_ID = re.compile(r"^(\d{1,18})-(\d{1,18})$")
_SLOT_ID = re.compile(r"^(\d{1,18})-(\d{1,18})\.(\d{1,18})\.(\d{8}T\d{4})$")
_SLOT_TIME = "%Y%m%dT%H%M"

STATUS_TO_FHIR = {
    AppointmentStatus.PENDING: "proposed",
    AppointmentStatus.CONFIRMED: "booked",
    AppointmentStatus.ARRIVED: "arrived",
    AppointmentStatus.COMPLETED: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",
}
# What a client may ask for: "proposed" holds the time like "booked" but awaits the clinic's confirmation.
FHIR_TO_NEW_STATUS = {"booked": AppointmentStatus.CONFIRMED, "proposed": AppointmentStatus.PENDING}


FHIR_VERSION = "4.0.1"
TYPE_SYSTEM_ID = "appointment-type"
# Our extensions: id -> (title, what it carries, its value type, the resource it is used on).
EXTENSIONS = {
    "manage-token": (
        "Manage token",
        "The patient's key to their booking: GET, PATCH or PUT /Appointment/{token} reads or cancels it. Keep it "
        "secret; it is the only way to reach the booking.",
        "string",
        "Appointment",
    ),
    "next-free-start": (
        "Next free start",
        "When a time was just taken (409): a start that is free now for the same practitioner and visit type.",
        "dateTime",
        "OperationOutcome",
    ),
}
TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"


def canonical_base() -> str:
    """The base of our canonical URLs (CodeSystem, extensions): ``settings.FHIR_CANONICAL_BASE``, fixed by the
    clinic once, never the request's host. Each canonical URL is also served by /api/fhir/ (CodeSystem/<id>,
    StructureDefinition/<id>, or a search by ``url``)."""
    return settings.FHIR_CANONICAL_BASE.rstrip("/")


def type_system() -> str:
    return f"{canonical_base()}/CodeSystem/{TYPE_SYSTEM_ID}"


def extension_url(extension_id: str) -> str:
    return f"{canonical_base()}/StructureDefinition/{extension_id}"


def manage_token_url() -> str:
    return extension_url("manage-token")


def next_free_start_url() -> str:
    return extension_url("next-free-start")


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_instant = instant


def _practitioner_ref(practitioner: Practitioner) -> dict:
    return {"reference": f"Practitioner/{practitioner.pk}", "display": str(practitioner)}


def _location_ref(location: Location) -> dict:
    return {"reference": f"Location/{location.pk}", "display": location.name}


def service_type(appointment_type: AppointmentType) -> dict:
    return {
        "coding": [
            {"system": type_system(), "code": str(appointment_type.pk), "display": appointment_type.name}
        ],
        "text": appointment_type.name,
    }


# --- Schedule ----------------------------------------------------------------------------------------------------


def schedule_id(practitioner: Practitioner, location: Location) -> str:
    return f"{practitioner.pk}-{location.pk}"


def parse_schedule_id(value: str) -> tuple[int, int] | None:
    match = _SCHEDULE_ID.match(value or "")
    return (int(match[1]), int(match[2])) if match else None


def schedule_resource(practitioner: Practitioner, location: Location) -> dict:
    types = sorted(practitioner.appointment_types.all(), key=lambda t: (t.name, t.pk))
    return {
        "resourceType": "Schedule",
        "id": schedule_id(practitioner, location),
        "active": True,
        "serviceType": [service_type(t) for t in types],
        "actor": [_practitioner_ref(practitioner), _location_ref(location)],
        "comment": f"Online booking with {practitioner.name} at {location.name} ({timefmt.zone_name(location.zone)}).",
    }


# --- Slot --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotKey:
    practitioner_id: int
    location_id: int
    type_id: int
    start: datetime  # aware, UTC


def slot_id(*, practitioner_id: int, location_id: int, type_id: int, start: datetime) -> str:
    return f"{practitioner_id}-{location_id}.{type_id}.{start.astimezone(UTC):{_SLOT_TIME}}"


def parse_slot_id(value: str) -> SlotKey | None:
    match = _SLOT_ID.match(value or "")
    if not match:
        return None
    try:
        start = instants.check_instant(datetime.strptime(match[4], _SLOT_TIME).replace(tzinfo=UTC))
    except ValueError:  # InvalidInstant too: a crafted id with a year out of range
        return None
    return SlotKey(int(match[1]), int(match[2]), int(match[3]), start)


def slot_resource(slot, appointment_type: AppointmentType, *, status: str = "free") -> dict:
    """A free slot from ``availability.free_slots`` (the room is ours to choose, so it is not part of it)."""
    return {
        "resourceType": "Slot",
        "id": slot_id(
            practitioner_id=slot.practitioner_id,
            location_id=slot.location_id,
            type_id=appointment_type.pk,
            start=slot.start,
        ),
        "schedule": {"reference": f"Schedule/{slot.practitioner_id}-{slot.location_id}"},
        "serviceType": [service_type(appointment_type)],
        "status": status,
        "start": _instant(slot.start),
        "end": _instant(slot.end),
    }


def searchset(
    resources: list[dict], *, base: str, self_url: str, total: int | None = None, next_url: str | None = None
) -> dict:
    """A searchset Bundle of one page. ``base``: this server's FHIR base as the client reached it, so that each
    ``fullUrl`` resolves (a read of that resource)."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources) if total is None else total,
        "link": links,
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


# --- Practitioner, Location (public data only) -------------------------------------------------------------------


def practitioner_resource(practitioner: Practitioner) -> dict:
    """What the public profile shows: name and credentials. No contact details, no account, no licence numbers."""
    resource = {
        "resourceType": "Practitioner",
        "id": str(practitioner.pk),
        "active": practitioner.is_active,
        "name": [{"text": practitioner.name}],
    }
    if practitioner.credentials:
        resource["qualification"] = [{"code": {"text": practitioner.credentials}}]
    return resource


def location_resource(location: Location) -> dict:
    resource = {
        "resourceType": "Location",
        "id": str(location.pk),
        "extension": [{"url": TIMEZONE_EXTENSION, "valueCode": location.time_zone}],
        "status": "active",
        "name": location.name,
        "mode": "instance",
        "address": {"state": location.state, "country": "US"},
        "hoursOfOperation": [
            {
                "daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "openingTime": location.opens_at.strftime("%H:%M:%S"),
                "closingTime": location.closes_at.strftime("%H:%M:%S"),
            }
        ],
    }
    if location.address.strip():
        resource["address"]["text"] = " ".join(location.address.split())
    return resource


# --- Terminology: our CodeSystem and extensions --------------------------------------------------------------------


def code_system_resource(types: list[AppointmentType]) -> dict:
    return {
        "resourceType": "CodeSystem",
        "id": TYPE_SYSTEM_ID,
        "url": type_system(),
        "name": "AppointmentType",
        "title": "Appointment types of the clinic",
        "status": "active",
        "description": "The visits the clinic offers; the code is the visit type's number, the display its name.",
        "caseSensitive": True,
        "content": "complete",
        "count": len(types),
        "concept": [{"code": str(t.pk), "display": t.name} for t in types],
    }


def structure_definition_resource(extension_id: str) -> dict:
    title, description, value_type, context = EXTENSIONS[extension_id]
    url = extension_url(extension_id)
    return {
        "resourceType": "StructureDefinition",
        "id": extension_id,
        "url": url,
        "name": "".join(part.capitalize() for part in extension_id.split("-")),
        "title": title,
        "status": "active",
        "description": description,
        "fhirVersion": FHIR_VERSION,
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": context}],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Extension",
                    "path": "Extension",
                    "short": title,
                    "definition": description,
                    "max": "1",
                },
                {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
                {"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": value_type}]},
            ]
        },
    }


# --- Appointment -------------------------------------------------------------------------------------------------


def appointment_resource(appointment: Appointment, *, token: str) -> dict:
    """The booking as its patient sees it: when, where, with whom, and the token to read (or manage) it again.

    The patient appears as a contained resource with their name only: the resource goes to whoever holds the
    token, so birth date and contact details stay out of it.
    """
    patient = appointment.patient
    return {
        "resourceType": "Appointment",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "name": [{"family": patient.last_name, "given": [patient.first_name]}],
            }
        ],
        "extension": [{"url": manage_token_url(), "valueString": token}],
        "status": STATUS_TO_FHIR[appointment.status],
        "serviceType": [service_type(appointment.appointment_type)],
        "start": _instant(appointment.start),
        "end": _instant(appointment.end),
        "minutesDuration": appointment.appointment_type.duration_minutes,
        "created": appointment.created_at.date().isoformat(),
        "participant": [
            {"actor": {"reference": "#patient"}, "required": "required", "status": "accepted"},
            {
                "actor": _practitioner_ref(appointment.practitioner),
                "required": "required",
                "status": "accepted",
            },
            {"actor": _location_ref(appointment.location), "required": "required", "status": "accepted"},
        ],
    }


# --- OperationOutcome --------------------------------------------------------------------------------------------


def operation_outcome(*issues: tuple[str, str, str, str | None], extension: list | None = None) -> dict:
    """``issues``: (severity, code, diagnostics, expression or None)."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": code,
                "diagnostics": diagnostics,
                **({"expression": [expression]} if expression else {}),
            }
            for severity, code, diagnostics, expression in issues
        ],
    }
    if extension:
        outcome["extension"] = extension
    return outcome


def slot_taken_outcome(next_free: list[datetime]) -> dict:
    issues = [("error", "conflict", "That time was just taken. Choose another time.", None)]
    issues += [
        ("information", "informational", f"Next free start: {_instant(start)}", None) for start in next_free
    ]
    return operation_outcome(
        *issues, extension=[{"url": next_free_start_url(), "valueDateTime": _instant(s)} for s in next_free]
    )

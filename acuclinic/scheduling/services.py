"""Writes for appointments. Every booking and cancellation goes through a function here.

How a double booking is made impossible
---------------------------------------
``book_appointment`` looks for an overlapping appointment (same practitioner, same room or same patient, any status
that holds time) and inserts inside one transaction, and the database refuses an overlap on its own as well:

* SQLite: Django opens every transaction with ``BEGIN IMMEDIATE`` (settings: ``transaction_mode``), which takes the
  database's single write lock before the first statement. Two bookings therefore never run their check-then-insert
  at the same time: the second waits (``timeout``) until the first has committed, and its check then sees the
  first appointment. The triggers from migration 0002 back this up for any other writer.
* PostgreSQL: two transactions can both pass the check (READ COMMITTED); the exclusion constraints from migration
  0002 then make the second INSERT wait for the first transaction and fail with an exclusion violation, which is
  turned into the same ``SlotTaken`` as a failed check. The check is there to give the good message cheaply.

Either way the loser gets ``SlotTaken`` with the next free starts for the same practitioner, room and type.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical import services as clinical_services

from .availability import closed_days, free_slots, within_availability
from .models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Location,
    Practitioner,
    Room,
)
from .notifications import Event, notify

logger = logging.getLogger(__name__)

SUGGESTIONS = 3
SUGGESTION_DAYS = 14  # how far past the requested start the search for free slots looks
_TICK = timedelta(microseconds=1)  # the last instant of a half-open range
# SQLSTATE of exclusion_violation (PostgreSQL); the SQLite triggers raise a message with the same suffix.
EXCLUSION_VIOLATION = "23P01"
OVERLAP_KEYS = ("practitioner", "room", "patient")


class SlotTaken(Exception):
    """That time was just taken (or was never free). ``next_free`` lists aware UTC starts that are free now."""

    def __init__(self, *, conflict: str, next_free: list[datetime]):
        self.conflict = conflict  # "practitioner", "room" or "patient"
        self.next_free = next_free
        super().__init__(f"That time was just taken ({conflict} busy).")


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    blocked_until: datetime


def local_start(location: Location, day: date, at: time, *, fold: int = 0) -> datetime:
    """The aware UTC instant of a wall-clock time at the location.

    A time skipped by the spring-forward change (e.g. 02:30 on the second Sunday of March in New York) does not
    exist and is refused; a time repeated by the autumn change exists twice: ``fold=0`` is the first (daylight
    time), ``fold=1`` the second (standard time).
    """
    zone = location.zone
    wall = datetime.combine(day, at).replace(tzinfo=zone, fold=fold)
    instant = wall.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise ValidationError(
            f"{day:%Y-%m-%d} {at:%H:%M} does not exist in {location.time_zone} (clocks go forward).",
            code="nonexistent_time",
        )
    return instant


def window_for(appointment_type: AppointmentType, start: datetime) -> Window:
    # Durations are real elapsed time (UTC arithmetic): a 60-minute visit from 01:30 on a spring-forward night
    # ends at 03:30 local, not at 02:30.
    start = start.astimezone(UTC)
    end = start + appointment_type.duration
    return Window(start=start, end=end, blocked_until=end + appointment_type.buffer_after)


def book_appointment(
    *,
    patient,
    practitioner: Practitioner,
    room: Room,
    appointment_type: AppointmentType,
    start: datetime,
    by=None,
    status: str = AppointmentStatus.CONFIRMED,
    online: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Book one appointment, or raise ``ValidationError`` (not bookable) or ``SlotTaken`` (time not free)."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if status not in HOLDING_STATUSES:
        raise ValueError(f"a new appointment cannot be {status!r}")
    now = now or timezone.now()
    location = room.location
    window = window_for(appointment_type, start)
    _check_bookable(
        patient=patient,
        practitioner=practitioner,
        room=room,
        location=location,
        appointment_type=appointment_type,
        window=window,
        online=online,
        now=now,
    )
    conflict = None
    try:
        # One write transaction: on SQLite BEGIN IMMEDIATE, so no other booking runs between check and insert.
        with transaction.atomic():
            conflict = _first_conflict(patient=patient, practitioner=practitioner, room=room, window=window)
            if conflict is None:
                appointment = Appointment(
                    patient=patient,
                    practitioner=practitioner,
                    room=room,
                    location=location,
                    appointment_type=appointment_type,
                    start=window.start,
                    end=window.end,
                    blocked_until=window.blocked_until,
                    status=status,
                    booked_online=online,
                    created_by=by if getattr(by, "is_authenticated", False) else None,
                )
                appointment.save()
                # References only: no name, no reason for the visit.
                audit.record(
                    actor=by,
                    action=AuditEvent.Action.CREATE,
                    obj=appointment,
                    detail=(
                        f"patient={patient.pk} practitioner={practitioner.pk} room={room.pk} "
                        f"type={appointment_type.pk} start={window.start:%Y-%m-%dT%H:%MZ} status={status}"
                        f"{' online' if online else ''}"
                    ),
                )
                notify(appointment=appointment, event=Event.BOOKED, online=online)
    except IntegrityError as exc:
        conflict = overlap_conflict(exc)
        if conflict is None:
            raise
    if conflict is not None:
        logger.info(
            "slot taken",
            extra={"practitioner": practitioner.pk, "room": room.pk, "conflict": conflict, "online": online},
        )
        raise SlotTaken(
            conflict=conflict,
            next_free=next_free_starts(
                patient=patient,
                practitioner=practitioner,
                room=room,
                appointment_type=appointment_type,
                after=window.start,
            ),
        )
    logger.info("appointment booked", extra={"appointment": appointment.pk, "online": online})
    return appointment


def cancel_appointment(*, appointment: Appointment, by, reason: str, online: bool = False) -> Appointment:
    """Cancel; a cancelled appointment holds no time, so the slot is free again at once.

    ``online``: the patient cancelled through their link (the clinic is told; the desk saw nothing happen).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason for the cancellation.", code="reason_required")
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status == AppointmentStatus.CANCELLED:
            return appointment
        if appointment.status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
            raise ValidationError("A past appointment cannot be cancelled.", code="not_cancellable")
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = timezone.now()
        appointment.cancellation_reason = reason[:200]
        appointment.save(update_fields=["status", "cancelled_at", "cancellation_reason"])
        # The reason may say something about the patient's health: it stays on the appointment, not in the log.
        audit.record(
            actor=by,
            action=AuditEvent.Action.CHANGE,
            obj=appointment,
            detail=f"status=cancelled{' online' if online else ''}",
        )
        notify(appointment=appointment, event=Event.CANCELLED, online=online)
        # The freed time goes to the waitlist once the cancellation is committed (never for a rolled-back one).
        from .waitlist import after_cancellation

        pk = appointment.pk
        transaction.on_commit(lambda: after_cancellation(pk))
    return appointment


def overlap_conflict(exc: IntegrityError) -> str | None:
    """Which overlap rule a database error is about ("practitioner", "room", "patient"), or None if another error."""
    cause = exc.__cause__
    constraint = ""
    if getattr(cause, "sqlstate", None) == EXCLUSION_VIOLATION:  # psycopg 3
        constraint = getattr(getattr(cause, "diag", None), "constraint_name", "") or ""
    text = f"{constraint} {exc}"
    for key in OVERLAP_KEYS:
        if f"scheduling_appointment_{key}_overlap" in text:
            return key
    return None


def _first_conflict(*, patient, practitioner, room, window: Window) -> str | None:
    overlapping = Appointment.objects.overlapping(window.start, window.blocked_until)
    for key, value in (("practitioner", practitioner), ("room", room), ("patient", patient)):
        if overlapping.filter(**{key: value}).exists():
            return key
    return None


def _check_bookable(*, patient, practitioner, room, location, appointment_type, window, online, now):
    errors = []
    if not practitioner.is_active:
        errors.append(
            ValidationError("This practitioner is not taking bookings.", code="practitioner_inactive")
        )
    if not room.is_active:
        errors.append(ValidationError("This room is not in use.", code="room_inactive"))
    if not appointment_type.practitioners.filter(pk=practitioner.pk).exists():
        errors.append(
            ValidationError("This practitioner does not offer this appointment type.", code="not_offered")
        )
    local_day = window.start.astimezone(location.zone).date()
    if not practitioner.licensed_in(location.state, local_day):
        errors.append(
            ValidationError(
                f"The practitioner holds no active licence in {location.state} on {local_day:%Y-%m-%d}.",
                code="not_licensed",
            )
        )
    # Closure days refuse everyone, the desk included: nobody is there to open the door.
    closed = closed_days(location, local_day, (window.end - _TICK).astimezone(location.zone).date())
    for day, reason in sorted(closed.items()):
        errors.append(
            ValidationError(f"The clinic is closed on {_patient_date(day)} ({reason}).", code="closed")
        )
    if online:
        if window.start < now + appointment_type.min_notice:
            errors.append(ValidationError("That time is too soon to book online.", code="too_soon"))
        if window.start > now + timedelta(days=appointment_type.horizon_days):
            errors.append(ValidationError("That time is too far ahead to book online.", code="too_far"))
        # Patients may only take a time the slot search could have offered (the desk may book outside hours).
        if not closed and not within_availability(
            practitioner=practitioner, location=location, start=window.start, end=window.end
        ):
            if not _within_opening_hours(location, window):
                errors.append(ValidationError("The clinic is closed at that time.", code="closed"))
            else:
                errors.append(
                    ValidationError(
                        "The practitioner is not available at that time. Please choose one of the times offered.",
                        code="unavailable",
                    )
                )
        if (
            not appointment_type.new_patients_may_book_online
            and not patient.appointments.filter(status=AppointmentStatus.COMPLETED).exists()
        ):
            errors.append(
                ValidationError(
                    "New patients book this visit with the front desk.", code="new_patient_online"
                )
            )
    if errors:
        raise ValidationError(errors)


def _patient_date(day: date) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def _within_opening_hours(location: Location, window: Window) -> bool:
    """Whether the visit lies inside the location's daily opening window (which of the two refusals to give)."""
    zone = location.zone
    start_local, end_local = window.start.astimezone(zone), window.end.astimezone(zone)
    return (
        start_local.date() == end_local.date()
        and location.opens_at <= start_local.time()
        and end_local.time() <= location.closes_at
    )


def next_free_starts(
    *,
    practitioner: Practitioner,
    room: Room,
    appointment_type: AppointmentType,
    after: datetime,
    patient=None,
    count: int = SUGGESTIONS,
) -> list[datetime]:
    """The next ``count`` starts after ``after`` (and not in the past), within SUGGESTION_DAYS, at which the
    practitioner works (hours, exceptions, no closure) and the practitioner, the room (and the patient, if given)
    are all free: exactly what the slot search would offer in that room. A suggestion, not a reservation."""
    location = room.location
    zone = location.zone
    slots = free_slots(
        appointment_type=appointment_type,
        location=location,
        day_from=after.astimezone(zone).date(),
        day_to=(after + timedelta(days=SUGGESTION_DAYS)).astimezone(zone).date(),
        practitioner=practitioner,
        patient=patient,
        online=False,
        room=room,
    )
    return [slot.start for slot in slots if slot.start > after][:count]


def book_for_patient_details(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str,
    phone: str,
    practitioner: Practitioner,
    location: Location,
    appointment_type: AppointmentType,
    start: datetime,
    status: str = AppointmentStatus.CONFIRMED,
    source: str = "API booking",
    now: datetime | None = None,
) -> Appointment:
    """An online booking from a patient's details (the FHIR API): match or create the patient, then book the first
    active room at the location that is free, all or nothing — a refused booking leaves no new patient behind.

    Raises ``ValidationError`` (not bookable) or ``SlotTaken`` (practitioner or patient busy, or no room free).
    """
    with transaction.atomic():
        patient = clinical_services.find_or_create_patient(
            first_name=first_name,
            last_name=last_name,
            date_of_birth=date_of_birth,
            email=email,
            phone=phone,
            by=None,
            source=source,
        )
        rooms = list(location.rooms.filter(is_active=True).order_by("name", "pk"))
        if not rooms:
            raise ValidationError("No treatment room is in use at this location.", code="no_room")
        taken = None
        for room in rooms:
            try:
                return book_appointment(
                    patient=patient,
                    practitioner=practitioner,
                    room=room,
                    appointment_type=appointment_type,
                    start=start,
                    status=status,
                    online=True,
                    now=now,
                )
            except SlotTaken as exc:
                if exc.conflict != "room":
                    raise
                taken = exc  # another room may still be free at that time
        raise taken

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

Moving an appointment (``reschedule_appointment``) is the same check and an UPDATE of the same row: the SQLite
triggers fire on UPDATE too (ignoring the row itself) and PostgreSQL's exclusion constraints apply to UPDATE, so
two moves racing to one free slot end like two bookings: one wins, the other gets ``SlotTaken``.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical import services as clinical_services
from acuclinic.clinical.intake import services as intake_services
from acuclinic.core import timefmt

from .availability import (
    GRID_MINUTES,
    closed_days,
    free_slots,
    on_grid,
    within_availability,
    working_intervals,
)
from .models import (
    HOLDING_STATUSES,
    ApiBookingKey,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    AvailabilityException,
    Location,
    Practitioner,
    Room,
    WorkingHours,
)
from .notifications import Event, notify

logger = logging.getLogger(__name__)

SUGGESTIONS = 3
SUGGESTION_DAYS = 14  # how far past the requested start the search for free slots looks
_TICK = timedelta(microseconds=1)  # the last instant of a half-open range
# SQLSTATE of exclusion_violation (PostgreSQL); the SQLite triggers raise a message with the same suffix.
EXCLUSION_VIOLATION = "23P01"
OVERLAP_KEYS = ("practitioner", "room", "patient")
# What the desk may still move, mark arrived or mark as a no-show: an appointment that has not happened yet.
OPEN_STATUSES = frozenset({AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED})


class KeyReused(Exception):
    """An idempotency key already used for a different booking."""


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
    request=None,
    desk: bool = False,
    override_reason: str | None = None,
    new_booking: bool = True,
) -> Appointment:
    """Book one appointment, or raise ``ValidationError`` (not bookable) or ``SlotTaken`` (time not free).

    ``request``: the appointment request it was booked from (``book_from_request`` ends that request).
    ``desk``: the front desk books from the free times: a time in the past, on a closed day or outside the
    practitioner's working hours is refused unless ``override_reason`` says why (stored on the appointment, the
    rules overridden named in the audit record). A double booking is never overridable.
    ``new_booking``: False when this booking only replaces one the patient already holds for the same visit type
    (a waitlist offer of an earlier time): the rules for new bookings (see ``check_bookable``) do not apply.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if status not in HOLDING_STATUSES:
        raise ValueError(f"a new appointment cannot be {status!r}")
    now = now or timezone.now()
    location = room.location
    window = window_for(appointment_type, start)
    overridden, override_reason = _check_desk_and_bookable(
        desk=desk,
        override_reason=override_reason,
        patient=patient,
        practitioner=practitioner,
        room=room,
        location=location,
        appointment_type=appointment_type,
        window=window,
        online=online,
        now=now,
        new_booking=new_booking,
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
                    created_by=by
                    if getattr(by, "is_authenticated", False) and by.pk is not None
                    else None,  # an API client: no user
                    request=request,
                    override_reason=override_reason,
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
                        f"{f' request={request.pk}' if request is not None else ''}"
                        f"{_override_note(overridden)}"
                    ),
                )
                # A first visit gets its intake questionnaire; the confirmation e-mail carries its link.
                intake_services.prepare_intake(appointment=appointment)
                notify(appointment=appointment, event=Event.BOOKED, online=online, now=now)
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


def reschedule_appointment(
    *,
    appointment: Appointment,
    start: datetime,
    by,
    practitioner: Practitioner | None = None,
    room: Room | None = None,
    online: bool = False,
    now: datetime | None = None,
    desk: bool = False,
    override_reason: str | None = None,
) -> Appointment:
    """Move an appointment in place (the same row, so the patient's manage link keeps working) to a new start and,
    optionally, another practitioner or room; checked like a new booking, except for the rules that apply only to
    new bookings (the new-patient rule: the visit is already booked). Raises ``ValidationError`` (not movable, not
    bookable) or ``SlotTaken`` (time not free; its own current time does not count against it).
    ``desk`` and ``override_reason``: as for ``book_appointment``."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    now = now or timezone.now()
    practitioner = practitioner or appointment.practitioner
    room = room or appointment.room
    location = room.location
    appointment_type = appointment.appointment_type
    window = window_for(appointment_type, start)
    _check_movable(appointment)
    overridden, override_reason = _check_desk_and_bookable(
        desk=desk,
        override_reason=override_reason,
        patient=appointment.patient,
        practitioner=practitioner,
        room=room,
        location=location,
        appointment_type=appointment_type,
        window=window,
        online=online,
        now=now,
        new_booking=False,
    )
    conflict = None
    try:
        with transaction.atomic():
            moved = Appointment.objects.select_for_update().select_related("patient").get(pk=appointment.pk)
            _check_movable(moved)  # it may have been cancelled since the page was shown
            conflict = _first_conflict(
                patient=moved.patient,
                practitioner=practitioner,
                room=room,
                window=window,
                exclude_pk=moved.pk,
            )
            if conflict is None:
                was = (
                    f"{moved.start:%Y-%m-%dT%H:%MZ} practitioner={moved.practitioner_id} room={moved.room_id}"
                )
                appointment_start_was, blocked_until_was = moved.start, moved.blocked_until
                practitioner_was, room_was, location_was = (
                    moved.practitioner_id,
                    moved.room_id,
                    moved.location_id,
                )
                moved.practitioner = practitioner
                moved.room = room
                moved.location = location
                moved.start, moved.end, moved.blocked_until = window.start, window.end, window.blocked_until
                fields = ["practitioner", "room", "location", "start", "end", "blocked_until"]
                if desk:  # the reason belongs to the time it was given for: a move to a free time clears it
                    moved.override_reason = override_reason
                    fields.append("override_reason")
                moved.save(update_fields=fields)
                audit.record(
                    actor=by,
                    action=AuditEvent.Action.CHANGE,
                    obj=moved,
                    detail=(
                        f"moved from {was} to {window.start:%Y-%m-%dT%H:%MZ} practitioner={practitioner.pk} "
                        f"room={room.pk}{' online' if online else ''}{_override_note(overridden)}"
                    ),
                )
                notify(appointment=moved, event=Event.RESCHEDULED, online=online, now=now)
                # The old time is free once this commits: the next patient on the waitlist may want it.
                freed = _freed_slot(
                    start=appointment_start_was,
                    until=blocked_until_was,
                    practitioner_id=practitioner_was,
                    room_id=room_was,
                    location_id=location_was,
                    appointment_type_id=appointment_type.pk,
                )
                transaction.on_commit(lambda: _offer_freed_time(freed))
    except IntegrityError as exc:
        conflict = overlap_conflict(exc)
        if conflict is None:
            raise
    if conflict is not None:
        logger.info(
            "slot taken",
            extra={"appointment": appointment.pk, "conflict": conflict, "online": online, "move": True},
        )
        raise SlotTaken(
            conflict=conflict,
            next_free=next_free_starts(
                patient=appointment.patient,
                practitioner=practitioner,
                room=room,
                appointment_type=appointment_type,
                after=window.start,
                exclude_pk=appointment.pk,
            ),
        )
    logger.info("appointment moved", extra={"appointment": moved.pk, "online": online})
    return moved


def _freed_slot(**fields):
    # waitlist imports this module: import it when needed, not at load time.
    from .waitlist import FreedSlot

    return FreedSlot(**fields)


def _offer_freed_time(freed) -> None:
    """After a move commits: offer the time it left. A failure must not undo the move, which is committed."""
    from .waitlist import offer_slot

    try:
        offer_slot(slot=freed)
    except Exception:
        logger.exception("waitlist offer after a move failed", extra={"practitioner": freed.practitioner_id})


def _check_movable(appointment: Appointment) -> None:
    if appointment.status not in OPEN_STATUSES:
        raise ValidationError(
            f"A {appointment.get_status_display().lower()} appointment cannot be moved.", code="not_movable"
        )


def mark_arrived(*, appointment: Appointment, by, now: datetime | None = None) -> Appointment:
    """The patient is here: only on the appointment's day (in the location's time zone)."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update().select_related("location").get(pk=appointment.pk)
        )
        if appointment.status == AppointmentStatus.ARRIVED:
            return appointment
        if appointment.status not in OPEN_STATUSES:
            raise ValidationError(
                f"A {appointment.get_status_display().lower()} appointment cannot be marked arrived.",
                code="not_open",
            )
        zone = appointment.location.zone
        if now.astimezone(zone).date() != appointment.start.astimezone(zone).date():
            raise ValidationError(
                "A patient can be marked arrived only on the day of the appointment.", code="not_today"
            )
        appointment.status = AppointmentStatus.ARRIVED
        appointment.arrived_at = now
        appointment.save(update_fields=["status", "arrived_at"])
        audit.record(actor=by, action=AuditEvent.Action.CHANGE, obj=appointment, detail="status=arrived")
    return appointment


def mark_no_show(*, appointment: Appointment, by, now: datetime | None = None) -> Appointment:
    """The patient did not come: only once the appointment's start has passed. The time stays held (it is past)."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status == AppointmentStatus.NO_SHOW:
            return appointment
        if appointment.status not in OPEN_STATUSES:
            raise ValidationError(
                f"A {appointment.get_status_display().lower()} appointment cannot be marked as a no-show.",
                code="not_open",
            )
        if now < appointment.start:
            raise ValidationError(
                "A no-show can be recorded only after the appointment's start time.", code="not_started"
            )
        appointment.status = AppointmentStatus.NO_SHOW
        appointment.save(update_fields=["status"])
        audit.record(actor=by, action=AuditEvent.Action.CHANGE, obj=appointment, detail="status=no_show")
    return appointment


def check_out_appointment(*, appointment: Appointment, by, now: datetime | None = None) -> Appointment:
    """The visit is over: arrived -> completed (by the desk, the clinician, or the end-of-day job with by=None).

    Only an arrived visit can be checked out, and not before it started; checking out twice changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status == AppointmentStatus.COMPLETED:
            return appointment
        if appointment.status != AppointmentStatus.ARRIVED:
            raise ValidationError(
                "Only a patient who has arrived can be checked out "
                f"(this appointment is {appointment.get_status_display().lower()}).",
                code="not_arrived",
            )
        if now < appointment.start:
            raise ValidationError("A visit can be checked out only once it has started.", code="not_started")
        appointment.status = AppointmentStatus.COMPLETED
        appointment.completed_at = now
        appointment.save(update_fields=["status", "completed_at"])
        audit.record(
            actor=by,
            action=AuditEvent.Action.CHANGE,
            obj=appointment,
            detail="status=completed"
            if by is not None
            else "status=completed automatically at the end of the day",
        )
    return appointment


def check_out_finished_days(*, now: datetime | None = None) -> int:
    """The end-of-day job: check out (by the system) every arrived visit whose day, in its location's time zone,
    has ended — nobody pressed "Check out", but the patient came, so the visit happened. Returns how many.

    Exactly once and safe to run twice, or twice at the same time: each visit goes through
    ``check_out_appointment``, which locks the row and leaves a completed visit as it is (no second audit event).
    Visits still open (booked but never marked arrived) are left for the desk: arrived or no-show is theirs to say.
    """
    now = now or timezone.now()
    done = 0
    # Any visit ended before now may have finished its local day; the exact test is per location's zone.
    candidates = (
        Appointment.objects.filter(status=AppointmentStatus.ARRIVED, end__lte=now)
        .select_related("location")
        .order_by("end", "pk")
    )
    for appointment in candidates:
        zone = appointment.location.zone
        if (appointment.end - _TICK).astimezone(zone).date() >= now.astimezone(zone).date():
            continue  # its day is still going on where it took place
        try:
            completed = check_out_appointment(appointment=appointment, by=None, now=now)
        except ValidationError:
            continue  # changed meanwhile (e.g. the desk corrected it): nothing to do
        if completed.completed_at == now:
            done += 1
    logger.info("end-of-day check-out", extra={"completed": done})
    return done


def book_from_request(
    *,
    request,
    by,
    practitioner: Practitioner,
    room: Room,
    appointment_type: AppointmentType,
    start: datetime,
    now: datetime | None = None,
    desk: bool = False,
    override_reason: str | None = None,
) -> Appointment:
    """Book for the patient of an appointment request and end the request as "booked", all or nothing.

    The patient is matched or created from the request (clinical.services); if the time is taken, nothing is kept:
    no new patient record, no link, and the request stays open.
    """
    # Imported here: clinical and appointments import scheduling models in places, not the other way round.
    from acuclinic.appointments import services as request_services
    from acuclinic.appointments.models import AppointmentRequest
    from acuclinic.clinical.services import create_or_match_patient_from_request

    with transaction.atomic():
        request = AppointmentRequest.objects.select_for_update().get(pk=request.pk)
        if request.status == AppointmentRequest.Status.ENDED:
            raise ValidationError(
                "This request has already ended. Reopen it first to book from it.", code="request_ended"
            )
        patient, _created = create_or_match_patient_from_request(request=request, by=by)
        appointment = book_appointment(
            patient=patient,
            practitioner=practitioner,
            room=room,
            appointment_type=appointment_type,
            start=start,
            by=by,
            now=now,
            request=request,
            desk=desk,
            override_reason=override_reason,
        )
        request_services.end_as_booked(request=request, by=by, appointment=appointment)
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


def _first_conflict(*, patient, practitioner, room, window: Window, exclude_pk=None) -> str | None:
    overlapping = Appointment.objects.overlapping(window.start, window.blocked_until)
    if exclude_pk is not None:  # a move: the appointment's own current time is not a conflict
        overlapping = overlapping.exclude(pk=exclude_pk)
    for key, value in (("practitioner", practitioner), ("room", room), ("patient", patient)):
        if overlapping.filter(**{key: value}).exists():
            return key
    return None


def check_bookable(
    *,
    patient,
    practitioner,
    room,
    location,
    appointment_type,
    window,
    online,
    now,
    new_booking=True,
    closures: bool = True,
):
    """Raise ValidationError (every reason at once) if this visit may not be booked; conflicts are not checked.

    The rules for any booking: active practitioner and room, the type offered by the practitioner, a licence in
    the location's state on the local day, no closure day. With ``online`` also those a patient booking online
    must meet: notice and horizon measured from ``now``, within the practitioner's availability, and — for a new
    booking only — a type open to new patients unless the patient is returning
    (``selectors.is_returning_patient``: an arrived or completed visit). ``book_appointment`` and
    ``reschedule_appointment`` call it; so does the waitlist, to offer only times the patient could book.
    ``closures=False``: the closure days are checked by the caller (the desk's rules, which an override lifts).

    Which rules a move (``new_booking=False``) meets, rule by rule: notice, horizon, hours, licence, closures —
    yes, they are about the new time; the patient's online cut-off (no change within N hours of the current
    start) is checked by the patient's pages before they offer a move; the new-patient rule — no: it is about
    whether this patient may book this visit at all, and the visit is already booked (by the desk, typically),
    so a move the slot search offers is never refused for it.
    """
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
    # Closure days refuse everyone: nobody is there to open the door (the desk only with a reason: closures=False).
    closed = {}
    if closures:
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
        if not on_grid(location, window.start):
            errors.append(ValidationError(_OFF_GRID_MESSAGE, code="off_grid"))
        elif not closed and not within_availability(
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
            new_booking
            and not appointment_type.new_patients_may_book_online
            and not _is_returning_patient(patient)
        ):
            errors.append(
                ValidationError(
                    "New patients book this visit with the front desk.", code="new_patient_online"
                )
            )
    if errors:
        raise ValidationError(errors)


# The rules of the free times that the front desk may override with a reason (codes of desk_rules_broken).
OVERRIDABLE = {
    "past": "in the past",
    "closed": "on a closed day",
    "outside_hours": "outside working hours",
    "off_grid": "not on the booking grid",
}
_OFF_GRID_MESSAGE = (
    f"Appointments start on the hour or at {GRID_MINUTES}-minute steps (9:00, 9:30 …). "
    "Please choose one of the times offered."
)
OVERRIDE_REASON_MAX = 300


def desk_rules_broken(
    *, practitioner: Practitioner, location: Location, window: Window, now: datetime
) -> list[ValidationError]:
    """Why a time is not one of the free times the desk is offered (codes of OVERRIDABLE), or [] if it is one as
    far as hours go: a start off the slot grid (``availability.on_grid``), a start not after ``now``, a closure
    day, outside the practitioner's working intervals (weekly hours, extra hours, time off, the opening window; a
    weekday without hours counts as closed).
    Conflicts are not checked here: they are never overridable."""
    errors = []
    zone = location.zone
    local = window.start.astimezone(zone)
    day = local.date()
    if not on_grid(location, window.start, second_pass=True):
        errors.append(ValidationError(_OFF_GRID_MESSAGE, code="off_grid"))
    if window.start <= now:
        errors.append(
            ValidationError(
                f"That time has already passed ({timefmt.long_date(day)} at {timefmt.clock(local)}).",
                code="past",
            )
        )
    closed = closed_days(location, day, (window.end - _TICK).astimezone(zone).date())
    for closed_day, reason in sorted(closed.items()):
        errors.append(
            ValidationError(
                f"The clinic is closed on {timefmt.long_date(closed_day)} ({reason}).", code="closed"
            )
        )
    if not closed and not within_availability(
        practitioner=practitioner, location=location, start=window.start, end=window.end
    ):
        intervals = working_intervals(
            location=location,
            day=day,
            hours=list(WorkingHours.objects.filter(location=location, practitioner=practitioner)),
            exceptions=list(
                AvailabilityException.objects.filter(practitioner=practitioner, date=day).filter(
                    Q(location__isnull=True) | Q(location=location)
                )
            ),
        )
        if not intervals:
            message = (
                f"{practitioner.name} has no working hours at {location.name} on {timefmt.long_date(day)}: "
                "the clinic is closed for them that day."
            )
            code = "closed"
        else:
            hours = ", ".join(timefmt.clock_range(start, end) for start, end in intervals)
            message = (
                f"That time is outside {practitioner.name}'s working hours on {timefmt.long_date(day)} "
                f"({hours})."
            )
            code = "outside_hours"
        errors.append(ValidationError(message, code=code))
    return errors


def _check_desk_and_bookable(
    *,
    desk,
    override_reason,
    patient,
    practitioner,
    room,
    location,
    appointment_type,
    window,
    online,
    now,
    new_booking=True,
) -> tuple[list[str], str | None]:
    """check_bookable, and for the desk its free-time rules: (codes overridden, the reason to store or None).

    Every reason for a refusal is raised at once; the free-time rules only without an override reason."""
    errors = []
    overridden: list[str] = []
    reason = (override_reason or "").strip()[:OVERRIDE_REASON_MAX] or None
    if desk and not online:
        broken = desk_rules_broken(practitioner=practitioner, location=location, window=window, now=now)
        if broken and reason is None:
            errors += broken
        overridden = sorted({error.code for error in broken})
    try:
        check_bookable(
            patient=patient,
            practitioner=practitioner,
            room=room,
            location=location,
            appointment_type=appointment_type,
            window=window,
            online=online,
            now=now,
            new_booking=new_booking,
            closures=not (desk and not online),
        )
    except ValidationError as exc:
        errors = exc.error_list + errors
    if errors:
        raise ValidationError(errors)
    # A free time needs no reason: none is kept for it.
    return overridden, (reason if overridden else None)


def _override_note(overridden: list[str]) -> str:
    # Which rules were overridden, never the reason typed (it may say something about the patient's health).
    return f" override={','.join(overridden)}" if overridden else ""


def _is_returning_patient(patient) -> bool:
    from .selectors import is_returning_patient  # selectors import this module

    return is_returning_patient(patient)


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
    exclude_pk=None,
) -> list[datetime]:
    """The next ``count`` starts after ``after`` (and not in the past), within SUGGESTION_DAYS, at which the
    practitioner works (hours, exceptions, no closure) and the practitioner, the room (and the patient, if given)
    are all free: exactly what the slot search would offer in that room. A suggestion, not a reservation."""
    location = room.location
    zone = location.zone
    first_day = after.astimezone(zone).date()
    last_day = (after + timedelta(days=SUGGESTION_DAYS)).astimezone(zone).date()
    # The same day and the next first: a lost race mostly finds its suggestions there, and the rest of the fortnight
    # is searched only when they are not enough (every refused attempt pays for this search).
    windows = [(first_day, min(first_day + timedelta(days=1), last_day))]
    if last_day > first_day + timedelta(days=1):
        windows.append((first_day + timedelta(days=2), last_day))
    found: list[datetime] = []
    for day_from, day_to in windows:
        if len(found) >= count:
            break
        found += [
            slot.start
            for slot in free_slots(
                appointment_type=appointment_type,
                location=location,
                day_from=day_from,
                day_to=day_to,
                practitioner=practitioner,
                patient=patient,
                online=False,
                room=room,
                # The appointment being moved does not block its own new time.
                moving=Appointment(pk=exclude_pk) if exclude_pk is not None else None,
            )
            if slot.start > after
        ]
    return found[:count]


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
    by=None,
) -> Appointment:
    """An online booking from a patient's details (the FHIR API): match or create the patient, then book the first
    active room at the location that is free, all or nothing — a refused booking leaves no new patient behind.
    ``by``: the API client that books (``api.clients.actor``), named in the audit log; None for an anonymous call.

    Raises ``ValidationError`` (not bookable) or ``SlotTaken`` (practitioner or patient busy, or no room free).
    """
    with transaction.atomic():
        patient = clinical_services.find_or_create_patient(
            first_name=first_name,
            last_name=last_name,
            date_of_birth=date_of_birth,
            email=email,
            phone=phone,
            by=by,
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
                    by=by,
                )
            except SlotTaken as exc:
                if exc.conflict != "room":
                    raise
                taken = exc  # another room may still be free at that time
        raise taken


IDEMPOTENCY_WINDOW = timedelta(hours=24)  # how long a client's Idempotency-Key answers with its booking


def booking_for_key(*, key_digest: str, body_digest: str) -> Appointment | None:
    """The booking made with this key (within IDEMPOTENCY_WINDOW), or None. ``KeyReused`` for another body."""
    stored = (
        ApiBookingKey.objects.select_related("appointment")
        .filter(key_digest=key_digest, created_at__gt=timezone.now() - IDEMPOTENCY_WINDOW)
        .first()
    )
    if stored is None:
        return None
    if stored.body_digest != body_digest:
        raise KeyReused
    return stored.appointment


def book_for_patient_details_once(
    *, key_digest: str, body_digest: str, **details
) -> tuple[Appointment, bool]:
    """``book_for_patient_details`` under a client's idempotency key: (appointment, True) when the key had booked
    already. The key is stored in the booking's transaction, so two retries racing each other make one booking:
    the loser fails on the patient's own appointment (or the key) and then finds the winner's."""
    try:
        with transaction.atomic():
            existing = booking_for_key(key_digest=key_digest, body_digest=body_digest)
            if existing is not None:
                return existing, True
            # Keys past the window answer for nothing: cleared here (this key too, if it was one of them).
            ApiBookingKey.objects.filter(created_at__lte=timezone.now() - IDEMPOTENCY_WINDOW).delete()
            appointment = book_for_patient_details(**details)
            ApiBookingKey.objects.create(
                key_digest=key_digest, body_digest=body_digest, appointment=appointment
            )
            return appointment, False
    except (SlotTaken, IntegrityError):
        existing = booking_for_key(key_digest=key_digest, body_digest=body_digest)
        if existing is None:
            raise
        return existing, True

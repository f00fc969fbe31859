"""Reads of the schedule for the back office: who may see which appointments, and the day/week calendars.

The front desk (``scheduling.change_appointment``) sees and works every appointment; a clinician
(``scheduling.view_appointment`` only) sees the appointments of the practitioner linked to their account, and
nothing without one.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from .models import Appointment, AppointmentType, Location, Practitioner, Room
from .services import OPEN_STATUSES, SLOT_GRID, local_start, window_for

VIEW_PERMISSION = "scheduling.view_appointment"
MANAGE_PERMISSION = "scheduling.change_appointment"


def _has(user, perm: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(perm))


def can_view_schedule(user) -> bool:
    return _has(user, VIEW_PERMISSION)


def can_manage_schedule(user) -> bool:
    """Book, move, cancel, mark arrived / no-show: the front desk and superusers."""
    return _has(user, MANAGE_PERMISSION)


def own_practitioner(user) -> Practitioner | None:
    if not (user and user.is_authenticated):
        return None
    return Practitioner.objects.filter(user=user).first()


def appointments_visible_to(user) -> QuerySet[Appointment]:
    if can_manage_schedule(user):
        return Appointment.objects.all()
    if not can_view_schedule(user):
        return Appointment.objects.none()
    return Appointment.objects.filter(practitioner__user=user)


def appointment_for_detail(*, pk: int, user) -> Appointment:
    """Raises Appointment.DoesNotExist, also for one the user may not see."""
    return (
        appointments_visible_to(user)
        .select_related(
            "patient", "practitioner", "room", "location", "appointment_type", "request", "created_by", "plan"
        )
        .get(pk=pk)
    )


def active_practitioners() -> QuerySet[Practitioner]:
    return Practitioner.objects.filter(is_active=True).order_by("name")


def active_rooms() -> QuerySet[Room]:
    return Room.objects.filter(is_active=True).select_related("location").order_by("location__name", "name")


def first_free_room(
    *, location: Location, appointment_type: AppointmentType, start: datetime, exclude_pk=None
) -> Room | None:
    """The first active room at the location (by name) free for that appointment; a suggestion, not a hold (the
    booking itself is what the database guards)."""
    window = window_for(appointment_type, start)
    busy = Appointment.objects.overlapping(window.start, window.blocked_until)
    if exclude_pk is not None:
        busy = busy.exclude(pk=exclude_pk)
    return (
        Room.objects.filter(location=location, is_active=True)
        .exclude(pk__in=busy.values("room_id"))
        .order_by("name")
        .first()
    )


def room_is_free(*, room: Room, appointment_type: AppointmentType, start: datetime, exclude_pk=None) -> bool:
    window = window_for(appointment_type, start)
    busy = Appointment.objects.overlapping(window.start, window.blocked_until).filter(room=room)
    if exclude_pk is not None:
        busy = busy.exclude(pk=exclude_pk)
    return not busy.exists()


def default_location_for(practitioner: Practitioner | None) -> Location | None:
    if practitioner is not None:
        location = practitioner.locations.order_by("name").first()
        if location is not None:
            return location
    return Location.objects.order_by("name").first()


# --- the calendar ---------------------------------------------------------------------------------------------


@dataclass
class CalendarRow:
    at: time  # wall-clock time at the location
    cells: list[list[Appointment]] = field(default_factory=list)  # one list per day


@dataclass
class Calendar:
    days: list[date]
    rows: list[CalendarRow]
    appointments: list[Appointment]
    location: Location


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def calendar(
    *,
    days: list[date],
    location: Location,
    practitioner: Practitioner | None = None,
    room: Room | None = None,
    include_cancelled: bool = False,
) -> Calendar:
    """Appointments of one practitioner or one room over the given local days, in a grid of 30-minute rows.

    Rows are wall-clock times at ``location`` (its opening hours, widened to any appointment outside them); each
    appointment sits in the row of its start. Days are cut at local midnight, so a daylight-saving day has 23 or
    25 hours and still shows its appointments at their local times.
    """
    zone = location.zone
    first = _midnight(location, days[0])
    last = _midnight(location, days[-1] + timedelta(days=1))
    queryset = Appointment.objects.filter(start__gte=first, start__lt=last).select_related(
        "patient", "practitioner", "room", "appointment_type", "location"
    )
    if practitioner is not None:
        queryset = queryset.filter(practitioner=practitioner)
    if room is not None:
        queryset = queryset.filter(room=room)
    if not include_cancelled:
        queryset = queryset.holding()
    appointments = list(queryset.order_by("start", "pk"))

    step = int(SLOT_GRID.total_seconds() // 60)
    opens = location.opens_at.hour * 60 + location.opens_at.minute
    closes = location.closes_at.hour * 60 + location.closes_at.minute
    by_cell: dict[tuple[date, int], list[Appointment]] = {}
    for appointment in appointments:
        local = appointment.start.astimezone(zone)
        minute = (local.hour * 60 + local.minute) // step * step
        opens, closes = min(opens, minute), max(closes, minute + step)
        by_cell.setdefault((local.date(), minute), []).append(appointment)
    rows = []
    for minute in range(opens // step * step, closes, step):
        rows.append(
            CalendarRow(
                at=time(minute // 60, minute % 60), cells=[by_cell.get((day, minute), []) for day in days]
            )
        )
    return Calendar(days=days, rows=rows, appointments=appointments, location=location)


def _midnight(location: Location, day: date) -> datetime:
    try:
        return local_start(location, day, time(0, 0))
    except ValidationError:  # a zone whose clocks skip midnight: the day starts an hour later
        return local_start(location, day, time(1, 0))


def movable(appointment: Appointment) -> bool:
    return appointment.status in OPEN_STATUSES

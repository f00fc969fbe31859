"""Reads for scheduling: who is bookable where, public practitioner profiles, licences that need renewing, and
the back office's schedule — who may see which appointments, and the day/week calendars.

The front desk (``scheduling.change_appointment``) sees and works every appointment; a clinician
(``scheduling.view_appointment`` only) sees the appointments of the practitioner linked to their account, and
nothing without one.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from acuclinic.accounts.roles import ADMINISTRATORS, FRONT_DESK

from .availability import GRID_MINUTES, SLOT_GRID, closed_days, working_intervals
from .models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    AvailabilityException,
    Licence,
    Location,
    Practitioner,
    Room,
    WorkingHours,
)
from .services import OPEN_STATUSES, local_start, window_for

LICENCE_WARNING_DAYS = 60


# --- practitioners and where they can be booked -----------------------------------------------------------------


def public_practitioners() -> QuerySet[Practitioner]:
    """Active practitioners with what their profile and bookability need, fetched in a fixed number of queries."""
    return (
        Practitioner.objects.filter(is_active=True)
        .select_related("photo")
        .prefetch_related(
            Prefetch("locations", queryset=Location.objects.order_by("name")),
            Prefetch("licences", queryset=Licence.objects.order_by("state", "-expires_on", "kind")),
            "appointment_types",
        )
        .order_by("name", "pk")
    )


def public_practitioner(*, slug: str) -> Practitioner | None:
    return public_practitioners().filter(slug=slug).first()


def bookable_locations(practitioner: Practitioner, *, on: date | None = None) -> list[Location]:
    """The practitioner's locations where they can be booked on ``on``.

    Bookable means: the practitioner is active, offers at least one appointment type, works at the location, and
    holds a licence in the location's state that has not expired on that day. ``on`` defaults to today in each
    location's own time zone. Works on prefetched relations (``public_practitioners``) without further queries;
    ``services.book_appointment`` enforces the licence rule itself with ``Practitioner.licensed_in``.
    """
    if not practitioner.is_active or not practitioner.appointment_types.all():
        return []
    licences = list(practitioner.licences.all())
    found = []
    for location in practitioner.locations.all():
        day = on or timezone.localdate(timezone=location.zone)
        if any(lic.state == location.state and lic.expires_on >= day for lic in licences):
            found.append(location)
    return found


@dataclass(frozen=True)
class LocationBooking:
    location: Location
    bookable: bool


def profile_locations(practitioner: Practitioner, *, on: date | None = None) -> list[LocationBooking]:
    """Every location of the practitioner, each with whether patients can book it online."""
    bookable = {loc.pk for loc in bookable_locations(practitioner, on=on)}
    return [LocationBooking(loc, loc.pk in bookable) for loc in practitioner.locations.all()]


def bookable_pairs(*, on: date | None = None) -> list[tuple[Practitioner, Location]]:
    """Every (practitioner, location) that can be booked: the FHIR Schedules, in a stable order."""
    return [(p, loc) for p in public_practitioners() for loc in bookable_locations(p, on=on)]


# --- patients -----------------------------------------------------------------------------------------------------

# A visit that has happened: the patient came (arrived) and, usually, was checked out (completed).
RETURNING_STATUSES = (AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED)


def is_returning_patient(patient) -> bool:
    """Whether the patient has been treated here before: one visit arrived or completed (the one place for this
    rule: online booking's new-patient rule, the booking pages and the waitlist all ask here). A future booking,
    a cancellation or a no-show does not make a patient returning; a patient not yet saved never is one."""
    if patient is None or patient.pk is None:
        return False
    return Appointment.objects.filter(patient=patient, status__in=RETURNING_STATUSES).exists()


# --- licences that expire ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LicenceWarning:
    licence: Licence
    days_left: int  # negative once expired

    @property
    def expired(self) -> bool:
        return self.days_left < 0


def licence_warnings(
    *, today: date | None = None, within_days: int = LICENCE_WARNING_DAYS
) -> list[LicenceWarning]:
    """Licences of active practitioners that have expired or expire within ``within_days``, soonest first.

    A licence that has been renewed — the same practitioner holds another of the same kind in the same state that
    runs past the warning window — is not a warning any more.
    """
    today = today or timezone.localdate()
    limit = today + timedelta(days=within_days)
    licences = list(
        Licence.objects.filter(practitioner__is_active=True, expires_on__lte=limit)
        .select_related("practitioner")
        .order_by("expires_on", "practitioner__name", "state", "pk")
    )
    renewed = set(
        Licence.objects.filter(
            practitioner__in={lic.practitioner_id for lic in licences}, expires_on__gt=limit
        ).values_list("practitioner_id", "state", "kind")
    )
    return [
        LicenceWarning(lic, (lic.expires_on - today).days)
        for lic in licences
        if (lic.practitioner_id, lic.state, lic.kind) not in renewed
    ]


def can_see_licence_warnings(user) -> bool:
    """Administrators (who keep licences up to date) and the front desk (who book): the dashboard panel."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.groups.filter(name__in=[ADMINISTRATORS, FRONT_DESK]).exists()


# --- the back office's schedule ---------------------------------------------------------------------------------

VIEW_PERMISSION = "scheduling.view_appointment"
MANAGE_PERMISSION = "scheduling.change_appointment"


def _has(user, perm: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(perm))


def can_view_schedule(user) -> bool:
    return _has(user, VIEW_PERMISSION)


def can_manage_schedule(user) -> bool:
    """Book, move, cancel, mark arrived / no-show: the front desk and superusers."""
    return _has(user, MANAGE_PERMISSION)


def can_check_out(user) -> bool:
    """Arrived -> completed: the front desk, and clinicians (for the visits they can see: their own)."""
    return can_manage_schedule(user) or (
        _has(user, "clinical.change_clinical_record") and can_view_schedule(user)
    )


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


# --- the board: the day (columns of practitioners or rooms) and the week (columns of days) ----------------------

BOARD_STEP = 5  # minutes per grid row: a visit spans its length to the nearest 5 minutes
CELL_MINUTES = GRID_MINUTES  # a free-time cell (a booking link) is one 30-minute slot of the grid


@dataclass
class Block:
    """One appointment in a column: grid rows from ``row`` for ``span`` rows, in lane ``lane`` (1-based) of the
    column's ``lanes`` (lanes only when shown cancelled visits overlap the held ones)."""

    appointment: Appointment
    row: int
    span: int
    local_start: datetime
    local_end: datetime
    lane: int = 1
    actions: frozenset = frozenset()


@dataclass
class Cell:
    """A 30-minute cell of working time: ``free`` ones are booking links (``start`` is the local wall-clock time)."""

    row: int
    span: int
    start: datetime
    free: bool


@dataclass
class Column:
    day: date
    practitioner: Practitioner | None = None
    room: Room | None = None
    closed: str = ""  # the closure's reason on a closed day
    note: str = ""  # why nobody can be booked here (e.g. "Not working")
    bands: list[tuple[int, int]] = field(default_factory=list)  # working time: (row, span)
    cells: list[Cell] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    lanes: int = 1
    is_today: bool = False

    @property
    def name(self) -> str:
        return self.practitioner.name if self.practitioner else self.room.name

    @property
    def key(self) -> str:
        who = f"p{self.practitioner.pk}" if self.practitioner else f"r{self.room.pk}"
        return f"{who}-{self.day:%Y%m%d}"


@dataclass
class Board:
    location: Location
    days: list[date]
    columns: list[Column]
    appointments: list[Appointment]
    first_minute: int  # wall-clock minute of the first row
    rows: int  # grid rows of BOARD_STEP minutes
    hours: list[tuple[int, time]]  # (row, wall-clock time) of each half hour on the axis
    closed: dict[date, str]
    now_row: int | None  # the row of the "now" line (today only, inside the axis)
    now: datetime  # local


def _minute(value) -> int:
    return value.hour * 60 + value.minute


def calendar_actions(appointment: Appointment, *, now: datetime, manage: bool, check_out: bool) -> frozenset:
    """What may be done to the appointment from the calendar, now: the same rules as the services
    (``mark_arrived`` only on its day, ``mark_no_show`` only after its start, ``check_out_appointment`` only
    when arrived and started; moves and cancels of open visits), so a button is never offered to be refused."""
    status = appointment.status
    zone = appointment.location.zone
    started = now >= appointment.start
    actions = set()
    if check_out and status == AppointmentStatus.ARRIVED and started:
        actions.add("check_out")
    if manage:
        if status in OPEN_STATUSES:
            if now.astimezone(zone).date() == appointment.start.astimezone(zone).date():
                actions.add("arrived")
            if started:
                actions.add("no_show")
            actions.add("move")
        if status in (AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED, AppointmentStatus.ARRIVED):
            actions.add("cancel")
    return frozenset(actions)


def calendar_location_for(practitioner: Practitioner | None) -> Location | None:
    """Where the practitioner's calendar opens: a location they are linked to, else one where they have weekly
    hours, else the first location."""
    if practitioner is not None:
        location = (
            Location.objects.filter(
                Q(practitioners=practitioner) | Q(working_hours__practitioner=practitioner)
            )
            .order_by("name")
            .first()
        )
        if location is not None:
            return location
    return Location.objects.order_by("name").first()


def board_practitioners(*, location: Location) -> QuerySet[Practitioner]:
    """Active practitioners of the location (linked to it, or with weekly hours there), by name."""
    return (
        active_practitioners().filter(Q(locations=location) | Q(working_hours__location=location)).distinct()
    )


def board(
    *,
    location: Location,
    days: list[date],
    practitioners: list[Practitioner] | None = None,
    rooms: list[Room] | None = None,
    include_cancelled: bool = False,
    now: datetime | None = None,
    manage: bool = False,
    check_out: bool = False,
) -> Board:
    """The schedule at one location as columns side by side: one per practitioner (or room) per day.

    A day view passes one day and several practitioners (or rooms); a week view seven days and one. Each visit
    spans its length; working time comes from ``availability.working_intervals`` (weekly hours, time off, extra
    hours, the opening window) and closures from ``availability.closed_days`` — the rules of the slot search, not
    a copy of them. Free cells are 30-minute cells of working time, not in the past, that no visit holds (for a
    room: inside the opening window). A fixed number of queries, whatever the number of columns or visits.
    """
    now = now or timezone.now()
    zone = location.zone
    local_now = now.astimezone(zone)
    by_room = rooms is not None
    subjects = list(rooms if by_room else practitioners or [])
    ids = [s.pk for s in subjects]
    first, last = _midnight(location, days[0]), _midnight(location, days[-1] + timedelta(days=1))

    queryset = (
        # A practitioner's visits at another location are not shown, but their time is not free here either.
        Appointment.objects.filter(start__lt=last, end__gt=first)
        .filter(**({"room_id__in": ids} if by_room else {"practitioner_id__in": ids}))
        .select_related("patient", "practitioner", "room", "appointment_type", "location")
        .order_by("start", "pk")
    )
    if not include_cancelled:
        queryset = queryset.holding()
    fetched = list(queryset) if ids else []
    appointments = [a for a in fetched if a.location_id == location.pk]
    elsewhere = [a for a in fetched if a.location_id != location.pk and a.holds_time]
    closed = closed_days(location, days[0], days[-1])

    hours, exceptions, licensed = defaultdict(list), defaultdict(list), defaultdict(list)
    if not by_room and ids:
        for h in WorkingHours.objects.filter(location=location, practitioner_id__in=ids):
            hours[h.practitioner_id].append(h)
        for e in AvailabilityException.objects.filter(
            practitioner_id__in=ids, date__gte=days[0], date__lte=days[-1]
        ).filter(Q(location__isnull=True) | Q(location=location)):
            exceptions[(e.practitioner_id, e.date)].append(e)
        for p_id, expires_on in Licence.objects.filter(
            practitioner_id__in=ids, state=location.state
        ).values_list("practitioner_id", "expires_on"):
            licensed[p_id].append(expires_on)

    # Working time per column, in wall-clock minutes.
    columns: list[Column] = []
    windows: dict[str, list[tuple[int, int]]] = {}
    opens, closes = _minute(location.opens_at), _minute(location.closes_at)
    for day in days:
        for subject in subjects:
            column = Column(day=day, is_today=day == local_now.date())
            if by_room:
                column.room = subject
            else:
                column.practitioner = subject
            if day in closed:
                column.closed = closed[day]
                intervals = []
            elif by_room:
                intervals = [(opens, closes)]
            else:
                intervals = [
                    (_minute(s), _minute(e))
                    for s, e in working_intervals(
                        location=location,
                        day=day,
                        hours=hours.get(subject.pk, ()),
                        exceptions=exceptions.get((subject.pk, day), ()),
                    )
                ]
                if intervals and not any(expires >= day for expires in licensed.get(subject.pk, ())):
                    column.note = f"No licence in {location.state}"
                    intervals = []
                elif not intervals:
                    column.note = "Not working"
            windows[column.key] = intervals
            columns.append(column)

    # The axis: the opening window, widened to every visit shown, on the 30-minute grid.
    placed = []
    for appointment in appointments:
        local_start, local_end = appointment.start.astimezone(zone), appointment.end.astimezone(zone)
        day = local_start.date()
        start_min = _minute(local_start)
        end_min = _minute(local_end) if local_end.date() == day else 24 * 60
        placed.append(
            (appointment, day, local_start, local_end, start_min, max(end_min, start_min + BOARD_STEP))
        )
        opens, closes = min(opens, start_min), max(closes, end_min)
    first_minute = opens // CELL_MINUTES * CELL_MINUTES
    last_minute = min(24 * 60, -(-closes // CELL_MINUTES) * CELL_MINUTES)
    rows = (last_minute - first_minute) // BOARD_STEP

    def row_of(minute: int) -> int:
        return (minute - first_minute) // BOARD_STEP + 1

    def span_of(start: int, end: int) -> int:
        return max(1, -(-(end - first_minute) // BOARD_STEP) + 1 - row_of(start))

    by_key = {column.key: column for column in columns}
    busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for appointment, day, local_start, local_end, start_min, end_min in placed:
        subject_key = f"r{appointment.room_id}" if by_room else f"p{appointment.practitioner_id}"
        column = by_key.get(f"{subject_key}-{day:%Y%m%d}")
        if column is None:
            continue
        column.blocks.append(
            Block(
                appointment=appointment,
                row=row_of(start_min),
                span=span_of(start_min, end_min),
                local_start=local_start,
                local_end=local_end,
                actions=calendar_actions(appointment, now=now, manage=manage, check_out=check_out),
            )
        )
        if appointment.holds_time:
            busy[column.key].append((appointment.start, appointment.blocked_until))

    for appointment in elsewhere:
        day = appointment.start.astimezone(zone).date()
        busy[f"p{appointment.practitioner_id}-{day:%Y%m%d}"].append(
            (appointment.start, appointment.blocked_until)
        )

    for column in columns:
        # Lanes: a visit that overlaps an earlier one in the column goes to the first lane free at its start.
        lane_ends: list[int] = []
        for block in column.blocks:
            for lane, end in enumerate(lane_ends):
                if end <= block.row:
                    lane_ends[lane] = block.row + block.span
                    block.lane = lane + 1
                    break
            else:
                lane_ends.append(block.row + block.span)
                block.lane = len(lane_ends)
        column.lanes = max(1, len(lane_ends))
        held = busy.get(column.key, [])
        for start_min, end_min in windows[column.key]:
            column.bands.append((row_of(start_min), span_of(start_min, end_min)))
            cell = -(-start_min // CELL_MINUTES) * CELL_MINUTES
            while cell + CELL_MINUTES <= end_min:
                wall = datetime.combine(column.day, time(cell // 60, cell % 60)).replace(tzinfo=zone)
                instant = wall.astimezone(UTC)
                until = instant + timedelta(minutes=CELL_MINUTES)
                free = instant > now and not any(s < until and instant < e for s, e in held)
                column.cells.append(Cell(row_of(cell), CELL_MINUTES // BOARD_STEP, wall, free))
                cell += CELL_MINUTES

    now_minute = _minute(local_now)
    now_row = (
        row_of(now_minute) if local_now.date() in days and first_minute <= now_minute < last_minute else None
    )
    return Board(
        location=location,
        days=days,
        columns=columns,
        appointments=appointments,
        first_minute=first_minute,
        rows=rows,
        hours=[(row_of(m), time(m // 60, m % 60)) for m in range(first_minute, last_minute, CELL_MINUTES)],
        closed=closed,
        now_row=now_row,
        now=local_now,
    )


# --- the desk's free times --------------------------------------------------------------------------------------


@dataclass
class FreeTime:
    start: datetime  # local, at the location
    practitioner: Practitioner
    room_id: int
    url: str = ""  # the page's link that picks it (set by the view)


@dataclass
class FreeDay:
    day: date
    closed: str = ""  # the closure's reason, when the clinic is closed that day
    times: list[FreeTime] = field(default_factory=list)
    weekly_hours: bool = True  # anyone searched for has weekly hours there on this weekday


def desk_free_days(
    *,
    appointment_type: AppointmentType,
    location: Location,
    day_from: date,
    days: int,
    practitioner: Practitioner | None = None,
    patient=None,
    moving: Appointment | None = None,
    now: datetime | None = None,
) -> list[FreeDay]:
    """The free times the desk is offered, day by day: the slot search of online booking (availability.free_slots)
    without the online notice and horizon, but with working hours, closures, licences, rooms and the patient's
    other visits. "First available" (no practitioner) lists each start once, with the first practitioner free
    then (by name). ``moving``: the appointment being moved, whose own time is not a conflict."""
    from .availability import closed_days, free_slots

    day_to = day_from + timedelta(days=days - 1)
    slots = free_slots(
        appointment_type=appointment_type,
        location=location,
        day_from=day_from,
        day_to=day_to,
        practitioner=practitioner,
        patient=patient,
        now=now,
        online=False,
        moving=moving,
    )
    names = {p.pk: p for p in Practitioner.objects.filter(pk__in={s.practitioner_id for s in slots})}
    closed = closed_days(location, day_from, day_to)
    zone = location.zone
    result = {day_from + timedelta(days=n): FreeDay(day_from + timedelta(days=n)) for n in range(days)}
    for day, reason in closed.items():
        result[day].closed = reason
    who = (
        [practitioner] if practitioner is not None else appointment_type.practitioners.filter(is_active=True)
    )
    weekdays = set(
        WorkingHours.objects.filter(location=location, practitioner__in=who).values_list("weekday", flat=True)
    )
    for free_day in result.values():
        free_day.weekly_hours = free_day.day.weekday() in weekdays
    seen = set()
    for slot in slots:
        if practitioner is None:
            if slot.start in seen:
                continue
            seen.add(slot.start)
        local = slot.start.astimezone(zone)
        result[local.date()].times.append(FreeTime(local, names[slot.practitioner_id], slot.room_id))
    return list(result.values())


def desk_free_time_at(
    *,
    appointment_type: AppointmentType,
    location: Location,
    start: datetime,
    practitioner: Practitioner | None = None,
    patient=None,
    moving: Appointment | None = None,
    now: datetime | None = None,
) -> FreeTime | None:
    """The free time starting at ``start`` (aware), with the first practitioner free then if none is given."""
    local = start.astimezone(location.zone)
    for free_day in desk_free_days(
        appointment_type=appointment_type,
        location=location,
        day_from=local.date(),
        days=1,
        practitioner=practitioner,
        patient=patient,
        moving=moving,
        now=now,
    ):
        for free in free_day.times:
            if free.start == local:
                return free
    return None

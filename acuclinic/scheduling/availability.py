"""When can someone be booked: free slots from working hours, exceptions, closures and existing appointments.

Reads only. Everything is computed in the location's wall-clock time and turned into UTC instants per day, so a
slot at 9:00 stays at 9:00 on the days after a daylight-saving change; a wall-clock time that does not exist
(spring forward) is skipped, and hours that start or end inside the skipped hour start or end when the clocks
jump. The repeated hour (autumn) is offered once, on its first pass (daylight time): a second "1:30" would look the
same to a patient. It is still working time (``within_availability``), so the desk can book it (fold=1).

A slot needs a free practitioner **and** a free room for the whole time it holds
(``[start, start + duration + buffer)``), exactly the range the database refuses to overlap, so a slot offered
here can only be lost to someone who books it first (``services.SlotTaken``).

The work is a handful of queries for the whole range (hours, exceptions, closures, licences, busy times), then
pure Python over sorted intervals: no query per day or per slot.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from .models import (
    Appointment,
    AppointmentType,
    AvailabilityException,
    Closure,
    Licence,
    Location,
    Practitioner,
    Room,
    WorkingHours,
)

SLOT_GRID = timedelta(minutes=30)
GRID_MINUTES = int(SLOT_GRID.total_seconds() // 60)
GRID_POSITIONS = 24 * 60 // GRID_MINUTES


@dataclass(frozen=True, slots=True)  # slots: a 60-day search makes thousands; no __dict__ each
class Slot:
    start: datetime  # aware, UTC
    end: datetime  # start + duration (the buffer after is held too, but is not part of the visit)
    practitioner_id: int
    room_id: int
    location_id: int


class Busy:
    """Non-overlapping [start, blocked_until) ranges of one practitioner, room or patient, sorted by start.

    The database guarantees that one key's holding appointments never overlap, so the ends are sorted as well
    and one bisection finds the only range that can meet a candidate.
    """

    def __init__(self, ranges):
        ranges = sorted(ranges)
        self.starts = [s for s, _ in ranges]
        self.ends = [e for _, e in ranges]

    def free(self, start: datetime, until: datetime) -> bool:
        i = bisect_right(self.ends, start)  # first range ending after `start`
        return i == len(self.starts) or self.starts[i] >= until


EMPTY = Busy([])
_UNKNOWN = object()


def closed_days(location: Location, day_from: date, day_to: date) -> dict[date, str]:
    """Closed dates in the range with the reason shown to patients."""
    closed = {}
    for closure in Closure.objects.filter(location=location, starts_on__lte=day_to, ends_on__gte=day_from):
        day = max(closure.starts_on, day_from)
        while day <= min(closure.ends_on, day_to):
            closed[day] = closure.reason
            day += timedelta(days=1)
    return closed


def _subtract(intervals, cut_start: time, cut_end: time):
    out = []
    for start, end in intervals:
        if cut_end <= start or cut_start >= end:
            out.append((start, end))
            continue
        if start < cut_start:
            out.append((start, cut_start))
        if cut_end < end:
            out.append((cut_end, end))
    return out


def _merge(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def working_intervals(*, location: Location, day: date, hours, exceptions) -> list[tuple[time, time]]:
    """Wall-clock intervals one practitioner works at the location on that day.

    ``hours``: that practitioner's WorkingHours at the location; ``exceptions``: their exceptions on that day.
    Weekly hours plus extra hours there, minus time off (anywhere), within the location's opening window.
    """
    intervals = [(h.starts_at, h.ends_at) for h in hours if h.weekday == day.weekday()]
    intervals += [
        (e.starts_at, e.ends_at)
        for e in exceptions
        if e.kind == AvailabilityException.Kind.EXTRA_HOURS and e.location_id == location.pk
    ]
    intervals = _merge(intervals)
    for e in exceptions:
        if e.kind != AvailabilityException.Kind.TIME_OFF or e.location_id not in (None, location.pk):
            continue
        if e.starts_at is None:
            return []
        intervals = _subtract(intervals, e.starts_at, e.ends_at)
    opens, closes = location.opens_at, location.closes_at
    return [(max(s, opens), min(e, closes)) for s, e in intervals if min(e, closes) > max(s, opens)]


def _instant(zone, day: date, at: time) -> datetime | None:
    """The UTC instant of a wall-clock time, or None when the clocks skip it (spring forward)."""
    wall = datetime.combine(day, at).replace(tzinfo=zone)
    instant = wall.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        return None
    return instant


def _boundary(zone, day: date, at: time) -> datetime:
    """The UTC instant at which the wall clock first reads ``at`` (or later) that day: hours that start or end at
    a time the clocks skip start or end when they jump (02:30 on a spring-forward night -> 03:00 daylight time).
    A repeated time (autumn) is its first pass."""
    instant = _instant(zone, day, at)
    if instant is not None:
        return instant
    # Inside the gap the clocks skip: the first minute after it that exists (gaps last an hour, at most a few).
    wall = datetime.combine(day, at)
    for minutes in range(1, 4 * 60):
        later = wall + timedelta(minutes=minutes)
        instant = _instant(zone, later.date(), later.time())
        if instant is not None:
            return instant
    raise ValueError(f"no wall-clock time after {wall} in {zone}")


class _Clock:
    """One local day's wall clock at the location, computed once and shared by every practitioner: the grid's
    starts as UTC instants (None where the clocks skip them) and the instants of other wall-clock times. A day
    without a clock change has one UTC offset, so its instants are plain arithmetic."""

    def __init__(self, zone, day: date):
        self.zone, self.day = zone, day
        first = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
        last = datetime.combine(day, time(23, 59, 59), tzinfo=zone).utcoffset()
        self.offset = first if first == last else None
        if self.offset is not None:
            midnight = self.instant(time(0))
            self.grid = [midnight + SLOT_GRID * n for n in range(GRID_POSITIONS)]
        else:
            self.grid = [self.instant(time(m // 60, m % 60)) for m in range(0, 24 * 60, GRID_MINUTES)]

    def instant(self, at: time) -> datetime | None:
        if self.offset is not None:
            return (datetime.combine(self.day, at) - self.offset).replace(tzinfo=UTC)
        return _instant(self.zone, self.day, at)

    def boundary(self, at: time) -> datetime:
        return self.instant(at) if self.offset is not None else _boundary(self.zone, self.day, at)

    def starts(self, start: time, end: time, duration: timedelta):
        """(grid index, UTC start) on the grid from ``start`` whose visit ends by ``end`` (both wall-clock)."""
        end_instant = self.boundary(end)
        grid = self.grid
        for index in range(-(-(start.hour * 60 + start.minute) // GRID_MINUTES), len(grid)):
            instant = grid[index]
            if instant is None:
                continue
            if instant + duration > end_instant:
                break
            yield index, instant


def free_slots(
    *,
    appointment_type: AppointmentType,
    location: Location,
    day_from: date,
    day_to: date,
    practitioner: Practitioner | None = None,
    patient=None,
    now: datetime | None = None,
    online: bool = True,
    room: Room | None = None,
    moving: Appointment | None = None,
    days_with_slots: int | None = None,
) -> list[Slot]:
    """Every free slot of the type at the location between two local dates (inclusive), sorted by start and
    practitioner name; ``practitioner`` None means any who offers the type ("first available").

    ``moving``: an appointment being moved, whose own time does not count as busy.
    Online (patients): the type's minimum notice and booking horizon apply. Always: no past starts, no closed
    days, only practitioners active, offering the type and licensed in the location's state on that day.
    ``room``: only that room (the suggestions after a lost race, which keep the room asked for).
    ``days_with_slots``: stop after that many days with a free slot (the day list shows the first fortnight of
    them, so a 60-day horizon is searched only as far as it has to be).
    """
    now = now or timezone.now()
    zone = location.zone
    duration, buffer = appointment_type.duration, appointment_type.buffer_after
    earliest, latest = now, None
    if online:
        earliest = now + appointment_type.min_notice
        latest = now + timedelta(days=appointment_type.horizon_days)
    day_from = max(day_from, earliest.astimezone(zone).date())
    if latest is not None:
        day_to = min(day_to, latest.astimezone(zone).date())
    if day_to < day_from:
        return []

    practitioners = list(
        appointment_type.practitioners.filter(is_active=True)
        .filter(**({"pk": practitioner.pk} if practitioner is not None else {}))
        .order_by("name", "pk")
    )
    if not practitioners:
        return []
    ids = [p.pk for p in practitioners]
    hours = defaultdict(list)
    for h in WorkingHours.objects.filter(location=location, practitioner_id__in=ids):
        hours[h.practitioner_id].append(h)
    exceptions = defaultdict(list)
    for e in AvailabilityException.objects.filter(
        practitioner_id__in=ids, date__gte=day_from, date__lte=day_to
    ).filter(Q(location__isnull=True) | Q(location=location)):
        exceptions[(e.practitioner_id, e.date)].append(e)
    licensed_until = {}
    for practitioner_id, expires_on in Licence.objects.filter(
        practitioner_id__in=ids, state=location.state, expires_on__gte=day_from
    ).values_list("practitioner_id", "expires_on"):
        licensed_until[practitioner_id] = max(expires_on, licensed_until.get(practitioner_id, expires_on))
    rooms = list(
        Room.objects.filter(location=location, is_active=True)
        .filter(**({"pk": room.pk} if room is not None else {}))
        .order_by("name", "pk")
        .values_list("pk", flat=True)
    )
    if not rooms:
        return []
    closed = closed_days(location, day_from, day_to)

    # Busy ranges that can meet the range searched (a day either side covers any offset of the zone).
    range_start = datetime.combine(day_from - timedelta(days=1), time(0), tzinfo=UTC)
    range_end = datetime.combine(day_to + timedelta(days=2), time(0), tzinfo=UTC)
    who = Q(practitioner_id__in=ids) | Q(room_id__in=rooms)
    if patient is not None:
        who |= Q(patient=patient)
    ranges = defaultdict(list)
    holding = Appointment.objects.overlapping(range_start, range_end).filter(who)
    if moving is not None:
        holding = holding.exclude(pk=moving.pk)
    for p_id, r_id, pat_id, start, until in holding.values_list(
        "practitioner_id", "room_id", "patient_id", "start", "blocked_until"
    ):
        ranges[("practitioner", p_id)].append((start, until))
        ranges[("room", r_id)].append((start, until))
        if patient is not None and pat_id == patient.pk:
            ranges[("patient", pat_id)].append((start, until))
    busy = {key: Busy(value) for key, value in ranges.items()}
    patient_busy = busy.get(("patient", patient.pk), EMPTY) if patient is not None else EMPTY

    check_patient = patient_busy is not EMPTY
    weekly: dict[tuple[int, int], list[tuple[time, time]]] = {}
    location_id = location.pk
    room_busy = [(r, busy.get(("room", r), EMPTY)) for r in rooms]
    held = duration + buffer
    slots: list[Slot] = []
    day = day_from
    while day <= day_to:
        if day in closed:
            day += timedelta(days=1)
            continue
        clock = _Clock(zone, day)
        # Slots by grid position, each in practitioner order: the grid's instants increase, so reading the
        # positions in order gives the result sorted by start, then practitioner, with no sort.
        by_position = defaultdict(list)
        room_at: dict[int, int | None] = {}
        for p in practitioners:
            p_id = p.pk
            if (
                licensed_until.get(p_id, date.min) < day
                or not hours.get(p_id)
                and not exceptions.get((p_id, day))
            ):
                continue
            p_busy = busy.get(("practitioner", p_id), EMPTY)
            day_exceptions = exceptions.get((p_id, day))
            if day_exceptions:
                intervals = working_intervals(
                    location=location, day=day, hours=hours.get(p_id, ()), exceptions=day_exceptions
                )
            else:  # the weekly hours alone depend only on the weekday
                key = (p_id, day.weekday())
                if key not in weekly:
                    weekly[key] = working_intervals(
                        location=location, day=day, hours=hours.get(p_id, ()), exceptions=()
                    )
                intervals = weekly[key]
            # Busy.free inlined: this loop runs for every grid start of every practitioner and day.
            p_starts, p_ends, p_count = p_busy.starts, p_busy.ends, len(p_busy.starts)
            for start_at, end_at in intervals:
                for position, start in clock.starts(start_at, end_at, duration):
                    # Online, exactly the minimum notice is enough (as in services); the desk: not the past.
                    if start < earliest if online else start <= now:
                        continue
                    if latest is not None and start > latest:
                        break
                    until = start + held
                    i = bisect_right(p_ends, start)
                    if i < p_count and p_starts[i] < until:
                        continue
                    if check_patient and not patient_busy.free(start, until):
                        continue
                    # The room depends only on the grid position (same start, same held range) — look once.
                    room_id = room_at.get(position, _UNKNOWN)
                    if room_id is _UNKNOWN:
                        room_id = room_at[position] = next(
                            (r for r, r_busy in room_busy if r_busy.free(start, until)), None
                        )
                    if room_id is not None:
                        by_position[position].append(
                            Slot(start, start + duration, p_id, room_id, location_id)
                        )
        for position in sorted(by_position):
            slots.extend(by_position[position])
        if by_position and days_with_slots is not None:
            days_with_slots -= 1
            if days_with_slots <= 0:
                break
        day += timedelta(days=1)
    return slots


def on_grid(location: Location, start: datetime, *, second_pass: bool = False) -> bool:
    """Whether ``start`` is a start the slot search can produce: a whole wall-clock minute at the location on the
    SLOT_GRID (9:00, 9:30 …, counted from midnight). The repeated hour of an autumn night is offered online only on
    its first pass (see the module's docstring); ``second_pass=True`` (the desk) accepts the second one too.

    The one definition of the grid: ``free_slots`` walks it, ``services.check_bookable`` (every online path: /book/,
    the patient's move, the waitlist, the FHIR API) and ``services.desk_rules_broken`` (the desk, which may override
    it with a reason) refuse a start off it."""
    zone = location.zone
    local = start.astimezone(zone)
    if local.second or local.microsecond or (local.hour * 60 + local.minute) % GRID_MINUTES:
        return False
    # The first pass of a wall-clock time is the instant of the same time with fold=0 (not local.fold, which some
    # datetime subclasses do not carry through astimezone).
    first_pass = local.replace(tzinfo=None).replace(tzinfo=zone, fold=0).astimezone(UTC)
    return second_pass or first_pass == start.astimezone(UTC)


def within_availability(
    *, practitioner: Practitioner, location: Location, start: datetime, end: datetime
) -> bool:
    """Whether the visit [start, end) lies inside one of the practitioner's working intervals on its local day
    (weekly hours, exceptions, opening window; not on a closed day). Bookings are not checked here."""
    zone = location.zone
    day = start.astimezone(zone).date()
    if closed_days(location, day, day):
        return False
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
    return any(
        _boundary(zone, day, start_at) <= start and end <= _boundary(zone, day, end_at)
        for start_at, end_at in intervals
    )

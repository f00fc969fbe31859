"""Treatment plans: the front desk books a whole course at once ("weekly ×6, then monthly ×3").

``propose_series`` is a pure read: it lays the occurrences out at the same weekday and wall-clock time in the
location's zone (10:00 stays 10:00 across a daylight-saving change) and checks *every* occurrence — closures,
licence, the practitioner's hours, and the practitioner, a room and the patient being free — giving each conflict
the nearest free alternatives. ``book_series`` books the chosen times in one transaction through
``services.book_appointment`` (so the database's no-overlap guarantee, the audit and the notifications apply to each)
or, if anything was taken meanwhile, books nothing and returns a fresh proposal.
"""

import calendar
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent

from . import availability, services
from .models import Appointment, AppointmentType, Location, Practitioner, Room, TreatmentPlan

logger = logging.getLogger(__name__)

WEEKS = "weeks"
MONTHS = "months"
MAX_OCCURRENCES = 52  # a year of weekly visits; more is a typing mistake
ALTERNATIVES = 4
WEEK_SPREAD = 3  # alternatives look up to this many days either side when the day itself has nothing


@dataclass(frozen=True)
class Phase:
    """``count`` visits, one every ``every`` weeks or months."""

    unit: str  # WEEKS or MONTHS
    every: int
    count: int

    def label(self) -> str:
        if self.every > 1:
            return f"every {self.every} {self.unit} ×{self.count}"
        return f"{'weekly' if self.unit == WEEKS else 'monthly'} ×{self.count}"


def pattern_label(pattern: list[Phase]) -> str:
    """For people and for TreatmentPlan.pattern, e.g. "weekly ×6, then monthly ×3"."""
    return ", then ".join(phase.label() for phase in pattern)


def parse_pattern(rows) -> list[Phase]:
    """Phases from the desk's form fields: an iterable of (every, unit, count), blank rows skipped.

    Raises ValidationError with a message fit to show next to the phases.
    """
    phases = []
    for every, unit, count in rows:
        if not every and not count:
            continue
        if unit not in (WEEKS, MONTHS):
            raise ValidationError("Choose weeks or months.", code="invalid_unit")
        try:
            every, count = int(every or 1), int(count or 0)
        except (TypeError, ValueError):
            raise ValidationError("Use whole numbers.", code="invalid_number") from None
        if not 1 <= every <= 12:
            raise ValidationError("“Every” must be between 1 and 12.", code="invalid_every")
        if count < 1:
            raise ValidationError("Each phase needs at least one visit.", code="invalid_count")
        phases.append(Phase(unit, every, count))
    if not phases:
        raise ValidationError("Give at least one phase, e.g. every 1 week × 6.", code="no_phases")
    if sum(p.count for p in phases) > MAX_OCCURRENCES:
        raise ValidationError(f"At most {MAX_OCCURRENCES} visits in one plan.", code="too_many")
    return phases


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _same_weekday_near(target: date, weekday: int) -> date:
    """The day with ``weekday`` nearest to ``target`` (at most 3 days away)."""
    shift = (weekday - target.weekday()) % 7
    return target + timedelta(days=shift if shift <= 3 else shift - 7)


def series_dates(first: date, pattern: list[Phase]) -> list[date]:
    """Local dates of every occurrence, all on the first one's weekday.

    Weekly phases step by whole weeks; a monthly phase lands on the same weekday nearest the same day of the month
    (so "monthly" from Tuesday 3 June is Tuesday 1 July, not Thursday 3 July). Each phase starts one of its own
    intervals after the last visit of the phase before, and is counted from its own start so it does not drift.
    """
    dates: list[date] = []
    for n, phase in enumerate(pattern):
        anchor = first if n == 0 else dates[-1]
        offset = 0 if n == 0 else 1
        for k in range(phase.count):
            step = (k + offset) * phase.every
            if phase.unit == WEEKS:
                dates.append(anchor + timedelta(weeks=step))
            else:
                dates.append(_same_weekday_near(_add_months(anchor, step), first.weekday()))
    return dates


@dataclass(frozen=True)
class Alternative:
    start: datetime  # aware UTC
    practitioner_id: int
    room_id: int
    practitioner_name: str = ""

    @property
    def key(self) -> str:
        """A form value naming this choice: "<UTC ISO start>|<practitioner>|<room>"."""
        return f"{self.start.astimezone(UTC):%Y-%m-%dT%H:%M}|{self.practitioner_id}|{self.room_id}"


@dataclass(frozen=True)
class Occurrence:
    """One visit of a series: the time wanted and, if it cannot be booked, why and what else is free."""

    index: int
    wanted_day: date  # local date the pattern asked for
    start: datetime | None  # aware UTC; None when the wall-clock time does not exist that day
    practitioner_id: int
    room_id: int | None  # a room free at that time (None if none is)
    conflict: str = ""  # "" = free; otherwise the reason, for people
    conflict_code: str = ""
    alternatives: tuple[Alternative, ...] = field(default=())

    @property
    def is_free(self) -> bool:
        return not self.conflict

    def choose(self, alternative: Alternative) -> "Occurrence":
        """This occurrence moved to one of its alternatives (booked as is; ``book_series`` checks it again)."""
        return replace(
            self,
            start=alternative.start,
            practitioner_id=alternative.practitioner_id,
            room_id=alternative.room_id,
            conflict="",
            conflict_code="",
            alternatives=(),
        )


def _check(
    *,
    patient,
    practitioner: Practitioner,
    location: Location,
    appointment_type: AppointmentType,
    start: datetime,
    room_id: int | None = None,
    now: datetime,
    ignore: frozenset[int] = frozenset(),
) -> tuple[str, str, int | None]:
    """(code, reason, room id) for one visit; code "" when it can be booked. Reads only."""
    zone = location.zone
    day = start.astimezone(zone).date()
    window = services.window_for(appointment_type, start)
    if window.start <= now:
        return "past", "in the past", None
    if not availability.on_grid(location, window.start, second_pass=True):
        return "off_grid", f"not on the {availability.GRID_MINUTES}-minute booking grid", None
    closed = availability.closed_days(location, day, day)
    if closed:
        return "closed", f"clinic closed ({closed[day]})", None
    if not practitioner.is_active:
        return "inactive", "practitioner not taking bookings", None
    if not appointment_type.practitioners.filter(pk=practitioner.pk).exists():
        return "not_offered", "practitioner does not offer this type", None
    if not practitioner.licensed_in(location.state, day):
        return "not_licensed", f"no active licence in {location.state}", None
    if not availability.within_availability(
        practitioner=practitioner, location=location, start=window.start, end=window.end
    ):
        return "unavailable", "practitioner not working then", None
    overlapping = Appointment.objects.overlapping(window.start, window.blocked_until).exclude(pk__in=ignore)
    if overlapping.filter(practitioner=practitioner).exists():
        return "practitioner", "practitioner already booked", None
    if overlapping.filter(patient=patient).exists():
        return "patient", "patient already booked", None
    busy_rooms = set(overlapping.filter(location=location).values_list("room_id", flat=True))
    rooms = Room.objects.filter(location=location, is_active=True).order_by("name", "pk")
    if room_id is not None:
        rooms = rooms.filter(pk=room_id)
    free_room = next((r for r in rooms.values_list("pk", flat=True) if r not in busy_rooms), None)
    if free_room is None:
        return "room", "no room free" if room_id is None else "room already booked", None
    return "", "", free_room


def _alternatives(
    *, patient, practitioner, location, appointment_type, wanted: datetime, day: date, now, taken: set
) -> tuple[Alternative, ...]:
    """Nearest free slots: the same day with the same practitioner first, then any practitioner that day, then
    the same practitioner within the week around it; nearest to the wanted time first."""
    names = {}

    def slots(day_from, day_to, who):
        found = availability.free_slots(
            appointment_type=appointment_type,
            location=location,
            day_from=day_from,
            day_to=day_to,
            practitioner=who,
            patient=patient,
            now=now,
            online=False,
        )
        return sorted(
            (s for s in found if (s.start, s.practitioner_id) not in taken),
            key=lambda s: (abs(s.start - wanted), s.start),
        )

    picked: list = []
    for group in (
        slots(day, day, practitioner),
        slots(day, day, None),
        slots(day - timedelta(days=WEEK_SPREAD), day + timedelta(days=WEEK_SPREAD), practitioner),
    ):
        for slot in group:
            if len(picked) == ALTERNATIVES:
                break
            if all((slot.start, slot.practitioner_id) != (p.start, p.practitioner_id) for p in picked):
                picked.append(slot)
    if picked:
        ids = {s.practitioner_id for s in picked}
        names = dict(Practitioner.objects.filter(pk__in=ids).values_list("pk", "name"))
    return tuple(
        Alternative(s.start, s.practitioner_id, s.room_id, names.get(s.practitioner_id, "")) for s in picked
    )


def propose_series(
    *,
    patient,
    practitioner: Practitioner,
    location: Location,
    appointment_type: AppointmentType,
    first_start: datetime,
    pattern: list[Phase],
    now: datetime | None = None,
) -> list[Occurrence]:
    """Every occurrence of the series, each checked, each conflict with alternatives. Writes nothing.

    ``first_start`` is an aware datetime; its wall-clock time in the location's zone is kept for every visit.
    """
    if first_start.tzinfo is None:
        raise ValueError("first_start must be an aware datetime")
    now = now or timezone.now()
    local = first_start.astimezone(location.zone)
    at = local.time().replace(tzinfo=None)
    occurrences = []
    for index, day in enumerate(series_dates(local.date(), pattern)):
        try:
            start = services.local_start(location, day, at)
        except ValidationError:
            start = None
        occurrences.append(
            _proposed(
                index=index,
                day=day,
                start=start,
                wanted=datetime.combine(day, at, tzinfo=location.zone),
                patient=patient,
                practitioner=practitioner,
                location=location,
                appointment_type=appointment_type,
                now=now,
            )
        )
    return occurrences


def _proposed(
    *, index, day, start, wanted, patient, practitioner, location, appointment_type, now, room_id=None
) -> Occurrence:
    if start is None:
        code, reason, room = "nonexistent", "that time does not exist that day (clocks go forward)", None
    else:
        code, reason, room = _check(
            patient=patient,
            practitioner=practitioner,
            location=location,
            appointment_type=appointment_type,
            start=start,
            room_id=room_id,
            now=now,
        )
    occurrence = Occurrence(index, day, start, practitioner.pk, room, reason, code)
    if code:
        occurrence = replace(
            occurrence,
            alternatives=_alternatives(
                patient=patient,
                practitioner=practitioner,
                location=location,
                appointment_type=appointment_type,
                wanted=start or wanted.astimezone(UTC),
                day=day,
                now=now,
                taken=set(),
            ),
        )
    return occurrence


def recheck(
    *,
    patient,
    location: Location,
    appointment_type: AppointmentType,
    occurrences: list[Occurrence],
    now: datetime | None = None,
) -> list[Occurrence]:
    """The given occurrences (with the desk's choices) checked again as they stand now."""
    now = now or timezone.now()
    practitioners = {
        p.pk: p for p in Practitioner.objects.filter(pk__in={o.practitioner_id for o in occurrences})
    }
    fresh = []
    for o in occurrences:
        practitioner = practitioners[o.practitioner_id]
        local = o.start.astimezone(location.zone) if o.start else None
        fresh.append(
            _proposed(
                index=o.index,
                day=local.date() if local else o.wanted_day,
                start=o.start,
                wanted=local or datetime.combine(o.wanted_day, time(12), tzinfo=location.zone),
                patient=patient,
                practitioner=practitioner,
                location=location,
                appointment_type=appointment_type,
                now=now,
                room_id=o.room_id,
            )
        )
    return fresh


@dataclass
class SeriesResult:
    """Either the plan (everything booked) or, when nothing was booked, the fresh proposal and what went wrong."""

    plan: TreatmentPlan | None = None
    appointments: list[Appointment] = field(default_factory=list)
    proposal: list[Occurrence] = field(default_factory=list)
    problem: str = ""

    @property
    def booked(self) -> bool:
        return self.plan is not None


class _Abort(Exception):
    def __init__(self, problem: str):
        self.problem = problem


def book_series(
    *,
    patient,
    practitioner: Practitioner,
    location: Location,
    appointment_type: AppointmentType,
    pattern: list[Phase],
    occurrences: list[Occurrence],
    by,
    now: datetime | None = None,
) -> SeriesResult:
    """Book every given occurrence (at its chosen time) as one TreatmentPlan, all or nothing.

    Occurrences left out of the list are not booked (the desk chose to skip them). Each is checked again and
    booked through ``services.book_appointment``; if any is no longer free, the transaction is rolled back and the
    result carries a fresh proposal of the same occurrences instead of a plan.
    """
    now = now or timezone.now()
    if not occurrences:
        raise ValidationError("Choose at least one visit to book.", code="empty_series")
    occurrences = sorted(occurrences, key=lambda o: o.index)
    practitioners = {
        p.pk: p for p in Practitioner.objects.filter(pk__in={o.practitioner_id for o in occurrences})
    }
    rooms = {r.pk: r for r in Room.objects.select_related("location").filter(location=location)}
    try:
        with transaction.atomic():
            plan = TreatmentPlan.objects.create(
                patient=patient,
                practitioner=practitioner,
                location=location,
                appointment_type=appointment_type,
                pattern=pattern_label(pattern)[:200],
                created_by=by if getattr(by, "is_authenticated", False) else None,
            )
            booked = []
            for o in occurrences:
                if o.start is None or o.room_id not in rooms or o.practitioner_id not in practitioners:
                    raise _Abort(f"Visit {o.index + 1} has no bookable time.")
                # Hours, closures and licences are not part of book_appointment's desk checks: check them here.
                code, reason, _room = _check(
                    patient=patient,
                    practitioner=practitioners[o.practitioner_id],
                    location=location,
                    appointment_type=appointment_type,
                    start=o.start,
                    room_id=o.room_id,
                    now=now,
                )
                if code:
                    raise _Abort(f"Visit {o.index + 1}: {reason}.")
                try:
                    appointment = services.book_appointment(
                        patient=patient,
                        practitioner=practitioners[o.practitioner_id],
                        room=rooms[o.room_id],
                        appointment_type=appointment_type,
                        start=o.start,
                        by=by,
                        now=now,
                    )
                except services.SlotTaken:
                    raise _Abort(f"Visit {o.index + 1} was just taken.") from None
                except ValidationError as exc:
                    raise _Abort(f"Visit {o.index + 1}: {' '.join(exc.messages)}") from None
                booked.append(appointment)
            # An UPDATE of plan_id only: the overlap triggers and constraints are about times, not plans.
            Appointment.objects.filter(pk__in=[a.pk for a in booked]).update(plan=plan)
            for appointment in booked:
                appointment.plan = plan
            audit.record(
                actor=by,
                action=AuditEvent.Action.CREATE,
                obj=plan,
                detail=(
                    f"patient={patient.pk} practitioner={practitioner.pk} type={appointment_type.pk} "
                    f"appointments={','.join(str(a.pk) for a in booked)}"
                ),
            )
    except _Abort as abort:
        logger.info("series not booked", extra={"practitioner": practitioner.pk, "visits": len(occurrences)})
        return SeriesResult(
            proposal=recheck(
                patient=patient,
                location=location,
                appointment_type=appointment_type,
                occurrences=occurrences,
                now=now,
            ),
            problem=abort.problem,
        )
    logger.info("series booked", extra={"plan": plan.pk, "visits": len(booked)})
    return SeriesResult(plan=plan, appointments=booked)

"""Which booked appointments a set-up change leaves outside the clinic's availability (Clinic set-up screens).

"Each change that affects booked appointments says which appointments it leaves outside hours, and changes nothing
silently": the set-up views save a change inside a transaction, ask ``outside_availability`` before and after, and
roll the change back unless the person saving has confirmed the list of appointments that the change newly leaves
outside. Nothing here cancels or moves an appointment.

The rules are those of ``availability`` (``working_intervals``, ``closed_days``, the wall-clock boundaries): an
appointment is outside when its local day is closed, its practitioner is inactive or not licensed in the location's
state that day, its room is not in use, or its visit does not lie inside one of the practitioner's working intervals
that day. Reads only, a handful of queries for any number of appointments.
"""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from .availability import _boundary, closed_days, working_intervals
from .models import (
    Appointment,
    AvailabilityException,
    Closure,
    Licence,
    Location,
    Practitioner,
    Room,
    WorkingHours,
)

CLOSED = "the clinic is closed that day"
INACTIVE_PRACTITIONER = "the practitioner is not active"
NO_LICENCE = "the practitioner has no licence valid in the state that day"
ROOM_NOT_IN_USE = "the room is not in use"
OUTSIDE_HOURS = "outside the practitioner's hours"


def affected_scope(obj) -> Q | None:
    """The appointments a change to ``obj`` (a set-up record) can move outside availability; None: none can."""
    if isinstance(obj, Practitioner):
        return Q(practitioner_id=obj.pk)
    if isinstance(obj, Location):
        return Q(location_id=obj.pk)
    if isinstance(obj, Room):
        return Q(room_id=obj.pk)
    if isinstance(obj, WorkingHours):
        return Q(practitioner_id=obj.practitioner_id, location_id=obj.location_id)
    if isinstance(obj, AvailabilityException):
        return Q(practitioner_id=obj.practitioner_id, start__date__gte=obj.date - timedelta(days=1)) & Q(
            start__date__lte=obj.date + timedelta(days=1)
        )
    if isinstance(obj, Closure):
        return (
            Q(location_id=obj.location_id)
            & Q(start__date__gte=obj.starts_on - timedelta(days=1))
            & Q(start__date__lte=obj.ends_on + timedelta(days=1))
        )
    if isinstance(obj, Licence):
        return Q(practitioner_id=obj.practitioner_id)
    return None


def upcoming_holding(scope: Q, *, now=None):
    """Future appointments (not cancelled) in the scope, oldest first, with what a list of them shows."""
    now = now or timezone.now()
    return (
        Appointment.objects.holding()
        .filter(scope, start__gte=now)
        .select_related("patient", "practitioner", "location", "room", "appointment_type")
        .order_by("start", "pk")
    )


def outside_availability(appointments) -> dict[int, str]:
    """{appointment id: why it is outside availability} for those of ``appointments`` that are outside."""
    appointments = list(appointments)
    if not appointments:
        return {}
    practitioner_ids = {a.practitioner_id for a in appointments}
    location_ids = {a.location_id for a in appointments}
    room_ids = {a.room_id for a in appointments}
    locations = {loc.pk: loc for loc in Location.objects.filter(pk__in=location_ids)}
    active_practitioners = set(
        Practitioner.objects.filter(pk__in=practitioner_ids, is_active=True).values_list("pk", flat=True)
    )
    rooms_in_use = set(Room.objects.filter(pk__in=room_ids, is_active=True).values_list("pk", flat=True))
    days = {a.pk: a.start.astimezone(locations[a.location_id].zone).date() for a in appointments}
    first_day, last_day = min(days.values()), max(days.values())
    hours = defaultdict(list)
    for h in WorkingHours.objects.filter(practitioner_id__in=practitioner_ids, location_id__in=location_ids):
        hours[(h.practitioner_id, h.location_id)].append(h)
    exceptions = defaultdict(list)
    for e in AvailabilityException.objects.filter(
        practitioner_id__in=practitioner_ids, date__gte=first_day, date__lte=last_day
    ):
        exceptions[(e.practitioner_id, e.date)].append(e)
    licences = defaultdict(list)
    for practitioner_id, state, expires_on in Licence.objects.filter(
        practitioner_id__in=practitioner_ids
    ).values_list("practitioner_id", "state", "expires_on"):
        licences[(practitioner_id, state)].append(expires_on)
    closed = {}
    for location_id in location_ids:
        if Closure.objects.filter(location_id=location_id).exists():
            closed[location_id] = closed_days(locations[location_id], first_day, last_day)

    outside = {}
    for a in appointments:
        location, day = locations[a.location_id], days[a.pk]
        if day in closed.get(a.location_id, {}):
            outside[a.pk] = CLOSED
        elif a.practitioner_id not in active_practitioners:
            outside[a.pk] = INACTIVE_PRACTITIONER
        elif not any(exp >= day for exp in licences.get((a.practitioner_id, location.state), ())):
            outside[a.pk] = NO_LICENCE
        elif a.room_id not in rooms_in_use:
            outside[a.pk] = ROOM_NOT_IN_USE
        else:
            intervals = working_intervals(
                location=location,
                day=day,
                hours=hours.get((a.practitioner_id, a.location_id), ()),
                exceptions=[
                    e
                    for e in exceptions.get((a.practitioner_id, day), ())
                    if e.location_id in (None, a.location_id)
                ],
            )
            zone = location.zone
            if not any(
                _boundary(zone, day, s) <= a.start and a.end <= _boundary(zone, day, e) for s, e in intervals
            ):
                outside[a.pk] = OUTSIDE_HOURS
    return outside

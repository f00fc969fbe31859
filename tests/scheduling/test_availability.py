"""The slot search (``availability.free_slots``) and ``within_availability``: each rule of who can be booked when.

Times are written as the location's wall clock; the UTC instants are asserted where daylight saving matters.
"""

from datetime import UTC, date, datetime, time, timedelta
from itertools import count

import pytest

from acuclinic.scheduling.availability import closed_days, free_slots, within_availability
from acuclinic.scheduling.models import (
    AppointmentStatus,
    AvailabilityException,
    Closure,
    Licence,
    Location,
    Practitioner,
    Room,
    WorkingHours,
)
from acuclinic.scheduling.services import book_appointment, cancel_appointment, local_start

from .conftest import DAY, NOW, make_clinic, make_patient

TIME_OFF = AvailabilityException.Kind.TIME_OFF
EXTRA = AvailabilityException.Kind.EXTRA_HOURS


@pytest.fixture
def c(db):
    clinic = make_clinic()
    WorkingHours.objects.filter(location=clinic.location).delete()  # each test sets the hours it needs
    return clinic


def work(practitioner, location, start, end, weekdays=range(7)):
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, location=location, weekday=d, starts_at=start, ends_at=end)
        for d in weekdays
    )


def search(c, day=DAY, *, day_to=None, type_=None, practitioner="default", now=NOW, online=False, **kwargs):
    return free_slots(
        appointment_type=type_ or c.follow_up,
        location=kwargs.pop("location", c.location),
        day_from=day,
        day_to=day_to or day,
        practitioner=c.practitioner if practitioner == "default" else practitioner,
        now=now,
        online=online,
        **kwargs,
    )


def wall(slots, zone, *, with_date=False):
    out = []
    for slot in slots:
        local = slot.start.astimezone(zone)
        out.append((local.date(), local.time()) if with_date else local.time())
    return out


def times(*pairs):
    return [time(h, m) for h, m in pairs]


_patients = count(100)


def book(c, start, *, practitioner=None, room=None, patient=None, type_=None, **kwargs):
    """A desk booking (a first visit by default) for a patient of its own unless one is given."""
    return book_appointment(
        patient=patient or make_patient(next(_patients)),
        practitioner=practitioner or c.practitioner,
        room=room or c.room,
        appointment_type=type_ or c.first_visit,
        start=start,
        now=NOW,
        **kwargs,
    )


# --- weekly hours, exceptions, closures, opening window ---------------------------------------------------------
def test_weekly_hours_per_weekday_give_grid_slots_whose_visit_ends_by_the_end_of_the_hours(c):
    zone = c.location.zone
    work(c.practitioner, c.location, time(9), time(11), weekdays=[0])  # Mondays 9–11
    work(c.practitioner, c.location, time(14), time(15, 15), weekdays=[1])  # Tuesdays 14–15:15
    monday = search(c, DAY)
    # 30-minute follow-up (+10 min buffer, which may run past the hours): the last visit ends at 11:00.
    assert wall(monday, zone) == times((9, 0), (9, 30), (10, 0), (10, 30))
    assert monday[0].start == datetime(2030, 6, 3, 13, 0, tzinfo=UTC)  # 9:00 EDT
    assert monday[0].end - monday[0].start == timedelta(minutes=30)
    assert {s.practitioner_id for s in monday} == {c.practitioner.pk}
    assert {s.location_id for s in monday} == {c.location.pk}
    assert wall(search(c, DAY + timedelta(days=1)), zone) == times((14, 0), (14, 30))
    assert search(c, DAY + timedelta(days=2)) == []  # no hours on Wednesdays
    # An hour-long first visit needs the whole hour.
    assert wall(search(c, DAY, type_=c.first_visit), zone) == times((9, 0), (9, 30), (10, 0))


def test_hours_count_only_at_their_own_location(c):
    other = Location.objects.create(name="Uptown", state="NY", time_zone="America/New_York")
    Room.objects.create(location=other, name="U1")
    work(c.practitioner, other, time(9), time(12))
    assert search(c) == []
    assert len(search(c, location=other)) == 6
    work(c.practitioner, c.location, time(14), time(15))
    assert wall(search(c), c.location.zone) == times((14, 0), (14, 30))


def test_a_range_of_days_is_searched_at_once_and_sorted(c):
    work(c.practitioner, c.location, time(9), time(10), weekdays=[0, 2])
    slots = search(c, DAY, day_to=DAY + timedelta(days=6))
    assert wall(slots, c.location.zone, with_date=True) == [
        (DAY, time(9)),
        (DAY, time(9, 30)),
        (DAY + timedelta(days=2), time(9)),
        (DAY + timedelta(days=2), time(9, 30)),
    ]


def test_days_with_slots_stops_after_that_many_days_that_have_a_free_slot(c):
    # Mondays and Wednesdays only: the days between, and a closed Monday, do not count.
    work(c.practitioner, c.location, time(9), time(10), weekdays=[0, 2])
    Closure.objects.create(
        location=c.location, starts_on=DAY + timedelta(days=7), ends_on=DAY + timedelta(days=7)
    )
    everything = search(c, DAY, day_to=DAY + timedelta(days=27))
    first_three = search(c, DAY, day_to=DAY + timedelta(days=27), days_with_slots=3)
    days = [d for d, _ in wall(first_three, c.location.zone, with_date=True)]
    assert sorted(set(days)) == [DAY, DAY + timedelta(days=2), DAY + timedelta(days=9)]
    assert first_three == everything[: len(first_three)]
    assert search(c, DAY, day_to=DAY + timedelta(days=27), days_with_slots=99) == everything


@pytest.mark.parametrize("anywhere", [True, False])
def test_a_whole_day_off_leaves_no_slots(c, anywhere):
    work(c.practitioner, c.location, time(9), time(12))
    AvailabilityException.objects.create(
        practitioner=c.practitioner, kind=TIME_OFF, date=DAY, location=None if anywhere else c.location
    )
    assert search(c) == []
    assert len(search(c, DAY + timedelta(days=1))) == 6  # only that day


def test_part_of_a_day_off_removes_only_those_hours(c):
    work(c.practitioner, c.location, time(9), time(12))
    AvailabilityException.objects.create(
        practitioner=c.practitioner, kind=TIME_OFF, date=DAY, starts_at=time(10), ends_at=time(11)
    )
    # 9:30 would run until 10:00 (the buffer may overlap time off; the visit may not).
    assert wall(search(c), c.location.zone) == times((9, 0), (9, 30), (11, 0), (11, 30))


def test_time_off_at_another_location_does_not_apply_here(c):
    other = Location.objects.create(name="Uptown", state="NY", time_zone="America/New_York")
    work(c.practitioner, c.location, time(9), time(10))
    AvailabilityException.objects.create(practitioner=c.practitioner, kind=TIME_OFF, date=DAY, location=other)
    assert wall(search(c), c.location.zone) == times((9, 0), (9, 30))


def test_extra_hours_add_slots_only_at_their_location(c):
    other = Location.objects.create(name="Uptown", state="NY", time_zone="America/New_York")
    work(c.practitioner, c.location, time(9), time(10), weekdays=[0])
    saturday = DAY + timedelta(days=5)
    AvailabilityException.objects.create(
        practitioner=c.practitioner,
        kind=EXTRA,
        date=saturday,
        location=c.location,
        starts_at=time(13),
        ends_at=time(14),
    )
    AvailabilityException.objects.create(
        practitioner=c.practitioner,
        kind=EXTRA,
        date=DAY,
        location=other,
        starts_at=time(15),
        ends_at=time(16),
    )
    AvailabilityException.objects.create(
        practitioner=c.practitioner,
        kind=EXTRA,
        date=DAY,
        location=c.location,
        starts_at=time(10),
        ends_at=time(11),
    )
    assert wall(search(c, saturday), c.location.zone) == times((13, 0), (13, 30))
    # Extra hours next to the weekly ones join them; those at the other location add nothing here.
    assert wall(search(c), c.location.zone) == times((9, 0), (9, 30), (10, 0), (10, 30))


def test_a_closure_over_several_days_closes_them_all(c):
    work(c.practitioner, c.location, time(9), time(10))
    Closure.objects.create(
        location=c.location,
        starts_on=DAY + timedelta(days=1),
        ends_on=DAY + timedelta(days=3),
        reason="Retreat",
    )
    other = Location.objects.create(name="Uptown", state="NY", time_zone="America/New_York")
    Closure.objects.create(location=other, starts_on=DAY, ends_on=DAY, reason="Elsewhere")
    days = {
        d for d, _ in wall(search(c, DAY, day_to=DAY + timedelta(days=4)), c.location.zone, with_date=True)
    }
    assert days == {DAY, DAY + timedelta(days=4)}
    assert closed_days(c.location, DAY, DAY + timedelta(days=2)) == {
        DAY + timedelta(days=1): "Retreat",
        DAY + timedelta(days=2): "Retreat",
    }


def test_slots_stay_within_the_locations_opening_window(c):
    c.location.opens_at, c.location.closes_at = time(9, 15), time(11)
    c.location.save()
    work(c.practitioner, c.location, time(7), time(20))
    # Opening at 9:15, the first grid start is 9:30.
    assert wall(search(c), c.location.zone) == times((9, 30), (10, 0), (10, 30))


# --- who may be booked ------------------------------------------------------------------------------------------
def test_an_inactive_practitioner_has_no_slots(c):
    work(c.practitioner, c.location, time(9), time(10))
    Practitioner.objects.filter(pk=c.practitioner.pk).update(is_active=False)
    assert search(c) == []


def test_a_practitioner_who_does_not_offer_the_type_has_no_slots_for_it(c):
    work(c.practitioner, c.location, time(9), time(10))
    c.follow_up.practitioners.remove(c.practitioner)
    assert search(c) == []
    assert search(c, type_=c.first_visit) != []


def test_the_licence_is_valid_through_its_expiry_day_and_only_in_its_state(c):
    work(c.practitioner, c.location, time(9), time(10))
    c.practitioner.licences.update(expires_on=DAY)
    slots = search(c, DAY - timedelta(days=1), day_to=DAY + timedelta(days=1))
    assert {s.start.astimezone(c.location.zone).date() for s in slots} == {DAY - timedelta(days=1), DAY}
    c.practitioner.licences.update(expires_on=DAY - timedelta(days=1))
    assert search(c) == []
    c.practitioner.licences.update(expires_on=DAY, state="NJ")
    assert search(c) == []
    # A later licence in the state counts even when an older one has expired.
    Licence.objects.create(practitioner=c.practitioner, state="NY", number="NEW-1", expires_on=DAY)
    assert len(search(c)) == 2


# --- busy times: practitioner, rooms, patient, buffers ----------------------------------------------------------
def test_the_held_range_including_the_buffer_must_not_meet_the_practitioners_appointment(c):
    work(c.practitioner, c.location, time(9), time(12))
    book(c, c.at(10), room=c.other_room)  # a first visit, no buffer: holds 10:00–11:00
    # Follow-up: 30 min + 10 min buffer. 9:30 would hold 9:30–10:10 and so meet 10:00.
    assert wall(search(c), c.location.zone) == times((9, 0), (11, 0), (11, 30))
    # Without a buffer, 9:30–10:00 is back to back and offered.
    c.follow_up.buffer_after_minutes = 0
    c.follow_up.save()
    assert wall(search(c), c.location.zone) == times((9, 0), (9, 30), (11, 0), (11, 30))


def test_the_practitioner_is_busy_at_another_location_too(c):
    other = Location.objects.create(name="Uptown", state="NY", time_zone="America/New_York")
    far_room = Room.objects.create(location=other, name="U1")
    work(c.practitioner, c.location, time(9), time(10))
    book(c, c.at(9), room=far_room)
    assert search(c) == []


def test_every_room_busy_means_no_slot_while_one_free_room_is_enough(c):
    work(c.practitioner, c.location, time(9), time(10, 30))
    third = Practitioner.objects.create(name="Kim Cupping")
    Licence.objects.create(practitioner=third, state="NY", number="T-3", expires_on=date(2031, 12, 31))
    c.first_visit.practitioners.add(third)
    book(c, c.at(9), practitioner=c.other_practitioner, room=c.room)  # room A 9:00–10:00
    slots = search(c)
    assert [(t, s.room_id) for t, s in zip(wall(slots, c.location.zone), slots, strict=True)] == [
        (time(9), c.other_room.pk),
        (time(9, 30), c.other_room.pk),
        (time(10), c.room.pk),  # A is free again; rooms are tried in name order
    ]
    book(c, c.at(9, 30), practitioner=third, room=c.other_room)  # room B 9:30–10:30
    # 9:00 (+30 min +10 min buffer) would need B until 9:40, which meets B's 9:30; at 9:30 both rooms are taken.
    slots = search(c)
    assert [(t, s.room_id) for t, s in zip(wall(slots, c.location.zone), slots, strict=True)] == [
        (time(10), c.room.pk),
    ]
    # A room no longer in use is no room.
    Room.objects.filter(pk=c.room.pk).update(is_active=False)
    assert search(c) == []


def test_pending_blocks_like_confirmed_and_cancelled_frees_the_time(c):
    work(c.practitioner, c.location, time(9), time(10))
    pending = book(c, c.at(9), status=AppointmentStatus.PENDING)
    assert search(c) == []
    cancel_appointment(appointment=pending, by=None, reason="Patient called")
    assert wall(search(c), c.location.zone) == times((9, 0), (9, 30))


def test_the_patients_own_appointment_with_another_practitioner_blocks(c):
    work(c.practitioner, c.location, time(9), time(10))
    book(c, c.at(9), practitioner=c.other_practitioner, room=c.other_room, patient=c.patient)
    # Room A is free and so is the practitioner: free for anyone else, not for this patient.
    assert wall(search(c), c.location.zone) == times((9, 0), (9, 30))
    assert wall(search(c, patient=c.other_patient), c.location.zone) == times((9, 0), (9, 30))
    assert search(c, patient=c.patient) == []


def test_the_room_argument_keeps_to_that_room(c):
    work(c.practitioner, c.location, time(9), time(10))
    book(c, c.at(9), practitioner=c.other_practitioner, room=c.room)
    assert search(c, room=c.room) == []
    assert {s.room_id for s in search(c, room=c.other_room)} == {c.other_room.pk}


# --- notice, horizon, the past ----------------------------------------------------------------------------------
def test_online_honours_minimum_notice_and_horizon_staff_only_the_present(c):
    zone = c.location.zone
    work(c.practitioner, c.location, time(9), time(12))
    now = local_start(c.location, DAY, time(9, 10))  # 12 h default notice: online from 21:10
    assert wall(search(c, now=now), zone) == times((9, 30), (10, 0), (10, 30), (11, 0), (11, 30))
    assert search(c, now=now, online=True) == []
    # Exactly the minimum notice is enough (as for book_appointment).
    evening = local_start(c.location, DAY - timedelta(days=1), time(21))
    assert wall(search(c, now=evening, online=True), zone)[0] == time(9)
    c.follow_up.min_notice = timedelta(hours=1)
    c.follow_up.save()
    assert wall(search(c, now=now, online=True), zone) == times((10, 30), (11, 0), (11, 30))
    # Horizon: 60 days by default. Day 60 until the time of day of `now`, nothing after.
    last = DAY + timedelta(days=60)
    assert wall(search(c, last, now=now, online=True), zone) == times(
        (9, 0)
    )  # 9:30 is past now + 60 d (9:10)
    assert len(search(c, last - timedelta(days=1), now=now, online=True)) == 6
    c.follow_up.horizon_days = 61
    c.follow_up.save()
    assert len(search(c, last, now=now, online=True)) == 6
    assert len(search(c, last + timedelta(days=30), now=now)) == 6  # the desk books beyond the horizon
    # Nobody books the past.
    assert search(c, DAY - timedelta(days=7), now=now) == []


# --- first available --------------------------------------------------------------------------------------------
def test_first_available_merges_every_practitioner_offering_the_type(c):
    zone = c.location.zone
    work(c.practitioner, c.location, time(9), time(10))  # Pat Needles
    work(c.other_practitioner, c.location, time(9, 30), time(10, 30))  # Sam Moxa
    c.follow_up.buffer_after_minutes = 0
    c.follow_up.save()
    anyone = search(c, practitioner=None)
    assert [(t, s.practitioner_id) for t, s in zip(wall(anyone, zone), anyone, strict=True)] == [
        (time(9), c.practitioner.pk),
        (time(9, 30), c.practitioner.pk),  # same time: by name
        (time(9, 30), c.other_practitioner.pk),
        (time(10), c.other_practitioner.pk),
    ]
    # Slots are alternatives (one of them is booked), not a plan: each alone is free in room A.
    assert {s.room_id for s in anyone} == {c.room.pk}
    assert [s.practitioner_id for s in search(c, practitioner=c.other_practitioner)] == [
        c.other_practitioner.pk,
        c.other_practitioner.pk,
    ]
    c.follow_up.practitioners.remove(c.other_practitioner)
    assert {s.practitioner_id for s in search(c, practitioner=None)} == {c.practitioner.pk}


# --- within_availability ----------------------------------------------------------------------------------------
def test_within_availability_follows_hours_exceptions_and_closures(c):
    work(c.practitioner, c.location, time(9), time(12))

    def within(h, m, minutes=30, day=DAY):
        start = local_start(c.location, day, time(h, m))
        return within_availability(
            practitioner=c.practitioner,
            location=c.location,
            start=start,
            end=start + timedelta(minutes=minutes),
        )

    assert within(9, 0) and within(11, 30) and within(9, 0, minutes=180)
    assert not within(8, 30) and not within(11, 45) and not within(9, 0, minutes=181)
    AvailabilityException.objects.create(
        practitioner=c.practitioner, kind=TIME_OFF, date=DAY, starts_at=time(10), ends_at=time(11)
    )
    assert within(9, 30) and not within(9, 45) and within(11, 0)
    Closure.objects.create(location=c.location, starts_on=DAY, ends_on=DAY, reason="Holiday")
    assert not within(9, 0)
    assert within(9, 0, day=DAY + timedelta(days=1))


def test_every_slot_offered_lies_within_availability(c):
    work(c.practitioner, c.location, time(8, 45), time(17, 10))
    AvailabilityException.objects.create(
        practitioner=c.practitioner, kind=TIME_OFF, date=DAY, starts_at=time(12, 15), ends_at=time(13, 5)
    )
    slots = search(c, type_=c.first_visit)
    assert slots
    for slot in slots:
        assert within_availability(
            practitioner=c.practitioner, location=c.location, start=slot.start, end=slot.end
        ), slot


# --- daylight saving ---------------------------------------------------------------------------------------------
# Choice for the repeated hour (autumn): the slot grid is wall-clock time, and each wall-clock time is offered once,
# at its first pass (daylight time, fold=0). The second pass of 01:00–02:00 is not offered online: its labels would
# be the same as the first's, which a patient cannot tell apart. The desk can still book it (local_start fold=1),
# and it counts as working time (within_availability). A time skipped in spring is never offered; hours that start
# or end inside the skipped hour start or end when the clocks jump (03:00 in New York).
BEFORE_DST = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "before, after, utc_hour_before, utc_hour_after",
    [
        (date(2027, 3, 13), date(2027, 3, 14), 14, 13),  # spring forward: EST -> EDT
        (date(2026, 10, 31), date(2026, 11, 1), 13, 14),  # fall back: EDT -> EST
        (date(2027, 11, 6), date(2027, 11, 7), 13, 14),
    ],
)
def test_nine_oclock_stays_nine_oclock_and_its_utc_instant_moves(
    c, before, after, utc_hour_before, utc_hour_after
):
    work(c.practitioner, c.location, time(9), time(10))
    slots = search(c, before, day_to=after, now=BEFORE_DST)
    assert wall(slots, c.location.zone, with_date=True) == [
        (before, time(9)),
        (before, time(9, 30)),
        (after, time(9)),
        (after, time(9, 30)),
    ]
    assert [s.start for s in slots] == [
        datetime.combine(before, time(utc_hour_before), tzinfo=UTC),
        datetime.combine(before, time(utc_hour_before, 30), tzinfo=UTC),
        datetime.combine(after, time(utc_hour_after), tzinfo=UTC),
        datetime.combine(after, time(utc_hour_after, 30), tzinfo=UTC),
    ]


def open_all_night(c):
    c.location.opens_at, c.location.closes_at = time(0), time(23, 30)
    c.location.save()
    c.follow_up.buffer_after_minutes = 0
    c.follow_up.save()


def test_spring_forward_skips_the_hour_that_does_not_exist(c):
    open_all_night(c)
    work(c.practitioner, c.location, time(0), time(6))
    day = date(2027, 3, 14)
    slots = search(c, day, now=BEFORE_DST)
    assert wall(slots, c.location.zone) == times(
        (0, 0), (0, 30), (1, 0), (1, 30), (3, 0), (3, 30), (4, 0), (4, 30), (5, 0), (5, 30)
    )
    # 01:30 EST and 03:00 EDT are 30 real minutes apart; every slot lasts its real 30 minutes.
    assert [s.start.time() for s in slots[3:5]] == [time(6, 30), time(7, 0)]
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)


def test_a_location_open_at_two_has_no_slots_on_the_spring_forward_night(c):
    c.location.opens_at, c.location.closes_at = time(2), time(3)
    c.location.save()
    work(c.practitioner, c.location, time(0), time(23))
    assert wall(search(c, date(2027, 3, 13), now=BEFORE_DST), c.location.zone) == times((2, 0), (2, 30))
    assert search(c, date(2027, 3, 14), now=BEFORE_DST) == []


def test_hours_ending_inside_the_skipped_hour_end_when_the_clocks_jump(c):
    open_all_night(c)
    work(c.practitioner, c.location, time(0), time(2, 30))
    slots = search(c, date(2027, 3, 14), now=BEFORE_DST)
    # The last visit is 01:30–03:00 EDT (07:00 UTC); 03:00 EDT is after the hours, though "02:30 EST" is not.
    assert wall(slots, c.location.zone) == times((0, 0), (0, 30), (1, 0), (1, 30))


def test_hours_starting_inside_the_skipped_hour_start_when_the_clocks_jump(c):
    open_all_night(c)
    work(c.practitioner, c.location, time(2, 30), time(6))
    day = date(2027, 3, 14)
    slots = search(c, day, now=BEFORE_DST)
    assert wall(slots, c.location.zone)[0] == time(3)
    # What the search offers, the booking check accepts.
    for slot in slots:
        assert within_availability(
            practitioner=c.practitioner, location=c.location, start=slot.start, end=slot.end
        )


@pytest.mark.parametrize("day", [date(2026, 11, 1), date(2027, 11, 7)])
def test_fall_back_offers_each_wall_clock_time_once(c, day):
    open_all_night(c)
    c.location.opens_at = time(1)
    c.location.save()
    work(c.practitioner, c.location, time(0), time(3))
    slots = search(c, day, now=BEFORE_DST)
    assert wall(slots, c.location.zone) == times((1, 0), (1, 30), (2, 0), (2, 30))
    # 01:00 and 01:30 EDT, then 02:00 and 02:30 EST: the repeated 01:00–02:00 EST is not offered again.
    offsets = [s.start - datetime.combine(day, time(0), tzinfo=UTC) for s in slots]
    assert offsets == [timedelta(hours=h) for h in (5, 5.5, 7, 7.5)]
    # An hour-long visit from 01:30 EDT ends at 01:30 EST, an hour later, inside the hours.
    first_visits = search(c, day, type_=c.first_visit, now=BEFORE_DST)
    assert wall(first_visits, c.location.zone) == times((1, 0), (1, 30), (2, 0))
    # The second pass is still working time: the desk may book 01:30 EST and it counts as within the hours.
    second_pass = local_start(c.location, day, time(1, 30), fold=1)
    assert within_availability(
        practitioner=c.practitioner,
        location=c.location,
        start=second_pass,
        end=second_pass + timedelta(minutes=30),
    )
    book(c, second_pass, type_=c.follow_up)
    assert wall(search(c, day, now=BEFORE_DST), c.location.zone) == times((1, 0), (1, 30), (2, 0), (2, 30))


@pytest.mark.parametrize(
    "zone, before, after, utc_before, utc_after",
    [
        # Sydney: clocks go back in April (AEDT +11 -> AEST +10) and forward in October, the other way round from
        # New York; 9:00 there is the previous day in UTC.
        ("Australia/Sydney", date(2027, 4, 3), date(2027, 4, 4), (4, 2, 22), (4, 3, 23)),
        ("Australia/Sydney", date(2027, 10, 2), date(2027, 10, 3), (10, 1, 23), (10, 2, 22)),
        ("Europe/London", date(2027, 3, 27), date(2027, 3, 28), (3, 27, 9), (3, 28, 8)),
        ("Europe/London", date(2027, 10, 30), date(2027, 10, 31), (10, 30, 8), (10, 31, 9)),
    ],
)
def test_other_time_zones(c, zone, before, after, utc_before, utc_after):
    location = Location.objects.create(name=zone, state="NY", time_zone=zone)
    Room.objects.create(location=location, name="1")
    work(c.practitioner, location, time(9), time(10))
    slots = search(c, before, day_to=after, location=location, type_=c.first_visit, now=BEFORE_DST)
    assert wall(slots, location.zone, with_date=True) == [(before, time(9)), (after, time(9))]
    assert [s.start for s in slots] == [
        datetime(2027, *utc_before, tzinfo=UTC),
        datetime(2027, *utc_after, tzinfo=UTC),
    ]
    # A booking at 9:00 local on the second day (another UTC date) is found and takes the slot.
    book(c, slots[1].start, room=location.rooms.get())
    assert [
        s.start
        for s in search(c, before, day_to=after, location=location, type_=c.first_visit, now=BEFORE_DST)
    ] == [slots[0].start]

"""The write path and availability: online bookings only within the practitioner's hours, nobody on a closure day,
and the suggestions after a lost race come from the slot search."""

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from acuclinic.scheduling.models import Appointment, AvailabilityException, Closure, WorkingHours
from acuclinic.scheduling.services import SlotTaken, book_appointment, next_free_starts

from .conftest import DAY, NOW, make_clinic, make_patient


@pytest.fixture
def clinic(db):
    """Practitioners who work every day from 8 to 18: online bookings and suggestions need working hours."""
    return make_clinic(working_hours=True)


def book(clinic, start, *, patient=None, practitioner=None, room=None, type_=None, **kwargs):
    return book_appointment(
        patient=patient or clinic.patient,
        practitioner=practitioner or clinic.practitioner,
        room=room or clinic.room,
        appointment_type=type_ or clinic.first_visit,
        start=start,
        now=NOW,
        **kwargs,
    )


def refusal(clinic, start, **kwargs) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        book(clinic, start, **kwargs)
    return {error.code: error.message for error in info.value.error_list}


def only_mornings(clinic):
    """The practitioner works 9–12 on Mondays only (the location is open 8–18 every day)."""
    WorkingHours.objects.filter(practitioner=clinic.practitioner).delete()
    WorkingHours.objects.create(
        practitioner=clinic.practitioner,
        location=clinic.location,
        weekday=0,
        starts_at=time(9),
        ends_at=time(12),
    )


def local(clinic, instants):
    zone = clinic.location.zone
    return [(i.astimezone(zone).date(), i.astimezone(zone).time()) for i in instants]


# --- online bookings follow the practitioner's availability; the desk does not have to ------------------------------
def test_online_outside_the_practitioners_hours_is_unavailable_but_the_desk_may_book_it(clinic):
    only_mornings(clinic)
    errors = refusal(clinic, clinic.at(13), online=True)
    assert set(errors) == {"unavailable"}
    assert "not available at that time" in errors["unavailable"]
    assert set(refusal(clinic, clinic.at(11, 30), online=True)) == {"unavailable"}  # would end 12:30
    book(clinic, clinic.at(11), online=True)  # ends 12:00: inside
    book(clinic, clinic.at(13), patient=clinic.other_patient)  # the desk


def test_online_outside_the_opening_window_is_closed(clinic):
    errors = refusal(clinic, clinic.at(18), online=True)
    assert set(errors) == {"closed"}
    assert errors["closed"] == "The clinic is closed at that time."


def test_online_on_time_off_is_unavailable(clinic):
    AvailabilityException.objects.create(
        practitioner=clinic.practitioner,
        kind=AvailabilityException.Kind.TIME_OFF,
        date=DAY,
        starts_at=time(10),
        ends_at=time(11),
    )
    assert set(refusal(clinic, clinic.at(10, 30), online=True)) == {"unavailable"}
    book(clinic, clinic.at(11), online=True)


def test_online_in_extra_hours_is_accepted(clinic):
    only_mornings(clinic)
    tuesday = DAY + timedelta(days=1)
    assert set(refusal(clinic, clinic.at(15, day=tuesday), online=True)) == {"unavailable"}
    AvailabilityException.objects.create(
        practitioner=clinic.practitioner,
        kind=AvailabilityException.Kind.EXTRA_HOURS,
        location=clinic.location,
        date=tuesday,
        starts_at=time(14),
        ends_at=time(17),
    )
    book(clinic, clinic.at(15, day=tuesday), online=True)


# --- closures refuse everyone -----------------------------------------------------------------------------------
@pytest.mark.parametrize("online", [False, True])
def test_nobody_is_booked_on_a_closure_day(clinic, online):
    Closure.objects.create(
        location=clinic.location, starts_on=DAY, ends_on=DAY + timedelta(days=1), reason="Staff training"
    )
    errors = refusal(clinic, clinic.at(10), online=online)
    assert errors == {"closed": "The clinic is closed on Monday, June 3, 2030 (Staff training)."}
    assert set(refusal(clinic, clinic.at(10, day=DAY + timedelta(days=1)), online=online)) == {"closed"}
    book(clinic, clinic.at(10, day=DAY + timedelta(days=2)), online=online)
    assert Appointment.objects.count() == 1


def test_a_desk_booking_running_past_midnight_into_a_closure_is_refused(clinic):
    Closure.objects.create(location=clinic.location, starts_on=DAY, ends_on=DAY, reason="Holiday")
    assert set(refusal(clinic, clinic.at(23, 30, day=DAY - timedelta(days=1)))) == {"closed"}
    book(
        clinic, clinic.at(23, day=DAY - timedelta(days=1))
    )  # ends at midnight: back to back with the closure


# --- suggestions after a lost race ------------------------------------------------------------------------------
def test_suggestions_keep_to_the_room_asked_for(clinic):
    book(clinic, clinic.at(10))  # the practitioner, room A: 10:00–11:00
    book(
        clinic, clinic.at(11), practitioner=clinic.other_practitioner, patient=clinic.other_patient
    )  # A 11–12
    with pytest.raises(SlotTaken) as info:
        book(clinic, clinic.at(10), patient=make_patient(3))
    # Room B is free at 11:00, but the booking asked for room A, which is free again at 12:00.
    assert local(clinic, info.value.next_free) == [(DAY, time(12)), (DAY, time(12, 30)), (DAY, time(13))]
    assert local(
        clinic,
        next_free_starts(
            practitioner=clinic.practitioner,
            room=clinic.other_room,
            appointment_type=clinic.first_visit,
            after=clinic.at(10),
        ),
    ) == [(DAY, time(11)), (DAY, time(11, 30)), (DAY, time(12))]


def test_suggestions_follow_the_practitioners_hours(clinic):
    only_mornings(clinic)
    book(clinic, clinic.at(11))
    with pytest.raises(SlotTaken) as info:
        book(clinic, clinic.at(11), patient=clinic.other_patient)
    # Nothing after 11:00 on Monday is within the hours: next Monday from 9:00 (no weekday in between).
    next_monday = DAY + timedelta(days=7)
    assert local(clinic, info.value.next_free) == [
        (next_monday, time(9)),
        (next_monday, time(9, 30)),
        (next_monday, time(10)),
    ]


def test_suggestions_from_the_same_day_and_a_later_one_come_in_order(clinic):
    # The search looks at the same day and the next first and further only when that gave fewer than three.
    only_mornings(clinic)
    WorkingHours.objects.create(
        practitioner=clinic.practitioner,
        location=clinic.location,
        weekday=3,
        starts_at=time(9),
        ends_at=time(10),
    )
    book(clinic, clinic.at(10))  # an hour: 10:00–11:00
    with pytest.raises(SlotTaken) as info:
        book(clinic, clinic.at(10), patient=clinic.other_patient)
    assert local(clinic, info.value.next_free) == [
        (DAY, time(11)),  # the last hour before 12:00
        (DAY + timedelta(days=3), time(9)),  # Thursday's only hour
        (DAY + timedelta(days=7), time(9)),  # next Monday
    ]


def test_suggestions_skip_closures_and_time_off(clinic):
    book(clinic, clinic.at(17))  # the last hour-long visit of the day
    Closure.objects.create(
        location=clinic.location,
        starts_on=DAY + timedelta(days=1),
        ends_on=DAY + timedelta(days=1),
        reason="Holiday",
    )
    AvailabilityException.objects.create(
        practitioner=clinic.practitioner,
        kind=AvailabilityException.Kind.TIME_OFF,
        date=DAY + timedelta(days=2),
        starts_at=time(8),
        ends_at=time(9),
    )
    with pytest.raises(SlotTaken) as info:
        book(clinic, clinic.at(17), patient=clinic.other_patient)
    assert local(clinic, info.value.next_free) == [
        (DAY + timedelta(days=2), time(9)),
        (DAY + timedelta(days=2), time(9, 30)),
        (DAY + timedelta(days=2), time(10)),
    ]


def test_no_suggestions_in_the_past(clinic):
    assert (
        next_free_starts(
            practitioner=clinic.practitioner,
            room=clinic.room,
            appointment_type=clinic.first_visit,
            after=clinic.at(10, day=date(2020, 6, 1)),
        )
        == []
    )

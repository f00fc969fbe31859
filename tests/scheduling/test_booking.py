from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from acuclinic.accounts.models import AuditEvent
from acuclinic.scheduling.models import Appointment, AppointmentStatus
from acuclinic.scheduling.services import (
    SlotTaken,
    book_appointment,
    cancel_appointment,
    local_start,
    overlap_conflict,
)

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
        appointment_type=type_ or clinic.follow_up,
        start=start,
        **kwargs,
    )


def codes(info) -> set[str]:
    return {error.code for error in info.value.error_list}


# --- what makes a booking possible ------------------------------------------------------------------------------
def test_booking_computes_end_and_held_time_and_audits_references_only(clinic):
    staff = get_user_model().objects.create_user("desk-sched", password="x" * 16, is_staff=True)
    appointment = book(clinic, clinic.at(10), by=staff)
    assert appointment.start == datetime(2030, 6, 3, 14, 0, tzinfo=UTC)  # 10:00 EDT
    assert appointment.end - appointment.start == timedelta(minutes=30)
    assert appointment.blocked_until - appointment.end == timedelta(minutes=10)
    assert appointment.location == clinic.location and appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.created_by == staff
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.CREATE, object_type="scheduling.appointment", object_id=str(appointment.pk)
    )
    assert event.actor_username == "desk-sched"
    assert f"patient={clinic.patient.pk}" in event.detail
    assert clinic.patient.first_name not in event.detail and clinic.patient.last_name not in event.detail


def test_no_booking_without_an_active_licence_in_the_locations_state(clinic):
    clinic.practitioner.licences.update(state="NJ")
    with pytest.raises(ValidationError) as info:
        book(clinic, clinic.at(10))
    assert codes(info) == {"not_licensed"}
    clinic.practitioner.licences.update(state="NY", expires_on=DAY - timedelta(days=1))
    with pytest.raises(ValidationError) as info:
        book(clinic, clinic.at(10))
    assert codes(info) == {"not_licensed"}
    clinic.practitioner.licences.update(expires_on=DAY)  # valid through the day it expires
    book(clinic, clinic.at(10))


def test_licence_is_judged_on_the_local_date_of_the_appointment(clinic):
    # 21:00 in New York on the expiry day is already the next day in UTC.
    clinic.practitioner.licences.update(expires_on=DAY)
    book(clinic, clinic.at(21))


def test_the_type_must_be_offered_by_the_practitioner(clinic):
    clinic.follow_up.practitioners.remove(clinic.practitioner)
    with pytest.raises(ValidationError) as info:
        book(clinic, clinic.at(10))
    assert codes(info) == {"not_offered"}


def test_online_bookings_honour_notice_horizon_opening_hours_and_new_patient_rule(clinic):
    now = NOW  # Saturday 1 June 2030, 08:00 EDT
    too_soon = now + timedelta(hours=11)
    with pytest.raises(ValidationError) as info:
        book(clinic, too_soon.replace(minute=0), type_=clinic.first_visit, online=True, now=now)
    assert "too_soon" in codes(info)
    with pytest.raises(ValidationError) as info:
        book(clinic, clinic.at(10, day=date(2030, 8, 5)), type_=clinic.first_visit, online=True, now=now)
    assert codes(info) == {"too_far"}
    with pytest.raises(ValidationError) as info:
        book(clinic, clinic.at(17, 30), type_=clinic.first_visit, online=True, now=now)  # would end 18:30
    assert codes(info) == {"closed"}
    with pytest.raises(ValidationError) as info:
        book(clinic, clinic.at(10), online=True, now=now)  # follow-up: not for new patients online
    assert codes(info) == {"new_patient_online"}
    # The desk may book outside those rules; online, a first visit within them is fine.
    book(clinic, clinic.at(19), type_=clinic.first_visit, now=now)
    online = book(clinic, clinic.at(10), type_=clinic.first_visit, online=True, now=now)
    assert online.booked_online and online.created_by is None


def test_a_returning_patient_may_book_a_follow_up_online(clinic):
    earlier = book(clinic, clinic.at(10, day=DAY - timedelta(days=7)), now=NOW - timedelta(days=30))
    Appointment.objects.filter(pk=earlier.pk).update(status=AppointmentStatus.COMPLETED)
    book(clinic, clinic.at(11), online=True, now=NOW)


def test_a_naive_start_is_refused(clinic):
    with pytest.raises(ValueError):
        book(clinic, datetime(2030, 6, 3, 10, 0))


# --- no overlap -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "second, conflict",
    [
        ({"room": "other_room", "patient": "other_patient"}, "practitioner"),
        ({"practitioner": "other_practitioner", "patient": "other_patient"}, "room"),
        ({"practitioner": "other_practitioner", "room": "other_room"}, "patient"),
    ],
)
def test_overlap_is_refused_for_practitioner_room_and_patient(clinic, second, conflict):
    book(clinic, clinic.at(10))
    with pytest.raises(SlotTaken) as info:
        book(clinic, clinic.at(10, 15), **{key: getattr(clinic, value) for key, value in second.items()})
    assert info.value.conflict == conflict
    assert Appointment.objects.count() == 1


def test_the_loser_is_offered_the_next_free_slots(clinic):
    book(clinic, clinic.at(10))  # holds 10:00–10:40
    book(
        clinic, clinic.at(11), patient=clinic.other_patient, room=clinic.other_room
    )  # practitioner 11:00–11:40
    with pytest.raises(SlotTaken) as info:
        book(clinic, clinic.at(10), patient=clinic.other_patient)
    zone = clinic.location.zone
    assert [s.astimezone(zone).time() for s in info.value.next_free] == [
        time(12, 0),
        time(12, 30),
        time(13, 0),
    ]
    assert "just taken" in str(info.value)


def test_next_free_slots_stay_within_opening_hours(clinic):
    book(clinic, clinic.at(17, 30))
    with pytest.raises(SlotTaken) as info:
        book(clinic, clinic.at(17, 30), patient=clinic.other_patient)
    next_day = [s.astimezone(clinic.location.zone) for s in info.value.next_free]
    assert next_day[0].date() == DAY + timedelta(days=1) and next_day[0].time() == time(8, 0)


def test_back_to_back_is_allowed_once_the_buffer_has_passed(clinic):
    book(clinic, clinic.at(10))  # 30 min + 10 min buffer: held until 10:40
    with pytest.raises(SlotTaken):
        book(clinic, clinic.at(10, 30), patient=clinic.other_patient)
    book(clinic, clinic.at(10, 40), patient=clinic.other_patient)
    # Without a buffer, end == next start is fine.
    book(clinic, clinic.at(13), type_=clinic.first_visit)
    book(clinic, clinic.at(14), type_=clinic.first_visit)


def test_the_slot_is_free_again_after_cancellation(clinic):
    first = book(clinic, clinic.at(10))
    with pytest.raises(ValidationError):
        cancel_appointment(appointment=first, by=None, reason=" ")
    cancelled = cancel_appointment(appointment=first, by=None, reason="Patient called")
    assert cancelled.status == AppointmentStatus.CANCELLED and not cancelled.holds_time
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CHANGE, object_id=str(first.pk), detail="status=cancelled"
    ).exists()
    second = book(clinic, clinic.at(10), patient=clinic.other_patient)
    assert second.status == AppointmentStatus.CONFIRMED


def test_pending_holds_time_like_confirmed(clinic):
    book(clinic, clinic.at(10), status=AppointmentStatus.PENDING)
    with pytest.raises(SlotTaken) as info:
        book(clinic, clinic.at(10), patient=clinic.other_patient)
    assert info.value.conflict == "practitioner"
    with pytest.raises(ValueError):
        book(clinic, clinic.at(12), status=AppointmentStatus.CANCELLED)


def test_the_database_itself_refuses_overlaps_when_the_service_is_bypassed(clinic):
    """PostgreSQL: the exclusion constraints; SQLite: the triggers. Two overlapping rows written with the ORM."""
    start = clinic.at(10)

    def row(start=start, **fields):
        values = {
            "patient": clinic.patient,
            "practitioner": clinic.practitioner,
            "room": clinic.room,
            "location": clinic.location,
            "appointment_type": clinic.follow_up,
            "start": start,
            "end": start + timedelta(minutes=30),
            "blocked_until": start + timedelta(minutes=40),
        }
        values.update(fields)
        return Appointment.objects.create(**values)

    row()
    for fields, conflict in (
        ({"room": clinic.other_room, "patient": clinic.other_patient}, "practitioner"),
        ({"practitioner": clinic.other_practitioner, "patient": clinic.other_patient}, "room"),
        ({"practitioner": clinic.other_practitioner, "room": clinic.other_room}, "patient"),
    ):
        with pytest.raises(IntegrityError) as info, transaction.atomic():
            row(start=start + timedelta(minutes=35), **fields)
        assert overlap_conflict(info.value) == conflict, connection.vendor
    # A cancelled row holds nothing; making it hold time again (an UPDATE) is refused as well.
    ghost = row(status=AppointmentStatus.CANCELLED, cancellation_reason="test")
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=ghost.pk).update(status=AppointmentStatus.CONFIRMED)
    row(
        start=start + timedelta(minutes=40), room=clinic.other_room, patient=clinic.other_patient
    )  # back to back


# --- daylight saving --------------------------------------------------------------------------------------------
def test_fall_back_night_the_repeated_hour_holds_two_distinct_bookings(clinic):
    day = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST in New York
    clinic.follow_up.buffer_after_minutes = 0
    clinic.follow_up.save()
    first = book(clinic, clinic.at(1, 30, day=day, fold=0))  # 01:30 EDT = 05:30 UTC
    second = book(
        clinic, clinic.at(1, 30, day=day, fold=1), patient=clinic.other_patient
    )  # 01:30 EST = 06:30 UTC
    assert first.start == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert second.start == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    # 01:00 EST starts exactly when the 01:30 EDT follow-up ends: back to back, no collision.
    book(clinic, clinic.at(1, 0, day=day, fold=1), room=clinic.other_room, patient=make_patient(90))
    # An hour-long visit from 01:00 EDT really does overlap 01:30 EDT.
    with pytest.raises(SlotTaken):
        book(clinic, clinic.at(1, 0, day=day, fold=0), type_=clinic.first_visit, patient=make_patient(91))


def test_spring_forward_a_visit_across_the_change_lasts_its_real_duration(clinic):
    day = date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT in New York
    with pytest.raises(ValidationError):
        local_start(clinic.location, day, time(2, 30))  # does not exist
    visit = book(clinic, clinic.at(1, 30, day=day), type_=clinic.first_visit)  # 06:30–07:30 UTC
    zone = clinic.location.zone
    assert visit.end.astimezone(zone).time() == time(3, 30)
    assert visit.end - visit.start == timedelta(minutes=60)
    # 03:00 EDT (07:00 UTC) is inside the visit, although on the wall clock "01:30 + 60 min" looks like 02:30.
    with pytest.raises(SlotTaken):
        book(clinic, clinic.at(3, 0, day=day), patient=clinic.other_patient)
    book(clinic, clinic.at(3, 30, day=day), patient=clinic.other_patient)


def test_a_lost_race_caught_by_the_database_is_reported_as_slot_taken(clinic, monkeypatch):
    """As when another booking commits between this one's check and its insert: the database refuses the row
    (exclusion constraint / trigger) and the caller still gets SlotTaken with suggestions, not an IntegrityError."""
    from acuclinic.scheduling import services

    book(clinic, clinic.at(10))
    monkeypatch.setattr(services, "_first_conflict", lambda **kwargs: None)
    with pytest.raises(SlotTaken) as info:
        book(clinic, clinic.at(10), patient=clinic.other_patient, room=clinic.other_room)
    assert info.value.conflict == "practitioner"
    assert info.value.next_free
    assert Appointment.objects.count() == 1
    assert (
        not AuditEvent.objects.filter(object_type="scheduling.appointment")
        .exclude(object_id=str(Appointment.objects.get().pk))
        .exists()
    )  # the refused booking left no audit record either

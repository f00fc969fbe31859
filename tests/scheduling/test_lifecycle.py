"""The appointment's life: booked → arrived → completed (by the desk, the clinician, or the end-of-day job),
no-show, cancelled; and what it means for the patient: an arrived or completed visit makes them returning.

The end-of-day job runs under freezegun at instants around the location's midnight, on whichever database the
run uses (SQLite by default, PostgreSQL with DATABASE_URL).
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from freezegun import freeze_time

from acuclinic.accounts.models import AuditEvent
from acuclinic.core import scheduler
from acuclinic.core.models import PeriodicRun
from acuclinic.scheduling import lifecycle_tasks, services
from acuclinic.scheduling.models import Appointment, AppointmentStatus, Licence, Location, Room
from acuclinic.scheduling.selectors import is_returning_patient

from .conftest import DAY, make_clinic

S = AppointmentStatus


@pytest.fixture
def clinic(db):
    return make_clinic(working_hours=True, patients=4)


def visit(clinic, *, hour=10, day=DAY, status=S.CONFIRMED, patient=None, location=None, room=None):
    location = location or clinic.location
    start = services.local_start(location, day, time(hour))
    return Appointment.objects.create(
        patient=patient or clinic.patient,
        practitioner=clinic.practitioner,
        room=room or clinic.room,
        location=location,
        appointment_type=clinic.follow_up,
        start=start,
        end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40),
        status=status,
    )


def events(appointment):
    return list(
        AuditEvent.objects.filter(object_type="scheduling.appointment", object_id=str(appointment.pk))
        .order_by("seq")
        .values_list("actor_id", "detail")
    )


def local(clinic, day, hour, minute=0, location=None):
    return services.local_start(location or clinic.location, day, time(hour, minute))


# --- who is a returning patient ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "returning"),
    [
        (S.PENDING, False),
        (S.CONFIRMED, False),
        (S.CANCELLED, False),
        (S.NO_SHOW, False),
        (S.ARRIVED, True),
        (S.COMPLETED, True),
    ],
)
def test_a_returning_patient_has_an_arrived_or_completed_visit(clinic, status, returning):
    assert not is_returning_patient(clinic.patient)
    visit(clinic, status=status, day=DAY - timedelta(days=7))
    assert is_returning_patient(clinic.patient) is returning
    assert not is_returning_patient(clinic.other_patient)


def test_a_patient_who_arrived_today_may_book_a_follow_up_online(clinic):
    """Before: only "completed" counted, and nothing set it, so nobody could ever book a follow-up online."""
    now = local(clinic, DAY, 10, 5)
    visit(clinic, status=S.ARRIVED, hour=10)
    booked = services.book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=local(clinic, DAY + timedelta(days=7), 10),
        online=True,
        now=now,
    )
    assert booked.booked_online


def test_a_new_patient_still_cannot_book_a_returning_patients_visit_online(clinic):
    with pytest.raises(ValidationError) as refused:
        services.book_appointment(
            patient=clinic.other_patient,
            practitioner=clinic.practitioner,
            room=clinic.room,
            appointment_type=clinic.follow_up,
            start=local(clinic, DAY + timedelta(days=7), 10),
            online=True,
            now=local(clinic, DAY, 9),
        )
    assert [e.code for e in refused.value.error_list] == ["new_patient_online"]


# --- a move is not a new booking ---------------------------------------------------------------------------------


def test_a_patient_the_desk_booked_may_move_online(clinic):
    """The bug: the desk booked a new patient's follow-up; the move page offered times and then refused them all
    with "New patients book this visit with the front desk"."""
    now = local(clinic, DAY, 9)
    booked = services.book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=local(clinic, DAY + timedelta(days=3), 10),
        now=now,
    )
    moved = services.reschedule_appointment(
        appointment=booked, start=local(clinic, DAY + timedelta(days=4), 11), by=None, online=True, now=now
    )
    assert moved.start == local(clinic, DAY + timedelta(days=4), 11)


def test_a_move_online_still_meets_the_notice(clinic):
    now = local(clinic, DAY, 9)
    booked = services.book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=local(clinic, DAY + timedelta(days=3), 10),
        now=now,
    )
    with pytest.raises(ValidationError) as refused:
        services.reschedule_appointment(
            appointment=booked, start=local(clinic, DAY, 11), by=None, online=True, now=now
        )
    assert [e.code for e in refused.value.error_list] == ["too_soon"]


# --- the end of the day ------------------------------------------------------------------------------------------


def test_arrived_visits_are_checked_out_once_their_local_day_has_ended(clinic):
    arrived = visit(clinic, status=S.ARRIVED, hour=10)
    still_booked = visit(clinic, status=S.CONFIRMED, hour=14, patient=clinic.other_patient)
    already = visit(clinic, status=S.COMPLETED, hour=15, patient=clinic.patients[2])

    with freeze_time(local(clinic, DAY, 23, 59)):
        assert services.check_out_finished_days() == 0
    arrived.refresh_from_db()
    assert arrived.status == S.ARRIVED and arrived.completed_at is None

    midnight = local(clinic, DAY + timedelta(days=1), 0, 1)
    with freeze_time(midnight):
        assert services.check_out_finished_days() == 1
        assert services.check_out_finished_days() == 0  # a second run changes nothing
    arrived.refresh_from_db()
    assert arrived.status == S.COMPLETED and arrived.completed_at == midnight
    # Audited once, as the system (no user).
    assert events(arrived) == [(None, "status=completed automatically at the end of the day")]
    # A visit nobody marked arrived is left for the desk (arrived or no-show is theirs to say).
    still_booked.refresh_from_db()
    assert still_booked.status == S.CONFIRMED
    already.refresh_from_db()
    assert already.status == S.COMPLETED and events(already) == []


def test_the_day_ends_at_midnight_where_the_visit_took_place(clinic):
    west = Location.objects.create(
        name="West clinic", address="2 Test Avenue", state="CA", time_zone="America/Los_Angeles"
    )
    Licence.objects.create(
        practitioner=clinic.practitioner, state="CA", number="CA-1", expires_on=date(2031, 1, 1)
    )
    west_room = Room.objects.create(location=west, name="W")
    east = visit(clinic, status=S.ARRIVED, hour=16)
    in_la = visit(
        clinic, status=S.ARRIVED, hour=16, location=west, room=west_room, patient=clinic.other_patient
    )

    # 00:30 in New York is 21:30 in Los Angeles: the New York day is over, the Los Angeles one is not.
    with freeze_time(local(clinic, DAY + timedelta(days=1), 0, 30)):
        assert services.check_out_finished_days() == 1
    east.refresh_from_db()
    in_la.refresh_from_db()
    assert east.status == S.COMPLETED and in_la.status == S.ARRIVED

    with freeze_time(local(clinic, DAY + timedelta(days=1), 0, 30, location=west)):
        assert services.check_out_finished_days() == 1
    in_la.refresh_from_db()
    assert in_la.status == S.COMPLETED


def test_a_visit_the_desk_checked_out_is_left_as_it_is(clinic, django_user_model):
    desk = django_user_model.objects.create_user("desk", password="x")
    arrived = visit(clinic, status=S.ARRIVED, hour=10)
    checked_out_at = local(clinic, DAY, 10, 40)
    services.check_out_appointment(appointment=arrived, by=desk, now=checked_out_at)
    with freeze_time(local(clinic, DAY + timedelta(days=1), 1)):
        assert services.check_out_finished_days() == 0
    arrived.refresh_from_db()
    assert arrived.completed_at == checked_out_at
    assert events(arrived) == [(desk.pk, "status=completed")]


def test_the_end_of_day_job_is_registered_and_runs_once_per_period(clinic):
    job = scheduler.JOBS["check-out-finished-days"]
    assert job.get_task() is lifecycle_tasks.check_out_finished_days
    arrived = visit(clinic, status=S.ARRIVED, hour=10)
    at = local(clinic, DAY + timedelta(days=1), 0, 10)
    with freeze_time(at):
        assert scheduler.enqueue_due_jobs(at, jobs=[job]) == [
            (job.name, f"{at.astimezone(UTC):%Y-%m-%dT%H}:00")
        ]
        assert scheduler.enqueue_due_jobs(at, jobs=[job]) == []  # the same period is claimed once
        assert PeriodicRun.objects.filter(job=job.name).count() == 1
        assert lifecycle_tasks.check_out_finished_days.call() == 1
        assert lifecycle_tasks.check_out_finished_days.call() == 0
    arrived.refresh_from_db()
    assert arrived.status == S.COMPLETED


def test_the_lifecycle_from_booked_to_completed_no_show_and_cancelled(clinic, django_user_model):
    desk = django_user_model.objects.create_user("desk2", password="x")
    now = local(clinic, DAY, 9)
    start = local(clinic, DAY, 10)
    kept = services.book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start,
        now=now,
    )
    missed = services.book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.other_practitioner,
        room=clinic.other_room,
        appointment_type=clinic.follow_up,
        start=start,
        now=now,
    )
    dropped = services.book_appointment(
        patient=clinic.patients[2],
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=local(clinic, DAY, 11),
        now=now,
    )
    with pytest.raises(ValidationError):  # not before arrival
        services.check_out_appointment(appointment=kept, by=desk, now=start)
    services.mark_arrived(appointment=kept, by=desk, now=local(clinic, DAY, 9, 55))
    services.mark_no_show(appointment=missed, by=desk, now=local(clinic, DAY, 10, 20))
    services.cancel_appointment(appointment=dropped, by=desk, reason="Patient called")
    assert is_returning_patient(clinic.patient)  # arrived already counts
    with freeze_time(datetime.combine(DAY + timedelta(days=1), time(12), tzinfo=UTC)):
        assert services.check_out_finished_days() == 1
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {kept.pk: S.COMPLETED, missed.pk: S.NO_SHOW, dropped.pk: S.CANCELLED}
    assert not is_returning_patient(clinic.other_patient)
    assert not is_returning_patient(clinic.patients[2])

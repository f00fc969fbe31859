"""The desk's writes: move in place, arrived, no-show, notifications of booking/cancelling/moving, and booking from an
appointment request. Plus two moves racing to one free slot, with real concurrent connections."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments.models import AppointmentRequest
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Appointment, AppointmentNotification, AppointmentStatus
from acuclinic.scheduling.services import (
    SlotTaken,
    book_appointment,
    book_from_request,
    cancel_appointment,
    mark_arrived,
    mark_no_show,
    reschedule_appointment,
)
from tests.factories import make_appointment_request, make_user

from .conftest import DAY, make_clinic
from .test_race import count_holding, file_database_for_threads

Kind = AppointmentNotification.Kind


def book(clinic, start, *, patient=None, practitioner=None, room=None, **kwargs):
    return book_appointment(
        patient=patient or clinic.patient,
        practitioner=practitioner or clinic.practitioner,
        room=room or clinic.room,
        appointment_type=clinic.follow_up,
        start=start,
        **kwargs,
    )


def kinds(appointment) -> list[str]:
    return sorted(
        AppointmentNotification.objects.filter(appointment=appointment).values_list("kind", flat=True)
    )


@pytest.fixture
def desk(db):
    return make_user("desk-move", "Front desk")


# --- moving -----------------------------------------------------------------------------------------------------
def test_a_move_keeps_the_row_and_records_references_only(clinic, desk):
    clinic.patient.email = "test0@example.org"
    clinic.patient.save()
    appointment = book(clinic, clinic.at(10), by=desk)
    moved = reschedule_appointment(
        appointment=appointment, start=clinic.at(15), by=desk, practitioner=clinic.other_practitioner
    )
    assert moved.pk == appointment.pk and Appointment.objects.count() == 1
    moved.refresh_from_db()
    assert moved.start == clinic.at(15) and moved.end == clinic.at(15, 30)
    assert moved.blocked_until == clinic.at(15, 40)
    assert moved.practitioner == clinic.other_practitioner and moved.room == clinic.room
    event = (
        AuditEvent.objects.filter(object_type="scheduling.appointment", object_id=str(moved.pk))
        .order_by("seq")
        .last()
    )
    assert event.action == AuditEvent.Action.CHANGE and event.actor_username == "desk-move"
    assert "moved from" in event.detail and f"practitioner={clinic.other_practitioner.pk}" in event.detail
    assert clinic.patient.first_name not in event.detail and clinic.patient.last_name not in event.detail
    # The patient hears of the booking and of the move; the clinic only of online changes.
    assert kinds(moved) == [Kind.PATIENT_CONFIRMATION, Kind.PATIENT_RESCHEDULED]


def test_a_move_that_overlaps_only_its_own_old_time_is_allowed(clinic, desk):
    appointment = book(clinic, clinic.at(10), by=desk)
    moved = reschedule_appointment(appointment=appointment, start=clinic.at(10, 15), by=desk)
    assert moved.start == clinic.at(10, 15)


def test_a_move_onto_a_busy_time_raises_slot_taken_and_changes_nothing(clinic, desk):
    appointment = book(clinic, clinic.at(10), by=desk)
    book(clinic, clinic.at(14), patient=clinic.other_patient, room=clinic.other_room)
    with pytest.raises(SlotTaken) as info:
        reschedule_appointment(appointment=appointment, start=clinic.at(14), by=desk)
    assert info.value.conflict == "practitioner"
    assert info.value.next_free[0] == clinic.at(15)  # 14:30 still meets 14:00–14:40
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(10)
    assert (
        kinds(appointment) == []
    )  # the patient has no e-mail address here; nothing queued for the failed move


def test_suggestions_after_a_failed_move_ignore_the_appointments_own_time(clinic, desk):
    appointment = book(clinic, clinic.at(10, 30), by=desk)  # holds 10:30–11:10
    book(clinic, clinic.at(9, 30), patient=clinic.other_patient, room=clinic.other_room)  # 9:30–10:10
    with pytest.raises(SlotTaken) as info:
        reschedule_appointment(appointment=appointment, start=clinic.at(9, 30), by=desk)
    assert info.value.next_free[0] == clinic.at(10, 30)  # where it is now: free for itself


def test_the_patient_cannot_be_moved_onto_their_own_other_appointment(clinic, desk):
    first = book(clinic, clinic.at(10), by=desk)
    book(clinic, clinic.at(12), practitioner=clinic.other_practitioner, room=clinic.other_room)
    with pytest.raises(SlotTaken) as info:
        reschedule_appointment(appointment=first, start=clinic.at(12), by=desk)
    assert info.value.conflict == "patient"


def test_moving_frees_the_old_time(clinic, desk):
    appointment = book(clinic, clinic.at(10), by=desk)
    reschedule_appointment(appointment=appointment, start=clinic.at(11), by=desk)
    book(clinic, clinic.at(10), patient=clinic.other_patient)


def test_only_pending_or_confirmed_appointments_move(clinic, desk):
    appointment = book(clinic, clinic.at(10), by=desk)
    cancel_appointment(appointment=appointment, by=desk, reason="Patient called")
    with pytest.raises(ValidationError) as info:
        reschedule_appointment(appointment=appointment, start=clinic.at(11), by=desk)
    assert info.value.error_list[0].code == "not_movable"


def test_a_move_is_checked_like_a_booking(clinic, desk):
    appointment = book(clinic, clinic.at(10), by=desk)
    clinic.follow_up.practitioners.remove(clinic.other_practitioner)
    with pytest.raises(ValidationError) as info:
        reschedule_appointment(
            appointment=appointment, start=clinic.at(11), by=desk, practitioner=clinic.other_practitioner
        )
    assert {e.code for e in info.value.error_list} == {"not_offered"}
    appointment.refresh_from_db()
    assert appointment.practitioner == clinic.practitioner


def test_an_online_move_tells_the_clinic_too(clinic, desk):
    clinic.follow_up.new_patients_may_book_online = True
    clinic.follow_up.save()
    appointment = book(clinic, clinic.at(10), by=desk)
    reschedule_appointment(
        appointment=appointment,
        start=clinic.at(11),
        by=None,
        online=True,
        now=clinic.at(8) - timedelta(days=2),
    )
    assert kinds(appointment) == [Kind.CLINIC_RESCHEDULED]


# --- notifications of booking and cancelling -------------------------------------------------------------------
def test_booking_and_cancelling_queue_notifications(clinic, desk):
    clinic.follow_up.new_patients_may_book_online = True
    clinic.follow_up.save()
    clinic.patient.email = "test0@example.org"
    clinic.patient.save()
    appointment = book(clinic, clinic.at(10), by=desk)
    assert kinds(appointment) == [Kind.PATIENT_CONFIRMATION]
    cancel_appointment(appointment=appointment, by=desk, reason="Patient called")
    assert kinds(appointment) == [Kind.PATIENT_CANCELLED, Kind.PATIENT_CONFIRMATION]
    other = book(
        clinic, clinic.at(10), patient=clinic.other_patient, online=True, now=clinic.at(8) - timedelta(days=2)
    )
    cancel_appointment(appointment=other, by=None, reason="Cancelled online", online=True)
    assert kinds(other) == [Kind.CLINIC_BOOKED, Kind.CLINIC_CANCELLED]


# --- arrived and no-show ---------------------------------------------------------------------------------------
def test_arrived_only_on_the_day_in_the_locations_time_zone(clinic, desk):
    appointment = book(clinic, clinic.at(10), by=desk)
    with pytest.raises(ValidationError) as info:
        mark_arrived(appointment=appointment, by=desk, now=clinic.at(23, day=DAY - timedelta(days=1)))
    assert info.value.error_list[0].code == "not_today"
    # 23:30 in New York on the day is already the next day in UTC: still the day.
    arrived = mark_arrived(appointment=appointment, by=desk, now=clinic.at(9, 50))
    assert arrived.status == AppointmentStatus.ARRIVED and arrived.arrived_at == clinic.at(9, 50)
    assert AuditEvent.objects.filter(object_id=str(appointment.pk), detail="status=arrived").exists()
    late = book(clinic, clinic.at(20), patient=clinic.other_patient)
    assert mark_arrived(appointment=late, by=desk, now=clinic.at(23, 30)).status == AppointmentStatus.ARRIVED


def test_no_show_only_after_the_start(clinic, desk):
    appointment = book(clinic, clinic.at(10), by=desk)
    with pytest.raises(ValidationError) as info:
        mark_no_show(appointment=appointment, by=desk, now=clinic.at(9, 59))
    assert info.value.error_list[0].code == "not_started"
    assert (
        mark_no_show(appointment=appointment, by=desk, now=clinic.at(10)).status == AppointmentStatus.NO_SHOW
    )
    with pytest.raises(ValidationError):
        mark_arrived(appointment=appointment, by=desk, now=clinic.at(10, 5))


def test_a_cancelled_appointment_is_neither_arrived_nor_no_show(clinic, desk):
    appointment = book(clinic, clinic.at(10), by=desk)
    cancel_appointment(appointment=appointment, by=desk, reason="Patient called")
    for mark in (mark_arrived, mark_no_show):
        with pytest.raises(ValidationError) as info:
            mark(appointment=appointment, by=desk, now=clinic.at(10, 5))
        assert info.value.error_list[0].code == "not_open"


# --- booking from a request ------------------------------------------------------------------------------------
def test_book_from_request_creates_the_patient_books_and_ends_the_request(clinic, desk):
    request = make_appointment_request("BKFR-2345")
    appointment = book_from_request(
        request=request,
        by=desk,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=clinic.at(10),
    )
    request.refresh_from_db()
    assert appointment.request == request
    assert request.status == AppointmentRequest.Status.ENDED
    assert request.end_reason == AppointmentRequest.EndReason.BOOKED
    assert request.patient == appointment.patient and appointment.patient.last_name == "Example"
    assert AuditEvent.objects.filter(
        object_type="appointments.appointmentrequest", detail=f"booked as appointment #{appointment.pk}"
    ).exists()
    with pytest.raises(ValidationError) as info:  # it has ended: no second booking from it
        book_from_request(
            request=request,
            by=desk,
            practitioner=clinic.practitioner,
            room=clinic.room,
            appointment_type=clinic.follow_up,
            start=clinic.at(12),
        )
    assert info.value.error_list[0].code == "request_ended"


def test_book_from_request_keeps_nothing_when_the_time_is_taken(clinic, desk):
    book(clinic, clinic.at(10), by=desk)
    request = make_appointment_request("BKFR-6789")
    patients = Patient.objects.count()
    with pytest.raises(SlotTaken):
        book_from_request(
            request=request,
            by=desk,
            practitioner=clinic.practitioner,
            room=clinic.room,
            appointment_type=clinic.follow_up,
            start=clinic.at(10),
        )
    request.refresh_from_db()
    assert request.status == AppointmentRequest.Status.NEW and request.patient is None
    assert Patient.objects.count() == patients


# --- two moves racing to one free slot -------------------------------------------------------------------------
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_moves_racing_to_one_free_slot_one_wins(tmp_path):
    clinic = make_clinic(patients=2, working_hours=True)
    # Two appointments with the same practitioner, in different rooms, both moved to 15:00 at the same moment.
    first = book(clinic, clinic.at(10))
    second = book(clinic, clinic.at(11), patient=clinic.other_patient, room=clinic.other_room)
    target = clinic.at(15)
    file_db = file_database_for_threads(tmp_path)
    barrier = threading.Barrier(2)
    outcomes, lock = [], threading.Lock()

    def attempt(pk):
        try:
            if file_db is not None:
                connections["default"].settings_dict = {
                    **connections["default"].settings_dict,
                    "NAME": file_db,
                }
            appointment = Appointment.objects.select_related("room__location", "patient").get(pk=pk)
            barrier.wait(timeout=60)
            try:
                reschedule_appointment(appointment=appointment, start=target, by=None)
                result = ("moved", pk, None)
            except SlotTaken as exc:
                result = ("taken", pk, exc)
            with lock:
                outcomes.append(result)
        except Exception as exc:  # noqa: BLE001 - reported below
            with lock:
                outcomes.append(("error", pk, exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(a.pk,)) for a in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert [exc for kind, _, exc in outcomes if kind == "error"] == []
    assert Counter(kind for kind, _, _ in outcomes) == {"moved": 1, "taken": 1}
    loser = next(exc for kind, _, exc in outcomes if kind == "taken")
    assert loser.conflict == "practitioner" and loser.next_free
    assert count_holding(file_db) == 2
    if file_db is None:
        starts = sorted(Appointment.objects.values_list("start", flat=True))
        assert target in starts and len(set(starts)) == 2
    else:
        import sqlite3

        with sqlite3.connect(file_db) as db:
            rows = db.execute("SELECT start FROM scheduling_appointment ORDER BY start").fetchall()
        assert len(rows) == 2 and len({r[0] for r in rows}) == 2

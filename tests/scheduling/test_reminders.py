"""Reminders at 48 h and 2 h before, sent by the worker at those times: never for a moment before the booking,
only the latest due offset after an outage, again for a moved appointment, exactly once even with concurrent runs,
by e-mail and (when enabled) text message, with nothing about the patient's health."""

import re
import threading
import time as clock
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, connections
from django.utils import timezone
from wagtail.models import Site

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.accounts.patient_links import Purpose, read_token
from acuclinic.scheduling.models import AppointmentStatus, SchedulingSettings, SentReminder
from acuclinic.scheduling.reminders import due_offset, send_due_reminders
from acuclinic.scheduling.services import book_appointment, window_for

from .conftest import make_clinic
from .notify_helpers import sms_outbox  # noqa: F401 - fixture
from .test_race import file_database_for_threads, start_thread

pytestmark = pytest.mark.usefixtures("sms_outbox")

H = timedelta(hours=1)


def book(clinic, start, patient=None):
    patient = patient or clinic.patient
    if not patient.email:
        patient.email, patient.phone = "rem@example.org", "+12125550166"
        patient.save()
    return book_appointment(
        patient=patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start,
    )


def ahead(delta):
    """A start this far from now, on the minute (bookings are made now: created_at is the real time)."""
    return (timezone.now() + delta).replace(second=0, microsecond=0)


def sent(appointment):
    return sorted(
        SentReminder.objects.filter(appointment=appointment).values_list(
            "offset_minutes", "channel", "for_start"
        )
    )


def set_sms(on: bool, offsets="48, 2"):
    config = SchedulingSettings.for_site(Site.objects.get(is_default_site=True))
    config.sms_reminders, config.reminder_offsets_hours = on, offsets
    config.save()


def test_due_offset_rules():
    start = timezone.now() + 100 * H
    booked = start - 100 * H
    offsets = [48 * H, 2 * H]
    assert due_offset(start=start, scheduled_at=booked, offsets=offsets, now=start - 49 * H) is None
    assert due_offset(start=start, scheduled_at=booked, offsets=offsets, now=start - 48 * H) == 48 * H
    assert due_offset(start=start, scheduled_at=booked, offsets=offsets, now=start - 3 * H) == 48 * H
    assert due_offset(start=start, scheduled_at=booked, offsets=offsets, now=start - H) == 2 * H
    assert due_offset(start=start, scheduled_at=booked, offsets=offsets, now=start) is None
    # Booked 10 h before: the 48 h moment was before the booking.
    assert due_offset(start=start, scheduled_at=start - 10 * H, offsets=offsets, now=start - 9 * H) is None
    assert due_offset(start=start, scheduled_at=start - 10 * H, offsets=offsets, now=start - H) == 2 * H


@pytest.mark.django_db
def test_48h_then_2h_at_their_times_each_once(clinic):
    set_sms(False)
    appointment = book(clinic, ahead(72 * H))
    start = appointment.start
    assert send_due_reminders(now=start - 49 * H) == 0
    assert send_due_reminders(now=start - 47 * H) == 1
    assert send_due_reminders(now=start - 46 * H) == 0  # already sent
    assert send_due_reminders(now=start - 3 * H) == 0
    assert send_due_reminders(now=start - 119 * timedelta(minutes=1)) == 1
    assert send_due_reminders(now=start - 30 * timedelta(minutes=1)) == 0
    assert send_due_reminders(now=start + H) == 0
    assert sent(appointment) == [(120, "email", start), (2880, "email", start)]
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.to == ["rem@example.org"] and message.subject.startswith("Reminder: your appointment on")
    local = start.astimezone(clinic.location.zone)
    assert f"at {local.hour % 12 or 12}:{local:%M %p} Eastern Time" in message.body
    assert "Pat Needles" in message.body
    [link] = re.findall(r"https?://\S+/book/manage/(\S+)/", message.body)
    assert read_token(purpose=Purpose.MANAGE_BOOKING, token=link) == appointment.pk
    for private in (clinic.patient.first_name, clinic.patient.last_name, "Follow-up (test)", "5550166"):
        assert private not in message.message().as_string()


@pytest.mark.django_db
def test_booked_10_hours_ahead_gets_no_48h_reminder_only_the_2h_one(clinic):
    set_sms(False)
    appointment = book(clinic, ahead(10 * H))
    start = appointment.start
    assert send_due_reminders(now=timezone.now()) == 0
    assert send_due_reminders(now=start - 5 * H) == 0
    assert send_due_reminders(now=start - 2 * H + timedelta(minutes=1)) == 1
    assert [row[0] for row in sent(appointment)] == [120]


@pytest.mark.django_db
def test_after_an_outage_only_the_latest_due_offset_is_sent_never_a_stale_one(clinic):
    set_sms(False)
    appointment = book(clinic, ahead(72 * H))
    start = appointment.start
    assert send_due_reminders(now=start - H) == 1  # the worker was down at 48 h and at 2 h
    assert send_due_reminders(now=start - 30 * timedelta(minutes=1)) == 0
    assert [row[0] for row in sent(appointment)] == [120]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_cancelled_and_no_show_appointments_get_no_reminder(clinic):
    set_sms(False)
    cancelled = book(clinic, ahead(72 * H))
    no_show = book(clinic, ahead(96 * H))
    cancelled.status, cancelled.cancellation_reason = AppointmentStatus.CANCELLED, "x"
    cancelled.save()
    no_show.status = AppointmentStatus.NO_SHOW
    no_show.save()
    for appointment in (cancelled, no_show):
        assert send_due_reminders(now=appointment.start - H) == 0
    assert not SentReminder.objects.exists() and not mail.outbox


@pytest.mark.django_db
def test_a_moved_appointment_gets_reminders_for_its_new_time(clinic):
    set_sms(False)
    appointment = book(clinic, ahead(72 * H))
    old_start = appointment.start
    assert send_due_reminders(now=old_start - 47 * H) == 1
    # The move (as a move service does: new times and one audited change), made now.
    window = window_for(clinic.follow_up, old_start + 24 * H)
    appointment.start, appointment.end, appointment.blocked_until = (
        window.start,
        window.end,
        window.blocked_until,
    )
    appointment.save()
    audit.record(actor=None, action=AuditEvent.Action.CHANGE, obj=appointment, detail="moved")
    new_start = appointment.start
    assert send_due_reminders(now=new_start - 47 * H) == 1
    assert send_due_reminders(now=new_start - H) == 1
    assert sent(appointment) == [
        (120, "email", new_start),
        (2880, "email", old_start),
        (2880, "email", new_start),
    ]
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_moved_to_10_hours_ahead_gets_no_48h_reminder(clinic):
    set_sms(False)
    appointment = book(clinic, ahead(72 * H))
    window = window_for(clinic.follow_up, ahead(10 * H))
    appointment.start, appointment.end, appointment.blocked_until = (
        window.start,
        window.end,
        window.blocked_until,
    )
    appointment.save()
    audit.record(actor=None, action=AuditEvent.Action.CHANGE, obj=appointment, detail="moved")
    assert send_due_reminders(now=timezone.now() + timedelta(minutes=1)) == 0
    assert send_due_reminders(now=appointment.start - H) == 1


@pytest.mark.django_db
def test_text_messages_when_enabled_and_the_patient_has_a_phone(clinic, sms_outbox):  # noqa: F811
    set_sms(True)
    with_phone = book(clinic, ahead(72 * H))
    clinic.other_patient.email = ""
    clinic.other_patient.phone = ""
    clinic.other_patient.save()
    without_anything = book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.other_practitioner,
        room=clinic.other_room,
        appointment_type=clinic.follow_up,
        start=with_phone.start,
    )
    assert send_due_reminders(now=with_phone.start - 47 * H) == 2  # e-mail and text, for the one with both
    assert sorted(row[1] for row in sent(with_phone)) == ["email", "sms"]
    assert sent(without_anything) == []
    [text] = sms_outbox
    assert text.to == "+12125550166"
    assert "Pat Needles" in text.body and "Test clinic" in text.body and "http" in text.body
    assert "Eastern Time" in text.body
    for private in (clinic.patient.first_name, clinic.patient.last_name, "Follow-up (test)"):
        assert private not in text.body
    set_sms(False)
    assert send_due_reminders(now=with_phone.start - H) == 1  # e-mail only now
    assert len(sms_outbox) == 1


class FailingOnceBackend(EmailBackend):
    failures = 0

    def send_messages(self, messages):
        if FailingOnceBackend.failures == 0:
            FailingOnceBackend.failures += 1
            raise ConnectionRefusedError("mail server down")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_a_failed_send_leaves_no_claim_and_the_next_run_sends_it(clinic, settings):
    set_sms(False)
    appointment = book(clinic, ahead(72 * H))
    settings.EMAIL_BACKEND = f"{__name__}.FailingOnceBackend"
    FailingOnceBackend.failures = 0
    assert send_due_reminders(now=appointment.start - 47 * H) == 0
    assert sent(appointment) == [] and mail.outbox == []
    assert send_due_reminders(now=appointment.start - 46 * H) == 1
    assert [row[0] for row in sent(appointment)] == [2880] and len(mail.outbox) == 1
    assert SentReminder.objects.get(appointment=appointment).sending_until is None


@pytest.mark.django_db
def test_a_claim_being_sent_is_left_alone_and_a_dead_workers_claim_is_taken_over(clinic):
    set_sms(False)
    appointment = book(clinic, ahead(72 * H))
    now = appointment.start - 47 * H
    claim = SentReminder.objects.create(
        appointment=appointment,
        for_start=appointment.start,
        offset_minutes=48 * 60,
        channel=SentReminder.Channel.EMAIL,
        sending_until=timezone.now() + timedelta(minutes=5),  # another worker is sending it right now
    )
    assert send_due_reminders(now=now) == 0 and mail.outbox == []
    claim.sending_until = timezone.now() - timedelta(seconds=1)  # …and died: its lease ran out
    claim.save()
    assert send_due_reminders(now=now) == 1 and len(mail.outbox) == 1
    [row] = SentReminder.objects.filter(appointment=appointment)
    assert row.sending_until is None
    assert send_due_reminders(now=now) == 0 and len(mail.outbox) == 1


class BlockedBackend(EmailBackend):
    """A mail server that answers only once the test lets it (or after 10 s)."""

    talking = threading.Event()
    release = threading.Event()

    def send_messages(self, messages):
        BlockedBackend.talking.set()
        BlockedBackend.release.wait(timeout=10)
        return super().send_messages(messages)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_reminder_waiting_on_the_mail_server_holds_up_no_booking(tmp_path, settings):
    """On SQLite a transaction holds the one write lock: sending inside it made every booking wait for the mail
    server. A booking made while a reminder is being sent goes through at once, on both databases."""
    clinic = make_clinic(patients=2)  # text messages off: the default (no page tree after a flush to set it)
    appointment = book(clinic, ahead(72 * H), patient=clinic.patients[0])
    settings.EMAIL_BACKEND = f"{__name__}.BlockedBackend"
    BlockedBackend.talking.clear()
    BlockedBackend.release.clear()
    file_db = file_database_for_threads(tmp_path)
    outcome = {}

    def in_thread(name, work):
        return start_thread(file_db, outcome, name, work)

    worker = in_thread("reminders", lambda: send_due_reminders(now=appointment.start - 47 * H))
    try:
        assert BlockedBackend.talking.wait(timeout=30), "the reminder never reached the mail server"
        desk = in_thread(
            "booking",
            lambda: (
                book_appointment(
                    patient=clinic.patients[1],
                    practitioner=clinic.other_practitioner,
                    room=clinic.other_room,
                    appointment_type=clinic.follow_up,
                    start=ahead(96 * H),
                ).pk
            ),
        )
        desk.join(timeout=30)
        assert not BlockedBackend.release.is_set() and worker.is_alive()  # booked while the reminder waited
        assert isinstance(outcome["booking"], int), outcome["booking"]
    finally:
        BlockedBackend.release.set()
        worker.join(timeout=30)
    assert outcome["reminders"] == 1


class SlowBackend(EmailBackend):
    """Holds the sending transaction open a while, so concurrent runs overlap for certain."""

    def send_messages(self, messages):
        clock.sleep(0.3)
        return super().send_messages(messages)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_reminder_once(tmp_path, settings):
    clinic = make_clinic(patients=4)
    appointments = []
    for n, patient in enumerate(clinic.patients):
        patient.email = f"p{n}@example.org"
        patient.save()
        practitioner = clinic.practitioner if n % 2 == 0 else clinic.other_practitioner
        room = clinic.room if n % 2 == 0 else clinic.other_room
        appointments.append(
            book_appointment(
                patient=patient,
                practitioner=practitioner,
                room=room,
                appointment_type=clinic.follow_up,
                start=ahead(72 * H + n * H),
            )
        )
    now = appointments[-1].start - 47 * H  # the 48 h reminder of each is due
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    file_db = file_database_for_threads(tmp_path)
    runs = 4
    barrier = threading.Barrier(runs)
    results, errors = [], []

    def run():
        try:
            if file_db is not None:
                connections["default"].settings_dict = {
                    **connections["default"].settings_dict,
                    "NAME": file_db,
                }
            barrier.wait(timeout=60)
            results.append(send_due_reminders(now=now))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(results) == len(appointments)
    assert sorted(to for message in mail.outbox for to in message.to) == sorted(
        f"p{n}@example.org" for n in range(len(appointments))
    )
    if file_db is None:
        assert SentReminder.objects.count() == len(appointments)
    assert connection.vendor in ("sqlite", "postgresql")

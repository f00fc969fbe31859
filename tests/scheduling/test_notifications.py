"""Booking e-mails from the outbox: what the patient and the clinic receive, exactly once, retried when the mail
server is down, and never anything about the patient's health (or, to the clinic, the patient's name)."""

import re
import smtplib
from datetime import date, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import resolve
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from wagtail.models import Site

from acuclinic.accounts.patient_links import Purpose, read_token
from acuclinic.core import scheduler
from acuclinic.core.models import ClinicSettings
from acuclinic.scheduling import tasks
from acuclinic.scheduling.models import AppointmentNotification, SchedulingSettings
from acuclinic.scheduling.notifications import booking_manage_url
from acuclinic.scheduling.services import book_appointment, cancel_appointment, local_start
from acuclinic.scheduling.tasks import requeue_unsent_notifications, send_appointment_notification

from .notify_helpers import calendar_part

pytestmark = pytest.mark.django_db

Kind = AppointmentNotification.Kind
TASK_PATH = "acuclinic.scheduling.tasks.send_appointment_notification"


@pytest.fixture
def patient(clinic):
    p = clinic.patient
    p.first_name, p.last_name, p.email, p.phone = "Quinta", "Zebedee", "quinta@example.org", "+12125550177"
    p.save()
    return p


def book_and_notify(clinic, *, online=True, day=date(2026, 12, 1), at=time(10, 30)):
    """Book as the patient online (or the desk) would; the booking service queues the e-mails (notify)."""
    start = local_start(clinic.location, day, at)
    appointment = book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.first_visit,  # new patients may book it online
        start=start,
        online=online,
        now=start - timedelta(days=5),
    )
    rows = AppointmentNotification.objects.filter(appointment=appointment)
    return appointment, {row.kind: row for row in rows}


def send(row) -> str:
    return send_appointment_notification.call(row.pk)


def settings_of_site():
    site = Site.objects.get(is_default_site=True)
    return SchedulingSettings.for_site(site), ClinicSettings.for_site(site)


def test_patient_confirmation_has_local_time_place_practitioner_preparation_ics_and_manage_link(
    clinic, patient
):
    clinic.location.address = "1 Test Street\nNew York, NY 10001"
    clinic.location.save()
    appointment, rows = book_and_notify(clinic)
    assert set(rows) == {Kind.PATIENT_CONFIRMATION, Kind.CLINIC_BOOKED}
    assert send(rows[Kind.PATIENT_CONFIRMATION]) == "sent"

    [message] = mail.outbox
    assert message.to == ["quinta@example.org"]
    assert "Tue Dec 1 at 10:30 AM Eastern Time" in message.subject
    body = message.body
    assert "When: Tuesday, December 1, 2026 at 10:30 AM Eastern Time (60 minutes)" in body
    assert "Where: Test clinic, 1 Test Street, New York, NY 10001" in body
    assert "With: Pat Needles, L.Ac." in body
    assert "How to prepare" in body and "arrive 10 minutes early" in body
    # The manage link: absolute, and its token names this appointment for the manage-booking purpose only.
    # (Tokens carry their signing time, so the link is read from the mail, not made again.)
    [link] = re.findall(r"https?://\S+/book/manage/\S+", body)
    assert link.startswith(booking_manage_url(appointment).rsplit("/manage/", 1)[0])
    match = resolve(urlsplit(link).path)
    assert match.url_name == "booking_manage"
    assert read_token(purpose=Purpose.MANAGE_BOOKING, token=match.kwargs["token"]) == appointment.pk
    # The calendar file: text/calendar; method=REQUEST, the same time, the same place.
    content_type, filename, calendar = calendar_part(message)
    assert content_type.startswith("text/calendar") and "method" in content_type and "REQUEST" in content_type
    assert filename == "appointment.ics"
    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert (
        event.decoded("DTSTART").astimezone(clinic.location.zone).strftime("%Y-%m-%d %H:%M")
        == "2026-12-01 10:30"
    )
    # Nothing about the visit's reason or the patient's person beyond the address it is sent to.
    text = message.message().as_string()
    for private in ("Quinta", "Zebedee", "5550177", "First visit (test)"):
        assert private not in text
    rows[Kind.PATIENT_CONFIRMATION].refresh_from_db()
    assert rows[Kind.PATIENT_CONFIRMATION].sent_at is not None


def test_clinic_mail_carries_references_only_to_the_staff_address_or_else_the_clinic_email(clinic, patient):
    scheduling, clinic_settings = settings_of_site()
    scheduling.staff_notification_email = "desk@acuclinic.example"
    scheduling.save()
    appointment, rows = book_and_notify(clinic)
    assert send(rows[Kind.CLINIC_BOOKED]) == "sent"
    [message] = mail.outbox
    assert message.to == ["desk@acuclinic.example"]
    assert message.subject.startswith(f"[Online booking] Appointment #{appointment.pk}")
    assert "Tuesday, December 1, 2026 at 10:30 AM Eastern Time" in message.body
    assert "Pat Needles" in message.body and "/admin/" in message.body
    text = message.message().as_string()
    for private in ("Quinta", "Zebedee", "quinta@example.org", "5550177", "First visit (test)"):
        assert private not in text
    assert not message.attachments

    scheduling.staff_notification_email = ""
    scheduling.save()
    _, rows = book_and_notify(clinic, day=date(2026, 12, 2))
    send(rows[Kind.CLINIC_BOOKED])
    assert mail.outbox[-1].to == [clinic_settings.contact_email] and clinic_settings.contact_email


def test_cancellation_sends_method_cancel_and_never_the_reason(clinic, patient):
    appointment, rows = book_and_notify(clinic)
    for row in rows.values():
        send(row)
    first_uid = str(calendar_part(mail.outbox[0])[2].walk("VEVENT")[0]["UID"])
    appointment = cancel_appointment(
        appointment=appointment, by=None, reason="sciatica flare-up", online=True
    )
    rows = {
        r.kind: r
        for r in AppointmentNotification.objects.filter(
            appointment=appointment, kind__in=[Kind.PATIENT_CANCELLED, Kind.CLINIC_CANCELLED]
        )
    }
    assert send(rows[Kind.PATIENT_CANCELLED]) == "sent"
    assert send(rows[Kind.CLINIC_CANCELLED]) == "sent"
    patient_mail, clinic_mail = mail.outbox[-2:]
    assert patient_mail.subject.startswith(
        "Cancelled: your appointment on Tue Dec 1 at 10:30 AM Eastern Time"
    )
    content_type, _, calendar = calendar_part(patient_mail)
    assert "CANCEL" in content_type
    assert calendar["METHOD"] == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert (
        event["STATUS"] == "CANCELLED" and str(event["UID"]) == first_uid and event.decoded("SEQUENCE") == 1
    )
    assert clinic_mail.subject.startswith("[Online cancellation]")
    for message in (patient_mail, clinic_mail):
        assert "sciatica" not in message.message().as_string()


def test_desk_booking_tells_the_patient_only(clinic, patient):
    _, rows = book_and_notify(clinic, online=False)
    assert set(rows) == {Kind.PATIENT_CONFIRMATION}


def test_notify_queues_the_sending_task_once_committed(clinic, patient, django_capture_on_commit_callbacks):
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        _, rows = book_and_notify(clinic)
    queued = sorted(r.args_kwargs["args"][0] for r in DBTaskResult.objects.filter(task_path=TASK_PATH))
    assert queued == sorted(row.pk for row in rows.values())


def test_sent_once_however_often_the_task_runs(clinic, patient):
    _, rows = book_and_notify(clinic)
    row = rows[Kind.PATIENT_CONFIRMATION]
    assert [send(row), send(row), send(row)] == ["sent", "already sent", "already sent"]
    assert len(mail.outbox) == 1


class DownBackend(EmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("down")


def test_mail_server_down_schedules_a_retry_with_backoff_then_sends(
    clinic, patient, settings, django_capture_on_commit_callbacks
):
    _, rows = book_and_notify(clinic)
    row = rows[Kind.PATIENT_CONFIRMATION]
    DBTaskResult.objects.all().delete()
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert send(row) == "retry scheduled"
    row.refresh_from_db()
    assert row.sent_at is None and row.attempts == 1 and row.last_error == "SMTPServerDisconnected"
    [retry] = DBTaskResult.objects.filter(task_path=TASK_PATH)
    assert retry.run_after >= before + timedelta(seconds=15)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send(row) == "sent"
    row.refresh_from_db()
    assert row.attempts == 2 and row.last_error == "" and len(mail.outbox) == 1


def test_no_clinic_address_configured_keeps_the_mail_and_retries(clinic, patient):
    scheduling, clinic_settings = settings_of_site()
    scheduling.staff_notification_email = ""
    scheduling.save()
    clinic_settings.contact_email = ""
    clinic_settings.save()
    _, rows = book_and_notify(clinic)
    assert send(rows[Kind.CLINIC_BOOKED]) == "no recipient"
    rows[Kind.CLINIC_BOOKED].refresh_from_db()
    assert rows[Kind.CLINIC_BOOKED].sent_at is None and not mail.outbox


def test_a_confirmation_still_unsent_when_the_booking_is_cancelled_is_not_sent(clinic, patient):
    appointment, rows = book_and_notify(clinic)
    cancel_appointment(appointment=appointment, by=None, reason="changed plans")
    assert send(rows[Kind.PATIENT_CONFIRMATION]) == "superseded by the cancellation"
    assert not mail.outbox
    assert send(rows[Kind.CLINIC_BOOKED]) == "sent"  # the clinic still learns it was booked (then cancelled)


def test_stranded_rows_are_queued_again_and_the_sweep_is_scheduled(clinic, patient):
    _, rows = book_and_notify(clinic)
    DBTaskResult.objects.all().delete()
    AppointmentNotification.objects.update(created_at=timezone.now() - timedelta(minutes=20))
    send(rows[Kind.CLINIC_BOOKED])
    assert requeue_unsent_notifications.call() == 1
    [queued] = DBTaskResult.objects.filter(task_path=TASK_PATH)
    assert queued.args_kwargs["args"] == [rows[Kind.PATIENT_CONFIRMATION].pk]
    jobs = scheduler.JOBS
    assert jobs["requeue-unsent-appointment-notifications"].get_task() is tasks.requeue_unsent_notifications
    assert jobs["appointment-reminders"].get_task() is tasks.send_due_reminders

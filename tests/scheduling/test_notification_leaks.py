"""No health details, names or contact details in booking e-mails, reminders, text messages, the calendar feed or
the logs written while sending them (the style of tests/security/test_no_health_data_leaks.py).

A unique mark goes into the patient's name, e-mail address and phone number and into the cancellation reason; the
booking, a move and a cancellation go through the outbox and the real database worker, reminders go out by e-mail
and text message, and the feed is read. Only the To of a message sent to the patient may hold their address.
"""

import io
from datetime import time, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from wagtail.models import Site

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.scheduling import feed
from acuclinic.scheduling.models import AppointmentNotification, SchedulingSettings
from acuclinic.scheduling.notifications import Event, notify
from acuclinic.scheduling.reminders import send_due_reminders
from acuclinic.scheduling.services import book_appointment, cancel_appointment, local_start, window_for
from acuclinic.scheduling.sms import ConsoleBackend, SmsMessage
from tests.security.test_no_health_data_leaks import Mark, logs, mail_text  # noqa: F401 - fixture

from .notify_helpers import sms_outbox  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

TASK_PATH = "acuclinic.scheduling.tasks.send_appointment_notification"


@pytest.fixture
def mark():
    return Mark()


@pytest.fixture
def run_worker(monkeypatch, django_capture_on_commit_callbacks):
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run():
        DBTaskResult.objects.exclude(task_path=TASK_PATH).delete()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("db_worker", "--batch", "--no-reload", "--interval", "0", "--no-startup-delay")

    return run


def test_marked_patient_data_never_reaches_mails_texts_feed_or_logs(
    clinic,
    mark,
    logs,  # noqa: F811 - the imported fixture
    sms_outbox,  # noqa: F811
    run_worker,
    django_capture_on_commit_callbacks,
):
    patient = clinic.patient
    patient.first_name, patient.last_name = mark.text, mark.text
    patient.email, patient.phone = mark.email, mark.phone
    patient.save()
    config = SchedulingSettings.for_site(Site.objects.get(is_default_site=True))
    config.sms_reminders = True
    config.save()
    day = timezone.localtime(timezone.now(), clinic.location.zone).date() + timedelta(days=3)
    start = local_start(clinic.location, day, time(10, 0))

    with django_capture_on_commit_callbacks(execute=True):
        appointment = book_appointment(  # online: the service queues the patient's and the clinic's e-mails
            patient=patient,
            practitioner=clinic.practitioner,
            room=clinic.room,
            appointment_type=clinic.first_visit,
            start=start,
            online=True,
        )
    run_worker()
    # Reminders for the booked time, by e-mail and text.
    assert send_due_reminders(now=appointment.start - timedelta(hours=47)) == 2

    # Moved (as a move service does) and told; then reminded for the new time; then cancelled with a marked reason.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        window = window_for(clinic.first_visit, appointment.start + timedelta(days=1))
        appointment.start, appointment.end = window.start, window.end
        appointment.blocked_until = window.blocked_until
        appointment.save()
        audit.record(actor=None, action=AuditEvent.Action.CHANGE, obj=appointment, detail="moved")
        notify(appointment=appointment, event=Event.RESCHEDULED, online=True)
    run_worker()
    assert send_due_reminders(now=appointment.start - timedelta(hours=1)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        appointment = cancel_appointment(
            appointment=appointment, by=None, reason=f"{mark.text} sciatica", online=True
        )
    run_worker()

    assert not AppointmentNotification.objects.filter(sent_at__isnull=True).exists()
    kinds = sorted(AppointmentNotification.objects.values_list("kind", flat=True))
    assert len(kinds) == 6
    assert len(mail.outbox) == 8 and len(sms_outbox) == 2  # 6 booking e-mails, 2 e-mail and 2 text reminders
    for message in mail.outbox:
        text = mail_text(message)
        assert not mark.found_in(text), text
        assert "sciatica" not in text
    for text in sms_outbox:
        assert not mark.found_in(text.body) and "sciatica" not in text.body

    # The feed of a booked (not cancelled) appointment: initials only.
    book_appointment(
        patient=patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start + timedelta(days=5),
    )
    token = feed.create_feed_token(practitioner=clinic.practitioner, by=None)
    response = Client().get(reverse("scheduling_calendar_feed", kwargs={"token": token}))
    assert response.status_code == 200 and b"VEVENT" in response.content
    assert not mark.found_in(response.content.decode())

    log = logs.getvalue()
    assert "appointment notification sent" in log and "reminder sent" in log
    for line in log.splitlines():
        assert not mark.found_in(line), line
        assert "sciatica" not in line


def test_console_text_backend_masks_the_number():
    stream = io.StringIO()
    ConsoleBackend(stream=stream).send_messages([SmsMessage(to="+12125550123", body="Reminder: Tue at 10")])
    output = stream.getvalue()
    assert "Reminder: Tue at 10" in output and "5550123" not in output and "…23" in output

"""Notifications against a real SMTP server (aiosmtpd on a loopback port).

A request is never lost and its e-mail is sent once: through a mail-server outage, retries with backoff,
duplicate task runs and two workers at once.
"""

import asyncio
import email
import email.policy
import json
import logging
import socket
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from acuclinic.appointments import tasks
from acuclinic.appointments.models import AppointmentRequest, RequestNotification
from acuclinic.appointments.services import submit_appointment_request
from acuclinic.appointments.tasks import (
    BACKOFF_FIRST_SECONDS,
    BACKOFF_MAX_SECONDS,
    backoff,
    send_request_notification,
)

URL = "/request-appointment/"
TASK_PATH = "acuclinic.appointments.tasks.send_request_notification"
# Everything a patient typed or answered that must never reach a log line of the worker.
HEALTH_DETAILS = (
    "QZXMARK",
    "numbness",
    "saddle",
    "Maria",
    "Lopez",
    "1961",
    "2125550199",
    "555-0199",
    "maria@example.org",
    "lower_back",
    "Acme",
    "bladder",
    "emergency",
)


# --- a real SMTP server ------------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler: keeps every message accepted; `delay` makes the server slow to accept one."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []
        self.delay = 0.0
        self.receiving = threading.Event()  # set once a message is being received

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.receiving.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


class SMTPServer:
    """A real SMTP server on a loopback port, created down: until start(), connecting to it is refused."""

    def __init__(self):
        self.inbox = Inbox()
        # Hold the port (bound, not listening: connections are refused) so that nothing else takes it.
        self._placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._placeholder.bind(("127.0.0.1", 0))
        self.port = self._placeholder.getsockname()[1]
        self.controller = None

    def start(self):
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, ready_timeout=5)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None


@pytest.fixture
def smtp(settings):
    server = SMTPServer()  # created stopped: the mail server is down until a test starts it
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2
    yield server
    server.stop()


@pytest.fixture
def worker(monkeypatch, django_capture_on_commit_callbacks):
    """`manage.py db_worker --batch`, once, inside the test's transaction.

    Between tasks the worker drops stale connections; here the connection holds the test's transaction (on
    PostgreSQL it would be closed), so that is switched off. What a commit triggers (the retry the task queues
    on commit) runs as after a real commit. test_two_workers_at_once_… runs real workers on committed data.
    """
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    # Loading the demo pages queued search-index tasks; they are not what these tests are about.
    DBTaskResult.objects.exclude(task_path=TASK_PATH).delete()

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            call_command(
                "db_worker", "--batch", "--no-reload", "--interval", "0", "--no-startup-delay", verbosity=1
            )

    return run


@pytest.fixture
def submit(client, valid_post, django_capture_on_commit_callbacks):
    """Send the public form as a patient would; the commit queues the notification task."""

    def post(**overrides):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, valid_post(**overrides))
        assert response.status_code == 302, response.content
        return AppointmentRequest.objects.latest("pk")

    return post


def queued_retries():
    return DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY")


def time_passes_until_the_retry_is_due():
    """What the clock does between two worker runs: the queued retry's run_after is reached."""
    assert queued_retries().update(run_after=timezone.now() - timedelta(seconds=1)) >= 1


# --- the outage --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_mail_server_down_then_back_sends_exactly_one_email(demo, smtp, submit, worker, caplog):
    caplog.set_level(logging.INFO)
    request = submit(flag_saddle_numbness="yes", message="QZXMARK numbness since Tuesday")
    notification = RequestNotification.objects.get(request=request)
    assert request.urgency == "emergency" and notification.attempts == 0

    # The mail server is down: the request is stored, the e-mail is not sent, a retry is queued with backoff.
    worker()
    assert AppointmentRequest.objects.filter(pk=request.pk).exists()
    notification.refresh_from_db()
    assert notification.attempts == 1 and notification.sent_at is None
    assert notification.last_error == "ConnectionRefusedError"
    retry = queued_retries().get()
    assert retry.args_kwargs == {"args": [notification.pk], "kwargs": {}}
    assert retry.run_after > timezone.now()
    delay = retry.run_after - retry.enqueued_at  # queued when the attempt failed, to run 15 s later
    assert (
        timedelta(seconds=BACKOFF_FIRST_SECONDS - 1) <= delay <= timedelta(seconds=BACKOFF_FIRST_SECONDS + 1)
    )

    # Running the worker again before the retry is due does nothing.
    worker()
    notification.refresh_from_db()
    assert notification.attempts == 1 and queued_retries().count() == 1

    # The server is back and the retry is due: exactly one e-mail arrives.
    smtp.start()
    time_passes_until_the_retry_is_due()
    worker()
    assert len(smtp.inbox.messages) == 1
    notification.refresh_from_db()
    assert notification.sent_at is not None and notification.attempts == 2 and notification.last_error == ""
    assert not queued_retries().exists()

    message = smtp.inbox.messages[0]
    assert smtp.inbox.envelopes[0].rcpt_tos == ["frontdesk@acuclinic.example"]
    assert request.reference in message["Subject"] and message["Subject"].strip().startswith("[Emergency")
    text = message["Subject"] + message.get_content()
    for detail in ("QZXMARK", "numbness", "saddle", "Lopez", "1961", "555-0199", "Acme"):
        assert detail.lower() not in text.lower(), detail

    # The worker runs again (and again, with the task queued once more): still one e-mail.
    worker()
    send_request_notification.enqueue(notification.pk)
    worker()
    assert len(smtp.inbox.messages) == 1
    notification.refresh_from_db()
    assert notification.attempts == 2
    assert DBTaskResult.objects.filter(task_path=TASK_PATH, return_value="already sent").count() == 1

    # No worker log line carries anything of the patient's health or identity.
    lines = worker_log_lines(caplog)
    assert any("will retry" in line and request.reference in line for line in lines)
    assert any("notification sent" in line and request.reference in line for line in lines)
    for line in lines:
        for detail in HEALTH_DETAILS:
            assert detail.lower() not in line.lower(), (detail, line)


def worker_log_lines(caplog) -> list[str]:
    """Each record of the worker (task and queue loggers), formatted as settings.LOGGING writes it."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    config = settings.LOGGING["formatters"]["json"]
    formatter = import_string(config["()"])(fmt=config["format"], rename_fields=config["rename_fields"])
    worker_loggers = ("acuclinic.appointments.tasks", "django_tasks", "django_tasks_db")
    lines = [formatter.format(r) for r in caplog.records if r.name.startswith(worker_loggers)]
    assert lines and all(json.loads(line) for line in lines)
    return lines


@pytest.mark.django_db
def test_retries_back_off_exponentially_while_the_server_stays_down(demo, smtp, submit, worker):
    request = submit()
    notification = RequestNotification.objects.get(request=request)
    delays = []
    for attempt in range(1, 5):
        if attempt > 1:
            time_passes_until_the_retry_is_due()
        worker()
        notification.refresh_from_db()
        assert notification.attempts == attempt and notification.sent_at is None
        retry = queued_retries().get()
        delays.append((retry.run_after - retry.enqueued_at).total_seconds())
    expected = [BACKOFF_FIRST_SECONDS * 2**n for n in range(4)]  # 15, 30, 60, 120 seconds
    assert all(e - 1 <= d <= e + 1 for d, e in zip(delays, expected, strict=True)), delays
    smtp.start()
    time_passes_until_the_retry_is_due()
    worker()
    assert len(smtp.inbox.messages) == 1
    notification.refresh_from_db()
    assert notification.attempts == 5 and notification.sent_at is not None


@pytest.mark.django_db
def test_a_mail_server_that_hangs_times_out_and_is_retried(demo, smtp, submit, worker, settings):
    settings.EMAIL_TIMEOUT = 0.5
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:  # accepts connections, never says hello
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        settings.EMAIL_PORT = silent.getsockname()[1]
        request = submit()
        started = time.monotonic()
        worker()
        assert time.monotonic() - started < 5
    notification = RequestNotification.objects.get(request=request)
    assert (
        notification.attempts == 1
        and notification.sent_at is None
        and notification.last_error
        in (
            "SMTPServerDisconnected",  # smtplib's word for "timed out waiting for the greeting"
            "TimeoutError",
        )
    )
    assert queued_retries().count() == 1


@pytest.mark.django_db
def test_patient_acknowledgement_and_clinic_email_each_sent_once(demo, smtp, submit, worker):
    smtp.start()
    request = submit(wants_email_acknowledgement="on")
    worker()
    worker()
    assert sorted(e.rcpt_tos[0] for e in smtp.inbox.envelopes) == [
        "frontdesk@acuclinic.example",
        "maria@example.org",
    ]
    assert all(request.reference in m["Subject"] for m in smtp.inbox.messages)
    assert RequestNotification.objects.filter(request=request, sent_at__isnull=False).count() == 2


# --- the same notification run twice -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_notification_queued_twice_is_sent_once(demo, smtp, submit, worker):
    smtp.start()
    request = submit()
    notification = RequestNotification.objects.get(request=request)
    send_request_notification.enqueue(notification.pk)  # a duplicate task for the same e-mail
    assert DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").count() == 2
    worker()
    assert len(smtp.inbox.messages) == 1
    results = sorted(DBTaskResult.objects.filter(task_path=TASK_PATH).values_list("return_value", flat=True))
    assert results == ["already sent", "sent"]
    notification.refresh_from_db()
    assert notification.attempts == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_the_same_notification_once(smtp, settings):
    """Two worker processes pick up two tasks for the same e-mail at the same moment: one e-mail."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "needs a database server with concurrent connections (run with DATABASE_URL=postgres://…)"
        )
    from django_tasks_db.management.commands.db_worker import Worker

    settings.APPOINTMENTS_INBOX_EMAIL = (
        "desk@clinic.example"  # the page tree (and its clinic settings) may be gone
    )
    smtp.inbox.delay = 1.0  # the first worker is still talking to the server when the second one starts
    smtp.start()
    submission = submit_appointment_request(  # committed: its notification task is queued on commit
        fields=request_fields(), red_flag_answers={}, preferred_times=[], today=timezone.localdate()
    )
    notification = RequestNotification.objects.get(request=submission.request)
    send_request_notification.enqueue(notification.pk)
    DBTaskResult.objects.exclude(
        task_path=TASK_PATH
    ).delete()  # e.g. search-index tasks from loading demo pages
    assert DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").count() == 2

    barrier = threading.Barrier(2)
    errors = []

    def one_worker(worker_id):
        try:
            barrier.wait(timeout=10)
            Worker(
                queue_names=["default"],
                interval=0,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=1,
                worker_id=worker_id,
                excluded_queue_names=[],
            ).run()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_worker, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    finished = DBTaskResult.objects.filter(task_path=TASK_PATH)
    # The second finds the first's lease while it talks to the mail server (or, if it came late, the row sent).
    assert sorted(finished.values_list("return_value", flat=True)) in (
        ["already sent", "sent"],
        ["being sent", "sent"],
    )
    assert sorted(tuple(r.worker_ids) for r in finished) == [("worker-0",), ("worker-1",)]
    assert len(smtp.inbox.messages) == 1 and smtp.inbox.envelopes[0].rcpt_tos == ["desk@clinic.example"]
    notification.refresh_from_db()
    assert notification.attempts == 1 and notification.sent_at is not None


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_slow_mail_server_never_locks_the_request_the_front_desk_works_on(smtp, settings):
    """While the worker waits for the mail server, it holds nothing of the appointment request: logging a call,
    ending the request or creating the patient (which lock the request) must not wait. The e-mail is leased."""
    if connection.vendor == "sqlite":
        pytest.skip("row locks need a database server (run with DATABASE_URL=postgres://…)")
    settings.APPOINTMENTS_INBOX_EMAIL = "desk@clinic.example"
    smtp.inbox.delay = 1.5  # under EMAIL_TIMEOUT (2 s)
    smtp.start()
    submission = submit_appointment_request(
        fields=request_fields(), red_flag_answers={}, preferred_times=[], today=timezone.localdate()
    )
    notification = RequestNotification.objects.get(request=submission.request)
    results = []

    def send():
        try:
            results.append(send_request_notification.call(notification.pk))
        finally:
            connection.close()

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert smtp.inbox.receiving.wait(timeout=10), "the worker never reached the mail server"
        with transaction.atomic():  # what services.log_contact_attempt does first
            AppointmentRequest.objects.select_for_update(nowait=True).get(pk=submission.request.pk)
        with transaction.atomic():  # no transaction is open while the mail server answers: no row lock
            leased = RequestNotification.objects.select_for_update(nowait=True).get(pk=notification.pk)
        assert (
            leased.sending_until is not None and leased.sent_at is None
        )  # …but a lease other workers respect
        assert send_request_notification.call(notification.pk) == "being sent"
    finally:
        sender.join(timeout=30)
    assert results == ["sent"] and len(smtp.inbox.messages) == 1
    notification.refresh_from_db()
    assert (
        notification.sent_at is not None and notification.sending_until is None and notification.attempts == 1
    )


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_slow_mail_server_holds_up_no_patients_submission(smtp, settings, tmp_path):
    """On SQLite a transaction holds the database's one write lock: the worker used to hold it for the whole SMTP
    conversation, and every patient's submission waited behind it (and past the busy timeout, failed). Now the
    submission is saved while the worker is still talking to the mail server, on both databases."""
    from tests.scheduling.test_race import file_database_for_threads, start_thread

    settings.APPOINTMENTS_INBOX_EMAIL = "desk@clinic.example"
    smtp.inbox.delay = 1.5  # under EMAIL_TIMEOUT (2 s)
    smtp.start()
    first = submit_appointment_request(
        fields=request_fields(), red_flag_answers={}, preferred_times=[], today=timezone.localdate()
    )
    notification_pk = RequestNotification.objects.get(request=first.request).pk
    file_db = file_database_for_threads(tmp_path)
    outcome = {}

    def in_thread(name, work):
        return start_thread(file_db, outcome, name, work)

    sender = in_thread("sender", lambda: send_request_notification.call(notification_pk))
    try:
        assert smtp.inbox.receiving.wait(timeout=10), "the worker never reached the mail server"
        patient = in_thread(
            "patient",
            lambda: (
                submit_appointment_request(
                    fields=request_fields(),
                    red_flag_answers={},
                    preferred_times=[],
                    today=timezone.localdate(),
                ).request.reference
            ),
        )
        patient.join(timeout=30)
        # Saved while the mail server had not yet accepted the e-mail: it did not wait for the worker.
        assert smtp.inbox.messages == [] and sender.is_alive()
        assert isinstance(outcome["patient"], str), outcome["patient"]
    finally:
        sender.join(timeout=30)
    assert outcome["sender"] == "sent" and len(smtp.inbox.messages) == 1


def request_fields() -> dict:
    from datetime import date

    return {
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": date(1961, 4, 27),
        "phone": "+12125550199",
        "email": "",
        "contact_method": "phone",
        "patient_status": "new",
        "reason": "lower_back",
        "reason_detail": "",
        "pain_duration": "chronic",
        "preferred_practitioner": None,
        "insurance_carrier": "",
        "insurance_member_id": "",
        "has_medicare": False,
        "message": "",
        "consent_to_contact": True,
        "wants_email_acknowledgement": False,
    }


# --- backoff -----------------------------------------------------------------------------------------------


def test_backoff_doubles_from_fifteen_seconds():
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [15, 30, 60, 120, 240, 480, 960, 1920]


def test_backoff_is_capped_at_an_hour():
    assert (
        backoff(9)
        == backoff(10)
        == backoff(100)
        == backoff(100_000)
        == timedelta(seconds=BACKOFF_MAX_SECONDS)
    )
    assert BACKOFF_MAX_SECONDS == 3600


def test_backoff_never_shrinks_and_starts_at_the_first_delay():
    assert backoff(0) == backoff(1) == backoff(-3) == timedelta(seconds=BACKOFF_FIRST_SECONDS)
    delays = [backoff(n) for n in range(0, 40)]
    assert delays == sorted(delays)


def test_the_task_module_keeps_its_documented_contract():
    assert tasks.send_request_notification.module_path == TASK_PATH


@pytest.mark.django_db
def test_a_stranded_notification_is_queued_again_and_sent_once(demo, valid_post, client):
    from datetime import timedelta

    from django.core import mail
    from django.test import override_settings
    from django.utils import timezone

    from acuclinic.appointments.tasks import requeue_unsent_notifications, send_request_notification
    from acuclinic.core.scheduler import JOBS, every

    client.post(
        "/request-appointment/", valid_post()
    )  # its on_commit enqueue never runs here: it is "stranded"
    notification = RequestNotification.objects.get()
    RequestNotification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        assert requeue_unsent_notifications.call() == 1
        send_request_notification.call(notification.pk)
        send_request_notification.call(notification.pk)
        assert requeue_unsent_notifications.call() == 0
    assert len(mail.outbox) == 1
    assert "requeue-unsent-request-notifications" in JOBS
    assert every(minutes=15)(timezone.now()) is not None

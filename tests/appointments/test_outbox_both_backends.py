"""The outbox's guarantees on both task backends (TASKS_BACKEND=database, the default, and rq: RQ on Redis).

Whatever carries the tasks: the task is queued only when the request is committed (never for a rolled-back
one), each e-mail goes out once however often its task runs, and a send the mail server refused is retried
later. The RQ half needs Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379/13) and is skipped without it;
its worker is RQ's own (SimpleWorker, burst: in this process, inside the test's transaction).
"""

import os
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from acuclinic.appointments.models import AppointmentRequest, RequestNotification
from acuclinic.appointments.tasks import send_request_notification

URL = "/request-appointment/"
TASK_PATH = "acuclinic.appointments.tasks.send_request_notification"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


class DatabaseQueue:
    """The default backend: task rows in the database, run by `manage.py db_worker --batch`."""

    name = "database"

    def __init__(self, monkeypatch):
        from django_tasks_db.management.commands import db_worker

        # Between tasks the worker drops stale connections; here the connection holds the test's transaction.
        monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
        DBTaskResult.objects.all().delete()  # the demo's search-index tasks are not what this is about

    def queued(self) -> int:
        return DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").count()

    def scheduled_later(self) -> int:
        return DBTaskResult.objects.filter(
            task_path=TASK_PATH, status="READY", run_after__gt=timezone.now()
        ).count()

    def time_passes(self):
        DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").update(
            run_after=timezone.now() - timedelta(seconds=1)
        )

    def work(self):
        call_command(
            "db_worker", "--batch", "--no-reload", "--interval", "0", "--no-startup-delay", verbosity=0
        )

    def close(self):
        pass


class RQQueue:
    """TASKS_BACKEND=rq: jobs in Redis, run by RQ's worker."""

    name = "rq"

    def __init__(self, settings, commits):
        import redis

        self.commits = commits  # the worker's own transactions commit (inside the test's, they are captured)

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        except redis.RedisError as exc:
            pytest.skip(
                f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}): the RQ backend is not tested"
            )
        settings.RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}
        settings.TASKS = {
            "default": {"BACKEND": "acuclinic.core.tasks_rq.OnCommitRQBackend", "QUEUES": ["default"]}
        }
        import django_rq
        from django_tasks_rq.backend import Job

        self.job_class = Job
        self.queue = django_rq.get_queue("default", job_class=Job)
        self.empty()

    def empty(self):
        self.queue.empty()
        for registry in (self.queue.scheduled_job_registry, self.queue.finished_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)

    def queued(self) -> int:
        return self.queue.count

    def scheduled_later(self) -> int:
        return self.queue.scheduled_job_registry.count

    def time_passes(self):
        """What RQ's scheduler (rqworker --with-scheduler) does once a retry's time has come."""
        registry = self.queue.scheduled_job_registry
        for job_id in registry.get_job_ids():
            job = self.job_class.fetch(job_id, connection=self.queue.connection)
            registry.remove(job)
            self.queue.enqueue_job(job)

    def work(self):
        from rq import SimpleWorker

        with self.commits(execute=True):
            self._work(SimpleWorker)

    def _work(self, SimpleWorker):  # noqa: N803
        class Worker(SimpleWorker):
            # No pub/sub channel for remote commands: stopping its listener thread at the end of a burst can
            # wait a minute on redis-py's thread (a worker of the cluster never stops after each burst).
            def subscribe(self):
                pass

            def unsubscribe(self):
                pass

        Worker([self.queue], connection=self.queue.connection, job_class=self.job_class).work(
            burst=True, with_scheduler=False, logging_level="WARNING"
        )

    def close(self):
        self.empty()


@pytest.fixture(params=["database", "rq"])
def backend(request, settings, monkeypatch, django_capture_on_commit_callbacks):
    queue = (
        DatabaseQueue(monkeypatch)
        if request.param == "database"
        else RQQueue(settings, django_capture_on_commit_callbacks)
    )
    yield queue
    queue.close()


@pytest.fixture
def mail_server_down_once(monkeypatch):
    """The first send fails as an unreachable mail server would; later ones go through."""
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages
    calls = []

    def flaky(self, messages):
        calls.append(len(messages))
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("connection lost")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    return calls


@pytest.mark.django_db
def test_queued_on_commit_sent_once_and_retried(
    backend, client, valid_post, mail_server_down_once, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as on_commit:
        response = client.post(URL, valid_post())
    assert response.status_code == 302
    request = AppointmentRequest.objects.latest("pk")
    notifications = list(RequestNotification.objects.filter(request=request))
    assert notifications, "the form queues at least the clinic's notification"
    assert backend.queued() == 0, f"{backend.name}: a task was queued before the request was committed"
    with django_capture_on_commit_callbacks(execute=True):  # the commit (which, on RQ, pushes the jobs)
        for callback in on_commit:
            callback()
    assert backend.queued() == len(notifications)

    backend.work()  # the mail server is down for the first send
    assert mail_server_down_once and len(mail.outbox) == len(notifications) - 1
    assert backend.scheduled_later() == 1, f"{backend.name}: the refused e-mail has no retry queued"

    backend.time_passes()
    backend.work()
    assert len(mail.outbox) == len(notifications)

    # The same tasks delivered again (a worker died after sending, a sweep ran twice): nothing goes twice.
    for notification in notifications:
        send_request_notification.enqueue(notification.pk)
    backend.work()
    assert len(mail.outbox) == len(notifications)
    rows = RequestNotification.objects.filter(request=request)
    assert all(row.sent_at for row in rows)
    assert sorted(row.attempts for row in rows) == sorted([1] * (len(notifications) - 1) + [2])


@pytest.mark.django_db
def test_nothing_is_queued_for_a_rolled_back_request(
    backend, client, valid_post, django_capture_on_commit_callbacks
):
    class Abandon(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abandon), transaction.atomic():
        client.post(URL, valid_post())
        assert AppointmentRequest.objects.exists()
        raise Abandon
    assert backend.queued() == 0

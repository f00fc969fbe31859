"""Periodic jobs run once per period across machines: two `run_scheduler` and two `db_worker` processes racing on
one PostgreSQL database (what two machines of the cluster run) enqueue each due job once per period, run each
enqueued job once, and send a due appointment reminder once.

Real processes against the test database; PostgreSQL only (SQLite is one machine's database by nature). About
ten seconds, most of it the processes starting.
"""

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from freezegun import freeze_time

from acuclinic.core.models import PeriodicRun
from acuclinic.core.scheduler import JOBS
from acuclinic.scheduling.models import SentReminder
from acuclinic.scheduling.services import book_appointment
from tests.scheduling.conftest import make_clinic

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


def database_url() -> str:
    s = connection.settings_dict
    credentials = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_and_two_workers_run_each_periodic_job_once(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: run with DATABASE_URL=postgres://… (make test does, when one is reachable)"
        )
    clinic = make_clinic(patients=1)
    clinic.patient.email = "periodic@example.org"
    clinic.patient.save()
    start = (timezone.now() + timedelta(hours=47)).replace(second=0, microsecond=0)
    with freeze_time(
        timezone.now() - timedelta(days=3)
    ):  # booked three days ago: the 48-hour reminder is due
        appointment = book_appointment(
            patient=clinic.patient,
            practitioner=clinic.practitioner,
            room=clinic.room,
            appointment_type=clinic.follow_up,
            start=start,
        )
    DBTaskResult.objects.all().delete()

    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "acuclinic.settings.base",
        "SECRET_KEY": "periodic-jobs-test-only-secret-key-0123456789-abcdefghijklmnop",
        "DATABASE_URL": database_url(),
        "ACUCLINIC_VAR_DIR": str(tmp_path),
        "TASKS_BACKEND": "database",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SMS_BACKEND": "acuclinic.scheduling.sms.ConsoleBackend",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    env.pop("REDIS_URL", None)
    manage = [sys.executable, str(PROJECT_DIR / "manage.py")]
    commands = [
        [*manage, "run_scheduler", "--interval", "0.3"],
        [*manage, "run_scheduler", "--interval", "0.3"],
        [*manage, "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
        [*manage, "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
    ]
    processes = [
        subprocess.Popen(command, env=env, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for command in commands
    ]
    try:
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, (
                "the periodic jobs were not all run within 60 s",
                list(PeriodicRun.objects.values_list("job", "period")),
                list(DBTaskResult.objects.values_list("task_path", "status")),
                list(SentReminder.objects.values_list("offset_minutes", "sent_at")),
            )
            assert all(p.poll() is None for p in processes), [p.stderr.read()[-2000:] for p in processes]
            claimed = PeriodicRun.objects.count()
            unfinished = DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).count()
            if claimed and not unfinished and SentReminder.objects.filter(sent_at__isnull=False).exists():
                time.sleep(1.5)  # the schedulers go on racing for a few more passes
                if not DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists():
                    break
            time.sleep(0.2)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    runs = Counter(PeriodicRun.objects.values_list("job", flat=True))
    assert runs, "no periodic job was enqueued"
    task_of = {name: job.task for name, job in JOBS.items()}
    results = Counter(DBTaskResult.objects.values_list("task_path", flat=True))
    for job, periods in runs.items():
        # One run per claimed period (a 5-minute boundary passed during the test makes that two), never more.
        assert results[task_of[job]] == periods, (job, periods, results[task_of[job]])
    assert not DBTaskResult.objects.filter(status="FAILED").exists()
    assert any(DBTaskResult.objects.values_list("worker_ids", flat=True)), "no worker ran anything"
    mails = "".join(p.read_text() for p in mail_dir.iterdir()) if mail_dir.exists() else ""
    sent = mails.count("Subject: Reminder: your appointment")
    assert sent == 1, f"{sent} reminder e-mails for one due reminder"
    assert SentReminder.objects.filter(appointment=appointment).count() == 1

"""The weekly e-mail to medical reviewers, and the scheduler that enqueues it once a week."""

import smtplib
import threading
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from freezegun import freeze_time
from wagtail.models import Site

from acuclinic.content.models import MedicalReview
from acuclinic.content.tasks import send_weekly_review_reminders
from acuclinic.content.templatetags.content_tags import review_date
from acuclinic.core import scheduler
from acuclinic.core.models import ClinicSettings, PeriodicRun
from acuclinic.core.scheduler import JOBS, PeriodicJob, enqueue_due_jobs, weekly


@pytest.fixture(autouse=True)
def only_the_weekly_job(monkeypatch):
    """These tests are about the weekly job; other registered jobs (the 15-minute sweep) would muddle them."""
    monkeypatch.setattr(scheduler, "JOBS", {"weekly-review-reminders": JOBS["weekly-review-reminders"]})


pytestmark = pytest.mark.django_db

TASK_PATH = "acuclinic.content.tasks.send_weekly_review_reminders"
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def enqueued_reminders():
    return DBTaskResult.objects.filter(task_path=TASK_PATH)


@pytest.fixture
def nothing_else_due(demo):
    """Push the demo articles' next reviews far out, so that only the test's own articles are due."""
    MedicalReview.objects.update(next_review_due=timezone.localdate() + timedelta(days=1000))


@pytest.fixture
def due(make_article, nothing_else_due):
    today = timezone.localdate()
    return {
        "overdue": make_article(
            "Overdue article",
            reviewed_on=today - timedelta(days=400),
            next_review_due=today - timedelta(days=3),
        ),
        "soon": make_article(
            "Soon article",
            reviewed_on=today - timedelta(days=340),
            next_review_due=today + timedelta(days=25),
        ),
        "never": make_article("Never reviewed article"),
        "later": make_article(
            "Later article",
            reviewed_on=today - timedelta(days=30),
            next_review_due=today + timedelta(days=31),
        ),
        "draft": make_article("Draft article", live=False),
    }


@pytest.fixture
def reviewers(reviewer, second_reviewer, editor):
    User = get_user_model()
    group = Group.objects.get(name="Medical reviewers")
    no_email = User.objects.create_user(username="no-email-reviewer", password="not-used-x1", email="")
    inactive = User.objects.create_user(
        username="gone-reviewer", password="not-used-x1", email="gone@example.org", is_active=False
    )
    for user in (no_email, inactive):
        user.groups.add(group)
    return [reviewer, second_reviewer]


def test_task_mails_each_reviewer_exactly_the_due_articles(due, reviewers, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://cms.acuclinic.example/"
    assert send_weekly_review_reminders.call() == 2

    assert sorted(message.to[0] for message in mail.outbox) == sorted(user.email for user in reviewers)
    assert all(len(message.to) == 1 and not message.cc and not message.bcc for message in mail.outbox)
    today = timezone.localdate()
    for message in mail.outbox:
        assert message.subject == "3 articles due for medical review"
        body = message.body
        for key in ("overdue", "soon", "never"):
            assert due[key].title in body
            assert f"https://cms.acuclinic.example/admin/pages/{due[key].pk}/edit/" in body
        assert "Later article" not in body and "Draft article" not in body
        assert f"Next review due: {review_date(today - timedelta(days=3))} (Overdue)" in body
        assert f"Next review due: {review_date(today + timedelta(days=25))} (Due in 25 days)" in body
        assert "Next review due: not set (Never reviewed)" in body
        assert "https://cms.acuclinic.example/admin/reports/articles-due-for-review/" in body
        # Never reviewed first, then by date.
        assert (
            body.index("Never reviewed article") < body.index("Overdue article") < body.index("Soon article")
        )
        # Every due article appears once; no article that is not due.
        assert body.count("/edit/") == 3


def test_task_sends_nothing_when_nothing_is_due(nothing_else_due, reviewers, make_article):
    make_article(
        "Later article",
        reviewed_on=timezone.localdate(),
        next_review_due=timezone.localdate() + timedelta(days=200),
    )
    assert send_weekly_review_reminders.call() == 0
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_task_runs_on_the_database_worker(due, reviewers):
    # A real commit: the worker closes and reopens database connections, as it does in production.
    result = send_weekly_review_reminders.enqueue()
    assert mail.outbox == []
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=StringIO(), stderr=StringIO()
    )
    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == 2
    assert len(mail.outbox) == 2


def test_a_refused_mail_is_retried_for_that_reviewer_only(due, reviewers, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages
    refused = reviewers[1].email

    def flaky(self, messages):
        if messages[0].to == [refused]:
            raise smtplib.SMTPRecipientsRefused({refused: (450, b"try later")})
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    assert send_weekly_review_reminders.call() == 1
    assert [m.to for m in mail.outbox] == [[reviewers[0].email]]
    retry = enqueued_reminders().get()
    assert retry.args_kwargs["kwargs"] == {"user_ids": [reviewers[1].pk], "attempt": 2}
    assert retry.run_after > timezone.now()


# --- The scheduler --------------------------------------------------------------------------------


def at_new_york(*args):
    return datetime(*args, tzinfo=NEW_YORK)


def test_weekly_period_is_the_iso_week_from_monday_0800_clinic_time(demo):
    period = weekly()
    assert period(at_new_york(2026, 11, 23, 7, 59)) is None  # Monday, 07:59
    assert period(at_new_york(2026, 11, 23, 8, 0)) == "2026-W48"
    assert period(at_new_york(2026, 11, 29, 23, 59)) == "2026-W48"  # Sunday night
    assert period(at_new_york(2026, 11, 30, 7, 0)) is None  # next Monday, too early
    assert period(at_new_york(2027, 1, 1, 12, 0)) == "2026-W53"  # ISO year, not calendar year
    assert period(at_new_york(2027, 1, 4, 9, 0)) == "2027-W01"
    # 12:30 UTC on a winter Monday is 07:30 in New York: not yet.
    assert period(datetime(2026, 11, 23, 12, 30, tzinfo=UTC)) is None
    assert period(datetime(2026, 11, 23, 13, 0, tzinfo=UTC)) == "2026-W48"
    # Summer time: 08:00 EDT is 12:00 UTC.
    assert period(datetime(2026, 6, 1, 11, 59, tzinfo=UTC)) is None
    assert period(datetime(2026, 6, 1, 12, 0, tzinfo=UTC)) == "2026-W23"


def test_the_weekly_job_uses_the_clinic_time_zone(demo):
    clinic = ClinicSettings.for_site(Site.objects.get(is_default_site=True))
    clinic.time_zone = "America/Los_Angeles"
    clinic.save()
    period = JOBS["weekly-review-reminders"].period
    assert period(at_new_york(2026, 11, 23, 9, 0)) is None  # 06:00 in Los Angeles
    assert period(at_new_york(2026, 11, 23, 11, 0)) == "2026-W48"  # 08:00 in Los Angeles


def test_scheduler_enqueues_the_weekly_e_mail_once_a_week(demo):
    assert enqueue_due_jobs(at_new_york(2026, 11, 23, 7, 30)) == []
    assert not enqueued_reminders().exists() and not PeriodicRun.objects.exists()

    assert enqueue_due_jobs(at_new_york(2026, 11, 23, 8, 1)) == [("weekly-review-reminders", "2026-W48")]
    assert enqueued_reminders().count() == 1
    assert PeriodicRun.objects.get().period == "2026-W48"

    # Every later pass that week finds the week claimed.
    for moment in (
        at_new_york(2026, 11, 23, 8, 2),
        at_new_york(2026, 11, 25, 14, 0),
        at_new_york(2026, 11, 29, 23, 0),
    ):
        assert enqueue_due_jobs(moment) == []
    assert enqueued_reminders().count() == 1

    # Next Monday: not before 08:00, then once.
    assert enqueue_due_jobs(at_new_york(2026, 11, 30, 7, 59)) == []
    assert enqueue_due_jobs(at_new_york(2026, 11, 30, 8, 0)) == [("weekly-review-reminders", "2026-W49")]
    assert enqueue_due_jobs(at_new_york(2026, 11, 30, 8, 1)) == []
    assert enqueued_reminders().count() == 2
    assert sorted(PeriodicRun.objects.values_list("period", flat=True)) == ["2026-W48", "2026-W49"]


def test_a_scheduler_started_late_in_the_week_still_sends_that_week(demo):
    assert enqueue_due_jobs(at_new_york(2026, 11, 26, 15, 0)) == [("weekly-review-reminders", "2026-W48")]


def test_a_failed_enqueue_leaves_the_period_unclaimed(demo):
    class BrokenTask:
        def enqueue(self):
            raise RuntimeError("task backend down")

    job = PeriodicJob(name="broken", period=weekly(), task=BrokenTask())
    with pytest.raises(RuntimeError):
        enqueue_due_jobs(at_new_york(2026, 11, 23, 9, 0), jobs=[job])
    assert not PeriodicRun.objects.filter(job="broken").exists()


def test_run_scheduler_once(demo):
    out = StringIO()
    with freeze_time("2026-11-23 13:05:00+00:00"):  # Monday 08:05 in New York
        call_command("run_scheduler", "--once", stdout=out)
        call_command("run_scheduler", "--once", stdout=out)
    assert out.getvalue() == "enqueued weekly-review-reminders for 2026-W48\n"
    assert enqueued_reminders().count() == 1


def test_before_monday_morning_the_command_enqueues_nothing(demo):
    with freeze_time(datetime(2026, 11, 23, 12, 59, tzinfo=UTC)):  # 07:59 in New York
        assert enqueue_due_jobs() == []
        call_command("run_scheduler", "--once", stdout=StringIO())
    assert date(2026, 11, 23).weekday() == 0
    assert not enqueued_reminders().exists() and not PeriodicRun.objects.exists()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_enqueue_once():
    if connection.vendor == "sqlite":
        pytest.skip(
            "needs a database server with concurrent connections (run with DATABASE_URL=postgres://…)"
        )
    barrier = threading.Barrier(4)
    results, errors = [], []

    def one_scheduler():
        try:
            barrier.wait(timeout=10)
            results.append(enqueue_due_jobs(at_new_york(2026, 11, 23, 8, 0)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == [[], [], [], [("weekly-review-reminders", "2026-W48")]]
    assert enqueued_reminders().count() == 1
    assert PeriodicRun.objects.filter(job="weekly-review-reminders").count() == 1

"""Periodic jobs: a small registry and `enqueue_due_jobs(now)`, run every minute by `manage.py run_scheduler`.

Each job names its current period (for the weekly job the ISO week, e.g. "2026-W48") once that period's
run is due. The scheduler claims a (job, period) by inserting a PeriodicRun row; the unique constraint lets
exactly one insert succeed however many schedulers run, so each job is enqueued once per period. The claim
and the enqueue (a row in the task table, with the database backend) commit together: if enqueueing fails,
the claim is undone and the next pass tries again. With the RQ backend the job reaches Redis just after the claim
commits (every enqueue is on commit); if Redis refuses it, the claim is deleted again. Only a scheduler killed
between the two loses that period's run (the next period runs; the jobs catch up on what is due).
"""

import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import PeriodicRun

logger = logging.getLogger(__name__)

DEFAULT_CLINIC_TIME_ZONE = "America/New_York"


def clinic_time_zone() -> tzinfo:
    """The clinic's time zone (Settings → Clinic settings of the default site)."""
    from .models import ClinicSettings

    name = (
        ClinicSettings.objects.filter(site__is_default_site=True).values_list("time_zone", flat=True).first()
        or DEFAULT_CLINIC_TIME_ZONE
    )
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown clinic time zone; using the default", extra={"time_zone": name})
        return zoneinfo.ZoneInfo(DEFAULT_CLINIC_TIME_ZONE)


def weekly(*, weekday: int = 0, at: time = time(8, 0)) -> Callable[[datetime], str | None]:
    """A period function: the ISO week ("2026-W48") once the clinic's local time has reached `weekday`
    (0 = Monday) at `at` in that week, else None."""

    def period(now: datetime) -> str | None:
        local = timezone.localtime(now, clinic_time_zone())
        iso_year, iso_week, iso_weekday = local.isocalendar()
        day = local.date() - timedelta(days=iso_weekday - 1) + timedelta(days=weekday)
        starts = datetime.combine(day, at, tzinfo=local.tzinfo)
        if local < starts:
            return None
        return f"{iso_year}-W{iso_week:02d}"

    return period


def every(*, minutes: int) -> Callable[[datetime], str | None]:
    """A period function: the current slot of `minutes` minutes ("2026-11-23T10:45"), in UTC."""

    def period(now: datetime) -> str | None:
        now = now.astimezone(UTC)
        return f"{now:%Y-%m-%dT%H}:{now.minute // minutes * minutes:02d}"

    return period


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    period: Callable[[datetime], str | None]
    task: str | object  # a django_tasks Task, or its dotted path (imported when enqueued)

    def get_task(self):
        return import_string(self.task) if isinstance(self.task, str) else self.task


JOBS: dict[str, PeriodicJob] = {}


def register(job: PeriodicJob) -> PeriodicJob:
    JOBS[job.name] = job
    return job


register(
    PeriodicJob(
        name="weekly-review-reminders",
        period=weekly(weekday=0, at=time(8, 0)),
        task="acuclinic.content.tasks.send_weekly_review_reminders",
    )
)


register(
    PeriodicJob(
        # The dashboard warns too; the e-mail reaches whoever keeps the licences even if nobody signs in.
        name="weekly-licence-expiry-warnings",
        period=weekly(weekday=0, at=time(8, 0)),
        task="acuclinic.scheduling.licence_tasks.send_licence_expiry_warnings",
    )
)


register(
    PeriodicJob(
        # A worker that dies between a failed send and queuing its retry would strand the e-mail: sweep them up.
        name="requeue-unsent-request-notifications",
        period=every(minutes=15),
        task="acuclinic.appointments.tasks.requeue_unsent_notifications",
    )
)


register(
    PeriodicJob(
        # An unanswered waitlist offer passes to the next person once it expires (scheduling.waitlist).
        name="expire-waitlist-offers",
        period=every(minutes=5),
        task="acuclinic.scheduling.waitlist_tasks.expire_waitlist_offers",
    )
)
# Scheduling (acuclinic/scheduling/tasks.py): reminders go out at their times (48 h, 2 h … before), so the job runs
# often; each reminder is claimed once, so a late or doubled run sends nothing twice. Unsent booking e-mails are
# swept up like the requests' ones.
register(
    PeriodicJob(
        name="appointment-reminders",
        period=every(minutes=5),
        task="acuclinic.scheduling.tasks.send_due_reminders",
    )
)
register(
    PeriodicJob(
        name="requeue-unsent-appointment-notifications",
        period=every(minutes=15),
        task="acuclinic.scheduling.tasks.requeue_unsent_notifications",
    )
)

register(
    PeriodicJob(
        # An arrived visit nobody checked out is completed once its day has ended at its location (the patient
        # came; that is what makes them a returning patient). Each visit is checked out once, however often this runs.
        name="check-out-finished-days",
        period=every(minutes=30),
        task="acuclinic.scheduling.lifecycle_tasks.check_out_finished_days",
    )
)


def enqueue_due_jobs(
    now: datetime | None = None, jobs: list[PeriodicJob] | None = None
) -> list[tuple[str, str]]:
    """Enqueue each job whose current period is due and not yet claimed; return the (job, period) enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in jobs if jobs is not None else list(JOBS.values()):
        period = job.period(now)
        if period is None:
            continue
        claimed = False
        try:
            with transaction.atomic():
                try:
                    with (
                        transaction.atomic()
                    ):  # a savepoint: the failed insert must not spoil the outer transaction
                        PeriodicRun.objects.create(job=job.name, period=period)
                except IntegrityError:
                    continue  # another pass (or another scheduler) has claimed this period already
                claimed = True
                result = job.get_task().enqueue()
        except Exception:
            # With the RQ backend the job is pushed to Redis after the claim has committed (tasks_rq.py): if
            # Redis refused it, give the claim back so that the next pass tries again.
            if claimed:
                PeriodicRun.objects.filter(job=job.name, period=period).delete()
            raise
        logger.info(
            "periodic job enqueued", extra={"job": job.name, "period": period, "task_id": str(result.id)}
        )
        enqueued.append((job.name, period))
    return enqueued

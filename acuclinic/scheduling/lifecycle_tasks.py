"""The appointment lifecycle's periodic job (a task of its own, apart from the notification tasks in tasks.py)."""

from django_tasks import task

from . import services


@task()
def check_out_finished_days() -> int:
    """Check out every arrived visit whose day has ended at its location (by the system, audited)."""
    return services.check_out_finished_days()

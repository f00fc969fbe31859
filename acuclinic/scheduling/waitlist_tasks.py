"""The waitlist's periodic job (a task of its own, so it stays apart from the notification tasks in tasks.py)."""

from django_tasks import task

from . import waitlist


@task()
def expire_waitlist_offers() -> int:
    """Expire unanswered waitlist offers and pass each slot on to the next person waiting."""
    return waitlist.expire_offers()

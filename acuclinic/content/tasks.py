"""Background work for the library: the weekly e-mail to medical reviewers about articles due for review."""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from acuclinic.core.outbox import sender_address

from .models import MedicalReviewTask
from .selectors import articles_due_for_review
from .templatetags.content_tags import review_date

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=15)


def medical_reviewers(user_ids=None):
    """Active users in the Medical reviewers group who have an e-mail address."""
    users = (
        get_user_model()
        .objects.filter(groups__name=MedicalReviewTask.REVIEWER_GROUP, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    return users.filter(pk__in=user_ids) if user_ids is not None else users


def due_items(today=None) -> list[dict]:
    from .admin_views import review_status

    today = today or timezone.localdate()
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    return [
        {
            "title": article.title,
            "next_review_due": review_date(article.next_review_due) if article.next_review_due else "not set",
            "status": review_status(article, today)[0],
            "edit_url": base + reverse("wagtailadmin_pages:edit", args=[article.pk]),
        }
        for article in articles_due_for_review(today=today).order_by(
            F("next_review_due").asc(nulls_first=True), "title", "pk"
        )
    ]


def reminder_message(user, items: list[dict]) -> EmailMessage:
    count = len(items)
    subject = f"{count} article{'' if count == 1 else 's'} due for medical review"
    body = render_to_string(
        "content/admin/review_reminder_email.txt",
        {
            "name": user.get_full_name() or user.get_username(),
            "count": count,
            "items": items,
            "within_days": settings.ACUCLINIC_REVIEW_DUE_SOON_DAYS,
            "report_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("content_review_due"),
        },
    )
    return EmailMessage(subject, body, sender_address(), [user.email])


@task()
def send_weekly_review_reminders(user_ids: list[int] | None = None, attempt: int = 1) -> int:
    """E-mail each medical reviewer the articles due for review; nothing at all when none is due.

    One message per reviewer (nobody sees the others' addresses). If the mail server refuses some of
    them, only those are tried again later, up to MAX_ATTEMPTS times. Returns the number of e-mails sent.
    """
    items = due_items()
    if not items:
        logger.info("no article due for medical review; no reminder sent")
        return 0
    sent, failed = 0, []
    connection = get_connection()
    for user in medical_reviewers(user_ids):
        try:
            sent += connection.send_messages([reminder_message(user, items)]) or 0
        except (smtplib.SMTPException, OSError) as exc:
            failed.append(user.pk)
            logger.warning("review reminder failed", extra={"user_id": user.pk, "error": type(exc).__name__})
    if failed and attempt < MAX_ATTEMPTS:
        send_weekly_review_reminders.using(run_after=timezone.now() + RETRY_AFTER).enqueue(
            user_ids=failed, attempt=attempt + 1
        )
    logger.info("review reminders sent", extra={"sent": sent, "failed": len(failed), "articles": len(items)})
    return sent


@task()
def render_articles() -> int:
    """Render and store every live article whose stored page parts are out of date (content/rendering.py)."""
    from .rendering import render_stale_articles

    return render_stale_articles()

"""E-mails about appointment requests, sent by the worker after the request is committed.

Sending is exactly-once: each e-mail is a RequestNotification row, locked while it is sent and marked sent in the
same transaction. A failure (mail server down) schedules a retry with exponential backoff, for as long as it takes.
No e-mail carries anything of the patient's health: reference, urgency, a link to the back office.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .models import AppointmentRequest, RequestNotification
from .triage import URGENCY_LABELS

logger = logging.getLogger(__name__)

BACKOFF_FIRST_SECONDS = 15
BACKOFF_MAX_SECONDS = 60 * 60


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def inbox_url(request: AppointmentRequest) -> str:
    return f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}/admin/appointment-requests/{request.pk}/"


def _clinic():
    from wagtail.models import Site

    from acuclinic.core.models import ClinicSettings

    site = Site.objects.filter(is_default_site=True).first()
    return ClinicSettings.for_site(site) if site else ClinicSettings()


def _message(notification: RequestNotification) -> tuple[str, str, list[str]]:
    request = notification.request
    clinic = _clinic()
    if notification.kind == RequestNotification.Kind.CLINIC:
        urgency = URGENCY_LABELS[request.urgency_level]
        subject = f"[{urgency}] New appointment request {request.reference}"
        body = (
            f"A new appointment request has arrived.\n\n"
            f"Reference: {request.reference}\n"
            f"Urgency: {urgency}\n\n"
            f"Open it in the back office (sign-in required):\n{inbox_url(request)}\n"
        )
        recipient = getattr(settings, "APPOINTMENTS_INBOX_EMAIL", "") or clinic.contact_email
        return subject, body, [recipient]
    subject = f"We received your appointment request ({request.reference})"
    lines = [
        "Thank you. We received your appointment request.",
        "",
        f"Your reference: {request.reference}",
        "",
        "Someone from our office will contact you, usually within one business day.",
    ]
    if clinic.phone:
        lines.append(f"Our phone number: {clinic.phone_display}")
    if clinic.contact_email:
        lines.append(f"Our e-mail: {clinic.contact_email}")
    lines += ["", clinic.emergency_notice]
    return subject, "\n".join(lines) + "\n", [request.email]


@task()
def send_request_notification(notification_pk: int) -> str:
    with transaction.atomic():
        # Lock the notification only (of="self"): the request stays free for the front desk while the mail
        # server is slow to answer.
        notification = (
            RequestNotification.objects.select_for_update(of=("self",))
            .select_related("request")
            .filter(pk=notification_pk)
            .first()
        )
        if notification is None:
            return "gone"
        if notification.sent_at:
            return "already sent"
        subject, body, recipients = _message(notification)
        recipients = [r for r in recipients if r]
        notification.attempts += 1
        if not recipients:
            notification.last_error = "no recipient configured"
            notification.save(update_fields=["attempts", "last_error"])
            _retry_later(notification)
            return "no recipient"
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            notification.last_error = type(exc).__name__
            notification.save(update_fields=["attempts", "last_error"])
            logger.warning(
                "request notification failed; will retry",
                extra={
                    "reference": notification.request.reference,
                    "kind": notification.kind,
                    "attempts": notification.attempts,
                    "error": type(exc).__name__,
                },
            )
            _retry_later(notification)
            return "retry scheduled"
        notification.sent_at = timezone.now()
        notification.last_error = ""
        notification.save(update_fields=["attempts", "sent_at", "last_error"])
    logger.info(
        "request notification sent",
        extra={"reference": notification.request.reference, "kind": notification.kind},
    )
    return "sent"


def _retry_later(notification: RequestNotification) -> None:
    when = timezone.now() + backoff(notification.attempts)
    pk = notification.pk
    transaction.on_commit(lambda: send_request_notification.using(run_after=when).enqueue(pk))


STRANDED_AFTER = timedelta(minutes=15)


@task()
def requeue_unsent_notifications() -> int:
    """Queue again every notification still unsent after STRANDED_AFTER. Safe: sending is exactly-once per row."""
    cutoff = timezone.now() - STRANDED_AFTER
    pending = list(
        RequestNotification.objects.filter(sent_at__isnull=True, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in pending:
        send_request_notification.enqueue(pk)
    return len(pending)

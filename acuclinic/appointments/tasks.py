"""E-mails about appointment requests, sent by the worker after the request is committed.

Sending is once per e-mail: each is a RequestNotification row, claimed, sent and recorded by ``core.outbox.deliver``
(no transaction is open while the mail server answers). A failure (mail server down) schedules a retry with
exponential backoff, for as long as it takes.
No e-mail carries anything of the patient's health: reference, urgency, a link to the back office.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django_tasks import task

from acuclinic.core import outbox
from acuclinic.core.outbox import BACKOFF_FIRST_SECONDS, BACKOFF_MAX_SECONDS, backoff  # noqa: F401 - documented here
from acuclinic.core.selectors import phones_down_alert

from .models import AppointmentRequest, RequestNotification
from .triage import URGENCY_LABELS

logger = logging.getLogger(__name__)


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
    phones_down = phones_down_alert()
    if phones_down:
        lines.append(
            f"Our phones are not working at the moment. Please e-mail us at {phones_down.contact_email}"
        )
    else:
        if clinic.phone:
            lines.append(f"Our phone number: {clinic.phone_display}")
        if clinic.contact_email:
            lines.append(f"Our e-mail: {clinic.contact_email}")
    lines += ["", clinic.emergency_notice]
    return subject, "\n".join(lines) + "\n", [request.email]


@task()
def send_request_notification(notification_pk: int) -> str:
    def prepare(notification):
        subject, body, recipients = _message(notification)
        recipients = [r for r in recipients if r]
        if not recipients:
            return outbox.NO_RECIPIENT
        sender = outbox.sender_address()
        return lambda: send_mail(subject, body, sender, recipients, fail_silently=False)

    return outbox.deliver(
        model=RequestNotification,
        pk=notification_pk,
        prepare=prepare,
        retry=_retry_later,
        logger=logger,
        label="request notification",
        refs=lambda n: {"reference": n.request.reference, "kind": n.kind},
    )


def _retry_later(pk: int, delay: timedelta) -> None:
    send_request_notification.using(run_after=timezone.now() + delay).enqueue(pk)


STRANDED_AFTER = timedelta(minutes=15)


@task()
def requeue_unsent_notifications() -> int:
    """Queue again every notification still unsent after STRANDED_AFTER. Safe: sending is exactly-once per row."""
    pending = outbox.unsent(RequestNotification, older_than=STRANDED_AFTER)
    for pk in pending:
        send_request_notification.enqueue(pk)
    return len(pending)

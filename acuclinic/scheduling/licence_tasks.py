"""The weekly e-mail to the clinic about practitioners' licences that have expired or expire within 60 days.

(Kept out of ``scheduling/tasks.py``, which holds the appointment e-mails.) Licence data is about staff, not
patients: the message names the practitioner, the licence and its date.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from acuclinic.core.outbox import sender_address

from . import selectors

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=15)


def clinic_contact_email() -> str:
    from wagtail.models import Site

    from acuclinic.core.models import ClinicSettings

    site = Site.objects.filter(is_default_site=True).first()
    return ClinicSettings.for_site(site).contact_email if site else ""


def warning_message(warnings: list[selectors.LicenceWarning], recipient: str) -> EmailMessage:
    expired = sum(1 for w in warnings if w.expired)
    count = len(warnings)
    subject = f"{count} practitioner licence{'' if count == 1 else 's'} to renew"
    if expired:
        subject += f" ({expired} expired)"
    body = render_to_string(
        "scheduling/licence_warnings_email.txt",
        {
            "warnings": warnings,
            "within_days": selectors.LICENCE_WARNING_DAYS,
            "admin_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("wagtailadmin_home"),
        },
    )
    return EmailMessage(subject, body, sender_address(), [recipient])


@task()
def send_licence_expiry_warnings(attempt: int = 1) -> int:
    """E-mail the clinic's contact address the licences to renew; nothing when there are none. Returns 1 or 0."""
    warnings = selectors.licence_warnings(today=timezone.localdate())
    if not warnings:
        logger.info("no licence to renew; no warning sent")
        return 0
    recipient = clinic_contact_email()
    if not recipient:
        logger.warning(
            "licences to renew but no clinic e-mail address is set", extra={"count": len(warnings)}
        )
        return 0
    try:
        sent = warning_message(warnings, recipient).send() or 0
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("licence warning failed", extra={"error": type(exc).__name__, "attempt": attempt})
        if attempt < MAX_ATTEMPTS:
            send_licence_expiry_warnings.using(run_after=timezone.now() + RETRY_AFTER).enqueue(
                attempt=attempt + 1
            )
        return 0
    logger.info("licence warning sent", extra={"count": len(warnings)})
    return sent

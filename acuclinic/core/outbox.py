"""Send one outbox row's message once, with no database transaction open while the mail server answers.

Outbox rows (``RequestNotification``, ``AppointmentNotification``) have ``sent_at``, ``attempts``, ``last_error``
and ``sending_until``. Sending used to lock the row for the whole SMTP conversation. On SQLite every write
transaction holds the database's single write lock (BEGIN IMMEDIATE), so a slow or unreachable mail server
(up to EMAIL_TIMEOUT per step) held up every patient's booking and request behind it — and past the busy timeout
they failed. So a row is sent in three steps:

1. **claim**, one short transaction: the row (locked on PostgreSQL; SQLite serialises writers) is gone, sent,
   leased to another worker, or this worker leases it (``sending_until``) and counts the attempt;
2. **send**, no transaction open;
3. **record**, one short statement: sent (lease cleared), or the error class (lease cleared, a retry with backoff).

Two workers given the same row: the second finds the lease ("being sent") and leaves it. A worker that dies while
sending leaves a lease that runs out; the sweep queues the row again. The message can go twice only if the mail
server accepted it in the moment before the worker died: the window every sender has.
"""

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr

from django.conf import settings
from django.db import transaction
from django.utils import timezone

BACKOFF_FIRST_SECONDS = 15
BACKOFF_MAX_SECONDS = 60 * 60
SEND_ERRORS = (smtplib.SMTPException, OSError)


def sender_address() -> str:
    """Who every e-mail is from: the clinic (Settings → Clinic: practice name and e-mail), e.g.
    "Acuclinic Back Pain & Acupuncture <hello@…>"; without a clinic address, DEFAULT_FROM_EMAIL (the environment's,
    in production). Every sender uses this, never DEFAULT_FROM_EMAIL directly."""
    from wagtail.models import Site

    from .models import ClinicSettings

    site = Site.objects.filter(is_default_site=True).first()
    clinic = ClinicSettings.for_site(site) if site else None
    if clinic and clinic.contact_email:
        return formataddr((clinic.practice_name, clinic.contact_email))
    return settings.DEFAULT_FROM_EMAIL


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def lease() -> timedelta:
    """Longer than any send can take: connect, greet, each command and the data, each up to EMAIL_TIMEOUT."""
    return timedelta(seconds=max(10 * (getattr(settings, "EMAIL_TIMEOUT", None) or 30), 60))


@dataclass(frozen=True)
class Skip:
    """Nothing to send, ever: the row is closed with why (words about the row, never its content)."""

    reason: str


NO_RECIPIENT = None  # prepare() found no address yet: counted as an attempt and retried


def deliver(
    *,
    model,
    pk: int,
    prepare: Callable[[object], Callable[[], None] | Skip | None],
    retry: Callable[[int, timedelta], None],
    logger: logging.Logger,
    label: str,
    refs: Callable[[object], dict],
    send_errors: tuple[type[BaseException], ...] = SEND_ERRORS,
) -> str:
    """Claim, send and record one outbox row of ``model``. Returns what happened, for the task's result.

    ``prepare(row)``, inside the claim: a callable that sends the message, a ``Skip``, or ``NO_RECIPIENT``.
    ``retry(pk, delay)``: queue the task again. ``refs(row)``: references for the log lines (no names, no health).
    """
    now = timezone.now()
    with transaction.atomic():
        # Lock the row only (of="self"): what it is about stays free for the desk.
        row = model.objects.select_for_update(of=("self",)).filter(pk=pk).first()
        if row is None:
            return "gone"
        if row.sent_at:
            return "already sent"
        if row.sending_until and row.sending_until > now:
            return "being sent"
        send = prepare(row)
        if isinstance(send, Skip):
            row.sent_at, row.last_error, row.sending_until = now, send.reason, None
            row.save(update_fields=["sent_at", "last_error", "sending_until"])
            logger.info("%s not needed", label, extra={**refs(row), "why": send.reason})
            return send.reason
        row.attempts += 1
        if send is NO_RECIPIENT:
            row.last_error, row.sending_until = "no recipient configured", None
            row.save(update_fields=["attempts", "last_error", "sending_until"])
            logger.warning("%s has no recipient; will retry", label, extra=refs(row))
            transaction.on_commit(lambda: retry(pk, backoff(row.attempts)))
            return "no recipient"
        row.sending_until = now + lease()
        row.save(update_fields=["attempts", "sending_until"])
    try:
        send()
    except send_errors as exc:
        model.objects.filter(pk=pk).update(sending_until=None, last_error=type(exc).__name__[:100])
        logger.warning(
            "%s failed; will retry",
            label,
            extra={**refs(row), "attempts": row.attempts, "error": type(exc).__name__},
        )
        retry(pk, backoff(row.attempts))
        return "retry scheduled"
    model.objects.filter(pk=pk).update(sending_until=None, sent_at=timezone.now(), last_error="")
    logger.info("%s sent", label, extra=refs(row))
    return "sent"


def unsent(model, *, older_than: timedelta, limit: int = 500, **filters) -> list[int]:
    """Rows a dead or lost task left unsent (the sweep queues them again; sending is once per row)."""
    now = timezone.now()
    return list(
        model.objects.filter(sent_at__isnull=True, created_at__lt=now - older_than, **filters)
        .exclude(sending_until__gt=now)
        .values_list("pk", flat=True)[:limit]
    )

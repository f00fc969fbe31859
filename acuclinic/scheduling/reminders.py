"""Reminders before appointments, at SchedulingSettings.reminder_offsets() (default 48 h and 2 h), by e-mail and text.

The worker runs ``send_due_reminders`` every few minutes; nothing is sent at booking time. For each appointment that
is pending or confirmed and starts within the largest offset:

* Only the *latest* offset that is due is considered (the smallest one whose moment, start − offset, has passed).
  A worker that was down sends that one and never the earlier, stale ones: at 1 h before, the 2 h reminder, not
  the 48 h one. If a reminder at that or a later offset has already gone for this time, nothing is sent.
* A reminder whose moment came before the booking was made (or last changed: a move) is not sent: a patient who
  booked 10 h ahead just had the confirmation and gets no "48 h" reminder, only the 2 h one.
* Once per (appointment, start, offset, channel): the ``SentReminder`` row is inserted first, as a claim with a
  lease (``sending_until``), and committed; the message is sent with no transaction open (on SQLite a transaction
  holds the one write lock, and a slow mail server must not hold up bookings), then the claim is marked sent. The
  unique constraint lets one concurrent run win; the other's insert fails and it sends nothing. A send that fails
  deletes the claim, so the next run tries again; a claim whose lease ran out (a worker died while sending) is
  taken over by the next run. A moved appointment has a new start, so its reminders (keyed by ``for_start``) go out
  again for the new time.

Channels: e-mail when the patient has an address; text message when SchedulingSettings.sms_reminders is on and the
patient has a phone number (``sms.py``). Neither says anything about the patient's health.
"""

import logging
import smtplib
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db.models.functions import Cast
from django.utils import timezone

from acuclinic.accounts.models import AuditEvent
from acuclinic.core import outbox

from . import messages, sms
from .models import Appointment, AppointmentStatus, SentReminder

logger = logging.getLogger(__name__)

# Time is held by arrived and completed visits too, but those patients need no reminder; nor do no-shows.
REMINDED_STATUSES = (AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED)
Channel = SentReminder.Channel


def _minutes(offset: timedelta) -> int:
    return int(offset.total_seconds() // 60)


def due_offset(
    *, start: datetime, scheduled_at: datetime, offsets: list[timedelta], now: datetime
) -> timedelta | None:
    """The reminder offset to send now for an appointment at ``start`` booked (or moved) at ``scheduled_at``."""
    if start <= now:
        return None
    due = [offset for offset in offsets if start - offset <= now]
    if not due:
        return None
    latest = min(due)
    if start - latest < scheduled_at:
        return None  # its moment was before the booking: the confirmation told them already
    return latest


def candidates(*, now: datetime, horizon: timedelta):
    """Appointments that may need a reminder now, with when they were last booked or changed (audit log)."""
    last_change = (
        AuditEvent.objects.filter(
            object_type=Appointment._meta.label_lower,
            object_id=Cast(models.OuterRef("pk"), models.CharField()),
            action__in=(AuditEvent.Action.CREATE, AuditEvent.Action.CHANGE),
        )
        .order_by("-seq")
        .values("at")[:1]
    )
    return (
        Appointment.objects.filter(status__in=REMINDED_STATUSES, start__gt=now, start__lte=now + horizon)
        .select_related("patient", "practitioner", "location", "room", "appointment_type")
        .annotate(last_changed_at=models.Subquery(last_change))
        .order_by("start")
    )


def send_due_reminders(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    config = messages.scheduling_settings()
    offsets = config.reminder_offsets()
    if not offsets:
        return 0
    sent = 0
    for appointment in candidates(now=now, horizon=max(offsets)):
        scheduled_at = max(filter(None, (appointment.created_at, appointment.last_changed_at)))
        offset = due_offset(start=appointment.start, scheduled_at=scheduled_at, offsets=offsets, now=now)
        if offset is None:
            continue
        channels = []
        if appointment.patient.email:
            channels.append(Channel.EMAIL)
        if config.sms_reminders and appointment.patient.phone:
            channels.append(Channel.SMS)
        for channel in channels:
            if _already_reminded(appointment, offset, channel):
                continue
            if _send_once(appointment, offset=offset, channel=channel):
                sent += 1
    return sent


def _already_reminded(appointment: Appointment, offset: timedelta, channel: str) -> bool:
    # This offset, or a later one (smaller offset, e.g. after the settings changed), went out for this start, or
    # is being sent right now.
    return (
        SentReminder.objects.filter(
            appointment=appointment,
            for_start=appointment.start,
            channel=channel,
            offset_minutes__lte=_minutes(offset),
        )
        .exclude(sending_until__lte=timezone.now())
        .exists()
    )


def _send_once(appointment: Appointment, *, offset: timedelta, channel: str) -> bool:
    """Claim (insert the SentReminder row), send with no transaction open, record. False if another run had it."""
    refs = {"appointment": appointment.pk, "offset_minutes": _minutes(offset), "channel": channel}
    key = {
        "appointment": appointment,
        "for_start": appointment.start,
        "offset_minutes": _minutes(offset),
        "channel": channel,
    }
    now = timezone.now()
    try:
        with transaction.atomic():
            # Read again inside the transaction: a cancellation or a move since the query above wins.
            current = Appointment.objects.filter(pk=appointment.pk).values_list("status", "start").first()
            if current is None or current[0] not in REMINDED_STATUSES or current[1] != appointment.start:
                return False
            SentReminder.objects.filter(**key, sending_until__lte=now).delete()  # a dead worker's claim
            claim = SentReminder.objects.create(**key, sending_until=now + outbox.lease())
    except IntegrityError:
        logger.info("reminder already sent by another run", extra=refs)
        return False
    try:
        if channel == Channel.EMAIL:
            messages.reminder_mail(appointment).email_message().send(fail_silently=False)
        else:
            sms.send_sms(to=appointment.patient.phone, body=messages.reminder_text(appointment))
    except (smtplib.SMTPException, OSError, sms.SmsError) as exc:
        SentReminder.objects.filter(pk=claim.pk).delete()  # not sent: the next run tries again
        logger.warning(
            "reminder failed; the next run tries again", extra=refs | {"error": type(exc).__name__}
        )
        return False
    SentReminder.objects.filter(pk=claim.pk).update(sending_until=None, sent_at=timezone.now())
    logger.info("reminder sent", extra=refs)
    return True

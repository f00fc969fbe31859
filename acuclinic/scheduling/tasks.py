"""The worker's side of scheduling: booking e-mails from the outbox, and reminders at their times.

Booking e-mails are exactly-once per ``AppointmentNotification`` row, as for appointment requests: the row is locked
while it is sent and marked sent in the same transaction; a mail server that is down schedules a retry with
exponential backoff, for as long as it takes; a sweep every 15 minutes queues rows a dead worker left behind.

Reminders: see ``reminders.py``; ``send_due_reminders`` runs every 5 minutes (``acuclinic/core/scheduler.py``).
Logs carry references (notification and appointment numbers, kinds), never names, addresses or reasons.
"""

import logging
import smtplib
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from acuclinic.appointments.tasks import backoff

from . import messages, reminders
from .models import AppointmentNotification, AppointmentStatus

logger = logging.getLogger(__name__)

Kind = AppointmentNotification.Kind
PATIENT_KINDS = {Kind.PATIENT_CONFIRMATION, Kind.PATIENT_RESCHEDULED, Kind.PATIENT_CANCELLED}
CLINIC_KINDS = {Kind.CLINIC_BOOKED, Kind.CLINIC_CANCELLED, Kind.CLINIC_RESCHEDULED}
# A confirmation or new time still unsent when the booking is cancelled would only confuse: the cancellation says it.
SUPERSEDED_BY_CANCELLATION = {Kind.PATIENT_CONFIRMATION, Kind.PATIENT_RESCHEDULED}


@task()
def send_appointment_notification(notification_pk: int) -> str:
    with transaction.atomic():
        # Lock the notification only: the appointment stays free for the desk while the mail server is slow.
        notification = (
            AppointmentNotification.objects.select_for_update(of=("self",)).filter(pk=notification_pk).first()
        )
        if notification is None:
            return "gone"
        if notification.sent_at:
            return "already sent"
        reason_not_sent = _not_to_send(notification)
        if reason_not_sent:
            # Closed without a message: nothing to retry (the row keeps why, in words about the row only).
            notification.sent_at = timezone.now()
            notification.last_error = reason_not_sent
            notification.save(update_fields=["sent_at", "last_error"])
            logger.info(
                "appointment notification not needed",
                extra={"notification": notification.pk, "kind": notification.kind, "why": reason_not_sent},
            )
            return reason_not_sent
        if notification.kind == Kind.PATIENT_WAITLIST_OFFER:
            mail = messages.waitlist_offer_mail(notification)
        elif notification.kind in CLINIC_KINDS:
            mail = messages.clinic_mail(notification)
        else:
            mail = messages.patient_mail(notification)
        notification.attempts += 1
        if not [to for to in mail.to if to]:
            notification.last_error = "no recipient configured"
            notification.save(update_fields=["attempts", "last_error"])
            logger.warning(
                "appointment notification has no recipient; will retry",
                extra={"notification": notification.pk, "kind": notification.kind},
            )
            _retry_later(notification)
            return "no recipient"
        try:
            mail.email_message().send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            notification.last_error = type(exc).__name__
            notification.save(update_fields=["attempts", "last_error"])
            logger.warning(
                "appointment notification failed; will retry",
                extra={
                    "notification": notification.pk,
                    "appointment": notification.appointment_id,
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
        "appointment notification sent",
        extra={
            "notification": notification.pk,
            "appointment": notification.appointment_id,
            "kind": notification.kind,
        },
    )
    return "sent"


def _not_to_send(notification: AppointmentNotification) -> str:
    appointment = notification.appointment
    if notification.kind == Kind.PATIENT_WAITLIST_OFFER:
        entry = notification.waitlist_entry
        if entry is None or entry.status != entry.Status.OFFERED or entry.offer_expires_at <= timezone.now():
            return "the offer is no longer open"
        return "" if entry.patient.email else "no patient e-mail address"
    if appointment is None or notification.kind not in PATIENT_KINDS | CLINIC_KINDS:
        return "not an appointment e-mail"
    if notification.kind in PATIENT_KINDS and not appointment.patient.email:
        return "no patient e-mail address"
    if notification.kind in SUPERSEDED_BY_CANCELLATION and appointment.status == AppointmentStatus.CANCELLED:
        return "superseded by the cancellation"
    return ""


def _retry_later(notification: AppointmentNotification) -> None:
    when = timezone.now() + backoff(notification.attempts)
    pk = notification.pk
    transaction.on_commit(lambda: send_appointment_notification.using(run_after=when).enqueue(pk))


STRANDED_AFTER = timedelta(minutes=15)


@task()
def requeue_unsent_notifications() -> int:
    """Queue again every booking e-mail still unsent after STRANDED_AFTER. Safe: sending is exactly-once per row."""
    cutoff = timezone.now() - STRANDED_AFTER
    pending = list(
        AppointmentNotification.objects.filter(
            sent_at__isnull=True, created_at__lt=cutoff, kind__in=PATIENT_KINDS | CLINIC_KINDS
        ).values_list("pk", flat=True)[:500]
    )
    for pk in pending:
        send_appointment_notification.enqueue(pk)
    return len(pending)


@task()
def send_due_reminders() -> int:
    """Send every reminder due now (run every few minutes by the scheduler). Returns how many were sent."""
    return reminders.send_due_reminders()

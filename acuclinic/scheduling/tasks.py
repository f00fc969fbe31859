"""The worker's side of scheduling: booking e-mails from the outbox, and reminders at their times.

Booking e-mails are once per ``AppointmentNotification`` row, as for appointment requests: ``core.outbox.deliver``
claims the row, sends with no transaction open, and records the outcome; a mail server that is down schedules a
retry with exponential backoff, for as long as it takes; a sweep every 15 minutes queues rows a dead worker left
behind.

Reminders: see ``reminders.py``; ``send_due_reminders`` runs every 5 minutes (``acuclinic/core/scheduler.py``).
Logs carry references (notification and appointment numbers, kinds), never names, addresses or reasons.
"""

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from acuclinic.core import outbox

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
    def prepare(notification):
        reason_not_sent = _not_to_send(notification)
        if reason_not_sent:
            return outbox.Skip(reason_not_sent)
        if notification.kind == Kind.PATIENT_WAITLIST_OFFER:
            mail = messages.waitlist_offer_mail(notification)
        elif notification.kind in CLINIC_KINDS:
            mail = messages.clinic_mail(notification)
        else:
            mail = messages.patient_mail(notification)
        if not [to for to in mail.to if to]:
            return outbox.NO_RECIPIENT
        message = mail.email_message()  # built inside the claim: the appointment as it is now
        return lambda: message.send(fail_silently=False)

    return outbox.deliver(
        model=AppointmentNotification,
        pk=notification_pk,
        prepare=prepare,
        retry=_retry_later,
        logger=logger,
        label="appointment notification",
        refs=lambda n: {"notification": n.pk, "appointment": n.appointment_id, "kind": n.kind},
    )


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


def _retry_later(pk: int, delay: timedelta) -> None:
    send_appointment_notification.using(run_after=timezone.now() + delay).enqueue(pk)


STRANDED_AFTER = timedelta(minutes=15)


@task()
def requeue_unsent_notifications() -> int:
    """Queue again every booking e-mail still unsent after STRANDED_AFTER. Safe: sending is exactly-once per row."""
    pending = outbox.unsent(
        AppointmentNotification, older_than=STRANDED_AFTER, kind__in=PATIENT_KINDS | CLINIC_KINDS
    )
    for pk in pending:
        send_appointment_notification.enqueue(pk)
    return len(pending)


@task()
def send_due_reminders() -> int:
    """Send every reminder due now (run every few minutes by the scheduler). Returns how many were sent."""
    return reminders.send_due_reminders()

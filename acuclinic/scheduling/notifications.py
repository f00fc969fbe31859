"""Who is told about an appointment: the one place that decides it.

Every booking, cancellation and move calls ``notify`` inside its transaction. It writes rows to the outbox
(``AppointmentNotification``); the worker sends them after the commit and retries until sent, so a mail server
that is down delays a message but never loses it, and a rolled-back booking sends nothing.

The patient hears of every change (when we have an e-mail address); the clinic hears of the ones made online,
which nobody at the desk saw happen.
"""

from enum import StrEnum

from .models import Appointment, AppointmentNotification

Kind = AppointmentNotification.Kind


class Event(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


PATIENT_KIND = {
    Event.BOOKED: Kind.PATIENT_CONFIRMATION,
    Event.CANCELLED: Kind.PATIENT_CANCELLED,
    Event.RESCHEDULED: Kind.PATIENT_RESCHEDULED,
}
CLINIC_KIND = {
    Event.BOOKED: Kind.CLINIC_BOOKED,
    Event.CANCELLED: Kind.CLINIC_CANCELLED,
    Event.RESCHEDULED: Kind.CLINIC_RESCHEDULED,
}


def notify(*, appointment: Appointment, event: Event, online: bool) -> list[AppointmentNotification]:
    """Queue the messages an event calls for; call it inside the transaction that made the change."""
    kinds = []
    if appointment.patient.email:
        kinds.append(PATIENT_KIND[event])
    if online:
        kinds.append(CLINIC_KIND[event])
    notifications = [
        AppointmentNotification.objects.create(appointment=appointment, kind=kind) for kind in kinds
    ]
    for notification in notifications:
        _enqueue_on_commit(notification)
    return notifications


def _enqueue_on_commit(notification: AppointmentNotification) -> None:
    """Hand the row to the worker once the change is committed (the sending task lives in ``tasks.py``)."""
    from django.db import transaction

    try:
        from . import tasks
    except ImportError:  # the sending task comes with the mail work; rows wait in the outbox
        return
    transaction.on_commit(lambda: tasks.send_appointment_notification.enqueue(notification.pk))

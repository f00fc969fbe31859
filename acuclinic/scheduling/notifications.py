"""Who is told about an appointment: the one place that decides it.

Every booking, cancellation and move calls ``notify`` inside its transaction. It writes rows to the outbox
(``AppointmentNotification``); the worker sends them after the commit and retries until sent, so a mail server
that is down delays a message but never loses it, and a rolled-back booking sends nothing.

The patient hears of every change (when we have an e-mail address); the clinic hears of the ones made online,
which nobody at the desk saw happen.
"""

from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from acuclinic.accounts.patient_links import Purpose, make_token

from . import tasks
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


def notify(
    *, appointment: Appointment, event: Event, online: bool, now: datetime | None = None
) -> list[AppointmentNotification]:
    """Queue the messages an event calls for; call it inside the transaction that made the change.

    No message ever announces a time already past: a booking or move whose start is not after ``now`` (the desk
    recording a visit afterwards, with an override) tells the patient nothing."""
    now = now or timezone.now()
    kinds = []
    announces_past = event in (Event.BOOKED, Event.RESCHEDULED) and appointment.start <= now
    if appointment.patient.email and not announces_past:
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
    transaction.on_commit(lambda: tasks.send_appointment_notification.enqueue(notification.pk))


def absolute_url(path: str) -> str:
    """Links in e-mails and texts: the site's public address (``SITE_URL``) and a path."""
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def booking_manage_url(appointment: Appointment) -> str:
    """The patient's signed, expiring link to cancel or move this booking (no account, no record id in clear)."""
    token = make_token(purpose=Purpose.MANAGE_BOOKING, object_id=appointment.pk)
    return absolute_url(reverse("booking_manage", kwargs={"token": token}))


# The front desk's page of one appointment, once it exists; until then the clinic mail links to the back office
# home and the appointment number is in the mail.
BACKOFFICE_APPOINTMENT_URL_NAME = "scheduling_appointment_detail"


def backoffice_url(appointment: Appointment) -> str:
    try:
        path = reverse(BACKOFFICE_APPOINTMENT_URL_NAME, kwargs={"pk": appointment.pk})
    except NoReverseMatch:
        path = reverse("wagtailadmin_home")
    return absolute_url(path)

"""The words of every booking e-mail, reminder and text message. Built when sent, from the appointment as it is then.

What they may say: the time (in the location's zone), the place, the practitioner, how to prepare, and links. What
they never say: the reason for the visit, the appointment type's clinical name, a cancellation reason, or anything
else about the patient's health — and clinic mails do not even name the patient (references only).
"""

from dataclasses import dataclass
from email.mime.text import MIMEText

from django.core.mail import EmailMessage

from acuclinic.core import timefmt
from acuclinic.core.outbox import sender_address
from acuclinic.core.selectors import phones_down_alert

from . import ics, notifications
from .models import Appointment, AppointmentNotification, AppointmentStatus, SchedulingSettings

Kind = AppointmentNotification.Kind

PREPARE = (
    "How to prepare",
    "- Please arrive 10 minutes early (15 minutes for your first visit, to fill in a short form).",
    "- Eat a light meal 1 to 2 hours before. Please do not come on an empty stomach.",
    "- Wear loose, comfortable clothes that roll up easily above the elbows and knees.",
    "- Bring your insurance card and a list of the medicines you take.",
)


def clinic_settings():
    from wagtail.models import Site

    from acuclinic.core.models import ClinicSettings

    site = Site.objects.filter(is_default_site=True).first()
    return ClinicSettings.for_site(site) if site else ClinicSettings()


def scheduling_settings() -> SchedulingSettings:
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    return SchedulingSettings.for_site(site) if site else SchedulingSettings()


def when(appointment: Appointment, *, short: bool = False) -> str:
    """E.g. "Tuesday, December 1, 2026 at 10:30 AM Eastern Time" — the wall-clock time at the location, with its
    zone in everyday words (core/timefmt.py: the same "10:30 AM" as every page)."""
    zone = appointment.location.zone
    local = appointment.start.astimezone(zone)
    if short:
        return f"{local:%a %b} {local.day} at {timefmt.clock(local)} {timefmt.zone_name(zone)}"
    return f"{timefmt.long_date(local)} at {timefmt.clock(local)} {timefmt.zone_name(zone)}"


def where(appointment: Appointment) -> str:
    return ics.location_text(appointment)


@dataclass
class Mail:
    subject: str
    body: str
    to: list[str]
    calendar: bytes | None = None
    method: str = ""

    def email_message(self) -> EmailMessage:
        message = EmailMessage(self.subject, self.body, sender_address(), self.to)
        if self.calendar is not None:
            # text/calendar with its METHOD, as RFC 6047 (iMIP) asks, so mail apps offer "add to calendar".
            part = MIMEText(self.calendar.decode(), "calendar", "utf-8")
            part.set_param("method", self.method)
            part.add_header("Content-Disposition", "attachment", filename="appointment.ics")
            message.attach(part)
        return message


def _contact_lines(clinic) -> list[str]:
    phones_down = phones_down_alert()
    if phones_down:  # never "call us" while the phones are down: the alert's address instead
        return [f"Our phones are not working at the moment. Please e-mail us at {phones_down.contact_email}"]
    lines = []
    if clinic.phone:
        lines.append(f"Our phone number: {clinic.phone_display}")
    if clinic.contact_email:
        lines.append(f"Our e-mail: {clinic.contact_email}")
    return lines


def _visit_lines(appointment: Appointment) -> list[str]:
    return [
        f"When: {when(appointment)} ({appointment.appointment_type.duration_minutes} minutes)",
        f"Where: {where(appointment)}",
        f"With: {appointment.practitioner}",
    ]


def _manage_lines(appointment: Appointment, clinic) -> list[str]:
    hours = scheduling_settings().online_change_cutoff_hours
    lines = [
        "To cancel or change this appointment, use this link (it is just for you; please do not share it):",
        notifications.booking_manage_url(appointment),
        f"Online changes are possible until {hours} hours before the appointment.",
    ]
    phones_down = phones_down_alert()
    if phones_down:
        lines[-1] += f" After that, please e-mail us at {phones_down.contact_email}."
    elif clinic.phone:
        lines[-1] += f" After that, please call us at {clinic.phone_display}."
    return lines


def _intake_lines(appointment: Appointment) -> list[str]:
    """The first visit's questionnaire link, while it is still to be filled in (no question, no answer in the mail)."""
    from acuclinic.clinical.intake.selectors import intake_for_appointment, intake_link

    response = intake_for_appointment(appointment=appointment)
    if response is None or response.status != "in-progress":
        return []
    return [
        "Before your first visit, please fill in our short health questionnaire and consent form (about 10 minutes).",
        "Use this link (it is just for you; please do not share it):",
        notifications.absolute_url(intake_link(response)),
        "",
    ]


def patient_mail(notification: AppointmentNotification) -> Mail:
    appointment = notification.appointment
    clinic = clinic_settings()
    to = [appointment.patient.email]
    if notification.kind == Kind.PATIENT_CANCELLED:
        lines = [
            "Your appointment has been cancelled.",
            "",
            f"It was on {when(appointment)} with {appointment.practitioner} at {where(appointment)}.",
            "",
            f"To book another time: {notifications.absolute_url('/')}",
            *_contact_lines(clinic),
        ]
        return Mail(
            subject=f"Cancelled: your appointment on {when(appointment, short=True)}",
            body="\n".join(lines) + "\n",
            to=to,
            calendar=ics.appointment_ics(appointment, cancelled=True),
            method="CANCEL",
        )
    moved = notification.kind == Kind.PATIENT_RESCHEDULED
    if moved:
        opening, subject = "Your appointment has a new time.", "New time for your appointment"
    elif appointment.status == AppointmentStatus.PENDING:
        opening, subject = (
            "We are holding this time for you. We will confirm it shortly.",
            "Your appointment request",
        )
    else:
        opening, subject = "Your appointment is booked.", "Your appointment is booked"
    lines = [
        opening,
        "",
        *_visit_lines(appointment),
        "",
        "The calendar file attached adds it to your calendar.",
        "",
        *_intake_lines(appointment),
        *PREPARE,
        "",
        *_manage_lines(appointment, clinic),
        "",
        *_contact_lines(clinic),
        "",
        clinic.emergency_notice,
    ]
    return Mail(
        subject=f"{subject}: {when(appointment, short=True)}",
        body="\n".join(lines) + "\n",
        to=to,
        calendar=ics.appointment_ics(appointment),
        method="REQUEST",
    )


CLINIC_WORDING = {
    Kind.CLINIC_BOOKED: ("Online booking", "An appointment was booked online."),
    Kind.CLINIC_CANCELLED: ("Online cancellation", "An appointment was cancelled online."),
    Kind.CLINIC_RESCHEDULED: ("Online reschedule", "An appointment was moved online."),
}


def clinic_recipients() -> list[str]:
    address = scheduling_settings().staff_notification_email or clinic_settings().contact_email
    return [address] if address else []


def clinic_mail(notification: AppointmentNotification) -> Mail:
    """References only: number, time, practitioner, place and a back-office link. No name, no reason."""
    appointment = notification.appointment
    label, opening = CLINIC_WORDING[notification.kind]
    lines = [
        opening,
        "",
        f"Appointment: #{appointment.pk}",
        f"{'New time' if notification.kind == Kind.CLINIC_RESCHEDULED else 'When'}: {when(appointment)}",
        f"Practitioner: {appointment.practitioner.name}",
        f"Location: {appointment.location.name}",
        "",
        "Open it in the back office (sign-in required):",
        notifications.backoffice_url(appointment),
    ]
    return Mail(
        subject=f"[{label}] Appointment #{appointment.pk}, {when(appointment, short=True)}",
        body="\n".join(lines) + "\n",
        to=clinic_recipients(),
    )


def reminder_mail(appointment: Appointment) -> Mail:
    clinic = clinic_settings()
    lines = [
        "This is a reminder of your appointment.",
        "",
        *_visit_lines(appointment),
        "",
        *PREPARE,
        "",
        *_manage_lines(appointment, clinic),
        "",
        *_contact_lines(clinic),
        "",
        clinic.emergency_notice,
    ]
    return Mail(
        subject=f"Reminder: your appointment on {when(appointment, short=True)}",
        body="\n".join(lines) + "\n",
        to=[appointment.patient.email],
    )


def reminder_text(appointment: Appointment) -> str:
    clinic = clinic_settings()
    return (
        f"{clinic.practice_name}: reminder of your appointment with {appointment.practitioner.name} "
        f"on {when(appointment, short=True)} at {appointment.location.name}. "
        f"To cancel or change: {notifications.booking_manage_url(appointment)}"
    )


def waitlist_offer_mail(notification: AppointmentNotification) -> Mail:
    """An earlier time for a patient on the waitlist: when, where, with whom, until when to take it, and the link."""
    from .waitlist import offer_url

    entry = notification.waitlist_entry
    location = entry.location
    local = entry.offered_start.astimezone(location.zone)
    expires = entry.offer_expires_at.astimezone(location.zone)
    clinic = clinic_settings()
    lines = [
        "Hello,",
        "",
        "An earlier appointment time has become free, and you are next on our waitlist:",
        "",
        f"When: {timefmt.long_date(local)} at {timefmt.clock(local)} {timefmt.zone_name(location.zone)}",
        f"Where: {location.name}" + (f", {' '.join(location.address.split())}" if location.address else ""),
        f"With: {entry.offered_practitioner}",
        "",
        "To take it, open this link (it is just for you; please do not share it):",
        offer_url(entry),
        "",
        f"The offer is kept for you until {expires:%A} at {timefmt.clock(expires)} "
        f"{timefmt.zone_name(location.zone)}. "
        "If you do nothing, your current booking stays as it is.",
        "",
        *_contact_lines(clinic),
    ]
    return Mail(
        subject=f"An earlier appointment time is free — {clinic.practice_name}",
        body="\n".join(lines),
        to=[entry.patient.email],
    )

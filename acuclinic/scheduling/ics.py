"""iCalendar (RFC 5545) files: one appointment for the patient's e-mail, and a practitioner's private feed.

Times are written in the location's zone (``DTSTART;TZID=America/New_York:…``) with the matching ``VTIMEZONE``, so a
calendar app shows the wall-clock time the clinic means on either side of a daylight-saving change.

SEQUENCE must grow whenever an update is sent, or calendar apps ignore the new time. Rather than a counter column,
it is the number of changes the audit log holds for the appointment: every move or cancellation goes through a
service that records one (``audit.record(action=CHANGE, obj=appointment)``), the log is append-only, so the count
never goes down, and it is the same number whoever builds the file (an e-mail or the feed).

Nothing about the patient's health is written: the summary names the visit and the practitioner, never a reason.
"""

from datetime import UTC, date, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from acuclinic.accounts.models import AuditEvent

from .models import Appointment, AppointmentStatus

PRODID = "-//Acuclinic//Scheduling//EN"
# VTIMEZONE rules cover this much around the events, enough for any calendar app to place them.
ZONE_MARGIN = timedelta(days=400)


def uid(appointment: Appointment) -> str:
    """Stable for the appointment's whole life, so that an update or a cancellation replaces the same event."""
    return f"appointment-{appointment.pk}@{_domain()}"


def sequence(appointment: Appointment) -> int:
    return AuditEvent.objects.filter(
        object_type=Appointment._meta.label_lower,
        object_id=str(appointment.pk),
        action=AuditEvent.Action.CHANGE,
    ).count()


def summary(appointment: Appointment) -> str:
    return f"Acupuncture appointment with {appointment.practitioner.name}"


def location_text(appointment: Appointment) -> str:
    location = appointment.location
    address = ", ".join(line.strip() for line in (location.address or "").splitlines() if line.strip())
    return f"{location.name}, {address}" if address else location.name


def appointment_ics(appointment: Appointment, *, cancelled: bool = False, download: bool = False) -> bytes:
    """One VEVENT for the patient, as RFC 5546 asks for each method:

    - the e-mailed invitation: METHOD:REQUEST (add or update) or METHOD:CANCEL + STATUS:CANCELLED, with the clinic
      as ORGANIZER and the patient as ATTENDEE (§3.2.2 and §3.2.5 require both; SEQUENCE is always written);
    - ``download=True`` (the patient's "Add to my calendar"): METHOD:PUBLISH, ORGANIZER and no ATTENDEE (§3.2.1).

    A patient without an e-mail address cannot be an ATTENDEE: their file is published rather than an invitation.
    """
    cancelled = cancelled or appointment.status == AppointmentStatus.CANCELLED
    email = (appointment.patient.email or "").strip()
    method = "PUBLISH" if download or not email else ("CANCEL" if cancelled else "REQUEST")
    calendar = _calendar(method=method)
    event = _event(appointment, summary_text=summary(appointment))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", f"mailto:{_organizer_email()}", parameters={"CN": _practice_name()})
    if method != "PUBLISH":
        # The patient's own invitation: the address it is sent to, nothing else (no name, no reason for the visit).
        event.add(
            "attendee",
            f"mailto:{email}",
            parameters={
                "CUTYPE": "INDIVIDUAL",
                "ROLE": "REQ-PARTICIPANT",
                "PARTSTAT": "DECLINED" if cancelled else "ACCEPTED",
                "RSVP": "FALSE",
            },
        )
    calendar.add_component(event)
    _add_zones(calendar, [appointment])
    return calendar.to_ical()


def feed_ics(*, name: str, appointments) -> bytes:
    """A subscription calendar (METHOD:PUBLISH) of the practitioner's appointments: type and initials only."""
    appointments = list(appointments)
    calendar = _calendar(method="PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", timedelta(minutes=30), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT30M")
    for appointment in appointments:
        text = f"{appointment.appointment_type.name} — {patient_initials(appointment.patient)}"
        event = _event(appointment, summary_text=text, room=True)
        event.add("status", "TENTATIVE" if appointment.status == AppointmentStatus.PENDING else "CONFIRMED")
        event.add("transp", "OPAQUE")
        event.add("class", "PRIVATE")
        calendar.add_component(event)
    _add_zones(calendar, appointments)
    return calendar.to_ical()


def patient_initials(patient) -> str:
    return "".join(
        f"{part.strip()[0].upper()}." for part in (patient.first_name, patient.last_name) if part.strip()
    )


def _calendar(*, method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def _event(appointment: Appointment, *, summary_text: str, room: bool = False) -> Event:
    zone = appointment.location.zone
    event = Event()
    event.add("uid", uid(appointment))
    event.add("sequence", sequence(appointment))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", _local(appointment.start, zone))
    event.add("dtend", _local(appointment.end, zone))
    event.add("summary", summary_text)
    place = location_text(appointment)
    event.add("location", f"{place} ({appointment.room.name})" if room else place)
    return event


def _local(instant, zone):
    """The instant in the location's zone (icalendar writes TZID=<IANA name> and the wall-clock time) — except the
    second pass through the repeated hour of an autumn change: RFC 5545 (3.3.5) reads a repeated local time as its
    first occurrence, so that one is written in UTC, which is exact."""
    local = instant.astimezone(zone)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return instant.astimezone(UTC)
    return local


def _add_zones(calendar: Calendar, appointments: list[Appointment]) -> None:
    if not appointments:
        return
    days = [a.start.astimezone(a.location.zone).date() for a in appointments]
    first: date = min(days) - ZONE_MARGIN
    last: date = max(days) + ZONE_MARGIN
    calendar.add_missing_timezones(first_date=first, last_date=last)


def _domain() -> str:
    return urlsplit(settings.WAGTAILADMIN_BASE_URL).hostname or "acuclinic.invalid"


def _clinic():
    from wagtail.models import Site

    from acuclinic.core.models import ClinicSettings

    site = Site.objects.filter(is_default_site=True).first()
    return ClinicSettings.for_site(site) if site else ClinicSettings()


def _practice_name() -> str:
    return _clinic().practice_name


def _organizer_email() -> str:
    from email.utils import parseaddr

    return _clinic().contact_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or f"no-reply@{_domain()}"

"""The .ics of an appointment, read back with icalendar: times in the location's zone across DST, a stable UID,
a SEQUENCE that grows with every change, METHOD:CANCEL for a cancellation, and nothing about health."""

from datetime import UTC, date, datetime, time

import pytest
from icalendar import Calendar

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.scheduling.ics import appointment_ics, feed_ics
from acuclinic.scheduling.models import Appointment
from acuclinic.scheduling.services import book_appointment, cancel_appointment, local_start, window_for

pytestmark = pytest.mark.django_db

# 2026 in New York: clocks go forward on Sunday March 8 and back on Sunday November 1.
SPRING_FORWARD = date(2026, 3, 8)
FALL_BACK = date(2026, 11, 1)


def book_at(clinic, day, at, **kwargs):
    if not clinic.patient.email:  # an invitation (REQUEST, CANCEL) names the patient's address as ATTENDEE
        clinic.patient.email = "patient@example.org"
        clinic.patient.save()
    return book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=local_start(clinic.location, day, at, **kwargs),
    )


def parse(ics: bytes):
    calendar = Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def move(appointment: Appointment, start):
    """What a move service does: new times, one audited change (the lead's move service does the same)."""
    window = window_for(appointment.appointment_type, start)
    appointment.start, appointment.end, appointment.blocked_until = (
        window.start,
        window.end,
        window.blocked_until,
    )
    appointment.save()
    audit.record(actor=None, action=AuditEvent.Action.CHANGE, obj=appointment, detail="moved")


@pytest.mark.parametrize(
    ("day", "utc_hour", "abbreviation"),
    [(SPRING_FORWARD, 14, "EDT"), (FALL_BACK, 15, "EST"), (date(2026, 3, 7), 15, "EST")],
)
def test_wall_clock_time_in_the_locations_zone_on_dst_change_days(clinic, day, utc_hour, abbreviation):
    appointment = book_at(clinic, day, time(10, 0))
    assert appointment.start == datetime(day.year, day.month, day.day, utc_hour, tzinfo=UTC)

    ics = appointment_ics(appointment)
    assert f"DTSTART;TZID=America/New_York:{day:%Y%m%d}T100000" in ics.decode()
    assert f"DTEND;TZID=America/New_York:{day:%Y%m%d}T103000" in ics.decode()
    calendar, event = parse(ics)
    # The VTIMEZONE written into the file (not the system's zone database) puts 10:00 local at the right instant.
    [vtimezone] = calendar.walk("VTIMEZONE")
    assert vtimezone["TZID"] == "America/New_York"
    zone_from_file = vtimezone.to_tz()
    wall = datetime.combine(day, time(10, 0)).replace(tzinfo=zone_from_file)
    assert wall.astimezone(UTC) == appointment.start
    assert wall.tzname() == abbreviation
    start = event.decoded("DTSTART")
    assert start.astimezone(UTC) == appointment.start and (start.hour, start.minute) == (10, 0)
    assert event.decoded("DTEND") - start == clinic.follow_up.duration


def test_the_repeated_hour_of_the_autumn_change_is_written_with_the_right_offset(clinic):
    clinic.location.opens_at = time(0, 0)
    clinic.location.save()
    first = book_at(clinic, FALL_BACK, time(1, 0), fold=0)  # 01:00 EDT
    second = book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.other_practitioner,
        room=clinic.other_room,
        appointment_type=clinic.follow_up,
        start=local_start(clinic.location, FALL_BACK, time(1, 0), fold=1),  # 01:00 EST, an hour later
    )
    assert second.start - first.start == clinic.follow_up.duration * 2
    # RFC 5545 reads a repeated local time as its first occurrence: the second one must not be written as 01:00.
    _, event = parse(appointment_ics(first))
    assert event.decoded("DTSTART").astimezone(UTC) == first.start
    assert "DTSTART;TZID=America/New_York:20261101T010000" in appointment_ics(first).decode()
    _, event = parse(appointment_ics(second))
    assert event.decoded("DTSTART").astimezone(UTC) == second.start
    assert "DTSTART:20261101T060000Z" in appointment_ics(second).decode()


def test_request_method_summary_location_and_no_health_details(clinic):
    clinic.location.address = "1 Test Street\nSuite 4\nNew York, NY 10001"
    clinic.location.save()
    appointment = book_at(clinic, date(2026, 12, 1), time(10, 30))
    calendar, event = parse(appointment_ics(appointment))
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert event["SUMMARY"] == "Acupuncture appointment with Pat Needles"
    assert event["LOCATION"] == "Test clinic, 1 Test Street, Suite 4, New York, NY 10001"
    assert event["STATUS"] == "CONFIRMED"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert event.decoded("DTSTAMP").tzinfo is not None
    text = appointment_ics(appointment).decode()
    for private in (clinic.patient.first_name, clinic.patient.last_name, "1980", clinic.follow_up.name):
        assert private not in text


def test_uid_is_stable_and_sequence_grows_with_each_move_and_the_cancellation(clinic):
    appointment = book_at(clinic, date(2026, 12, 1), time(10, 30))
    _, event = parse(appointment_ics(appointment))
    uid, first_sequence = str(event["UID"]), event.decoded("SEQUENCE")
    assert first_sequence == 0

    move(appointment, local_start(clinic.location, date(2026, 12, 2), time(11, 0)))
    _, moved = parse(appointment_ics(appointment))
    assert str(moved["UID"]) == uid and moved.decoded("SEQUENCE") == 1
    assert moved.decoded("DTSTART").astimezone(clinic.location.zone).hour == 11

    move(appointment, local_start(clinic.location, date(2026, 12, 3), time(9, 0)))
    _, again = parse(appointment_ics(appointment))
    assert again.decoded("SEQUENCE") == 2

    # Reading the appointment (audited as a read) is not a change.
    audit.record(actor=None, action=AuditEvent.Action.READ, obj=appointment)
    assert parse(appointment_ics(appointment))[1].decoded("SEQUENCE") == 2

    appointment = cancel_appointment(appointment=appointment, by=None, reason="patient asked")
    calendar, cancelled = parse(appointment_ics(appointment, cancelled=True))
    assert calendar["METHOD"] == "CANCEL" and cancelled["STATUS"] == "CANCELLED"
    assert str(cancelled["UID"]) == uid and cancelled.decoded("SEQUENCE") == 3
    assert "patient asked" not in appointment_ics(appointment, cancelled=True).decode()
    # Other appointments have their own UID.
    other = book_at(clinic, date(2026, 12, 4), time(9, 0))
    assert str(parse(appointment_ics(other))[1]["UID"]) != uid


def test_feed_has_type_and_initials_only(clinic):
    appointment = book_at(clinic, date(2026, 11, 2), time(9, 0))
    text = feed_ics(name="Pat Needles — Acuclinic", appointments=[appointment]).decode()
    calendar = Calendar.from_ical(text)
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert event["SUMMARY"] == "Follow-up (test) — T.P."
    assert clinic.patient.first_name not in text and clinic.patient.last_name not in text
    assert len(calendar.walk("VTIMEZONE")) == 1

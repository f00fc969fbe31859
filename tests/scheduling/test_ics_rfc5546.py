"""The calendar files read back with icalendar against RFC 5546's table for each method: the e-mailed invitation
(METHOD:REQUEST, then METHOD:CANCEL) has the clinic as ORGANIZER and the patient as ATTENDEE; the download from the
patient's page is METHOD:PUBLISH (ORGANIZER, no ATTENDEE). A move keeps the UID and raises the SEQUENCE."""

from datetime import date, time

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from acuclinic.accounts.patient_links import Purpose, make_token
from acuclinic.scheduling.ics import appointment_ics
from acuclinic.scheduling.services import (
    book_appointment,
    cancel_appointment,
    local_start,
    reschedule_appointment,
)

from .notify_helpers import calendar_part

pytestmark = pytest.mark.django_db

DAY = date(2030, 6, 4)

# RFC 5546 §3.2.1 (PUBLISH), §3.2.2 (REQUEST), §3.2.5 (CANCEL): VEVENT properties that must appear exactly once,
# at least once, or never.
EXACTLY_ONCE = {
    "PUBLISH": {"DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"},
    "REQUEST": {"DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"},
    "CANCEL": {"DTSTAMP", "ORGANIZER", "SEQUENCE", "UID"},
}
AT_LEAST_ONCE = {"PUBLISH": set(), "REQUEST": {"ATTENDEE"}, "CANCEL": set()}
NEVER = {
    "PUBLISH": {"ATTENDEE", "REQUEST-STATUS"},
    "REQUEST": {"REQUEST-STATUS"},
    "CANCEL": {"REQUEST-STATUS"},
}
AT_MOST_ONCE = {"CLASS", "CREATED", "DESCRIPTION", "DTEND", "LOCATION", "SEQUENCE", "STATUS", "TRANSP"}


def check_rfc5546(ics: bytes, method: str):
    calendar = Calendar.from_ical(ics)
    assert calendar["METHOD"] == method and calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    [event] = events
    lines = [line.split(":", 1)[0].split(";", 1)[0] for line in event.content_lines() if line]
    counts = {name: lines.count(name) for name in set(lines)}
    for name in EXACTLY_ONCE[method]:
        assert counts.get(name) == 1, (method, name)
    for name in AT_LEAST_ONCE[method]:
        assert counts.get(name, 0) >= 1, (method, name)
    for name in NEVER[method]:
        assert name not in counts, (method, name)
    for name in AT_MOST_ONCE:
        assert counts.get(name, 0) <= 1, (method, name)
    # "SEQUENCE: MUST be present if value is greater than 0" (REQUEST, PUBLISH); we always write it.
    assert "SEQUENCE" in counts
    if method == "CANCEL":
        assert event["STATUS"] == "CANCELLED"
    if method != "PUBLISH":
        organizer, attendees = str(event["ORGANIZER"]), event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert organizer.lower().startswith("mailto:") and all(
            str(a).startswith("mailto:") for a in attendees
        )
        assert organizer not in [str(a) for a in attendees]
    return calendar, event


@pytest.fixture
def booked(clinic):
    clinic.patient.email = "ana@example.org"
    clinic.patient.save()
    return book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=local_start(clinic.location, DAY, time(10)),
    )


def test_the_invitation_names_the_patient_as_attendee_and_the_clinic_as_organizer(booked):
    _, event = check_rfc5546(appointment_ics(booked), "REQUEST")
    assert str(event["ATTENDEE"]) == "mailto:ana@example.org"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED" and event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert event["ORGANIZER"].params["CN"]


def test_a_move_keeps_the_uid_and_raises_the_sequence_then_the_cancel(clinic, booked):
    _, first = check_rfc5546(appointment_ics(booked), "REQUEST")
    moved = reschedule_appointment(
        appointment=booked, start=local_start(clinic.location, DAY, time(11)), by=None
    )
    _, second = check_rfc5546(appointment_ics(moved), "REQUEST")
    assert str(second["UID"]) == str(first["UID"])
    assert second.decoded("SEQUENCE") == first.decoded("SEQUENCE") + 1
    assert second.decoded("DTSTART") != first.decoded("DTSTART")
    cancelled = cancel_appointment(appointment=moved, by=None, reason="test")
    _, third = check_rfc5546(appointment_ics(cancelled, cancelled=True), "CANCEL")
    assert str(third["UID"]) == str(first["UID"]) and third.decoded("SEQUENCE") > second.decoded("SEQUENCE")
    assert str(third["ATTENDEE"]) == "mailto:ana@example.org"


def test_the_download_is_published_without_attendee(client, booked):
    token = make_token(purpose=Purpose.MANAGE_BOOKING, object_id=booked.pk)
    response = client.get(reverse("booking_calendar", kwargs={"token": token}))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    check_rfc5546(response.content, "PUBLISH")


def test_the_e_mailed_files_pass_for_their_method(clinic, booked):
    from acuclinic.scheduling.models import AppointmentNotification
    from acuclinic.scheduling.tasks import send_appointment_notification

    done = set()

    def send_new():
        for pk in AppointmentNotification.objects.filter(appointment=booked).values_list("pk", flat=True):
            if pk not in done:
                done.add(pk)
                send_appointment_notification.call(pk)

    send_new()
    moved = reschedule_appointment(
        appointment=booked, start=local_start(clinic.location, DAY, time(11)), by=None
    )
    send_new()
    cancel_appointment(appointment=moved, by=None, reason="test")
    send_new()
    methods = []
    for message in mail.outbox:
        if "ana@example.org" not in message.to:
            continue
        content_type, _name, calendar = calendar_part(message)
        method = str(calendar["METHOD"])
        assert f"method={method}" in content_type.replace('"', "")
        check_rfc5546(calendar.to_ical(), method)
        methods.append(method)
    assert methods == ["REQUEST", "REQUEST", "CANCEL"]

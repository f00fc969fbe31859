"""One way to show a time to patients: "10:00 AM", the zone as "Eastern Time" — never "America/New_York", never
"10:00–10:30" (24-hour) nor "10 a.m." — on the booking steps, the manage and move pages, the waitlist offer, and in
the confirmation e-mail, the reminder e-mail and text and the waitlist offer e-mail (core/timefmt.py)."""

import re
from datetime import time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from acuclinic.scheduling import messages, waitlist
from acuclinic.scheduling.booking_views import manage_token
from acuclinic.scheduling.models import AppointmentNotification
from acuclinic.scheduling.services import book_appointment, cancel_appointment, local_start
from tests.scheduling.conftest import make_clinic, make_patient

pytestmark = pytest.mark.django_db

Kind = AppointmentNotification.Kind
TWENTY_FOUR_HOUR = re.compile(r"\b(?:[01]\d|2[0-3]):[0-5]\d(?!\s*[AP]M)\s*(?:[–-]|\(|$|<)")
NOT_OUR_CLOCK = re.compile(r"\b\d{1,2}(?::\d\d)?\s*(?:a\.m\.|p\.m\.|am\b|pm\b)|\b\d{1,2}:\d\d\s*[ap]\.?m\b")


def _office_hours_lines() -> list[str]:
    """The clinic's opening hours are free text typed in Settings (the demo's say "8 am to 6 pm"): not ours."""
    from django.utils.html import escape
    from wagtail.models import Site

    from acuclinic.core.models import ClinicSettings

    site = Site.objects.filter(is_default_site=True).first()
    return [escape(line) for line in ClinicSettings.for_site(site).office_hours_lines] if site else []


def assert_one_time_format(text: str, where: str):
    for line in _office_hours_lines():
        text = text.replace(line, "")
    visible = re.sub(r'(?:value|href|datetime|content)="[^"]*"', "", text)  # attributes are not read out
    visible = re.sub(r"<(script|style)\b.*?</\1>", "", visible, flags=re.S)
    assert "America/" not in visible, where
    assert not TWENTY_FOUR_HOUR.search(visible), (where, TWENTY_FOUR_HOUR.search(visible))
    assert not NOT_OUR_CLOCK.search(visible), (where, NOT_OUR_CLOCK.search(visible))


@pytest.fixture
def booked(db, django_capture_on_commit_callbacks):
    clinic = make_clinic(patients=3, working_hours=True)
    clinic.patient.email = "patient@example.org"
    clinic.patient.save()
    day = timezone.localdate(timezone=clinic.location.zone) + timedelta(days=5)
    appointment = book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=local_start(clinic.location, day, time(10)),
    )
    freed = book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.first_visit,
        start=local_start(clinic.location, day, time(13, 30)),
    )
    waiting = make_patient(7)
    waiting.email = "waiting@example.org"
    waiting.save()
    entry = waitlist.join_waitlist(
        patient=waiting,
        appointment_type=clinic.first_visit,
        location=clinic.location,
        earliest=day - timedelta(days=1),
        latest=day + timedelta(days=7),
    )
    with django_capture_on_commit_callbacks(execute=True):
        cancel_appointment(appointment=freed, by=None, reason="test")
    entry.refresh_from_db()
    return clinic, appointment, entry, day


def test_patient_pages_show_10_00_am_and_eastern_time(booked):
    clinic, appointment, entry, day = booked
    client = Client()
    choice = f"location={clinic.location.pk}&type={clinic.follow_up.pk}&practitioner=any"
    token = manage_token(appointment)
    pages = {
        "day step": f"/book/?{choice}",
        "time step": f"/book/?{choice}&day={day + timedelta(days=1)}",
        "details step": f"/book/details/?{choice}&start={appointment.start.isoformat().replace('+', '%2B')}",
        "manage": f"/book/manage/{token}/",
        "move": f"/book/manage/{token}/move/",
        "move, times": f"/book/manage/{token}/move/?day={day + timedelta(days=1)}",
        "waitlist offer": f"/waitlist/offer/{waitlist.offer_token(entry)}/",
    }
    for name, url in pages.items():
        page = client.get(url)
        assert page.status_code == 200, name
        assert_one_time_format(page.text, name)
    assert "10:00 AM" in client.get(pages["manage"]).text
    assert "10:00 AM – 10:30 AM" in client.get(pages["manage"]).text
    assert "Eastern Time" in client.get(pages["manage"]).text
    assert "Eastern Time" in client.get(pages["time step"]).text
    assert "9:00 AM" in client.get(pages["time step"]).text
    offer = client.get(pages["waitlist offer"]).text
    assert "1:30 PM" in offer and "Eastern Time" in offer


def test_messages_show_10_00_am_and_eastern_time(booked):
    clinic, appointment, entry, _day = booked
    confirmation = AppointmentNotification.objects.create(
        appointment=appointment, kind=Kind.PATIENT_CONFIRMATION
    )
    mails = {
        "confirmation": messages.patient_mail(confirmation),
        "reminder": messages.reminder_mail(appointment),
        "clinic": messages.clinic_mail(
            AppointmentNotification.objects.create(appointment=appointment, kind=Kind.CLINIC_BOOKED)
        ),
        "waitlist offer": messages.waitlist_offer_mail(
            AppointmentNotification(waitlist_entry=entry, kind=Kind.PATIENT_WAITLIST_OFFER)
        ),
    }
    for name, mail in mails.items():
        assert_one_time_format(mail.subject + "\n" + mail.body, name)
        assert "Eastern Time" in mail.body, name
    assert "at 10:00 AM Eastern Time" in mails["confirmation"].body
    assert "10:00 AM" in mails["reminder"].subject
    assert "1:30 PM Eastern Time" in mails["waitlist offer"].body
    text = messages.reminder_text(appointment)
    assert_one_time_format(text, "reminder text")
    assert "10:00 AM" in text


def test_the_checks_catch_what_the_issue_saw():
    for shown in ("09:00–10:00", "1:30 p.m.", "(America/New_York)", "10:30 AM EST 14:00 (", "9:00 am"):
        with pytest.raises(AssertionError):
            assert_one_time_format(shown, "example")
    assert_one_time_format("Monday, June 3, 2030, 10:00 AM – 10:30 AM (Eastern Time)", "ours")


def test_django_default_formats_say_10_00_am():
    from datetime import datetime

    from django.template import Context, Template

    moment = datetime(2030, 6, 3, 13, 30)
    rendered = Template(
        "{{ t|time }}|{{ t|date:'DATETIME_FORMAT' }}|{{ t|date:'SHORT_DATETIME_FORMAT' }}"
    ).render(Context({"t": moment}))
    assert rendered == "1:30 PM|June 3, 2030, 1:30 PM|06/03/2030 1:30 PM"

"""Journey 6 of the product brief: a returning patient books a 30-minute follow-up online from a phone, gets the
confirmation e-mail with an .ics file and a link, and cancels through that link.

The site is its own LiveSite (production settings, gunicorn) with mail written to files, so the test reads the
e-mail exactly as the worker sent it: the calendar attachment is parsed with icalendar and the link in the body is
the one the patient follows. axe-core checks each step of the booking; screenshots are saved for people to look at.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
from datetime import datetime
from pathlib import Path

import icalendar
import pytest
from playwright.sync_api import expect

from tests.livesite import LiveSite

from .test_accessibility import readable, run_axe

pytestmark = pytest.mark.browser

PATIENT = {
    "first_name": "Rosa",
    "last_name": "Returning",
    "date_of_birth": "04/27/1961",
    "email": "rosa@example.org",
}

MAKE_RETURNING_PATIENT = """
import json
from datetime import date, timedelta
from django.utils import timezone
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Appointment, AppointmentType, Location, Practitioner
location = Location.objects.get(name="Acuclinic Midtown")
follow_up = AppointmentType.objects.get(name="Follow-up treatment")
patient, _ = Patient.objects.get_or_create(
    first_name="Rosa", last_name="Returning", date_of_birth=date(1961, 4, 27), defaults={"email": "rosa@example.org"}
)
start = timezone.now() - timedelta(days=21)
if not patient.appointments.exists():
    Appointment.objects.create(
        patient=patient, practitioner=follow_up.practitioners.first(), room=location.rooms.first(), location=location,
        appointment_type=follow_up, start=start, end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40), status="completed",
    )
print("RESULT " + json.dumps({"patient": patient.pk}))
"""

APPOINTMENTS_OF = """
import json
from acuclinic.scheduling.models import Appointment
rows = Appointment.objects.filter(patient_id=PATIENT).exclude(status="completed").order_by("pk")
print("RESULT " + json.dumps([
    {"status": a.status, "start": a.start.isoformat(), "online": a.booked_online, "type": a.appointment_type.name}
    for a in rows
]))
"""


def _result(site, script: str):
    output = site.manage("shell", "-c", script, timeout=120).stdout
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line from manage.py shell:\n{output}"
    return json.loads(lines[-1].removeprefix("RESULT "))


@pytest.fixture(scope="module")
def mail_site(tmp_path_factory):
    mail_dir = tmp_path_factory.mktemp("mail")
    url = os.environ.get("DATABASE_URL", "")
    database = url if url.startswith(("postgres://", "postgresql://")) else None
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    with LiveSite(database, workers=2, extra_env=env) as site:
        site.mail_dir = mail_dir
        yield site


def run_worker(site) -> None:
    site.manage("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "-v", "0", timeout=180)


def messages_to(site, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(Path(site.mail_dir).glob("*.log")):
        # The file backend writes each message followed by a line of dashes.
        for raw in path.read_bytes().split(b"-" * 79):
            raw = raw.strip()
            if not raw:
                continue
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if address in (message["To"] or ""):
                found.append(message)
    return found


def calendar_of(message) -> icalendar.Calendar:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_payload(decode=True))
    raise AssertionError("no text/calendar part in the message")


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def no_axe_violations(page, where: str):
    violations = run_axe(page)
    assert not violations, f"{where}:\n{readable(violations)}"


def test_journey_6_book_a_follow_up_get_the_ics_and_cancel_by_the_link(mail_site, browser, screenshot):
    patient_id = _result(mail_site, MAKE_RETURNING_PATIENT)["patient"]
    context = browser.new_context(
        base_url=mail_site.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("link", name="Book online").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment online")
        # The first question decides which visits are shown (issue 10).
        page.get_by_role("link", name=re.compile(r"^No, I have been treated here before")).click()
        expect(page.get_by_role("heading", name="Which visit?")).to_be_visible()
        no_axe_violations(page, "visit type step")
        screenshot(page, "01-choose-visit")
        page.get_by_role("link", name=re.compile(r"^Follow-up treatment")).click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Who would you like to see?")
        page.get_by_role("link", name=re.compile(r"^First available")).click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Choose a day")
        no_axe_violations(page, "day step")
        screenshot(page, "02-choose-day")
        # A day well after tomorrow: bookings inside the 24-hour cut-off cannot be cancelled online.
        page.locator(".pick-list--days a").nth(2).click()

        expect(page.get_by_role("heading", level=1)).to_contain_text("Choose a time on")
        no_axe_violations(page, "time step")
        screenshot(page, "03-choose-time")
        chosen_time = page.locator(".time-grid a").first.inner_text().strip()
        page.locator(".time-grid a").first.click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
        page.get_by_label("Date of birth").fill(
            "04/31/1961"
        )  # April has 30 days: a clear message, nothing lost
        page.get_by_label("First name").fill(PATIENT["first_name"])
        page.get_by_label("Last name").fill(PATIENT["last_name"])
        page.get_by_label("E-mail").fill(PATIENT["email"])
        page.get_by_role("button", name="Book this appointment").click()
        expect(page.locator("#id_date_of_birth-error")).to_contain_text("04/31/1961 is not a real date.")
        expect(page.get_by_label("First name")).to_have_value(PATIENT["first_name"])
        no_axe_violations(page, "details with an error")
        screenshot(page, "04-details-error")
        page.get_by_label("Date of birth").fill(PATIENT["date_of_birth"])
        page.get_by_role("button", name="Book this appointment").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment")
        expect(page.get_by_role("status")).to_contain_text("Your appointment is booked.")
        expect(page.locator(".booking-details")).to_contain_text(chosen_time)
        no_axe_violations(page, "booked")
        screenshot(page, "05-booked", full_page=True)

        booked = _result(mail_site, APPOINTMENTS_OF.replace("PATIENT", str(patient_id)))
        assert len(booked) == 1 and booked[0]["status"] == "confirmed" and booked[0]["online"]
        assert booked[0]["type"] == "Follow-up treatment"

        # The worker sends the confirmation after the commit: the patient's mail carries the .ics and the link.
        run_worker(mail_site)
        mails = messages_to(mail_site, PATIENT["email"])
        assert len(mails) == 1, [m["Subject"] for m in mails]
        confirmation = mails[0]
        event = calendar_of(confirmation).walk("VEVENT")[0]
        assert event.decoded("dtstart") == datetime.fromisoformat(
            booked[0]["start"]
        )  # same instant, any zone
        body = body_of(confirmation)
        links = re.findall(r"https?://\S+/book/manage/\S+/", body)
        assert links, body
        link = links[0]

        # The patient follows the link from the e-mail and cancels.
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment")
        page.get_by_label("I can no longer make this time").check()
        screenshot(page, "06-manage-link", full_page=True)
        page.get_by_role("button", name="Cancel my appointment").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Cancelled appointment")
        expect(page.get_by_role("status")).to_contain_text("Your appointment is cancelled.")
        no_axe_violations(page, "cancelled")
        screenshot(page, "07-cancelled", full_page=True)
        assert (
            _result(mail_site, APPOINTMENTS_OF.replace("PATIENT", str(patient_id)))[0]["status"]
            == "cancelled"
        )

        run_worker(mail_site)
        cancellation = messages_to(mail_site, PATIENT["email"])[-1]
        assert calendar_of(cancellation)["method"] == "CANCEL"
    finally:
        context.close()

"""Issue 10: online booking that completes, on a phone.

A new patient books their first visit online end to end (the visit type open to new patients), and a returning
patient — one with a completed visit — books a follow-up, after a first try with an e-mail address the clinic does
not have (a clear message next to the fields, everything typed kept). The first question decides which visits are
shown; axe-core checks every step and a screenshot of each step goes to test-artifacts/.

The data is set up in the live site the way tests/browser/test_journey_book_online.py does it: a script run with
``manage.py shell`` in the site's own environment (this test makes no ORM call itself).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .test_accessibility import readable, run_axe

pytestmark = pytest.mark.browser

NEW_PATIENT = {
    "first_name": "Nora",
    "last_name": "Newcomer",
    "date_of_birth": "09/14/1985",
    "email": "nora@example.org",
}
RETURNING = {
    "first_name": "Rita",
    "last_name": "Revisit",
    "date_of_birth": "03/15/1970",
    "email": "rita@example.org",
}

# The demo's visit types belong to the demo (acuclinic/scheduling/demo.py); here the first visit is opened to new
# patients as the issue asks the demo to do, and a patient with a completed visit three weeks ago is added.
SET_UP = """
import json
from datetime import date, timedelta
from django.utils import timezone
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Appointment, AppointmentType, Location
first = AppointmentType.objects.get(name="First visit with intake")
first.new_patients_may_book_online = True
first.description = "Your first treatment, with time to talk about your back pain."
first.save()
follow_up = AppointmentType.objects.get(name="Follow-up treatment")
follow_up.new_patients_may_book_online = False
follow_up.description = "A treatment for a patient we have seen."
follow_up.save()
location = Location.objects.get(name="Acuclinic Midtown")
patient, _ = Patient.objects.get_or_create(
    first_name="Rita", last_name="Revisit", date_of_birth=date(1970, 3, 15), defaults={"email": "rita@example.org"}
)
if not patient.appointments.filter(status="completed").exists():
    start = timezone.now() - timedelta(days=21)
    Appointment.objects.create(
        patient=patient, practitioner=follow_up.practitioners.first(), room=location.rooms.first(), location=location,
        appointment_type=follow_up, start=start, end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40), status="completed",
    )
print("RESULT " + json.dumps({"patient": patient.pk}))
"""

BOOKED = """
import json
from acuclinic.scheduling.models import Appointment
rows = Appointment.objects.filter(booked_online=True, patient__last_name__in=["Newcomer", "Revisit"]).order_by("pk")
print("RESULT " + json.dumps([
    {"patient": a.patient.last_name, "type": a.appointment_type.name, "status": a.status} for a in rows
]))
"""


def _result(site, script: str):
    output = site.manage("shell", "-c", script, timeout=120).stdout
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line from manage.py shell:\n{output}"
    return json.loads(lines[-1].removeprefix("RESULT "))


def clean(page, where: str):
    violations = run_axe(page)
    assert not violations, f"{where}:\n{readable(violations)}"


def choose_a_time(page, screenshot, prefix: str) -> str:
    expect(page.get_by_role("heading", level=1)).to_have_text("Who would you like to see?")
    clean(page, f"{prefix} practitioner step")
    page.get_by_role("link", name=re.compile(r"^First available")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a day")
    clean(page, f"{prefix} day step")
    screenshot(page, f"{prefix}-04-day")
    page.locator(".pick-list--days a").nth(2).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Choose a time on")
    clean(page, f"{prefix} time step")
    screenshot(page, f"{prefix}-05-time")
    chosen = page.locator(".time-grid a").first.inner_text().strip()
    page.locator(".time-grid a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    return chosen


def pick_the_clinic(page):
    """Other browser tests share this site and may add locations: then the first step asks where to come."""
    if page.get_by_role("heading", name="Where would you like to come?").count():
        page.get_by_role("link", name=re.compile(r"^Acuclinic Midtown")).click()


def fill(page, person: dict):
    page.get_by_label("First name").fill(person["first_name"])
    page.get_by_label("Last name").fill(person["last_name"])
    page.get_by_label("Date of birth").fill(person["date_of_birth"])
    page.get_by_label("E-mail").fill(person["email"])


def test_a_new_patient_books_a_first_visit_and_a_returning_patient_a_follow_up(
    live_site, phone_context, screenshot
):
    _result(live_site, SET_UP)
    page = phone_context.new_page()

    # --- a new patient --------------------------------------------------------------------------------------
    page.goto("/")
    page.get_by_role("link", name="Book online").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment online")
    pick_the_clinic(page)
    expect(page.get_by_role("heading", name="Is this your first visit with us?")).to_be_visible()
    clean(page, "who step")
    screenshot(page, "new-01-first-visit", full_page=True)
    page.get_by_role("link", name=re.compile(r"^Yes, this is my first visit")).click()

    expect(page.get_by_role("heading", name="Which visit?")).to_be_visible()
    visits = page.locator(".pick-list a")
    # Only visits a new patient may book online (other browser tests may have added one of those).
    expect(visits.filter(has_text="Follow-up treatment")).to_have_count(0)
    expect(visits.filter(has_text="For patients who have been treated here before")).to_have_count(0)
    first_visit = visits.filter(has_text="First visit with intake")
    expect(first_visit).to_contain_text("For new patients and returning patients")
    expect(page.get_by_role("button", name="Ask us to book “Follow-up treatment”")).to_be_visible()
    clean(page, "visit step, new patient")
    screenshot(page, "new-02-visits", full_page=True)
    first_visit.click()

    chosen = choose_a_time(page, screenshot, "new")
    fill(page, NEW_PATIENT)
    clean(page, "details, new patient")
    screenshot(page, "new-06-details", full_page=True)
    page.get_by_role("button", name="Book this appointment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment")
    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked.")
    expect(page.locator(".booking-details")).to_contain_text(chosen)
    clean(page, "booked, new patient")
    screenshot(page, "new-07-booked", full_page=True)

    # --- a returning patient ----------------------------------------------------------------------------------
    page.context.clear_cookies()
    page.goto("/book/")
    pick_the_clinic(page)
    page.get_by_role("link", name=re.compile(r"^No, I have been treated here before")).click()
    follow_up = page.get_by_role("link", name=re.compile(r"^Follow-up treatment"))
    expect(follow_up).to_contain_text("For patients who have been treated here before")
    expect(page.get_by_role("link", name=re.compile(r"^First visit with intake"))).to_be_visible()
    clean(page, "visit step, returning patient")
    screenshot(page, "returning-02-visits", full_page=True)
    follow_up.click()

    chosen = choose_a_time(page, screenshot, "returning")
    fill(page, {**RETURNING, "email": "rita.old@example.org"})  # an address the clinic does not have
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.locator("#id_identity-error")).to_contain_text("We could not find your record")
    expect(page.get_by_label("First name")).to_have_value("Rita")
    expect(page.get_by_label("E-mail")).to_have_value("rita.old@example.org")
    expect(page.get_by_role("button", name="Ask us to book it (request form)")).to_be_visible()
    clean(page, "details, returning claim without a record")
    screenshot(page, "returning-06-no-match", full_page=True)

    page.get_by_label("E-mail").fill(RETURNING["email"])
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment")
    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked.")
    expect(page.locator(".booking-details")).to_contain_text(chosen)
    clean(page, "booked, returning patient")
    screenshot(page, "returning-07-booked", full_page=True)

    booked = _result(live_site, BOOKED)
    assert {(b["patient"], b["type"], b["status"]) for b in booked} == {
        ("Newcomer", "First visit with intake", "confirmed"),
        ("Revisit", "Follow-up treatment", "confirmed"),
    }

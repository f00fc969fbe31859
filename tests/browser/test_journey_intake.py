"""Issue 11: the first visit prepared by the intake, in a real browser.

1. On a phone, a new patient books a first visit online; the confirmation e-mail (built by the worker's own code
   from the outbox row) carries the intake link; the patient opens it, makes one mistake (an onset date in the
   future: the message is next to the field and what was typed is kept), closes the tab half-way, comes back
   through the link and finds the answers kept, answers "yes" to a blood thinner and to a pacemaker, and signs the
   consent. Then, on a tablet, the clinician (two-step sign-in) opens the appointment, sees both flags and the
   consent, and acknowledges the flags.
2. An intake answer that is an emergency red flag shows the 911 guidance at once, and the front desk's urgent
   banner (desktop) lists the patient.

axe-core checks every page and the Nu validator the clinician's and the desk's pages; screenshots go to
test-artifacts/. Data is set up and read with ``manage.py shell`` in the site's own environment.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .test_accessibility import readable, run_axe
from .test_journey_clinician_day import assert_valid_html, sign_in
from .test_journey_new_patient_books import _result, choose_a_time, pick_the_clinic

pytestmark = pytest.mark.browser

PASSWORD = "calendar-staff-password-0123"  # noqa: S105 - the sign_in helper's throwaway password
CLINICIAN_KEY = "3132333435363738393031323334353637383933"
DESK_KEY = "3132333435363738393031323334353637383934"

OPEN_FIRST_VISITS = """
from acuclinic.scheduling.models import AppointmentType
first = AppointmentType.objects.get(name="First visit with intake")
first.new_patients_may_book_online = True
first.save()
"""

# The confirmation e-mail as the worker builds it, and the intake link in it.
MAIL = """
import json, re
from acuclinic.scheduling import messages
from acuclinic.scheduling.models import AppointmentNotification
n = AppointmentNotification.objects.filter(
    appointment__patient__last_name="{last_name}", kind="patient_confirmation"
).latest("pk")
body = messages.patient_mail(n).body
link = re.search(r"https?://[^/\\s]+(/intake/[^\\s]+/)", body)
found = {{"appointment": n.appointment_id, "link": link.group(1) if link else None, "body": body}}
print("RESULT " + json.dumps(found))
"""

# A staff account with a known authenticator key: the practitioner's own account for a clinician.
STAFF = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice
from acuclinic.scheduling.models import Appointment
User = get_user_model()
def ready(user, group, key):
    user.set_password("{password}")
    user.save()
    user.groups.add(Group.objects.get(name=group))
    TOTPDevice.objects.filter(user=user).delete()
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True, key=key)
    return user.get_username()
result = {{}}
if {appointment}:
    practitioner = Appointment.objects.get(pk={appointment}).practitioner
    if practitioner.user is None:
        practitioner.user = User.objects.create_user("clinician-intake", "clinician-intake@acuclinic.example")
        practitioner.save()
    result["clinician"] = ready(practitioner.user, "Clinicians", "{clinician_key}")
desk, _ = User.objects.get_or_create(username="desk-intake", defaults={{"email": "desk-intake@acuclinic.example"}})
result["desk"] = ready(desk, "Front desk", "{desk_key}")
print("RESULT " + json.dumps(result))
"""

# A patient with a booked first visit and an intake link, for the emergency journey.
EMERGENCY_PATIENT = """
import json
from datetime import date
from acuclinic.clinical.intake.selectors import intake_link
from acuclinic.clinical.intake.services import prepare_intake
from acuclinic.clinical.models import Patient
from tests.factories import make_booking
patient = Patient.objects.create(first_name="Eden", last_name="Emergent", date_of_birth=date(1966, 5, 5))
response = prepare_intake(appointment=make_booking(patient))
print("RESULT " + json.dumps({"link": intake_link(response)}))
"""

STORED = """
import json
from acuclinic.clinical.models import ConsentRecord, QuestionnaireResponse, SafetyFlag
r = QuestionnaireResponse.objects.filter(patient__last_name="Intakewell").latest("pk")
print("RESULT " + json.dumps({
    "status": r.status, "onset": r.answers.get("pain.onset"), "step": r.step,
    "consents": ConsentRecord.objects.filter(patient=r.patient, withdrawn_at__isnull=True).count(),
    "flags": sorted(
        SafetyFlag.objects.filter(patient=r.patient, acknowledged_at__isnull=False).values_list("rule", flat=True)
    ),
}))
"""


def clean(page, where: str):
    violations = run_axe(page)
    assert not violations, f"{where}:\n{readable(violations)}"


def answer_step(page, choices: dict[str, str]):
    """Tick the options named: {question text (start): option label}."""
    for question, option in choices.items():
        group = page.locator("fieldset").filter(has=page.locator("legend", has_text=question))
        group.get_by_label(option, exact=True).check()


NO_WARNING_SIGNS = 11


def test_a_new_patient_books_fills_in_the_intake_and_the_clinician_acknowledges(
    live_site, phone_context, browser, screenshot, tmp_path
):
    _result(live_site, "exec(" + json.dumps(OPEN_FIRST_VISITS) + ")\nprint('RESULT {}')")
    page = phone_context.new_page()
    page.goto("/book/")
    pick_the_clinic(page)
    page.get_by_role("link", name=re.compile(r"^Yes, this is my first visit")).click()
    page.locator(".pick-list a").filter(has_text="First visit with intake").click()
    choose_a_time(page, screenshot, "intake")
    page.get_by_label("First name").fill("Ivy")
    page.get_by_label("Last name").fill("Intakewell")
    page.get_by_label("Date of birth").fill("02/17/1961")
    page.get_by_label("E-mail").fill("ivy@example.org")
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment")
    expect(page.get_by_role("link", name="Start the questionnaire")).to_be_visible()
    clean(page, "booked, with the questionnaire link")
    screenshot(page, "01-booked", full_page=True)

    mail = _result(live_site, MAIL.format(last_name="Intakewell"))
    assert mail["link"], mail["body"]
    assert "health questionnaire" in mail["body"]
    link = mail["link"]

    # Step 1, with one mistake: an onset date in the future.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your back pain")
    clean(page, "intake step 1")
    future = (date.today() + timedelta(days=40)).isoformat()
    page.get_by_label("The middle of my lower back").check()
    page.get_by_label("When did this back pain start?").fill(future)
    answer_step(
        page,
        {
            "How did it start?": "Lifting, bending or twisting",
            "Does the pain, numbness or tingling go into a leg?": "Yes, into the buttock or thigh",
            "Have you ever had an operation on your back?": "No",
        },
    )
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".error-summary")).to_contain_text("This date is in the future")
    expect(page.locator("#field-pain__onset .error-text")).to_contain_text("This date is in the future")
    expect(page.get_by_label("When did this back pain start?")).to_have_value(future)
    expect(page.get_by_label("The middle of my lower back")).to_be_checked()
    clean(page, "intake step 1 with an error")
    screenshot(page, "02-onset-in-the-future", full_page=True)
    onset = (date.today() - timedelta(weeks=30)).isoformat()
    page.get_by_label("When did this back pain start?").fill(onset)
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("How much it hurts")
    page.locator("fieldset").nth(0).get_by_label("7", exact=True).check()
    page.locator("fieldset").nth(1).get_by_label("5", exact=True).check()
    clean(page, "intake step 2 (0-10 scales)")
    screenshot(page, "03-pain-scales", full_page=True)
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Warning signs")
    groups = page.locator("fieldset")
    expect(groups).to_have_count(NO_WARNING_SIGNS)
    for n in range(NO_WARNING_SIGNS):
        groups.nth(n).get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What you have tried")

    # Half-way: the tab is closed. The link, opened again, starts where the patient stopped, answers kept.
    page.close()
    page = phone_context.new_page()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("What you have tried")
    expect(page.locator(".intake-progress")).to_contain_text("step 4 of 7")
    page.get_by_role("link", name="Back to the previous step").click()
    page.get_by_role("link", name="Back to the previous step").click()
    page.get_by_role("link", name="Back to the previous step").click()
    expect(page.get_by_label("When did this back pain start?")).to_have_value(onset)
    page.goto(link)
    screenshot(page, "04-resumed", full_page=True)
    page.get_by_label("Physical therapy or exercises").check()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your health")
    page.get_by_label("Which medicines do you take?").fill("Warfarin 5 mg")
    answer_step(
        page,
        {
            "Do you take a blood thinner": "Yes",
            "Are you pregnant": "This does not apply to me",
            "Do you have a pacemaker": "Yes",
            "How do you feel about needles?": "A little nervous",
        },
    )
    clean(page, "intake step 5")
    screenshot(page, "05-health", full_page=True)
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("How you will pay")
    answer_step(page, {"Do you have Medicare?": "Yes"})
    page.get_by_role("button", name="Save and go to the consent").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Consent to acupuncture")
    expect(page.locator(".consent-text")).to_contain_text("collapsed lung")
    clean(page, "consent")
    page.get_by_label("Your full name").fill("Ivy Intakewell")
    page.get_by_label("I have read this and I agree").check()
    screenshot(page, "06-consent", full_page=True)
    page.get_by_role("button", name="Sign and send").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your form is complete")
    expect(page.get_by_role("button", name="Withdraw my consent")).to_be_visible()
    clean(page, "done")
    screenshot(page, "07-done", full_page=True)

    # --- the clinician, on a tablet ----------------------------------------------------------------------------
    staff = _result(
        live_site,
        STAFF.format(
            appointment=mail["appointment"], password=PASSWORD, clinician_key=CLINICIAN_KEY, desk_key=DESK_KEY
        ),
    )
    tablet = browser.new_context(
        base_url=live_site.url, viewport={"width": 820, "height": 1180}, is_mobile=True, has_touch=True
    )
    tablet.set_default_timeout(15_000)
    try:
        clinician = tablet.new_page()
        sign_in(clinician, staff["clinician"], CLINICIAN_KEY)
        url = f"/admin/schedule/appointments/{mail['appointment']}/"
        clinician.goto(url)
        chart = clinician.locator(".acu-chart")
        expect(chart).to_contain_text("Pacemaker or implanted defibrillator")
        expect(chart).to_contain_text("Takes a blood thinner")
        expect(chart).to_contain_text("Consent signed (version 1")
        expect(chart).to_contain_text("2 to acknowledge before treating")
        clean(clinician, "appointment page with the chart header")
        assert_valid_html(clinician, url, tmp_path, "appointment-chart")
        screenshot(clinician, "08-clinician-chart", full_page=True)
        clinician.get_by_role("button", name=re.compile("^Acknowledge: Pacemaker")).click()
        clinician.get_by_role("button", name=re.compile("^Acknowledge: Takes a blood thinner")).click()
        expect(chart.get_by_text(re.compile("^Acknowledged by"))).to_have_count(2)
        expect(chart).not_to_contain_text("to acknowledge before treating")
        screenshot(clinician, "09-flags-acknowledged", full_page=True)
        chart.get_by_role("link", name="All answers").click()
        expect(clinician.get_by_role("heading", name=re.compile("^Intake answers")).first).to_be_visible()
        expect(clinician.locator(".acu-answers").first).to_contain_text("Lifting, bending or twisting")
        clean(clinician, "the intake's answers")
        screenshot(clinician, "10-intake-answers", full_page=True)
    finally:
        tablet.close()
    stored = _result(live_site, STORED)
    assert stored == {
        "status": "completed",
        "onset": onset,
        "step": 6,
        "consents": 1,
        "flags": ["anticoagulant", "pacemaker"],
    }


def test_an_emergency_answer_shows_911_and_tops_the_desks_banner(
    live_site, phone_context, browser, screenshot, tmp_path
):
    link = _result(live_site, EMERGENCY_PATIENT)["link"]
    page = phone_context.new_page()
    page.goto(link)
    page.get_by_label("A buttock").check()
    page.get_by_label("When did this back pain start?").fill((date.today() - timedelta(days=10)).isoformat())
    answer_step(
        page,
        {
            "How did it start?": "I don't know",
            "Does the pain, numbness or tingling go into a leg?": "Yes, below the knee",
            "Have you ever had an operation on your back?": "No",
        },
    )
    page.get_by_role("button", name="Save and continue").click()
    page.locator("fieldset").nth(0).get_by_label("8", exact=True).check()
    page.locator("fieldset").nth(1).get_by_label("6", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    groups = page.locator("fieldset")
    for n in range(NO_WARNING_SIGNS):
        groups.nth(n).get_by_label("No", exact=True).check()
    page.locator("fieldset").filter(has_text="trouble passing urine").get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Call 911 or go to the nearest emergency department now")
    expect(page.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    clean(page, "intake after an emergency answer")
    screenshot(page, "11-emergency-guidance", full_page=True)

    staff = _result(
        live_site,
        STAFF.format(appointment=0, password=PASSWORD, clinician_key=CLINICIAN_KEY, desk_key=DESK_KEY),
    )
    desktop = browser.new_context(base_url=live_site.url, viewport={"width": 1280, "height": 900})
    desktop.set_default_timeout(15_000)
    try:
        desk = desktop.new_page()
        sign_in(desk, staff["desk"], DESK_KEY)
        banner = desk.locator("[data-urgent-banner]")
        expect(banner.locator("li").first).to_contain_text("Intake of Eden Emergent")
        expect(banner).to_contain_text("Emergency")
        clean(desk, "the desk's home with the urgent banner")
        assert_valid_html(desk, "/admin/", tmp_path, "desk-home-urgent-intake")
        screenshot(desk, "12-desk-banner")
        banner.get_by_role("link", name="Intake of Eden Emergent").click()
        expect(desk.get_by_role("heading", name="Urgent: the intake's warning signs")).to_be_visible()
        screenshot(desk, "13-desk-urgent-intake", full_page=True)
        desk.get_by_role("button", name=re.compile("^Acknowledge: the patient is being looked after")).click()
        expect(desk.locator("[data-urgent-banner]").filter(has_text="Eden Emergent")).to_have_count(0)
    finally:
        desktop.close()

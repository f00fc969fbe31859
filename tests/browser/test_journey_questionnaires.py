"""Questionnaires & consent and the intake at the desk, in a real browser at a desktop viewport (1280×900).

The administrator signs in with the two-step code, opens the list of instruments, the intake's questions, PEG's
licence note before switching it on (refused without the box ticked; left off: other journeys expect it off), the
consent text, and adds a Roland-Morris-like instrument (first with broken JSON, refused next to the field). Then the
front desk opens a first visit's page, sees the intake card and hands the device over: signed out, the patient's
questionnaire opens. axe-core and the Nu validator check the list, the instrument's page, the add form with its
errors and the appointment page with the card. The data is made in the live site's database with
``manage.py shell``; the pytest process makes no ORM call.
"""

from __future__ import annotations

import json
import re
import secrets

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from .test_journey_front_desk import _result, no_axe_violations, valid_html

pytestmark = pytest.mark.browser

PASSWORD = "questionnaires-journey-password-42"
ADMIN_KEY = secrets.token_hex(20)
DESK_KEY = secrets.token_hex(20)
SUFFIX = secrets.token_hex(3)

SET_UP = """
import json
from datetime import date, timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from acuclinic.accounts import roles
from acuclinic.clinical.intake.services import prepare_intake
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Appointment, AppointmentType, Location, Practitioner, Room

for username, group, key in [
    ("q-admin-SUFFIX", roles.ADMINISTRATORS, "ADMIN_KEY"),
    ("q-desk-SUFFIX", roles.FRONT_DESK, "DESK_KEY"),
]:
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password("PASSWORD")
    user.save()
    user.groups.add(Group.objects.get(name=group))
    TOTPDevice.objects.filter(user=user).delete()
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True, key=key)

location = Location.objects.get(name="Acuclinic Midtown")
room, _ = Room.objects.get_or_create(location=location, name="Intake journey room SUFFIX")
practitioner, _ = Practitioner.objects.get_or_create(name="Ivy Intake SUFFIX", defaults={"credentials": "L.Ac."})
visit_type = AppointmentType.objects.get(name="Follow-up treatment")
patient = Patient.objects.create(
    first_name="Nora", last_name="Newcomer-SUFFIX", date_of_birth=date(1961, 4, 9), email="nora@example.org"
)
start = (timezone.now() + timedelta(days=40)).replace(second=0, microsecond=0)
appointment = Appointment.objects.create(
    patient=patient, practitioner=practitioner, room=room, location=location, appointment_type=visit_type,
    start=start, end=start + timedelta(minutes=30), blocked_until=start + timedelta(minutes=30),
    status="confirmed",
)
prepare_intake(appointment=appointment)
print("RESULT " + json.dumps({"appointment": appointment.pk}))
"""

BROKEN = '{"resourceType": "Questionnaire", "status": "active", "item": [}'


def roland_morris() -> str:
    statements = [
        "I stay at home most of the time because of my back.",
        "I change position frequently to try and get my back comfortable.",
        "I walk more slowly than usual because of my back.",
    ]
    return json.dumps(
        {
            "resourceType": "Questionnaire",
            "title": "Roland-Morris Disability Questionnaire",
            "status": "active",
            "item": [
                {"linkId": f"rmdq.{n}", "type": "boolean", "required": True, "text": text}
                for n, text in enumerate(statements, start=1)
            ],
        },
        indent=1,
    )


def sign_in(page, username: str, key: str) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/two-factor/verify/**")
    page.get_by_label("Code").fill(f"{totp(bytes.fromhex(key)):06d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda url: "/two-factor/" not in url)


def test_questionnaires_and_the_intake_at_the_desk(live_site, desktop_context, screenshot, tmp_path):
    script = (
        SET_UP.replace("PASSWORD", PASSWORD)
        .replace("ADMIN_KEY", ADMIN_KEY)
        .replace("DESK_KEY", DESK_KEY)
        .replace("SUFFIX", SUFFIX)
    )
    data = _result(live_site, script)
    page = desktop_context.new_page()
    js_errors = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))

    # 1. The administrator: the list from the menu.
    sign_in(page, f"q-admin-{SUFFIX}", ADMIN_KEY)
    page.get_by_role("link", name="Questionnaires & consent").click()
    expect(page.get_by_role("heading", name="Questionnaires & consent", level=1)).to_be_visible()
    peg_row = page.locator('tr[data-instrument="peg"]')
    expect(peg_row).to_contain_text("Off")
    expect(peg_row).to_contain_text("Licence terms not confirmed")
    screenshot(page, "01-list", full_page=True)
    no_axe_violations(page, "questionnaires list")
    valid_html(page, tmp_path, "questionnaires-list")

    # 2. The intake's questions, in words.
    page.get_by_role("link", name="Intake questionnaire (low back pain)").click()
    expect(page.get_by_role("heading", name=re.compile("Questions of version 1"))).to_be_visible()
    expect(page.get_by_text("Asked when").first).to_be_visible()
    screenshot(page, "02-intake-questions", full_page=True)
    no_axe_violations(page, "instrument page (intake)")
    valid_html(page, tmp_path, "instrument-page")

    # 3. PEG: its licence note first; switching on needs the box ticked (left off).
    page.goto("/admin/questionnaires/peg/")
    expect(page.get_by_role("heading", name="Licence note")).to_be_visible()
    page.get_by_role("link", name="Switch on").click()
    expect(page.get_by_role("heading", name="Licence note: read before switching on")).to_be_visible()
    page.get_by_role("button", name="Switch on").click()
    expect(page.get_by_text("Tick this box once you have checked the licence note")).to_be_visible()
    screenshot(page, "03-peg-switch-refused", full_page=True)
    no_axe_violations(page, "switch on, refused")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(".acu-facts .acu-off")).to_have_text("Off")

    # 4. The consent text and its versions (not edited here: other journeys sign version 1).
    page.goto("/admin/questionnaires/consent/text/")
    expect(page.get_by_role("heading", name="Version history")).to_be_visible()
    screenshot(page, "04-consent-text", full_page=True)
    no_axe_violations(page, "consent text")

    # 5. Add an instrument: broken JSON is refused next to the field, what was typed kept; then a valid one.
    page.goto("/admin/questionnaires/new/")
    page.locator("#id_title").fill("Roland-Morris Disability Questionnaire")
    page.locator("#id_key").fill(f"rmdq-{SUFFIX}")
    page.get_by_role("radio", name="Outcome measure").check()
    page.locator("#id_licence_note").fill("Licensed to the clinic by the copyright holder.")
    page.locator("#id_questionnaire_json").fill(BROKEN)
    page.get_by_role("button", name="Check and add").click()
    expect(page.get_by_text("This is not valid JSON")).to_be_visible()
    expect(page.locator("#id_questionnaire_json")).to_have_value(BROKEN)
    field = page.locator(".w-field__wrapper", has=page.locator("#id_questionnaire_json"))
    field.scroll_into_view_if_needed()
    screenshot(page, "05-add-refused", locator=field)
    no_axe_violations(page, "add an instrument, refused")
    page.locator("#id_questionnaire_json").fill(roland_morris())
    page.get_by_role("button", name="Check and add").click()
    page.wait_for_url(f"**/admin/questionnaires/rmdq-{SUFFIX}/")
    expect(page.get_by_text("I stay at home most of the time because of my back.")).to_be_visible()
    screenshot(page, "06-added", full_page=True)
    desktop_context.clear_cookies()  # the administrator leaves

    # 6. The front desk hands the device over for a first visit's intake.
    sign_in(page, f"q-desk-{SUFFIX}", DESK_KEY)
    page.goto(f"/admin/schedule/appointments/{data['appointment']}/")
    card = page.locator("#intake")
    expect(card).to_contain_text("Sent, not started")
    card.scroll_into_view_if_needed()
    screenshot(page, "07-appointment-intake-card", full_page=True)
    no_axe_violations(page, "appointment page with the intake card")
    valid_html(page, tmp_path, "appointment-with-intake-card")
    card.get_by_role("button", name="Fill in at the desk on this device").click()
    page.wait_for_url(re.compile(r"/intake/[^/]+/step/1/"))
    screenshot(page, "08-intake-on-the-device", full_page=True)
    # Signed out: the patient holding the device cannot reach the back office.
    page.goto("/admin/patients/")
    page.wait_for_url(re.compile(r"/admin/login/"))
    assert js_errors == []

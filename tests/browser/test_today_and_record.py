"""The staff home ("Today") and a patient record in a real browser, signed in with password AND authenticator code:
the front desk at a desktop (1280×900), a clinician at a tablet (820×1180). axe-core (WCAG 2.2 AA) and the W3C Nu
validator find nothing on either page. Screenshots in test-artifacts/."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from binascii import unhexlify

import pytest
from playwright.sync_api import expect

from tests.livesite import PROJECT_DIR

from .test_accessibility import readable, run_axe

pytestmark = pytest.mark.browser

VNU = PROJECT_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
TOTP_KEY = "3132333435363738393031323334353637383930"
PASSWORD = "record-test-password-0123"  # noqa: S105 - throwaway accounts on the throwaway test site
TABLET = {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True}

# Created on the live site: a desk and a clinician with authenticators, a patient with two visits today (one with
# the clinician's practitioner), insurance, and one past visit.
SETUP = f"""
from datetime import datetime, time, timedelta, date
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Appointment, AppointmentType, Licence, Location, Practitioner, Room

User = get_user_model()
users = {{}}
for name, group in (("desk-browser", "Front desk"), ("clin-browser", "Clinicians")):
    u = User.objects.create_user(name, name + "@acuclinic.example", {PASSWORD!r}, first_name=name.split("-")[0].title())
    u.groups.add(Group.objects.get(name=group))
    TOTPDevice.objects.create(user=u, name="phone", confirmed=True, key={TOTP_KEY!r})
    users[name] = u
location = Location.objects.create(name="Browser clinic", state="NY", time_zone="America/New_York")
rooms = [Room.objects.create(location=location, name=f"Browser room {{n}}") for n in (1, 2)]
kind = AppointmentType.objects.create(name="Browser follow-up", duration_minutes=30)
mine = Practitioner.objects.create(name="Dr. Rowan Browser", user=users["clin-browser"])
other = Practitioner.objects.create(name="Dr. Sky Other")
for p in (mine, other):
    Licence.objects.create(practitioner=p, state="NY", number=f"B-{{p.pk}}", expires_on=date(2099, 1, 1))
patient = Patient.objects.create(
    first_name="Maria", last_name="Browser", date_of_birth=date(1961, 4, 27), phone="+12125550199",
    email="maria@example.org", address="12 Elm St, New York, NY", insurance_carrier="Aetna",
    insurance_member_id="W123",
)
second = Patient.objects.create(first_name="Ann", last_name="Second", date_of_birth=date(1970, 1, 2))
today = timezone.localdate()
zone = location.zone
def at(day, hour):
    return datetime.combine(day, time(hour), tzinfo=zone)
def book(who, start, practitioner, room, status="confirmed"):
    return Appointment.objects.create(
        patient=who, practitioner=practitioner, room=room, location=location, appointment_type=kind,
        start=start, end=start + timedelta(minutes=30), blocked_until=start + timedelta(minutes=30), status=status,
    )
book(patient, at(today, 10), mine, rooms[0], status="arrived")
book(second, at(today, 11), other, rooms[1])
book(second, at(today, 14), mine, rooms[0])
book(patient, at(today - timedelta(days=14), 9), mine, rooms[0], status="completed")
book(patient, at(today + timedelta(days=7), 15), other, rooms[1])
print(patient.pk)
"""


@pytest.fixture(scope="module")
def patient_id(live_site) -> int:
    result = live_site.manage("shell", "-c", SETUP)
    return int(result.stdout.strip().splitlines()[-1])


def sign_in(page, username: str) -> None:
    from django_otp.oath import TOTP

    page.goto("/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/two-factor/verify/"))
    page.fill("input[name=token]", f"{TOTP(unhexlify(TOTP_KEY)).token():06d}")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))


# Wagtail 8.0's keyboard-shortcuts dialog (wagtailadmin/shared/keyboard_shortcuts_dialog.html, on every admin page)
# puts `colspan="2"` on its category <tr> instead of on the <th>: not our markup. Ignored inside that table only.
SHORTCUTS_MESSAGE = (
    "A table row was 1 columns wide, which is less than the column count established by the first row"
)


def _shortcuts_table_lines(body: bytes) -> tuple[int, int]:
    lines = body.decode().splitlines()
    start = next((n for n, line in enumerate(lines, 1) if 'id="keyboard-shortcuts-dialog"' in line), 0)
    if not start:
        return (0, -1)
    end = next((n for n, line in enumerate(lines[start:], start + 1) if "</table>" in line), start)
    return (start, end)


def validate_html(documents: dict[str, bytes], tmp_path) -> list[str]:
    if shutil.which("java") is None:
        pytest.fail("java is missing: run bin/ensure-test-tools (installs default-jre-headless)")
    if not VNU.exists():
        pytest.fail(f"{VNU} is missing: run `npm ci` in {PROJECT_DIR}")
    files = {}
    for name, body in documents.items():
        files[name] = tmp_path / f"{name}.html"
        files[name].write_bytes(body)
    result = subprocess.run(
        [
            "java",
            "-jar",
            str(VNU),
            "--format",
            "json",
            "--stdout",
            "--exit-zero-always",
            *map(str, files.values()),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    problems = []
    # By file name: the validator writes file:/tmp/… where as_uri() gives file:///tmp/….
    dialogs = {file.name: _shortcuts_table_lines(documents[name]) for name, file in files.items()}
    for message in json.loads(result.stdout)["messages"]:
        if message["type"] in ("error", "non-document-error") or message.get("subType") == "warning":
            first, last = dialogs.get(message.get("url", "").rsplit("/", 1)[-1], (0, -1))
            if (
                message["message"].startswith(SHORTCUTS_MESSAGE)
                and first <= message.get("lastLine", 0) <= last
            ):
                continue
            where = message.get("url", "").rsplit("/", 1)[-1]
            problems.append(
                f"{where} line {message.get('lastLine')}: {message['message']} …{message.get('extract', '')}…"
            )
    return problems


def check_page(page, response, name: str, documents: dict, screenshot) -> None:
    violations = run_axe(page)
    screenshot(page, name, full_page=True)
    assert not violations, f"axe: {len(violations)} violation(s) on {name}:\n{readable(violations)}"
    documents[name] = response.body()
    assert page.js_errors == [], page.js_errors


@pytest.fixture
def desk_page(browser, live_site, screenshot):
    context = browser.new_context(base_url=live_site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture
def tablet_page(browser, live_site):
    context = browser.new_context(base_url=live_site.url, **TABLET)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    yield page
    context.close()


def test_the_desk_starts_from_today_and_opens_a_patient_record(desk_page, patient_id, screenshot, tmp_path):
    page = desk_page
    documents: dict[str, bytes] = {}
    sign_in(page, "desk-browser")
    response = page.goto("/admin/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today:")
    expect(page.get_by_role("heading", name=re.compile(r"Today's appointments"))).to_be_visible()
    today = page.locator("[data-today=appointments]")
    expect(today).to_contain_text("10:00 AM")
    expect(today).to_contain_text("Maria Browser")
    expect(today).to_contain_text("Arrived")
    expect(today.get_by_role("link", name=re.compile(r"Check out.*Browser"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("New and urgent requests"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Waitlist offers out"))).to_be_visible()
    assert page.get_by_placeholder("Search all pages…").count() == 0
    check_page(page, response, "today-desk", documents, screenshot)

    response = page.goto(f"/admin/patients/{patient_id}/")
    expect(page.get_by_role("heading", name="Maria Browser", exact=True)).to_be_visible()
    # Today's 10:00 AM visit is upcoming or past depending on the hour the test runs: next week's and two weeks
    # ago's are not.
    expect(page.get_by_role("heading", name=re.compile(r"Upcoming appointments \([12]\)"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"Past appointments \([12]\)"))).to_be_visible()
    expect(page.locator("[data-appointment]")).to_have_count(3)
    expect(page.get_by_text("Aetna")).to_be_visible()
    expect(page.get_by_role("link", name="Book an appointment")).to_have_attribute(
        "href", f"/admin/schedule/book/?patient={patient_id}"
    )
    check_page(page, response, "record-desk", documents, screenshot)

    response = page.goto(f"/admin/patients/{patient_id}/edit/")
    expect(page.get_by_label("Phone")).to_be_visible()
    check_page(page, response, "record-edit", documents, screenshot)
    page.get_by_label("Date of birth").fill("01/01/2999")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("cannot be in the future")).to_be_visible()
    screenshot(page, "record-edit-error", full_page=True)
    violations = run_axe(page)
    assert not violations, f"axe, edit form with an error:\n{readable(violations)}"

    response = page.goto("/admin/patients/new/")
    check_page(page, response, "patient-add", documents, screenshot)

    problems = validate_html(documents, tmp_path)
    assert problems == [], "\n".join(problems)


def test_a_clinician_sees_their_day_on_a_tablet(tablet_page, patient_id, screenshot, tmp_path):
    page = tablet_page
    documents: dict[str, bytes] = {}
    sign_in(page, "clin-browser")
    response = page.goto("/admin/")
    day = page.locator("[data-today=my-day]")
    expect(day).to_contain_text("My day (2)")
    expect(day).to_contain_text("10:00 AM")
    expect(day).to_contain_text("2:00 PM")
    expect(day).not_to_contain_text("11:00 AM")  # another practitioner's visit
    assert page.locator("[data-today=requests]").count() == 0
    check_page(page, response, "today-clinician", documents, screenshot)

    response = page.goto(f"/admin/patients/{patient_id}/")
    expect(page.get_by_role("heading", name="Maria Browser", exact=True)).to_be_visible()
    assert page.get_by_role("link", name="Edit details").count() == 0
    check_page(page, response, "record-clinician", documents, screenshot)

    problems = validate_html(documents, tmp_path)
    assert problems == [], "\n".join(problems)

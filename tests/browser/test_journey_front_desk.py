"""The front desk's day, in a real browser at a desktop viewport: sign in with the two-step code, book a returning
patient from the free times, try a closed day (refused without an override), mark the patient arrived for today's
visit and check them out. axe-core and the Nu validator are clean on the booking page; a screenshot of each step
goes to test-artifacts/.

The data the journey needs (a desk account with a known authenticator key, a practitioner who works Monday to
Saturday, a returning patient whose visit today has just started) is made in the live site's own database with
``manage.py shell``; the pytest process makes no ORM call.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from .test_accessibility import readable, run_axe
from .test_html_validity import IGNORED, VNU, describe

pytestmark = pytest.mark.browser

PASSWORD = "desk-journey-password-42"
KEY = secrets.token_hex(20)
ZONE = ZoneInfo("America/New_York")

SET_UP = """
import json
from datetime import date, time, timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from acuclinic.accounts import roles
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import (
    Appointment, AppointmentType, Licence, Location, Practitioner, Room, WorkingHours,
)
from acuclinic.scheduling.services import book_appointment

user, created = get_user_model().objects.get_or_create(username="desk-journey")
user.set_password("PASSWORD")
user.save()
user.groups.add(Group.objects.get(name=roles.FRONT_DESK))
TOTPDevice.objects.filter(user=user).delete()
TOTPDevice.objects.create(user=user, name="phone", confirmed=True, key="KEY")

location = Location.objects.get(name="Acuclinic Midtown")
room, _ = Room.objects.get_or_create(location=location, name="Journey room")
practitioner, _ = Practitioner.objects.get_or_create(name="Dana Deskcheck", defaults={"credentials": "L.Ac."})
practitioner.locations.add(location)
if not practitioner.working_hours.exists():  # Monday to Saturday, the whole opening window; closed on Sundays
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, location=location, weekday=d, starts_at=location.opens_at,
                     ends_at=location.closes_at)
        for d in range(6)
    )
Licence.objects.get_or_create(
    practitioner=practitioner, state=location.state, number="JOURNEY-1",
    defaults={"expires_on": date.today() + timedelta(days=700)},
)
follow_up = AppointmentType.objects.get(name="Follow-up treatment")
follow_up.practitioners.add(practitioner)
patient, _ = Patient.objects.get_or_create(
    first_name="Ruth", last_name="Returning", date_of_birth=date(1958, 9, 14),
    defaults={"email": "ruth@example.org"},
)
# Today's visit, started a few minutes ago (never before local midnight: arrived is for today's visits only).
now = timezone.now()
local_midnight = now.astimezone(location.zone).replace(hour=0, minute=0, second=0, microsecond=0)
start = max(now.replace(second=0, microsecond=0) - timedelta(minutes=5), local_midnight)
today = Appointment.objects.filter(patient=patient, start__gte=local_midnight).first() or book_appointment(
    patient=patient, practitioner=practitioner, room=room, appointment_type=follow_up, start=start,
)
print("RESULT " + json.dumps({
    "patient": patient.pk, "practitioner": practitioner.pk, "location": location.pk, "type": follow_up.pk,
    "today": today.pk,
}))
"""

APPOINTMENTS_OF = """
import json
from acuclinic.scheduling.models import Appointment
print("RESULT " + json.dumps([
    {"pk": a.pk, "status": a.status, "start": a.start.isoformat(), "override": a.override_reason}
    for a in Appointment.objects.filter(patient_id=PATIENT).order_by("start")
]))
"""


def _result(site, script: str):
    output = site.manage("shell", "-c", script, timeout=120).stdout
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line from manage.py shell:\n{output}"
    return json.loads(lines[-1].removeprefix("RESULT "))


def current_code() -> str:
    return f"{totp(bytes.fromhex(KEY)):06d}"


def no_axe_violations(page, where: str):
    violations = run_axe(page)
    assert not violations, f"{where}:\n{readable(violations)}"


def valid_html(page, tmp_path, where: str):
    """The page's HTML as served (fetched with the browser's session), checked by the Nu validator."""
    if shutil.which("java") is None or not VNU.exists():
        pytest.fail("java or vnu.jar is missing: run bin/ensure-test-tools")
    response = page.context.request.get(page.url)
    assert response.status == 200, f"{where}: {response.status}"
    file = tmp_path / f"{where}.html"
    file.write_bytes(response.body())
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--stdout", "--exit-zero-always", str(file)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [
        m
        for m in messages
        if m["type"] in ("error", "non-document-error") and not any(text in m["message"] for text in IGNORED)
    ]
    assert not errors, f"{where}: {len(errors)} HTML error(s):\n" + "\n".join(describe(m) for m in errors)


def next_sunday() -> date:
    today = datetime.now(ZONE).date()
    return today + timedelta(days=(6 - today.weekday()) or 7)


def test_journey_front_desk_books_from_free_times_refuses_a_closed_day_and_checks_out(
    live_site, desktop_context, screenshot, tmp_path
):
    data = _result(live_site, SET_UP.replace("PASSWORD", PASSWORD).replace("KEY", KEY))
    page = desktop_context.new_page()
    js_errors = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))

    # 1. Sign in: password, then the code from the authenticator app.
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("desk-journey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/two-factor/verify/**")
    page.get_by_label("Code").fill(current_code())
    screenshot(page, "01-two-step-code")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda url: "/two-factor/" not in url)

    # 2. Find the returning patient and choose them.
    page.goto("/admin/schedule/book/")
    page.get_by_label("Name or record number").fill("Returning")
    page.get_by_role("button", name="Find patient").click()
    page.get_by_role("link", name="Book for Ruth Returning").click()
    expect(page.locator("#chosen-patient")).to_contain_text("Returning, Ruth")
    screenshot(page, "02-patient-chosen")

    # 3. Visit type, location and practitioner: the free times, grouped by day.
    # (The search form's fields; "Book another time" below has its own, prefixed "book-".)
    page.locator("#id_appointment_type").select_option(label="Follow-up treatment")
    page.locator("#id_location").select_option(value=str(data["location"]))
    page.locator("#id_practitioner").select_option(label="Dana Deskcheck")
    page.get_by_role("button", name="Show free times").click()
    free = page.locator("a.acu-free-time")
    expect(free.first).to_be_visible()
    expect(page.get_by_role("heading", name="Free times: Follow-up treatment")).to_be_visible()
    screenshot(page, "03-free-times", full_page=True)
    no_axe_violations(page, "booking page with free times")
    valid_html(page, tmp_path, "booking-page")
    booking_url = page.url

    # 4. Pick the first free time: a confirmation with the summary, then booked.
    label = free.first.inner_text().strip()
    free.first.click()
    expect(page.get_by_role("heading", name="Confirm the booking")).to_be_visible()
    screenshot(page, "04-confirm", full_page=True)
    no_axe_violations(page, "booking page, confirmation step")
    page.get_by_role("button", name=f"at {label}").click()
    expect(page.get_by_text("Booked:")).to_be_visible()
    screenshot(page, "05-booked")
    # The appointment page offers the free times to move to (its own time is no conflict). Checked without the
    # "Booked" banner: Wagtail's own success colour (white on #1f8869, 4.38:1) is not this page's to fix.
    page.reload()
    expect(page.get_by_role("heading", name="Free times for Follow-up treatment")).to_be_visible()
    no_axe_violations(page, "appointment page with the move's free times")
    valid_html(page, tmp_path, "appointment-page")
    booked = _result(live_site, APPOINTMENTS_OF.replace("PATIENT", str(data["patient"])))
    assert len(booked) == 2 and all(a["override"] is None for a in booked)

    # 5. A closed day (Sunday: nobody works) typed in "Book another time": refused without a reason.
    page.goto(booking_url)
    page.get_by_text("Book another time").click()
    sunday = next_sunday()
    page.locator("#id_book-date").fill(f"{sunday:%m/%d/%Y}")
    page.locator("#id_book-time").fill("10:00")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("has no working hours").first).to_be_visible()
    expect(page.get_by_text("To book it anyway, give the reason here.")).to_be_visible()
    expect(page.locator("#id_book-date")).to_have_value(f"{sunday:%m/%d/%Y}")
    page.locator("#id_book-override_reason").scroll_into_view_if_needed()
    screenshot(page, "06-closed-day-refused", full_page=True)
    no_axe_violations(page, "booking page, refused closed day")
    assert len(_result(live_site, APPOINTMENTS_OF.replace("PATIENT", str(data["patient"])))) == 2

    # 6. Today's visit: the patient has arrived, then the visit is over: check out.
    page.goto(f"/admin/schedule/appointments/{data['today']}/")
    page.get_by_role("button", name="The patient has arrived").click()
    expect(page.get_by_text("Marked as arrived.")).to_be_visible()
    screenshot(page, "07-arrived")
    page.get_by_role("button", name="The visit is over: check out").click()
    expect(page.get_by_text("Checked out: the visit is completed.")).to_be_visible()
    screenshot(page, "08-checked-out")
    statuses = {
        a["pk"]: a["status"]
        for a in _result(live_site, APPOINTMENTS_OF.replace("PATIENT", str(data["patient"])))
    }
    assert statuses[data["today"]] == "completed"
    assert js_errors == []

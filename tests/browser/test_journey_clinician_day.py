"""The calendar staff live in, in a real browser: a clinician (linked to a practitioner, signed in with password and
authenticator code) sees their own day on a tablet and checks out the patient who is with them; the front desk
sees the day with four practitioners side by side at a desktop, marks a patient arrived from the calendar itself
and starts a booking from a free time. axe-core and the Nu validator check the calendar; screenshots are saved
to test-artifacts/ for people to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from binascii import unhexlify

import pytest
from playwright.sync_api import expect

from .test_accessibility import readable, run_axe
from .test_html_validity import VNU, describe

pytestmark = pytest.mark.browser

PASSWORD = "calendar-staff-password-0123"  # noqa: S105 - throwaway accounts on the throwaway test site
CLINICIAN_KEY = "3132333435363738393031323334353637383931"
DESK_KEY = "3132333435363738393031323334353637383932"

# Four practitioners at a location of their own, with visits today in every status; the first practitioner is
# the clinician's. Times are today's wall-clock times at the location; one visit of the clinician began 15
# minutes ago and the patient is there (arrived), so it can be checked out.
SET_UP = """
import json
from datetime import date, datetime, time, timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import (
    Appointment, AppointmentType, Licence, Location, Practitioner, Room, WorkingHours,
)
User = get_user_model()
def staff(username, group, key):
    user = User.objects.create_user(username, username + "@acuclinic.example", PASSWORD)
    user.first_name = username.split("-")[0].title()
    user.save()
    user.groups.add(Group.objects.get(name=group))
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True, key=key)
    return user
clinician = staff("clinician-cal", "Clinicians", CLINICIAN_KEY)
desk = staff("desk-cal", "Front desk", DESK_KEY)
location = Location.objects.create(
    name="Calendar Test Clinic", state="NY", time_zone="America/New_York", opens_at=time(8), closes_at=time(18)
)
zone = location.zone
now = timezone.now().astimezone(zone)
today = now.date()
follow_up, _ = AppointmentType.objects.get_or_create(
    name="Follow-up treatment", defaults={"duration_minutes": 30, "buffer_after_minutes": 10}
)
first_visit, _ = AppointmentType.objects.get_or_create(
    name="First visit with intake", defaults={"duration_minutes": 60, "buffer_after_minutes": 15}
)
names = ["Avery Lin", "Jordan Okafor", "Riley Moreno", "Sam Whitfield"]
people = [("Maria", "Gonzalez"), ("James", "Carter"), ("Aisha", "Rahman"), ("Tom", "Becker"), ("Lena", "Novak"),
          ("Omar", "Haddad"), ("Grace", "Kim"), ("Peter", "Olsen"), ("Nina", "Patel"), ("Hugo", "Silva"),
          ("Ruth", "Adler"), ("Ben", "Moss"), ("Clara", "Vogel"), ("Ivan", "Petrov"), ("Mei", "Wong"),
          ("Luis", "Ortega"), ("Zoe", "Clarke")]
patients = [Patient.objects.create(first_name=f, last_name=l, date_of_birth=date(1970 + i, 1 + i % 12, 3))
            for i, (f, l) in enumerate(people)]
practitioners, rooms = [], []
for n, name in enumerate(names):
    p = Practitioner.objects.create(name=name, credentials="L.Ac.", user=clinician if n == 0 else None)
    p.locations.add(location)
    practitioners.append(p)
    rooms.append(Room.objects.create(location=location, name=f"Room {n + 1}"))
    Licence.objects.create(practitioner=p, state="NY", number=f"CAL-{n}", expires_on=today + timedelta(days=400))
    shifts = [(time(8), time(18))] if n % 2 == 0 else [(time(9), time(12, 30)), (time(13, 30), time(17))]
    for weekday in range(7):
        for s, e in shifts:
            WorkingHours.objects.create(practitioner=p, location=location, weekday=weekday, starts_at=s, ends_at=e)
k = 0
def visit(n, start, kind, status):
    global k
    patient = patients[k % len(patients)]
    k += 1
    return Appointment.objects.create(
        patient=patient, practitioner=practitioners[n], room=rooms[n], location=location, appointment_type=kind,
        start=start, end=start + kind.duration, blocked_until=start + kind.duration + kind.buffer_after,
        status=status, arrived_at=now if status in ("arrived", "completed") else None,
    )
def at(hour, minute=0):
    return datetime.combine(today, time(hour, minute), tzinfo=zone)
def clear(n, start, kind):
    return not Appointment.objects.filter(
        practitioner=practitioners[n], start__lt=start + kind.duration + kind.buffer_after,
        blocked_until__gt=start,
    ).exclude(status="cancelled").exists()
# The clinician's patient who is with them now (began up to 15 minutes ago, on today's grid of 5 minutes).
started = now.replace(second=0, microsecond=0) - timedelta(minutes=15)
started = max(started - timedelta(minutes=started.minute % 5), at(0, 5))
current = visit(0, started, follow_up, "arrived")
plan = [
    (0, at(8, 30), follow_up, "completed"), (0, at(10), first_visit, "completed"), (0, at(13), follow_up, "no_show"),
    (0, at(15), first_visit, "confirmed"), (0, at(16, 30), follow_up, "pending"),
    (1, at(9), first_visit, "completed"), (1, at(10, 30), follow_up, "confirmed"), (1, at(14), follow_up, "pending"),
    (1, at(15, 30), follow_up, "confirmed"),
    (2, at(8), follow_up, "completed"), (2, at(9), follow_up, "no_show"), (2, at(11), first_visit, "confirmed"),
    (2, at(13, 30), follow_up, "arrived"), (2, at(16), first_visit, "confirmed"),
    (3, at(9, 30), follow_up, "confirmed"), (3, at(11), follow_up, "pending"), (3, at(14), first_visit, "confirmed"),
]
for n, start, kind, status in plan:
    if clear(n, start, kind):
        visit(n, start, kind, status)
confirmed = Appointment.objects.filter(practitioner=practitioners[1], status="confirmed").order_by("start").first()
print("RESULT " + json.dumps({
    "location": location.pk, "current": current.pk, "confirmed": confirmed.pk,
    "practitioners": [p.pk for p in practitioners],
}))
"""


def set_up(live_site) -> dict:
    script = f"PASSWORD = {PASSWORD!r}\nCLINICIAN_KEY = {CLINICIAN_KEY!r}\nDESK_KEY = {DESK_KEY!r}\n" + SET_UP
    output = live_site.manage("shell", "-c", script, timeout=180).stdout
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line from manage.py shell:\n{output}"
    return json.loads(lines[-1].removeprefix("RESULT "))


def sign_in(page, username: str, key: str):
    from django_otp.oath import TOTP

    page.goto("/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/two-factor/verify/"))
    page.fill("input[name=token]", f"{TOTP(unhexlify(key)).token():06d}")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/"))


def assert_accessible(page, what: str):
    violations = run_axe(page)
    assert not violations, f"axe: {len(violations)} violation(s) on {what}:\n{readable(violations)}"


def assert_valid_html(page, url: str, tmp_path, what: str):
    """The calendar's HTML as the server sent it (the page's cookies: signed in), through the Nu validator."""
    if shutil.which("java") is None or not VNU.exists():
        pytest.fail("java or vnu.jar is missing: run bin/ensure-test-tools and npm ci")
    response = page.request.get(url)
    assert response.status == 200
    file = tmp_path / f"{what}.html"
    file.write_bytes(response.body())
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--stdout", "--exit-zero-always", str(file)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    errors = [
        m for m in json.loads(result.stdout)["messages"] if m["type"] in ("error", "non-document-error")
    ]
    assert not errors, f"{what}: {len(errors)} HTML error(s):\n" + "\n".join(describe(m) for m in errors)


@pytest.fixture(scope="module")
def clinic(live_site):
    return set_up(live_site)


def test_the_clinician_sees_their_day_on_a_tablet_and_checks_out(
    tablet_context, live_site, clinic, screenshot, tmp_path
):
    page = tablet_context.new_page()
    sign_in(page, "clinician-cal", CLINICIAN_KEY)
    page.goto("/admin/schedule/")
    expect(page.get_by_role("heading", name="My day")).to_be_visible()
    expect(page.locator("section.acu-board__col")).to_have_count(1)
    expect(page.locator("h3.acu-board__head")).to_contain_text("Avery Lin")
    current = page.locator(f"#appointment-{clinic['current']}")
    expect(current).to_contain_text("Arrived")
    assert page.locator("a.acu-free").count() == 0, "a clinician books nothing"
    screenshot(page, "01-my-day", full_page=True)
    assert_accessible(page, "the clinician's day")
    assert_valid_html(page, "/admin/schedule/", tmp_path, "my-day")

    current.scroll_into_view_if_needed()
    current.get_by_text("Actions").click()
    screenshot(page, "02-actions-open")
    expect(current.get_by_role("button", name="Arrived")).to_have_count(0)
    expect(current.get_by_role("button", name="Cancel appointment")).to_have_count(0)
    current.get_by_role("button", name="Check out").click()
    page.wait_for_load_state("load")
    assert re.search(r"/admin/schedule/\?.*|/admin/schedule/#", page.url) or page.url.endswith(
        "/admin/schedule/"
    )
    expect(page.get_by_text("Checked out: the visit is completed.")).to_be_visible()
    expect(page.locator(f"#appointment-{clinic['current']}")).to_contain_text("Completed")
    screenshot(page, "03-checked-out", full_page=True)


def test_the_front_desk_works_the_day_from_the_calendar(
    desktop_context, live_site, clinic, screenshot, tmp_path
):
    page = desktop_context.new_page()
    sign_in(page, "desk-cal", DESK_KEY)
    url = f"/admin/schedule/?location={clinic['location']}"
    page.goto(url)
    expect(page.locator("section.acu-board__col")).to_have_count(4)
    heads = [h.strip().splitlines()[0] for h in page.locator("h3.acu-board__head").all_inner_texts()]
    assert heads == ["Avery Lin", "Jordan Okafor", "Riley Moreno", "Sam Whitfield"]
    for status in ("Completed", "Arrived", "Confirmed", "Pending", "No-show"):
        expect(page.locator(".acu-board .acu-status").filter(has_text=status).first).to_be_visible()
    screenshot(page, "01-desk-day")
    screenshot(page, "02-desk-day-full", full_page=True)
    assert_accessible(page, "the desk's day")
    assert_valid_html(page, url, tmp_path, "desk-day")

    # Arrived, from the calendar itself: back on the same calendar, the visit now says so.
    block = page.locator(f"#appointment-{clinic['confirmed']}")
    block.scroll_into_view_if_needed()
    block.get_by_text("Actions").click()
    screenshot(page, "03-desk-actions")
    assert_accessible(page, "the desk's day with an action menu open")
    block.get_by_role("button", name="Arrived").click()
    page.wait_for_load_state("load")
    assert f"location={clinic['location']}" in page.url
    expect(page.get_by_text("Marked as arrived.")).to_be_visible()
    expect(page.locator(f"#appointment-{clinic['confirmed']}")).to_contain_text("Arrived")

    # A free time starts a booking there.
    free = page.locator("a.acu-free").first
    if free.count():
        href = free.get_attribute("href")
        assert re.fullmatch(
            r"/admin/schedule/book/\?practitioner=\d+&location=\d+&start=\d{4}-\d\d-\d\dT\d\d:\d\d", href
        )
        free.click()
        page.wait_for_load_state("load")
        assert "/admin/schedule/book/" in page.url
        screenshot(page, "04-book-from-free-time")

"""Journeys 2 and 3 of the product brief: a patient requests an appointment from a phone.

Journey 2: the date of birth is mistyped (02/30/1980); the error is next to the field, the error summary at the
top has focus and links to the field, everything else typed is kept; the patient fixes the date and sends it; the
confirmation shows a reference, what happens next, office hours, the phone number and the emergency notice; a
reload of the confirmation does not store a second request.

Journey 3: a "Yes" to the bladder/bowel question (possible cauda equina syndrome) answers with "Call 911 or go to
the nearest emergency department now" as the first heading, in view without scrolling; the request is stored
with urgency "emergency".

Also: the form works with JavaScript disabled (it is plain HTML); axe-core finds no violation on the empty form,
the form with errors and the confirmation pages at a phone and a desktop viewport; the W3C Nu validator finds no
error in the form, the form with errors and the confirmation pages.

Every request is sent after the minimum fill time (3 s) and checked not to be stored as spam.

The site: this module starts its own LiveSite (about 40 s) instead of sharing the session's. The form allows 10
accepted requests per address per hour (a counter in each gunicorn worker's cache) and every browser test comes
from 127.0.0.1: a site of its own keeps this module's 7 requests from counting against another test's allowance,
or theirs against this module's, without raising the limit that patients get.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.livesite import LiveSite

from .test_accessibility import readable, run_axe
from .test_html_validity import IGNORED, VNU, describe

pytestmark = pytest.mark.browser

FORM_PATH = "/request-appointment/"
RECEIVED_URL = re.compile(r"/request-appointment/received/[^/]+/$")
REFERENCE = re.compile(r"^[A-HJKMNP-TV-Z2-9]{4}-[A-HJKMNP-TV-Z2-9]{4}$")  # new_reference()'s alphabet
MIN_FILL_SECONDS = 3.5  # the form's minimum is 3 s; a little more so that clocks and rounding never matter
EMERGENCY_HEADING = "Call 911 or go to the nearest emergency department now"
BAD_DOB, GOOD_DOB = "02/30/1980", "03/02/1980"
BAD_DOB_ERROR = f"{BAD_DOB} is not a real date."
SUBMIT = "Send my request"

# The safety questions (acuclinic/appointments/triage.py), as the patient reads them.
BLADDER_BOWEL = re.compile(r"^Since your back pain started, have you had new trouble passing urine")


# --- the site: one of this module's own ---------------------------------------------------------------------
def _database_params():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return [pytest.param(url, id="postgresql")]
    return [pytest.param(None, id="sqlite")]


@pytest.fixture(scope="module", params=_database_params())
def live_site(request):
    """Overrides the session's site for this module (see the module docstring): same settings, own cache."""
    workers = int(os.environ.get("LIVE_SITE_WORKERS", "2"))
    with LiveSite(request.param, workers=workers) as site:
        yield site


# --- reading the site's database through manage.py (never the ORM in this process) -------------------------
STORED_REQUEST = """
import json
from acuclinic.appointments.models import AppointmentRequest
r = AppointmentRequest.objects.get(reference=REFERENCE)
print("RESULT " + json.dumps({
    "rows_with_reference": AppointmentRequest.objects.filter(reference=REFERENCE).count(),
    "rows_with_token": AppointmentRequest.objects.filter(submission_token=r.submission_token).count(),
    "total": AppointmentRequest.objects.count(),
    "first_name": r.first_name, "last_name": r.last_name, "date_of_birth": r.date_of_birth.isoformat(),
    "phone": r.phone, "email": r.email, "contact_method": r.contact_method, "patient_status": r.patient_status,
    "reason": r.reason, "reason_detail": r.reason_detail, "pain_duration": r.pain_duration,
    "insurance_carrier": r.insurance_carrier, "insurance_member_id": r.insurance_member_id,
    "has_medicare": r.has_medicare, "message": r.message, "consent_to_contact": r.consent_to_contact,
    "wants_email_acknowledgement": r.wants_email_acknowledgement,
    "preferred_practitioner": str(r.preferred_practitioner or ""),
    "preferred_times": [[p.date.isoformat(), p.time_of_day] for p in r.preferred_times.all()],
    "red_flag_answers": r.red_flag_answers, "urgency": r.urgency, "urgency_reasons": r.urgency_reasons,
    "is_spam": r.is_spam, "spam_reason": r.spam_reason, "status": r.status, "channel": r.channel,
}))
"""

COUNT_REQUESTS = """
from acuclinic.appointments.models import AppointmentRequest
print("RESULT", AppointmentRequest.objects.count())
"""


def _result(live_site, script: str):
    output = live_site.manage("shell", "-c", script, timeout=120).stdout
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line from manage.py shell:\n{output}"
    return json.loads(lines[-1].removeprefix("RESULT "))


def stored_request(live_site, reference: str) -> dict:
    return _result(live_site, STORED_REQUEST.replace("REFERENCE", json.dumps(reference)))


def count_requests(live_site) -> int:
    return _result(live_site, COUNT_REQUESTS)


# --- the patient ----------------------------------------------------------------------------------------------
def next_weekday(weekday: int, at_least_days: int = 10) -> date:
    """A weekday (Monday = 0) well ahead: open in the demo clinic (Monday–Saturday), in the 6-month window,
    and not "today" in the clinic's time zone whatever this machine's zone is."""
    day = date.today() + timedelta(days=at_least_days)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


PREFERRED_DAY = next_weekday(1)  # a Tuesday

# What the patient types, by the field's label (exact accessible name).
TYPED = {
    "First name": "Maria",
    "Last name": "Lopez",
    "Phone number": "(212) 555-0199",
    "E-mail address (optional)": "maria.lopez@example.org",
    "Tell us more (optional)": "Worse after sitting at my desk",
    "First choice of date (optional)": PREFERRED_DAY.strftime("%m/%d/%Y"),
    "Insurance company (optional)": "Acme Health",
    "Member ID (optional)": "ACM123456",
    "Anything else we should know? (optional)": "I can come after 4 pm.\nParking nearby would help.",
}
# Radio groups: legend → the label the patient taps.
CHOSEN = {
    "How should we contact you?": "Text message",
    "Have you been to our clinic before?": "No, I am a new patient",
    "Where is your pain?": "Lower back pain",
    "How long have you had this pain?": "More than 3 months",
    "Do you have Medicare?": "No",
}
TIME_OF_DAY = ("Time of day, first choice of date (optional)", "Morning")
CHECKED = (
    "I agree that the clinic may contact me about this request.",
    "E-mail me a copy of my reference number.",
)


def press(locator, viewport: str):
    """A tap on the phone, a click on the desktop."""
    if viewport == "phone":
        locator.tap()
    else:
        locator.click()


def type_into(page, label: str, text: str):
    field = page.get_by_label(label, exact=True)
    field.click()
    for i, line in enumerate(text.split("\n")):
        if i:
            field.press("Enter")
        field.press_sequentially(line)


def choose(page, legend, label: str, viewport: str):
    """Tap the label of a radio button (not the small circle), as people do."""
    group = page.get_by_role("group", name=legend, exact=isinstance(legend, str))
    label_element = group.locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    label_element.scroll_into_view_if_needed()
    press(label_element, viewport)
    expect(group.get_by_role("radio", name=label, exact=True)).to_be_checked()


def safety_groups(page):
    heading = page.get_by_role("heading", name="A few safety questions")
    expect(heading).to_be_visible()
    groups = page.locator("fieldset[id^='field-flag_']")
    assert groups.count() >= 5, "the safety questions are missing"
    return groups


def fill_form(page, viewport: str, *, date_of_birth: str, bladder_bowel: str = "No"):
    """Everything a patient fills in; the safety questions all "No" except the bladder/bowel one as given."""
    type_into(page, "First name", TYPED["First name"])
    type_into(page, "Last name", TYPED["Last name"])
    type_into(page, "Date of birth", date_of_birth)
    for label in ("Phone number", "E-mail address (optional)"):
        type_into(page, label, TYPED[label])
    for legend in (
        "How should we contact you?",
        "Have you been to our clinic before?",
        "Where is your pain?",
    ):
        choose(page, legend, CHOSEN[legend], viewport)
    type_into(page, "Tell us more (optional)", TYPED["Tell us more (optional)"])
    choose(page, "How long have you had this pain?", CHOSEN["How long have you had this pain?"], viewport)
    groups = safety_groups(page)
    for i in range(groups.count()):
        legend = groups.nth(i).locator("legend").inner_text().strip()
        answer = bladder_bowel if BLADDER_BOWEL.match(legend) else "No"
        choose(page, legend, answer, viewport)
    type_into(page, "First choice of date (optional)", TYPED["First choice of date (optional)"])
    page.get_by_label(TIME_OF_DAY[0], exact=True).select_option(label=TIME_OF_DAY[1])
    practitioner = page.get_by_label("Preferred acupuncturist (optional)", exact=True)
    practitioner_name = practitioner.locator("option").nth(1).inner_text().strip()
    practitioner.select_option(label=practitioner_name)
    type_into(page, "Insurance company (optional)", TYPED["Insurance company (optional)"])
    type_into(page, "Member ID (optional)", TYPED["Member ID (optional)"])
    choose(page, "Do you have Medicare?", CHOSEN["Do you have Medicare?"], viewport)
    message = "Anything else we should know? (optional)"
    type_into(page, message, TYPED[message])
    for label in CHECKED:
        checkbox_label = page.locator("label").filter(has_text=label)
        checkbox_label.scroll_into_view_if_needed()
        press(checkbox_label, viewport)
        expect(page.get_by_label(label, exact=True)).to_be_checked()
    return practitioner_name


def wait_for_minimum_fill_time(page, opened_at: float):
    remaining = MIN_FILL_SECONDS - (time.monotonic() - opened_at)
    if remaining > 0:
        page.wait_for_timeout(remaining * 1000)


def submit(page, viewport: str):
    button = page.get_by_role("button", name=SUBMIT)
    button.scroll_into_view_if_needed()
    with page.expect_navigation():
        press(button, viewport)


def expect_everything_kept(page, practitioner_name: str):
    """Every value typed or chosen is still filled in after the form came back with an error."""
    for label, value in TYPED.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    for legend, label in CHOSEN.items():
        group = page.get_by_role("group", name=legend, exact=True)
        expect(group.get_by_role("radio", name=label, exact=True)).to_be_checked()
    groups = safety_groups(page)
    for i in range(groups.count()):
        expect(groups.nth(i).get_by_role("radio", name="No", exact=True)).to_be_checked()
        expect(groups.nth(i).get_by_role("radio", name="Yes", exact=True)).not_to_be_checked()
    time_of_day = page.get_by_label(TIME_OF_DAY[0], exact=True)
    assert time_of_day.evaluate("s => s.selectedOptions[0].text") == TIME_OF_DAY[1]
    practitioner = page.get_by_label("Preferred acupuncturist (optional)", exact=True)
    assert practitioner.evaluate("s => s.selectedOptions[0].text").strip() == practitioner_name
    for label in CHECKED:
        expect(page.get_by_label(label, exact=True)).to_be_checked()


def is_focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def expect_in_view_at_the_top(page, locator):
    """Wholly inside the first screen, with the page not scrolled."""
    expect(locator).to_be_in_viewport(ratio=1)
    assert page.evaluate("window.scrollY") == 0, "the page was scrolled"
    box = locator.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"], box


def expect_confirmation(page) -> str:
    """The confirmation page's content; returns the reference it shows."""
    expect(page).to_have_url(RECEIVED_URL)
    main = page.get_by_role("main")
    reference = main.locator(".reference")
    expect(reference).to_have_text(REFERENCE)
    expect(main).to_contain_text(re.compile(r"Your reference is [A-Z2-9]{4}-[A-Z2-9]{4}\. Please quote it"))
    expect(main.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(main).to_contain_text(
        "Our office will contact you by text message, usually within one business day."
    )
    expect(main.get_by_role("heading", name="Office hours")).to_be_visible()
    expect(main.locator(".received ul li").first).to_have_text(re.compile(r"Monday|Mon"))
    phone = main.locator(".received a[href^='tel:']")
    expect(phone).to_be_visible()
    expect(phone).to_have_attribute("href", re.compile(r"^tel:\+\d{10,}$"))
    expect(main.locator(".received")).to_contain_text("Phone:")
    emergency = main.get_by_role("complementary", name="Emergency")
    expect(emergency).to_be_visible()
    expect(emergency).to_contain_text(re.compile(r"call 911", re.I))
    return reference.inner_text().strip()


def expect_no_axe_violations(page, where: str):
    violations = run_axe(page)
    assert not violations, f"axe: {len(violations)} violation(s) on {where}:\n{readable(violations)}"


# --- journey 2 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("viewport", ["phone"])
def test_journey_2_mistyped_date_of_birth_then_received(page, viewport, live_site, screenshot):
    assert page.viewport_size["width"] == 390

    # 1. The empty form.
    page.goto(FORM_PATH)
    opened_at = time.monotonic()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request an appointment")
    expect(page.locator("#error-summary")).to_have_count(0)
    screenshot(page, "01-empty-form")

    # 2. Filled in as a patient would, with the date of birth mistyped.
    practitioner_name = fill_form(page, viewport, date_of_birth=BAD_DOB)
    screenshot(page, "02-filled-in-with-a-mistyped-date", full_page=True)
    wait_for_minimum_fill_time(page, opened_at)
    rows_before = count_requests(live_site)
    submit(page, viewport)

    # 3. The form comes back: the summary at the top has focus and links to the field; the error is next to
    # the field; nothing else the patient typed is lost; nothing was stored.
    expect(page).to_have_url(re.compile(re.escape(FORM_PATH) + "$"))
    expect(page).to_have_title(re.compile(r"^Error: Request an appointment"))
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_in_viewport(ratio=1)
    assert is_focused(summary), "the error summary should have focus when the form comes back with errors"
    expect(summary.get_by_role("heading", level=2)).to_have_text("Please check 1 answer")
    link = summary.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_text(f"Date of birth: {BAD_DOB_ERROR}")
    expect(link).to_have_attribute("href", "#id_date_of_birth")
    screenshot(page, "03-error-summary-focused")

    dob = page.get_by_label("Date of birth", exact=True)
    expect(dob).to_have_value(BAD_DOB)
    expect(dob).to_have_attribute("aria-invalid", "true")
    error = page.locator("#field-date_of_birth .error-text")
    expect(error).to_have_text(f"Error: {BAD_DOB_ERROR}")
    expect(dob).to_have_accessible_description(re.compile(re.escape(BAD_DOB_ERROR)))
    # Next to the field: the error is just above the input, in the field's own box.
    error_box, dob_box = error.bounding_box(), dob.bounding_box()
    assert 0 <= dob_box["y"] - (error_box["y"] + error_box["height"]) < 32, (error_box, dob_box)
    expect_everything_kept(page, practitioner_name)
    assert count_requests(live_site) == rows_before, "a request with an error must not be stored"

    # 4. The summary's link takes the patient to the field, with its label, hint and error in view too.
    press(link, viewport)
    expect(dob).to_be_focused()
    expect(page).to_have_url(re.compile(re.escape(FORM_PATH) + "#id_date_of_birth$"))
    for part in (
        dob,
        error,
        page.locator("#field-date_of_birth label"),
        page.locator("#id_date_of_birth-hint"),
    ):
        expect(part).to_be_in_viewport(ratio=1)
    screenshot(page, "04-date-of-birth-error-next-to-the-field")

    # 5. Fix the date and send.
    dob.fill("")
    dob.press_sequentially(GOOD_DOB)
    screenshot(page, "05-date-fixed")
    submit(page, viewport)

    # 6. The confirmation.
    expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
    reference = expect_confirmation(page)
    confirmation_url = page.url
    screenshot(page, "06-confirmation", full_page=True)

    stored = stored_request(live_site, reference)
    assert stored["total"] == rows_before + 1
    assert stored["rows_with_reference"] == 1 and stored["rows_with_token"] == 1
    assert stored["is_spam"] is False and stored["spam_reason"] == "", stored
    assert stored["status"] == "new" and stored["channel"] == "web"
    assert stored["urgency"] == "routine", stored
    assert stored["date_of_birth"] == "1980-03-02"
    assert (stored["first_name"], stored["last_name"]) == ("Maria", "Lopez")
    assert stored["phone"] == "+12125550199"
    assert stored["email"] == TYPED["E-mail address (optional)"]
    assert (stored["contact_method"], stored["patient_status"]) == ("text", "new")
    assert (stored["reason"], stored["pain_duration"]) == ("lower_back", "chronic")
    assert stored["reason_detail"] == TYPED["Tell us more (optional)"]
    assert stored["preferred_times"] == [[PREFERRED_DAY.isoformat(), "morning"]]
    assert practitioner_name.startswith(stored["preferred_practitioner"].split(",")[0])
    assert (stored["insurance_carrier"], stored["insurance_member_id"]) == ("Acme Health", "ACM123456")
    assert stored["has_medicare"] is False
    assert stored["message"].replace("\r\n", "\n") == TYPED["Anything else we should know? (optional)"]
    assert stored["consent_to_contact"] is True and stored["wants_email_acknowledgement"] is True
    assert not any(stored["red_flag_answers"].values()), stored["red_flag_answers"]
    expect(page.get_by_role("main")).to_contain_text(
        "We are also sending your reference to the e-mail address"
    )

    # 7. Reload the confirmation: the same request, not a second one.
    page.reload()
    expect(page).to_have_url(confirmation_url)
    assert expect_confirmation(page) == reference
    screenshot(page, "07-confirmation-after-reload")
    after_reload = stored_request(live_site, reference)
    assert after_reload["total"] == stored["total"], "reloading the confirmation stored another request"
    assert after_reload["rows_with_reference"] == 1

    # The form with an error is answered 400 (Chromium logs that on the console too): nothing else failed.
    assert page.failed_requests == [f"400 POST {live_site.url}{FORM_PATH}"], (
        f"unexpected failed requests: {page.failed_requests}"
    )
    errors = [
        e for e in page.js_errors if not re.match(r"Failed to load resource: .* 400 \(Bad Request\)", e)
    ]
    assert errors == [], f"JavaScript errors: {errors}"


# --- journey 3 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("viewport", ["phone"])
def test_journey_3_bladder_or_bowel_trouble_is_told_to_call_911(
    page, viewport, live_site, screenshot, desktop_context
):
    page.goto(FORM_PATH)
    opened_at = time.monotonic()
    fill_form(page, viewport, date_of_birth=GOOD_DOB, bladder_bowel="Yes")
    group = page.get_by_role("group", name=BLADDER_BOWEL)
    expect(group.get_by_role("radio", name="Yes", exact=True)).to_be_checked()
    group.scroll_into_view_if_needed()
    screenshot(page, "01-yes-to-bladder-or-bowel-trouble", locator=group)
    wait_for_minimum_fill_time(page, opened_at)
    submit(page, viewport)

    # The first thing on the screen, without scrolling: call 911.
    expect(page).to_have_url(RECEIVED_URL)
    first_heading = page.get_by_role("heading").first
    expect(first_heading).to_have_text(EMERGENCY_HEADING)
    expect(page.get_by_role("heading", level=1)).to_have_text(EMERGENCY_HEADING)
    expect_in_view_at_the_top(page, first_heading)
    expect(page.get_by_role("alert")).to_contain_text("Do not wait for us to contact you.")
    expect(page).to_have_title(re.compile(r"^Call 911 now"))
    screenshot(page, "02-call-911-first-screen")
    reference = page.locator(".reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    screenshot(page, "03-call-911-whole-page", full_page=True)

    stored = stored_request(live_site, reference)
    assert stored["urgency"] == "emergency", stored
    assert "bladder_bowel" in stored["urgency_reasons"], stored
    assert stored["red_flag_answers"]["bladder_bowel"] is True
    assert stored["is_spam"] is False and stored["spam_reason"] == "", stored
    assert stored["rows_with_reference"] == 1

    # The emergency page has no accessibility violation either, at both viewports.
    expect_no_axe_violations(page, "the emergency response (phone)")
    desktop = desktop_context.new_page()
    desktop.goto(page.url)
    expect(desktop.get_by_role("heading").first).to_have_text(EMERGENCY_HEADING)
    expect_in_view_at_the_top(desktop, desktop.get_by_role("heading").first)
    expect_no_axe_violations(desktop, "the emergency response (desktop)")
    screenshot(desktop, "04-call-911-desktop")

    assert page.failed_requests == [], f"failed requests: {page.failed_requests}"
    assert page.js_errors == [], f"JavaScript errors: {page.js_errors}"


# --- without JavaScript -----------------------------------------------------------------------------------
@pytest.mark.parametrize("viewport", ["phone"])
def test_the_form_works_without_javascript(new_context, viewport, live_site, screenshot):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(FORM_PATH)
    opened_at = time.monotonic()
    screenshot(page, "01-empty-form")

    # Sent empty: the errors come back from the server, summary first.
    submit(page, viewport)
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", level=2)).to_have_text(re.compile(r"^Please check \d+ answers$"))
    expect(
        summary.get_by_role("link", name=re.compile(r"^First name: Enter your first name\.$"))
    ).to_be_visible()
    expect(page.locator("#field-first_name .error-text")).to_have_text("Error: Enter your first name.")
    screenshot(page, "02-sent-empty")

    fill_form(page, viewport, date_of_birth=GOOD_DOB)
    wait_for_minimum_fill_time(page, opened_at)
    submit(page, viewport)
    reference = expect_confirmation(page)
    screenshot(page, "03-confirmation", full_page=True)
    stored = stored_request(live_site, reference)
    assert stored["is_spam"] is False and stored["spam_reason"] == "", stored
    assert stored["urgency"] == "routine" and stored["rows_with_reference"] == 1


# --- axe-core: the empty form, the form with errors, the confirmation ----------------------------------------
def test_no_axe_violations_on_the_form_and_the_confirmation(page, viewport, screenshot):
    page.goto(FORM_PATH)
    opened_at = time.monotonic()
    expect_no_axe_violations(page, f"the empty form ({viewport})")
    screenshot(page, "01-empty-form")

    practitioner_name = fill_form(page, viewport, date_of_birth=BAD_DOB)
    wait_for_minimum_fill_time(page, opened_at)
    submit(page, viewport)
    expect(page.locator("#error-summary")).to_be_visible()
    expect_everything_kept(page, practitioner_name)
    expect_no_axe_violations(page, f"the form with an error ({viewport})")
    screenshot(page, "02-form-with-an-error")

    dob = page.get_by_label("Date of birth", exact=True)
    dob.fill(GOOD_DOB)
    submit(page, viewport)
    expect_confirmation(page)
    expect_no_axe_violations(page, f"the confirmation ({viewport})")
    screenshot(page, "03-confirmation")


# --- the W3C Nu validator -----------------------------------------------------------------------------------
class Visitor:
    """A browser-less visitor (urllib with cookies) that keeps the exact bytes the server sent."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, bytes]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, headers={"Accept": "text/html"})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.url, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read()


def hidden_fields(html: bytes) -> dict[str, str]:
    found = re.findall(
        rb'<input type="hidden" name="(csrfmiddlewaretoken|token|started)" value="([^"]*)"', html
    )
    fields = {name.decode(): value.decode() for name, value in found}
    assert set(fields) == {"csrfmiddlewaretoken", "token", "started"}, fields
    return fields


def form_data(form_html: bytes, **overrides) -> dict[str, str]:
    """A valid routine request: the form's own hidden fields, every safety question answered "no"."""
    flags = {name.decode(): "no" for name in re.findall(rb'name="(flag_[a-z_]+)"', form_html)}
    assert len(flags) >= 5, "the safety questions are missing"
    data = {
        **hidden_fields(form_html),
        **flags,
        "website": "",
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": GOOD_DOB,
        "phone": "(212) 555-0199",
        "email": "",
        "contact_method": "phone",
        "patient_status": "returning",
        "reason": "neck",
        "reason_detail": "",
        "pain_duration": "acute",
        "preferred_date_1": PREFERRED_DAY.strftime("%m/%d/%Y"),
        "preferred_time_1": "afternoon",
        "preferred_practitioner": "",
        "insurance_carrier": "",
        "insurance_member_id": "",
        "has_medicare": "yes",
        "message": "",
        "consent_to_contact": "on",
    }
    data.update(overrides)
    return data


@pytest.fixture(scope="module")
def validated(live_site, tmp_path_factory) -> dict[str, list[dict]]:
    """The exact HTML of the form, the form with an error and both confirmation pages, validated in one run."""
    if shutil.which("java") is None:
        pytest.fail("java is missing: run bin/ensure-test-tools (installs default-jre-headless)")
    if not VNU.exists():
        pytest.fail(f"{VNU} is missing: run `npm ci` (bin/ensure-test-tools does)")
    pages: dict[str, bytes] = {}
    routine, emergency = Visitor(live_site.url), Visitor(live_site.url)
    status, _url, pages["form"] = routine.request(FORM_PATH)
    assert status == 200
    status, _url, emergency_form = emergency.request(FORM_PATH)
    assert status == 200
    time.sleep(MIN_FILL_SECONDS)
    status, _url, pages["form-with-errors"] = routine.request(
        FORM_PATH, form_data(pages["form"], date_of_birth=BAD_DOB, first_name="")
    )
    assert status == 400 and BAD_DOB_ERROR.encode() in pages["form-with-errors"]
    status, url, pages["confirmation"] = routine.request(FORM_PATH, form_data(pages["form"]))
    assert status == 200 and RECEIVED_URL.search(url), (status, url)
    status, url, pages["confirmation-emergency"] = emergency.request(
        FORM_PATH, form_data(emergency_form, flag_bladder_bowel="yes")
    )
    assert status == 200 and RECEIVED_URL.search(url), (status, url)
    assert EMERGENCY_HEADING.encode() in pages["confirmation-emergency"]
    for name in ("confirmation", "confirmation-emergency"):
        reference = re.search(rb'class="reference">([A-Z2-9-]+)<', pages[name]).group(1).decode()
        stored = stored_request(live_site, reference)
        assert stored["is_spam"] is False, stored

    folder = tmp_path_factory.mktemp("appointment-html")
    files = {}
    for name, html in pages.items():
        files[name] = folder / f"{name}.html"
        files[name].write_bytes(html)
    command = ["java", "-jar", str(VNU), "--format", "json", "--stdout", "--exit-zero-always"]
    result = subprocess.run(
        [*command, *map(str, files.values())], capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    by_name = {file.resolve().as_uri(): name for name, file in files.items()}
    messages: dict[str, list[dict]] = {name: [] for name in files}
    for message in json.loads(result.stdout)["messages"]:
        name = by_name.get(message.get("url", ""))
        assert name is not None, f"validator message for an unknown file: {message}"
        messages[name].append(message)
    return messages


@pytest.mark.parametrize("name", ["form", "form-with-errors", "confirmation", "confirmation-emergency"])
def test_form_and_confirmation_are_valid_html(validated, name):
    errors = [
        m
        for m in validated[name]
        if m["type"] in ("error", "non-document-error") and not any(text in m["message"] for text in IGNORED)
    ]
    assert not errors, f"{name}: {len(errors)} HTML error(s):\n" + "\n".join(describe(m) for m in errors)

"""The Content Security Policy in a real browser: Chromium reports no violation on the public pages, the API docs,
the admin's sign-in page and (signed in with password and authenticator code) the admin's dashboard and page
editor, and what those pages do with JavaScript still works under the policy.

A violation is caught twice: by a `securitypolicyviolation` listener installed before any page script runs, and
by the console error Chromium writes for it. The policies themselves are tested in
tests/security/test_web_layer.py.
"""

from __future__ import annotations

import re
from binascii import unhexlify

import pytest
from playwright.sync_api import expect

from .pages import ARTICLE_PATH

pytestmark = pytest.mark.browser

LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
}, true);
"""
ADMIN_USER = "csp-admin"
ADMIN_PASSWORD = "csp-admin-password-0123"  # noqa: S105 - a throwaway account on the throwaway test site
TOTP_KEY = "3132333435363738393031323334353637383930"


@pytest.fixture
def csp_page(desktop_context):
    """A desktop page that records CSP violations (listener and console), page errors and failed requests."""
    desktop_context.add_init_script(LISTENER)
    page = desktop_context.new_page()
    page.problems = []

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            page.problems.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))

    def on_response(response):
        # A page may answer 400 on purpose (a form with errors); what it loads may not fail.
        if response.status >= 400 and response.request.resource_type != "document":
            page.problems.append(f"{response.status} {response.request.method} {response.url}")

    page.on("response", on_response)
    return page


def assert_no_violation(page, what: str):
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # let late scripts (Swagger UI, the admin's bundles) run
    violations = page.evaluate("window.__cspViolations")
    assert not violations, f"{what}: {violations}"
    assert not page.problems, f"{what}: {page.problems}"
    page.problems.clear()


def test_public_pages_report_no_csp_violation_and_still_work(csp_page, live_site):
    page = csp_page

    response = page.goto("/")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"].split("style-src")[0]
    expect(page.get_by_role("searchbox", name="Search our articles")).to_be_visible()
    assert_no_violation(page, "home page")

    # The article: JSON-LD (nonce), the citation popover, and "Was this helpful?" sent by /static/js/helpful.js.
    page.goto(ARTICLE_PATH)
    assert page.locator('script[type="application/ld+json"]').count() == 1
    marker = page.locator("button.cite__marker[popovertarget]").first
    popover = page.locator(f"[id='{marker.get_attribute('popovertarget')}'][popover]")
    marker.scroll_into_view_if_needed()
    marker.click()
    expect(popover).to_be_visible()
    expect(popover.get_by_role("link", name="Go to source")).to_be_visible()
    page.keyboard.press("Escape")
    expect(popover).to_be_hidden()
    helpful = page.get_by_role("region", name="Was this helpful?")
    helpful.scroll_into_view_if_needed()
    page.evaluate("window.__sameDocument = true")
    with page.expect_response(lambda r: r.url.endswith("/helpful/") and r.request.method == "POST") as answer:
        helpful.get_by_role("button", name="Yes").click()
    assert answer.value.status == 200
    expect(helpful.get_by_role("status")).to_have_text("Thank you for your feedback.")
    assert page.evaluate("window.__sameDocument === true"), (
        "the vote was sent by the script, without a reload"
    )
    assert_no_violation(page, "article")

    # The appointment form, and the same form answered with errors (the error summary takes focus).
    page.goto("/request-appointment/")
    form = page.locator("form.request-form")
    expect(form).to_be_visible()
    assert_no_violation(page, "appointment form")
    form.get_by_role("button", name="Send my request").click()
    page.wait_for_load_state("load")
    expect(page.locator("form.request-form")).to_be_visible()
    expect(page.get_by_role("alert").or_(page.locator(".error-summary")).first).to_be_visible()
    assert_no_violation(page, "appointment form with errors")

    # The API docs: Swagger UI from our own static files, rendered.
    response = page.goto("/api/v1/docs")
    expect(page.locator("#swagger-ui .info .title")).to_contain_text("Acuclinic API")
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    assert_no_violation(page, "API docs")


def test_admin_reports_no_csp_violation(csp_page, live_site):
    """The sign-in page, then (password and authenticator code) the dashboard, the page search and the
    article editor under the admin's own policy (tests/security/test_web_layer.py pins what it adds)."""
    from django_otp.oath import TOTP

    live_site.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from django_otp.plugins.otp_totp.models import TOTPDevice\n"
        f"u = get_user_model().objects.create_superuser({ADMIN_USER!r}, 'csp@acuclinic.example', "
        f"{ADMIN_PASSWORD!r})\n"
        f"TOTPDevice.objects.create(user=u, name='phone', confirmed=True, key={TOTP_KEY!r})\n",
    )
    page = csp_page
    response = page.goto("/admin/login/")
    assert "'nonce-" not in response.headers["content-security-policy"]
    expect(page.locator("input[name=username]")).to_be_visible()
    assert_no_violation(page, "admin sign-in page")

    page.fill("input[name=username]", ADMIN_USER)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/two-factor/verify/"))
    assert_no_violation(page, "two-step sign-in page")
    page.fill("input[name=token]", f"{TOTP(unhexlify(TOTP_KEY)).token():06d}")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    # The sidebar is drawn by the admin's JavaScript (React): its toggle exists only if the scripts ran.
    expect(page.get_by_role("button", name="Toggle sidebar")).to_be_visible()
    assert_no_violation(page, "admin dashboard")

    page.goto("/admin/pages/search/?q=acupuncture+back+pain")
    assert_no_violation(page, "page search")
    page.locator("a[href*='/edit/']").filter(has_text="Acupuncture for back pain").first.click()
    expect(page.locator("form#page-edit-form")).to_be_visible()
    page.get_by_role("tab", name="Settings").or_(page.get_by_role("tab", name="Promote")).first.click()
    assert_no_violation(page, "article editor")

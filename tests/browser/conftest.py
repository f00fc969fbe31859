"""Real-browser tests: headless Chromium (Debian's, never a downloaded one) against the site in gunicorn.

The site runs in its own processes on its own database (see tests/livesite.py), so these tests never touch the
pytest-django test database: they request no `db` fixture and make no ORM call in the pytest process.

Playwright's sync API marks an asyncio loop as running in the main thread while it is alive, and Django
refuses ORM calls from a thread with a running loop (SynchronousOnlyOperation). The browser is therefore
package-scoped: it is shut down once the last test in tests/browser/ has run, before the database tests of
any other package.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.livesite import PROJECT_DIR, LiveSite

ARTIFACTS = PROJECT_DIR / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "tablet": {
        "viewport": {"width": 820, "height": 1180},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
DEFAULT_TIMEOUT_MS = 15_000


def _database_params():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return [pytest.param(url, id="postgresql")]
    return [pytest.param(None, id="sqlite")]


# --- the site -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session", params=_database_params())
def live_site(request):
    """One production-configured site per test session, on SQLite or on a throwaway PostgreSQL database."""
    workers = int(os.environ.get("LIVE_SITE_WORKERS", "2"))
    with LiveSite(request.param, workers=workers) as site:
        yield site


# --- the browser --------------------------------------------------------------------------------------------
@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run bin/ensure-test-tools (installs Debian's chromium package)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _new_context(browser, live_site, viewport: str, **options):
    context = browser.new_context(base_url=live_site.url, **VIEWPORTS[viewport], **options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


@pytest.fixture
def phone_context(browser, live_site):
    context = _new_context(browser, live_site, "phone")
    yield context
    context.close()


@pytest.fixture
def tablet_context(browser, live_site):
    context = _new_context(browser, live_site, "tablet")
    yield context
    context.close()


@pytest.fixture
def desktop_context(browser, live_site):
    context = _new_context(browser, live_site, "desktop")
    yield context
    context.close()


@pytest.fixture(params=["phone", "desktop"])
def viewport(request) -> str:
    """Runs the test once at a phone viewport and once at a desktop one."""
    return request.param


@pytest.fixture
def context(request, viewport):
    return request.getfixturevalue(f"{viewport}_context")


@pytest.fixture
def new_context(browser, live_site, viewport):
    """Make further contexts at the test's viewport (e.g. with JavaScript disabled); closed after the test."""
    made = []

    def make(**options):
        made.append(_new_context(browser, live_site, viewport, **options))
        return made[-1]

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(request, context, screenshot):
    """A page in the test's context. `page.js_errors` collects uncaught exceptions and console errors;
    `page.failed_requests` the requests answered with 4xx/5xx or not answered at all."""
    page = context.new_page()
    page.js_errors = []
    page.failed_requests = []

    def on_console(message):
        if message.type == "error":
            page.js_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_response(response):
        if response.status >= 400:
            page.failed_requests.append(f"{response.status} {response.request.method} {response.url}")

    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", lambda r: page.failed_requests.append(f"{r.failure} {r.method} {r.url}"))
    yield page
    report = request.node.stash.get(_REPORTS, {}).get("call")
    if report is not None and report.failed and not page.is_closed():
        screenshot(page, "FAILED", full_page=True)


# --- screenshots --------------------------------------------------------------------------------------------
@pytest.fixture
def screenshot(request, live_site):
    """screenshot(page, "03-citation") → test-artifacts/<test>-<database>-<viewport…>-03-citation.png"""
    ARTIFACTS.mkdir(exist_ok=True)
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.originalname.removeprefix("test_")).strip("-")
    params = getattr(request.node, "callspec", None)
    variant = [live_site.vendor]
    if params is not None:
        variant += [str(v) for k, v in params.params.items() if k not in ("live_site",)]

    def path_for(step: str) -> Path:
        return ARTIFACTS / f"{base}-{'-'.join(variant)}-{step}.png"

    path_for("FAILED").unlink(missing_ok=True)  # from an earlier run

    def shot(page, step: str, *, full_page: bool = False, locator=None) -> Path:
        path = path_for(step)
        if locator is not None:
            locator.screenshot(path=path)
        else:
            page.screenshot(path=path, full_page=full_page)
        return path

    return shot


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report

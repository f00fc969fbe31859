"""Journey 1 of the product brief: a patient finds the back-pain article by search, sees who reviewed it and
when, opens a citation, reads the FAQ, answers "Was this helpful?" and reaches the call to action.

Runs at a phone and at a desktop viewport. Screenshots of each step go to test-artifacts/.
"""

import re

import pytest
from playwright.sync_api import expect

from .pages import ARTICLE_PATH

pytestmark = pytest.mark.browser

ARTICLE_TITLE = "Acupuncture for back pain: what the research says"
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
REVIEW_LINE = re.compile(rf"Medically reviewed by .+ — Last reviewed ({MONTHS}) [1-9]\d?, \d{{4}}")
NLM_LABEL = "Database of the US National Library of Medicine"
THANKS = "Thank you for your feedback."


def press(locator, viewport):
    """A tap on the phone, a click on the desktop."""
    if viewport == "phone":
        locator.tap()
    else:
        locator.click()


def nlm_citation(page):
    """The first "Trusted Source" marker citing a National Library of Medicine database, and its popover."""
    marker = page.locator("button.cite__marker[popovertarget][aria-label*='PubMed']").first
    expect(marker).to_have_accessible_name(re.compile(r"^Trusted Source( \d+)?: PubMed"))
    popover = page.locator(f"[id='{marker.get_attribute('popovertarget')}'][popover]")
    return marker, popover


def is_open(popover) -> bool:
    return popover.evaluate("el => el.matches(':popover-open')")


def expect_source_details(popover):
    expect(popover).to_be_visible()
    expect(popover.locator(".cite__name")).to_have_text(re.compile(r"^PubMed( Central)?$"))
    expect(popover.locator(".cite__label")).to_have_text(NLM_LABEL)
    go = popover.get_by_role("link", name="Go to source")
    expect(go).to_be_visible()
    expect(go).to_have_attribute("href", re.compile(r"^https://"))


def focused_is(page, locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def test_journey_1_search_read_cite_and_answer(page, viewport, new_context, screenshot):
    # 1. Home page → search form.
    page.goto("/")
    search = page.get_by_role("searchbox", name="Search our articles")
    expect(search).to_be_visible()
    search.fill("back pain acupuncture")
    screenshot(page, "01-home-search")
    press(page.get_by_role("search").get_by_role("button", name="Search"), viewport)

    # 2. Search results → the research article.
    expect(page).to_have_url(re.compile(r"/search/\?q=back\+pain\+acupuncture$"))
    heading_text = re.compile(r"results? for “back pain acupuncture”")
    results_heading = page.get_by_role("heading", level=2, name=heading_text)
    expect(results_heading).to_be_visible()
    result = page.get_by_role("link", name=ARTICLE_TITLE, exact=True)
    expect(result).to_be_visible()
    screenshot(page, "02-search-results")
    press(result, viewport)

    # 3. Who reviewed it, and when.
    expect(page).to_have_url(re.compile(re.escape(ARTICLE_PATH) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(ARTICLE_TITLE)
    review_line = page.locator(".review-line")
    expect(review_line).to_be_visible()
    expect(review_line).to_have_text(REVIEW_LINE)
    expect(review_line.get_by_role("link")).to_have_text(re.compile(r".+, .+"))  # reviewer, with credentials
    hero = page.locator(".hero img")
    hero_src = hero.get_attribute("src")
    expect(hero).to_have_attribute("alt", re.compile(r"\S"))
    # Checked at the end, so that a missing image does not hide what the rest of the journey would find.
    hero_loaded = hero.evaluate("img => img.decode().then(() => img.naturalWidth > 0, () => false)")
    screenshot(page, "03-article-reviewed-by")

    # 4a. A "Trusted Source" citation, opened with the pointer (a native popover).
    marker, popover = nlm_citation(page)
    expect(popover).to_be_hidden()
    marker.scroll_into_view_if_needed()
    press(marker, viewport)
    expect_source_details(popover)
    assert is_open(popover)
    screenshot(page, "04-citation-open-by-pointer")
    page.keyboard.press("Escape")
    expect(popover).to_be_hidden()

    # 4b. The same citation from the keyboard alone: Tab to it from the top of the page, Enter, Escape.
    page.reload()
    marker, popover = nlm_citation(page)
    for _ in range(120):
        page.keyboard.press("Tab")
        if focused_is(page, marker):
            break
    else:
        pytest.fail("Tab never reached the citation marker")
    page.keyboard.press("Enter")
    expect_source_details(popover)
    assert is_open(popover)
    screenshot(page, "05-citation-open-by-keyboard")
    page.keyboard.press("Tab")  # the next stop after the marker is the popover's own link
    assert popover.locator(".cite__go").evaluate("el => el === document.activeElement"), (
        "Tab after opening a citation should move into its popover"
    )
    page.keyboard.press("Escape")
    expect(popover).to_be_hidden()
    assert not is_open(popover)
    assert focused_is(page, marker), "after Escape, focus should be back on the citation marker"

    # 5. The FAQ, reviewed by the same reviewer.
    faq = page.get_by_role("region", name="Frequently asked questions")
    faq.scroll_into_view_if_needed()
    expect(faq).to_be_visible()
    assert faq.get_by_role("heading", level=3).count() >= 2
    expect(faq).to_contain_text("The answers were medically reviewed by")
    screenshot(page, "06-faq", locator=faq)

    # 6. "Was this helpful?" with JavaScript: the answer is sent without a reload.
    helpful = page.get_by_role("region", name="Was this helpful?")
    helpful.scroll_into_view_if_needed()
    page.evaluate("window.__sameDocument = true")
    with page.expect_response(lambda r: r.url.endswith("/helpful/") and r.request.method == "POST") as answer:
        press(helpful.get_by_role("button", name="Yes"), viewport)
    assert answer.value.status == 200 and answer.value.json()["ok"] is True
    expect(helpful.get_by_role("status")).to_have_text(THANKS)
    expect(helpful.locator("form")).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert "feedback=" not in page.url
    screenshot(page, "07-helpful-thanks-javascript", locator=helpful)

    # 7. The same question without JavaScript: a plain POST that redirects back with a thank-you.
    plain = new_context(java_script_enabled=False).new_page()
    plain.goto(ARTICLE_PATH)
    plain_helpful = plain.get_by_role("region", name="Was this helpful?")
    missing = plain_helpful.get_by_role("textbox", name="What was missing? (optional)")
    missing.fill("How many sessions I need.")
    with plain.expect_navigation():
        press(plain_helpful.get_by_role("button", name="No"), viewport)
    expect(plain).to_have_url(re.compile(re.escape(ARTICLE_PATH) + r"\?feedback=thanks#helpful$"))
    expect(plain.locator("#helpful").get_by_role("status")).to_have_text(THANKS)
    expect(plain.locator("#helpful form")).to_have_count(0)
    screenshot(plain, "08-helpful-thanks-no-javascript")

    # 8. The call to action at the end of the article. (The journey ends here: the appointment request is
    # journey 2's.)
    cta = page.get_by_role("region", name="Talk to one of our licensed acupuncturists")
    cta.scroll_into_view_if_needed()
    expect(cta).to_be_visible()
    expect(cta.locator("a[href^='tel:']")).to_have_attribute("href", re.compile(r"^tel:\+\d+$"))
    request_link = cta.get_by_role("link", name="Request an appointment")
    if request_link.count():
        expect(request_link).to_be_visible()
    expect(page.get_by_role("complementary", name="Medical disclaimer")).to_contain_text("not medical advice")
    screenshot(page, "09-call-to-action")

    # 9. On to every back-pain article.
    press(page.get_by_role("link", name="View all back pain articles"), viewport)
    expect(page).to_have_url(re.compile(r"/topics/back-pain/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("All back pain articles")
    expect(page.get_by_role("link", name=ARTICLE_TITLE, exact=True)).to_be_visible()
    screenshot(page, "10-topic-page")

    assert hero_loaded, f"the article's hero image did not load: {hero_src} ({page.failed_requests})"
    assert page.failed_requests == [], f"failed requests: {page.failed_requests}"
    assert page.js_errors == [], f"JavaScript errors: {page.js_errors}"

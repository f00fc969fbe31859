"""axe-core (node_modules/axe-core, pinned in package-lock.json) finds no WCAG 2.2 A/AA violation on the
public pages, at a phone and at a desktop viewport."""

import json

import pytest

from tests.livesite import PROJECT_DIR

from .pages import INDEX_PAGES, PAGES

pytestmark = pytest.mark.browser

AXE = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN_AXE = """async (tags) => {
  const options = {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]};
  const results = await axe.run(document, options);
  return {version: axe.version, violations: results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
  }))};
}"""


def readable(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:200]}")
            lines.extend(f"        {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


# Colours measured half-way through a fade-in (Wagtail's messages fade from a pale to their final colour) are not
# the colours a person reads: wait for every finite animation or transition to end before axe measures.
SETTLE_ANIMATIONS = """() => Promise.all(document.getAnimations()
    .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
    .map(a => a.finished.catch(() => null)))"""


def run_axe(page) -> list:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in {PROJECT_DIR} (bin/ensure-test-tools does)")
    page.evaluate(SETTLE_ANIMATIONS)
    # Evaluated through the DevTools protocol, not added as a <script> element: the site's Content Security
    # Policy (rightly) refuses inline scripts without its nonce.
    page.evaluate(AXE.read_text() + "\n;undefined")
    return page.evaluate(RUN_AXE, TAGS)["violations"]


ALL_PAGES = {**PAGES, **INDEX_PAGES}


@pytest.mark.parametrize("name", list(ALL_PAGES))
def test_no_axe_violations(page, name, screenshot):
    page.goto(ALL_PAGES[name])
    violations = run_axe(page)
    screenshot(page, "page", full_page=True)
    assert not violations, (
        f"axe: {len(violations)} violation(s) on {ALL_PAGES[name]}:\n{readable(violations)}"
    )


def test_no_axe_violations_with_a_citation_open(page, screenshot):
    """The popover is in the top layer once open: check it (contrast, link name) as well."""
    page.goto(PAGES["article"])
    marker = page.locator("button.cite__marker").first
    marker.scroll_into_view_if_needed()
    marker.click()
    popover = page.locator(f"[id='{marker.get_attribute('popovertarget')}']")
    assert popover.evaluate("el => el.matches(':popover-open')")
    violations = run_axe(page)
    screenshot(page, "citation-open")
    assert not violations, f"axe: {len(violations)} violation(s), citation open:\n{readable(violations)}"

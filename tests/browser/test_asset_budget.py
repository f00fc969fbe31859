"""The article page's own CSS and JavaScript stay small: under 50 KB served (uncompressed), all together."""

import urllib.request
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from .pages import PAGES

pytestmark = pytest.mark.browser

BUDGET_BYTES = 50 * 1024


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "").split() and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])


def get(url: str) -> bytes:
    # Accept-Encoding: identity, so the size counted is the uncompressed one.
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200, url
        assert response.headers.get("Content-Encoding") in (None, "identity"), url
        return response.read()


def test_article_css_and_js_under_50_kb(live_site):
    page_url = live_site.url + PAGES["article"]
    parser = _Assets()
    parser.feed(get(page_url).decode())
    own = [urljoin(page_url, u) for u in parser.urls]
    own = [u for u in own if urlsplit(u).netloc == urlsplit(live_site.url).netloc]
    sizes = {urlsplit(u).path: len(get(u)) for u in own}
    assert any(path.endswith(".css") for path in sizes), f"no stylesheet found: {parser.urls}"
    assert any(path.endswith(".js") for path in sizes), f"no script found: {parser.urls}"
    total = sum(sizes.values())
    breakdown = ", ".join(f"{path}: {size} B" for path, size in sizes.items())
    print(f"article page CSS+JS: {total} B ({breakdown})")
    assert total < BUDGET_BYTES, f"{total} bytes of CSS+JS, over the {BUDGET_BYTES}-byte budget: {breakdown}"

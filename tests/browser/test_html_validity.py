"""The public pages are valid HTML according to the W3C Nu validator (node_modules/vnu-jar, run with Java)."""

import json
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.livesite import PROJECT_DIR

from .pages import INDEX_PAGES, PAGES

pytestmark = pytest.mark.browser

VNU = PROJECT_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# Also validated: the listing pages, the page a JavaScript-free "Was this helpful?" vote lands on, the 404.
EXTRA_PAGES = {
    **INDEX_PAGES,
    "article-thanks": PAGES["article"] + "?feedback=thanks",
    "not-found": "/no-such-page/",
}
STATUS = {"not-found": 404}

# Messages that are not failures, each with the reason. Matched as substrings of the validator's message text.
# (Empty: every page validates without exceptions. Add an entry only with a written reason.)
IGNORED: dict[str, str] = {}


def fetch(url: str, status: int = 200) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "text/html", "Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            code, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        code, body = error.code, error.read()
    assert code == status, f"{url} answered {code}, expected {status}"
    return body


@pytest.fixture(scope="module")
def validation(live_site, tmp_path_factory) -> dict[str, list[dict]]:
    """Validate every page in one run of the validator (one JVM start); messages grouped by page name."""
    if shutil.which("java") is None:
        pytest.fail("java is missing: run bin/ensure-test-tools (installs default-jre-headless)")
    if not VNU.exists():
        pytest.fail(f"{VNU} is missing: run `npm ci` in {PROJECT_DIR} (bin/ensure-test-tools does)")
    folder = tmp_path_factory.mktemp("html")
    files = {}
    for name, path in {**PAGES, **EXTRA_PAGES}.items():
        files[name] = folder / f"{name}.html"
        files[name].write_bytes(fetch(live_site.url + path, STATUS.get(name, 200)))
    command = ["java", "-jar", str(VNU), "--format", "json", "--stdout", "--exit-zero-always"]
    result = subprocess.run(
        [*command, *map(str, files.values())],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    messages = json.loads(result.stdout)["messages"]
    by_page: dict[str, list[dict]] = {name: [] for name in files}
    by_url = {file.resolve().as_uri(): name for name, file in files.items()}
    for message in messages:
        url = message.get("url", "")
        name = by_url.get(url) or next((n for u, n in by_url.items() if url.endswith(u.split("/")[-1])), None)
        assert name is not None, f"validator message for an unknown file: {message}"
        by_page[name].append(message)
    return by_page


def describe(message: dict) -> str:
    column = message.get("firstColumn", message.get("lastColumn", "?"))
    where = f"line {message.get('lastLine', '?')}, column {column}"
    extract = (message.get("extract") or "").replace("\n", "⏎")
    return f"{message['type']}: {message['message']} ({where}) …{extract}…"


@pytest.mark.parametrize("name", [*PAGES, *EXTRA_PAGES])
def test_page_is_valid_html(validation, name):
    errors = [
        m
        for m in validation[name]
        if m["type"] in ("error", "non-document-error") and not any(text in m["message"] for text in IGNORED)
    ]
    assert not errors, f"{name}: {len(errors)} HTML error(s):\n" + "\n".join(describe(m) for m in errors)

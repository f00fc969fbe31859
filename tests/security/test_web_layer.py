"""The web layer (issue 4): production settings pass `check --deploy`; every response carries the security
headers; the Content Security Policy allows no inline script on the public site; every POST form carries a
CSRF token; rich text from staff is sanitised before it can reach a page.

The browser half (no CSP violation is reported and the pages still work under the policy) is
tests/browser/test_csp.py.
"""

import json
import os
import re
import secrets
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from wagtail.models import Page

from acuclinic.accounts.roles import FRONT_DESK
from acuclinic.content import views as content_views
from acuclinic.content.models import ArticleIndexPage, ArticlePage, PersonPage
from acuclinic.core.rich_text import sanitise

PROJECT_DIR = Path(__file__).resolve().parents[2]
ARTICLE = "/articles/acupuncture-for-back-pain-research/"


def production_env(tmp_path, **extra) -> dict[str, str]:
    """What acuclinic.settings.production needs from the environment, and nothing leaking in from ours."""
    leaking = {"DATABASE_URL", "DEBUG", "SECRET_KEY", "EMAIL_HOST", "EMAIL_BACKEND", "EMAIL_OFF"}
    env = {k: v for k, v in os.environ.items() if k not in leaking}
    env.update(
        DJANGO_SETTINGS_MODULE="acuclinic.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="clinic.example",
        CSRF_TRUSTED_ORIGINS="https://clinic.example",
        SITE_URL="https://clinic.example",
        ACUCLINIC_VAR_DIR=str(tmp_path),
        EMAIL_HOST="mail.clinic.example",
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


# --- manage.py check --deploy --------------------------------------------------------------------------------
@pytest.mark.parametrize("preload", ["true", "false"], ids=["hsts-preload", "no-hsts-preload"])
def test_check_deploy_is_clean_with_production_settings(tmp_path, preload):
    """HTTPS redirect, HSTS, secure + HttpOnly cookies, SECRET_KEY, DEBUG off … : not one warning.
    Turning HSTS preload off is a decision (README), not a finding."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=production_env(tmp_path, SECURE_HSTS_PRELOAD=preload),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_refuses_production_without_an_e_mail_server(tmp_path):
    """Without EMAIL_HOST patients' e-mails (booking links) would go to the console log: an error, not a default."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=PROJECT_DIR,
        env=production_env(tmp_path, EMAIL_HOST=None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "core.E001" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("settings_", "refused"),
    [
        ({"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": ""}, True),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend", "EMAIL_HOST": ""}, True),
        (
            {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "mail.example"},
            False,
        ),
        ({"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", "EMAIL_OFF": True}, False),
        ({"EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend", "EMAIL_HOST": ""}, False),
    ],
)
def test_the_e_mail_check(settings_, refused):
    from acuclinic.core.checks import email_server_configured

    with override_settings(**{"EMAIL_OFF": False, **settings_}):
        errors = email_server_configured()
    assert [e.id for e in errors] == (["core.E001"] if refused else [])


@pytest.fixture(scope="module")
def production_security_settings(tmp_path_factory):
    """The HTTPS settings as acuclinic.settings.production computes them (read in a subprocess)."""
    names = [
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SECURE_REDIRECT_EXEMPT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "DEBUG",
    ]
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=production_env(tmp_path_factory.mktemp("prod")),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    values = json.loads(result.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


def test_production_redirects_to_https_and_sends_hsts(client, demo, production_security_settings):
    s = production_security_settings
    assert s["DEBUG"] is False
    assert s["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert s["SECURE_HSTS_SECONDS"] >= 31_536_000 and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert s["SESSION_COOKIE_SECURE"] and s["SESSION_COOKIE_HTTPONLY"]
    assert s["CSRF_COOKIE_SECURE"] and s["CSRF_COOKIE_HTTPONLY"]
    with override_settings(**s):
        plain = client.get("/request-appointment/")
        assert plain.status_code == 301
        assert plain["Location"] == "https://testserver/request-appointment/"
        # The load balancer's plain-HTTP health probe is answered, not redirected.
        assert client.get("/health/").status_code == 200

        # Through the TLS proxy: served, with HSTS, and the cookies are Secure and HttpOnly.
        secure = client.get("/request-appointment/", HTTP_X_FORWARDED_PROTO="https")
        assert secure.status_code == 200
        assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        csrf_cookie = secure.cookies["csrftoken"]
        assert csrf_cookie["secure"] and csrf_cookie["httponly"]

        # A client's own X-Forwarded-Proto only matters because the proxy overwrites it (README).
        assert client.get("/", HTTP_X_FORWARDED_PROTO="http").status_code == 301


# --- headers on every response -----------------------------------------------------------------------------
PUBLIC_PATHS = [
    "/",
    ARTICLE,
    "/articles/",
    "/topics/back-pain/",
    "/request-appointment/",
    "/search/?q=back",
    "/robots.txt",
    "/sitemap.xml",
    "/health/",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/no-such-page/",
]
ADMIN_PATHS = ["/admin/login/", "/admin/", "/admin/password_reset/"]


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", PUBLIC_PATHS + ADMIN_PATHS + ["/static/css/site.css"])
def test_every_response_carries_the_security_headers(client, demo, path):
    response = client.get(path)
    assert response.status_code in (200, 302, 404), response.status_code
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in permissions
    csp = directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_policy_allows_no_inline_script(client, demo, path):
    csp = directives(client.get(path)["Content-Security-Policy"])
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert all(source == "'self'" or source.startswith("'nonce-") for source in csp["script-src"])


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_admin_policy_is_separate_and_only_adds_inline_for_wagtail(client, demo, path):
    """Wagtail 8's admin runs inline scripts without a nonce: its policy adds 'unsafe-inline' (scripts and
    styles) and nothing else; every source stays our own origin."""
    csp = directives(client.get(path)["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    sources = {source for values in csp.values() for source in values}
    assert sources <= {"'self'", "'none'", "'unsafe-inline'", "data:"}


def test_json_ld_carries_the_nonce_of_the_policy(client, demo):
    response = client.get(ARTICLE)
    html = response.content.decode()
    nonces = re.findall(r'<script type="application/ld\+json" nonce="([^"]+)">', html)
    assert len(nonces) == 1 and nonces[0]
    assert f"'nonce-{nonces[0]}'" in directives(response["Content-Security-Policy"])["script-src"]


def test_no_inline_script_in_public_pages_without_the_nonce(client, demo):
    """Every <script> on the public pages has a src on our origin, or the response's nonce."""
    for page in Page.objects.live().public().specific().exclude(depth=1):
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        csp = directives(response["Content-Security-Policy"])
        for tag in ScriptsAndForms.parse(response.content.decode()).scripts:
            if tag.get("src"):
                assert tag["src"].startswith("/static/"), (page.url, tag)
            else:
                assert f"'nonce-{tag.get('nonce')}'" in csp["script-src"], (page.url, tag)


def test_a_cached_page_gets_a_policy_without_the_stale_nonce(client, demo):
    """The page cache sits inside the CSP middleware: a hit's policy never names the nonce in its HTML."""
    first = client.get(ARTICLE)
    second = client.get(ARTICLE)
    assert second["X-Page-Cache"] == "hit"
    stale = re.search(r'nonce="([^"]+)"', second.content.decode()).group(1)
    assert f"'nonce-{stale}'" in first["Content-Security-Policy"]
    assert f"'nonce-{stale}'" not in second["Content-Security-Policy"]
    assert "'unsafe-inline'" not in second["Content-Security-Policy"]


def test_api_docs_load_swagger_ui_from_our_static_files(client, demo):
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle" in html and "/static/ninja/swagger-ui.css" in html
    assert not re.search(r"(src|href)=\"https?://", html), "no asset from a CDN"
    scripts = ScriptsAndForms.parse(html).scripts
    assert all(tag.get("src") or tag.get("type") == "application/json" for tag in scripts)


# --- CSRF ----------------------------------------------------------------------------------------------------
class ScriptsAndForms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict] = []
        self.forms: list[dict] = []  # {"attrs": …, "inputs": [names]}

    @classmethod
    def parse(cls, html: str) -> "ScriptsAndForms":
        parser = cls()
        parser.feed(html)
        return parser

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs)
        elif tag == "form":
            self.forms.append({"attrs": attrs, "inputs": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(attrs.get("name"))


def post_forms(html: str) -> list[dict]:
    return [f for f in ScriptsAndForms.parse(html).forms if f["attrs"].get("method", "get").lower() == "post"]


def helpful_vote_action(form) -> bool:
    return bool(re.fullmatch(r"/articles/\d+/helpful/", form["attrs"].get("action", "")))


def test_every_public_post_form_carries_a_csrf_token(client, demo):
    """Every live page of the site, the appointment form and the search page: each POST form has the token,
    except the "Was this helpful?" vote (exempt, see the next test)."""
    paths = [page.url for page in Page.objects.live().public().exclude(depth=1)]
    paths += ["/request-appointment/", "/search/?q=back", "/no-such-page/"]
    seen_forms = 0
    seen_votes = 0
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        for form in post_forms(response.content.decode()):
            if helpful_vote_action(form):
                seen_votes += 1
                continue
            seen_forms += 1
            assert "csrfmiddlewaretoken" in form["inputs"], (path, form)
    assert seen_forms >= 1, "the appointment form is a POST form with a token"
    assert seen_votes >= 1, "the articles carry the vote form"


@pytest.mark.real_two_factor
def test_two_factor_and_sign_in_forms_carry_a_csrf_token(client, demo):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    pages = {}
    pages["sign-in"] = client.get("/admin/login/")
    pages["password-reset"] = client.get("/admin/password_reset/")
    user = get_user_model().objects.create_user(
        "fd-csrf", "fd-csrf@acuclinic.example", "a-long-test-password-42"
    )
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    client.force_login(user)
    pages["two-factor-setup"] = client.get("/account/two-factor/setup/?next=/admin/")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    pages["two-factor-verify"] = client.get("/account/two-factor/verify/?next=/admin/")
    for name, response in pages.items():
        assert response.status_code == 200, name
        forms = post_forms(response.content.decode())
        assert forms, name
        for form in forms:
            assert "csrfmiddlewaretoken" in form["inputs"], (name, form)


def _all_views(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _all_views(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_the_csrf_exemptions_are_exactly_the_ones_explained():
    """Only one view of ours skips Django's CSRF check: the "Was this helpful?" vote. It carries no token so
    that article pages stay cacheable for every visitor; it changes nothing but an anonymous counter, and it
    refuses cross-site posts itself (Origin / Referer / Sec-Fetch-Site, tested in tests/content).

    The others are exempt because a library does its own check, and the test pins why that holds:
    * django-ninja's API views: ninja enforces CSRF itself when an authenticator uses cookies; ours
      authenticates nobody (anonymous appointment requests), so no cookie gives a forged request any power.
    * Wagtail's admin API (Django REST framework): its read-only endpoints answer GET only; the one that
      acts (POST …/pages/<id>/action/<name>/) authenticates by SessionAuthentication only, which enforces
      CSRF on unsafe methods.
    * django-oauth-toolkit's token endpoints under /oauth/: an API client authenticates with its own id and
      secret in the request (RFC 6749 §2.3), never with a cookie, so a forged cross-site request has no power.
    """
    from ninja.constants import NOT_SET
    from rest_framework.authentication import SessionAuthentication

    from acuclinic.api.api import api

    ours, ninja_views, drf_views, oauth_views = [], [], [], []
    for path, view in _all_views():
        if not getattr(view, "csrf_exempt", False):
            continue
        if view.__module__.startswith("oauth2_provider."):
            oauth_views.append(path)
        elif getattr(view, "cls", None) is not None:
            drf_views.append((path, view))
        elif view.__module__.startswith("ninja."):
            ninja_views.append(path)
        else:
            ours.append((path, view))

    assert [view for _path, view in ours] == [content_views.helpful_vote]
    assert oauth_views and all(path.startswith("oauth/") for path in oauth_views), oauth_views
    assert ninja_views, "the API's views"
    assert api.auth in (None, NOT_SET)
    assert drf_views, "Wagtail's admin API"
    for path, view in drf_views:
        assert path.startswith("admin/api/"), path
        methods = set(getattr(view, "actions", {}) or {"post"})
        if methods <= {"get", "head", "options"}:
            continue  # read-only: a forged request can change nothing
        assert all(issubclass(auth, SessionAuthentication) for auth in view.cls.authentication_classes), path


# --- staff rich text -----------------------------------------------------------------------------------------
NASTY = (
    '<p>Before<script>alert("s")</script><img src="x" onerror="alert(1)">'
    '<a href="javascript:alert(2)">js</a><a href=" JaVaScRiPt:alert(3)">js2</a>'
    '<a href="data:text/html,<script>alert(4)</script>">data</a>'
    '<a href="https://pubmed.ncbi.nlm.nih.gov/1/" onclick="alert(5)">ok</a>'
    '<b style="background:url(javascript:alert(6))">bold</b><iframe src="https://evil.example"></iframe>'
    "<svg><script>alert(7)</script></svg><!-- <script>alert(8)</script> -->After</p>"
)
# Our own scripts (JSON-LD, /static/ files) are allowed on a page; nothing else of this.
FORBIDDEN = re.compile(
    r'<script(?![^>]*(?:application/ld\+json|src="/static/))|onerror|onclick|javascript:|data:text|<iframe|<svg|<img|alert\('
)


def assert_clean(html: str):
    found = FORBIDDEN.findall(html)
    assert not found, found


def test_sanitise_keeps_what_the_editor_makes_and_drops_the_rest():
    editor_html = (
        '<p data-block-key="a1b2c">Plain <b>bold</b> <i>italic</i> <a linktype="page" id="3">a page</a> '
        '<a href="https://www.ncbi.nlm.nih.gov/pmc/">a source</a> <a href="mailto:desk@clinic.example">mail</a> '
        '<a href="tel:+15555550100">call</a> <a href="/articles/">ours</a></p>'
        '<ul><li data-block-key="x">one</li></ul><h2 data-block-key="h">Heading</h2>'
    )
    assert sanitise(editor_html) == editor_html
    cleaned = sanitise(NASTY)
    assert_clean(cleaned)
    assert cleaned.startswith("<p>Before") and cleaned.endswith("After</p>")
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/1/">ok</a>' in cleaned


def test_rich_text_typed_by_staff_never_reaches_the_page(client, demo):
    """Paragraph and FAQ answer (StreamField RichTextBlocks) and a RichTextField (a person's bio), saved and
    published the way the editor saves them: the stored rich text and the rendered page are clean."""
    index = ArticleIndexPage.objects.get()
    slug = f"xss-{uuid.uuid4().hex[:8]}"
    article = index.add_child(
        instance=ArticlePage(
            title="Sanitised",
            slug=slug,
            standfirst="Staff typed something nasty.",
            body=[
                {"type": "heading", "value": "Section", "id": str(uuid.uuid4())},
                {"type": "paragraph", "value": {"text": NASTY, "citations": []}, "id": str(uuid.uuid4())},
            ],
            faq=[{"type": "faq", "value": {"question": "Q?", "answer": NASTY, "citations": []}}],
        )
    )
    article.save_revision().publish()
    stored = ArticlePage.objects.get(pk=article.pk)
    assert_clean(json.dumps(list(stored.body.raw_data)))
    assert_clean(json.dumps(list(stored.faq.raw_data)))

    person = PersonPage.objects.get(slug="reviewer-1")
    person.bio = NASTY
    person.save_revision().publish()
    assert_clean(PersonPage.objects.get(pk=person.pk).bio)

    for url in (stored.url, person.url):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Before" in html and "After" in html
        assert_clean(html)


def test_every_rich_text_field_of_the_project_is_covered():
    """A new RichTextField or RichTextBlock anywhere in our apps is sanitised by the same pre_save receiver."""
    from django.apps import apps
    from wagtail.fields import RichTextField, StreamField

    from acuclinic.core.rich_text import _rich_text_fields

    found = 0
    for model in apps.get_models():
        if not model.__module__.startswith("acuclinic."):
            continue
        text_fields, stream_fields = _rich_text_fields(model)
        for field in model._meta.concrete_fields:
            if isinstance(field, RichTextField):
                assert field in text_fields
                found += 1
            if isinstance(field, StreamField) and _contains_rich_text(field.stream_block):
                assert field in stream_fields
                found += 1
    assert found >= 5


def _contains_rich_text(block) -> bool:
    from wagtail.blocks import RichTextBlock

    children = list(getattr(block, "child_blocks", {}).values())
    if getattr(block, "child_block", None) is not None:
        children.append(block.child_block)
    return isinstance(block, RichTextBlock) or any(_contains_rich_text(child) for child in children)

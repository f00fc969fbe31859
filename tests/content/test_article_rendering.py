"""Articles rendered once per revision and stored (content/rendering.py): the same page, far fewer queries.

``snapshots/`` holds the article page as the template rendered it before the parts were stored (issue 15); only
the CSP nonce is masked. ``UPDATE_SNAPSHOTS=1`` rewrites it after a deliberate change of the page.
"""

import os
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

SNAPSHOTS = Path(__file__).parent / "snapshots"
URL = "/articles/acupuncture-for-back-pain-research/"


@pytest.fixture
def article(db):
    """The demo article (the demo content is loaded once per test database: tests/conftest.py)."""
    from acuclinic.content.models import ArticlePage

    return ArticlePage.objects.get(slug="acupuncture-for-back-pain-research")


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    settings.PAGE_CACHE_ENABLED = False  # every request renders: what is measured is the render


def page(client, url=URL):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    html = re.sub(r'nonce="[^"]*"', 'nonce="NONCE"', response.content.decode())
    html = re.sub(r"(/media/images/[^_\"]+)_[A-Za-z0-9]{7}\.", r"\1_RANDOM.", html)  # upload names
    return mask_dates(html), len(captured.captured_queries)


def mask_dates(html: str) -> str:
    """The demo's publish and review dates are the day the test database was made."""
    html = re.sub(r"\d{4}-\d\d-\d\d(T[\d:.]+[-+]\d\d:\d\d)?", "DATE", html)
    months = "January|February|March|April|May|June|July|August|September|October|November|December"
    return re.sub(rf"\b({months}) \d{{1,2}}, \d{{4}}", "DATE", html)


def test_the_article_page_is_the_page_the_template_rendered(db, client):
    html, _queries = page(client)
    path = SNAPSHOTS / "article_page.html"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(html)
    assert html == path.read_text()


def test_the_second_render_reads_the_stored_parts_same_html_fewer_queries(db, client):
    from acuclinic.content.models import RenderedArticle

    page(client)  # the hero image's renditions are made once, ever
    RenderedArticle.objects.all().delete()
    first, first_queries = page(client)  # rendered (and stored)
    second, second_queries = page(client)  # from the stored parts
    assert second == first
    assert second_queries < first_queries
    assert second_queries <= 12, second_queries


def test_a_change_of_a_source_is_shown_at_once(db, client):
    from acuclinic.content.models import Source

    page(client)
    source = Source.objects.filter(citations__isnull=False).first()
    source.name = "Renamed Library of Medicine"
    source.save()
    html, _ = page(client)
    assert "Renamed Library of Medicine" in html


def test_publishing_queues_the_rendering_that_visitors_then_read(
    article, client, settings, django_capture_on_commit_callbacks
):
    demo = article
    from django_tasks_db.models import DBTaskResult

    from acuclinic.content.models import RenderedArticle

    settings.ARTICLE_PRERENDER = True
    demo.title = "Acupuncture for back pain: the research, re-published"
    with django_capture_on_commit_callbacks(execute=True):
        demo.save_revision().publish()
    assert DBTaskResult.objects.filter(task_path__endswith="render_articles").exists()
    from acuclinic.content.tasks import render_articles

    assert render_articles.call() >= 1  # what the worker does
    demo.refresh_from_db()
    stored = RenderedArticle.objects.get(article=demo)
    assert stored.revision_id == demo.live_revision_id
    assert "re-published" in stored.parts["main"]
    html, queries = page(client)
    assert "re-published" in html and queries <= 12


def test_a_preview_neither_reads_nor_stores(article, rf):
    demo = article
    from acuclinic.content.models import RenderedArticle

    demo.title = "A draft title nobody published"
    request = rf.get(URL)
    request.is_preview = True
    from acuclinic.content.rendering import parts_for_request

    assert "A draft title nobody published" in parts_for_request(demo, request)["main"]
    assert not RenderedArticle.objects.exists()


def test_one_lookup_routing_answers_like_wagtails_walk(article, client):
    """HomePage.route finds a page by its path in one query; what is not a live page is still a 404."""
    assert client.get(URL).status_code == 200
    assert client.get(URL + "no-such-sub-page/").status_code == 404
    assert client.get("/articles/no-such-article/").status_code == 404
    article.unpublish()
    assert client.get(URL).status_code == 404

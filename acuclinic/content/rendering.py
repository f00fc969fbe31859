"""An article's rendered parts, stored per revision: rendered on publish, read by every later first render.

Rendering an article (its StreamField body with cited paragraphs and popovers, the FAQ, the numbered sources, the
schema.org JSON-LD, the hero image's renditions) took 25–50 ms of CPU and 16 queries, and the page cache
(core/page_cache.py) cannot help the first visitor after a publish or a restart. So the parts of the page that
depend only on the published revision and the library's data are rendered once and kept in the database
(``RenderedArticle``): the head tags, the JSON-LD, the article itself (breadcrumb to sources) and the topic links.
What depends on the request is still rendered per request around them: the CSP nonce, the host of the og:image
URL, "Was this helpful?", the disclaimer and the call to action (clinic settings, phones-down alert).

Why in the database and not in the cache: the worst case is the *first* render — after a restart the per-process
cache is empty, the database is not — and every worker shares one row.

Validity: a row is used only for the article's live revision **and** the page cache's current generation
(core/page_cache.py), which every change that can alter a rendered article replaces: a publish (titles, URLs and
live status of linked pages), a source or citation, a medical review, an image, the clinic settings. A row from an
older generation is simply not used; the next render stores a new one.

When: the worker renders every live article whose parts are out of date after any such change commits
(``tasks.render_articles``, queued by content/signals.py), so that visitors rarely meet an unrendered article; one
who does (in the second before the worker, or with the worker down) gets it rendered in their request, and stored.
Previews never read or store.
"""

import logging

from django.db import DatabaseError, IntegrityError, transaction
from django.template.loader import render_to_string

from acuclinic.core import page_cache

logger = logging.getLogger(__name__)

OG_IMAGE_FILTER = "fill-1200x630|format-jpeg"


def _generation() -> str | None:
    try:
        return page_cache.current_generation()
    except page_cache.GenerationUnavailable:
        return None


def render_parts(article, request) -> dict:
    """Every stored part of the page of ``article`` (its current state), rendered for ``request``'s site."""
    from .selectors import article_json_ld, article_page_context

    context = {"page": article, "self": article, "request": request, **article_page_context(article=article)}
    json_ld = article_json_ld(
        article=article,
        request=request,
        review=context["review"],
        references=context["references"],
        topics=context["topics"],
        author=article.author,
    )
    og_image_url = ""
    if article.hero_image:
        og_image_url = article.hero_image.get_rendition(OG_IMAGE_FILTER).url
    return {
        "head": render_to_string("content/article/head.html", context, request=request),
        "og_image_url": og_image_url,
        "head_tail": render_to_string("content/article/head_tail.html", context, request=request),
        "json_ld": json_ld,
        "main": render_to_string("content/article/main.html", context, request=request),
        "more": render_to_string("content/article/more.html", context, request=request),
    }


def stored_parts(article) -> dict | None:
    from .models import RenderedArticle

    generation = _generation()
    if generation is None or not article.live_revision_id:
        return None
    return (
        RenderedArticle.objects.filter(
            article_id=article.pk, revision_id=article.live_revision_id, generation=generation
        )
        .values_list("parts", flat=True)
        .first()
    )


def store(article, parts: dict, *, generation: str | None = None) -> None:
    """Keep ``parts`` for the article's live revision; a failure only costs the next visitor a render."""
    from .models import RenderedArticle

    generation = generation or _generation()
    if generation is None or not article.live_revision_id:
        return
    try:
        with transaction.atomic():
            RenderedArticle.objects.update_or_create(
                article_id=article.pk,
                defaults={"revision_id": article.live_revision_id, "generation": generation, "parts": parts},
            )
    except (DatabaseError, IntegrityError):
        logger.warning("could not store the rendered article %s", article.pk, exc_info=True)


def parts_for_request(article, request) -> dict:
    """The stored parts when they are current; otherwise rendered now (and stored, unless this is a preview)."""
    preview = getattr(request, "is_preview", False)
    if not preview:
        parts = stored_parts(article)
        if parts is not None:
            return parts
    generation = _generation()
    parts = render_parts(article, request)
    if not preview and article.live:
        store(article, parts, generation=generation)
    return parts


def request_for(article):
    """A request to the article's own site, so that links come out as they do for a visitor."""
    from django.test import RequestFactory

    site = article.get_site()
    host = site.hostname if site else "localhost"
    port = site.port if site else 80
    secure = port == 443
    return RequestFactory().get(
        article.url or "/", HTTP_HOST=host if port in (80, 443) else f"{host}:{port}", secure=secure
    )


def render_stale_articles() -> int:
    """Render and store every live article whose stored parts are missing or out of date; returns how many."""
    from .models import ArticlePage, RenderedArticle

    generation = _generation()
    if generation is None:
        return 0
    current = set(
        RenderedArticle.objects.filter(generation=generation).values_list("article_id", "revision_id")
    )
    rendered = 0
    for article in ArticlePage.objects.live().specific():
        if (article.pk, article.live_revision_id) in current:
            continue
        store(article, render_parts(article, request_for(article)), generation=generation)
        rendered += 1
    return rendered

"""Whole-page cache for anonymous visitors of Wagtail pages.

What is cached
    Only the rendered response of a Wagtail page (``wagtail.views.serve`` reached the page and every
    ``before_serve_page`` hook let it through), for a GET or HEAD request with no session cookie and no
    ``Authorization`` header, with status 200, not streaming, setting no cookie, not varying on anything
    (``Vary: Cookie`` from a CSRF token or a view means the body depends on the visitor), not marked
    ``private``/``no-cache``/``no-store`` (Wagtail marks pages under a view restriction so), and not having
    written to the session. Logged-in staff always carry a session cookie, so they never read or fill the
    cache and keep their user bar; previews are admin views and never pass through here. The admin, search,
    health and the other ``PAGE_CACHE_EXCLUDED_PATHS`` are never even looked up. A request that qualifies
    gets ``X-Page-Cache: hit`` or ``miss``.

    The middleware sits just inside ``SessionMiddleware``: the ``Vary: Cookie`` that the session layer adds
    because the user bar asked "who is this?" is added outside it (the answer is "nobody" for every request
    without a session cookie, which is the only kind this cache serves), while a ``Vary: Cookie`` added by
    the view or by the CSRF layer is seen and refuses the store. Hits are sent with ``Vary: Cookie`` as
    well, like the misses.

Key
    ``page-cache:<generation>:<sha256 of scheme://host/path?query>``: the full path with its query string,
    so ``?feedback=thanks`` (the helpful-vote redirect target) is a separate entry from the plain URL, and
    the host and scheme, so two sites or http/https never share an entry.

Invalidation: a generation token
    Every key contains the current *generation*, a random token. Any change that can alter a page replaces
    the token, which orphans every entry at once (they expire on their own). Replacing it is triggered by
    Wagtail's ``page_published``, ``page_unpublished`` and ``post_page_move``, and by
    ``post_save``/``post_delete`` of every page type, page view restrictions, sites, every Wagtail setting
    (``ClinicSettings``), ``ServiceAlert``, ``MedicalReview``, ``Source``, ``Citation``, images and
    documents. The token is replaced at once and again when the surrounding transaction commits, so a
    request that rendered the old data in between cannot leave an entry under the token that readers will
    use. A random token rather than a counter: two processes bumping at the same moment can never write the
    same value back, so no change is lost.

    Entries also never outlive ``PAGE_CACHE_MAX_AGE`` seconds (60) nor the next moment a service alert
    starts or ends (one query at store time): an alert scheduled in advance appears and disappears on time
    without any event. The same bound covers a change made by a process that never loaded this module (a
    management command or the task worker: importing this module from ``CoreConfig.ready`` would connect
    them too).

Where the generation lives (the decision)
    The page entries live in ``CACHES["default"]``. With the default LocMem backend each gunicorn worker has
    its own entries, which is fine: a worker can only serve what it stored itself, under the generation it
    read. But the generation must be the same for every worker, otherwise publishing in worker A would leave
    worker B serving the old page. So:

    * when the default cache is shared (Redis when ``REDIS_URL`` is set, or any backend other than
      LocMem/Dummy) the generation is a key in that cache;
    * when it is per-process (LocMem), the generation is a small file, ``PAGE_CACHE_GENERATION_FILE``
      (``VAR_DIR/cache/page-cache-generation``), replaced atomically with ``os.replace``. Every worker on
      the machine reads it on each cacheable request (a few microseconds); it needs no server. Several
      machines without Redis would each have their own file: deployments on more than one machine must set
      ``REDIS_URL``.

    When a worker sees a generation it has not seen before, it also drops its own copy of the active service
    alerts (``core.selectors``), which is per-process with LocMem too; otherwise it could render a page with
    alerts that another worker has just changed and store it under the new generation.

    If the generation cannot be read or written (a read-only ``VAR_DIR``, Redis down), pages are served
    uncached and the error is logged: the cache fails open to correctness, not to stale pages.

Settings: ``PAGE_CACHE_ENABLED`` (env ``PAGE_CACHE``, on by default), ``PAGE_CACHE_MAX_AGE`` (seconds, 60),
``PAGE_CACHE_EXCLUDED_PATHS``, ``PAGE_CACHE_GENERATION_FILE``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import secrets
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from wagtail import hooks
from wagtail.signals import page_published, page_unpublished, post_page_move

logger = logging.getLogger(__name__)

CACHE_ALIAS = "default"
KEY_PREFIX = "page-cache"
GENERATION_KEY = f"{KEY_PREFIX}:generation"
HIT_HEADER = "X-Page-Cache"
DEFAULT_MAX_AGE = 60
DEFAULT_EXCLUDED_PATHS = (
    "/admin/",
    "/account/",
    "/search/",
    "/health/",
    "/documents/",
    "/media/",
    "/static/",
    "/bench/",
)
_LOCAL_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}
_REQUEST_MARK = "_page_cache_wagtail_page"

# Models whose rows are shown on pages; all page types and all Wagtail settings models are added to these.
INVALIDATING_MODELS = (
    "core.ServiceAlert",
    "content.MedicalReview",
    "content.Source",
    "content.Citation",
    "wagtailcore.PageViewRestriction",
    "wagtailcore.Site",
)


# --- the shared generation ---------------------------------------------------------------------------


class GenerationUnavailable(Exception):
    """The generation could not be read or written; the caller serves the page uncached."""


class FileGeneration:
    """The token in a file that every process on the machine reads; replaced atomically."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def get(self) -> str:
        for _attempt in range(2):
            try:
                with open(self.path, "rb") as fh:
                    token = fh.read(64).decode("ascii", "replace").strip()
                if token:
                    return token
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise GenerationUnavailable(str(exc)) from exc
            self.bump()  # missing or empty: start a generation (whoever writes last wins; both are fresh)
        raise GenerationUnavailable(f"{self.path} stays empty")

    def bump(self) -> str:
        token = secrets.token_hex(16)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.{token}")
            with open(tmp, "w", encoding="ascii") as fh:
                fh.write(token)
            os.replace(tmp, self.path)
        except OSError as exc:
            raise GenerationUnavailable(str(exc)) from exc
        return token


class CacheGeneration:
    """The token as a key in a cache that all processes share (Redis)."""

    def __init__(self, alias: str):
        self.alias = alias

    def get(self) -> str:
        cache = caches[self.alias]
        try:
            token = cache.get(GENERATION_KEY)
            if token is None:
                cache.add(GENERATION_KEY, secrets.token_hex(16), None)
                token = cache.get(GENERATION_KEY)
        except Exception as exc:
            raise GenerationUnavailable(str(exc)) from exc
        if token is None:
            raise GenerationUnavailable("the cache did not keep the generation")
        return token

    def bump(self) -> str:
        token = secrets.token_hex(16)
        try:
            caches[self.alias].set(GENERATION_KEY, token, None)
        except Exception as exc:
            raise GenerationUnavailable(str(exc)) from exc
        return token


_store: FileGeneration | CacheGeneration | None = None
_store_lock = threading.Lock()
_last_seen_generation: str | None = None


def generation_store() -> FileGeneration | CacheGeneration:
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                backend = settings.CACHES[CACHE_ALIAS]["BACKEND"]
                if backend in _LOCAL_BACKENDS:
                    path = getattr(settings, "PAGE_CACHE_GENERATION_FILE", None) or (
                        Path(settings.VAR_DIR) / "cache" / "page-cache-generation"
                    )
                    _store = FileGeneration(path)
                else:
                    _store = CacheGeneration(CACHE_ALIAS)
    return _store


def current_generation() -> str:
    """The generation all processes use now; on a new one, drop this process's copy of the active alerts."""
    global _last_seen_generation
    generation = generation_store().get()
    if generation != _last_seen_generation:
        from .selectors import forget_cached_alerts

        forget_cached_alerts()  # first, so that no request can see the new generation with the old alerts
        _last_seen_generation = generation
    return generation


def invalidate(**_kwargs) -> None:
    """Orphan every cached page: now, and again when the current transaction commits."""
    _bump()
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        transaction.on_commit(_bump, robust=True)


def _bump() -> None:
    try:
        generation_store().bump()
    except GenerationUnavailable:
        logger.exception("page cache: could not invalidate; pages may stay stale for up to their max age")


@hooks.register("before_serve_page", order=1000)
def _mark_wagtail_page(page, request, serve_args, serve_kwargs):
    """Runs after Wagtail's own checks (method, …): this request is a Wagtail page about to be served."""
    setattr(request, _REQUEST_MARK, True)


def _reset_store(*, setting, **_kwargs):
    global _store, _last_seen_generation
    if setting in ("CACHES", "VAR_DIR", "PAGE_CACHE_GENERATION_FILE"):
        _store = None
        _last_seen_generation = None


setting_changed.connect(_reset_store, dispatch_uid="page_cache_reset_store")


def connect_signals() -> None:
    """Connect the invalidation to every event that can change a page. Safe to call more than once."""
    from django.apps import apps
    from wagtail.contrib.settings.models import BaseGenericSetting, BaseSiteSetting
    from wagtail.models import Page

    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(invalidate, dispatch_uid=f"page_cache_{id(signal)}")
    senders = set()
    for label in INVALIDATING_MODELS:
        with contextlib.suppress(LookupError):
            senders.add(apps.get_model(label))
    for model in apps.get_models():
        if issubclass(model, (Page, BaseSiteSetting, BaseGenericSetting)):
            senders.add(model)
    try:
        from wagtail.documents import get_document_model
        from wagtail.images import get_image_model

        senders.update({get_image_model(), get_document_model()})
    except Exception:  # noqa: S110 - images or documents not installed
        pass
    for model in senders:
        uid = f"page_cache_{model._meta.label_lower}"
        post_save.connect(invalidate, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"{uid}_delete")


# --- the middleware ----------------------------------------------------------------------------------


class PageCacheMiddleware:
    """Serves and stores whole Wagtail pages for anonymous visitors. Place it just after SessionMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        connect_signals()

    def __call__(self, request):
        key = self._key(request)
        if key is None:
            return self.get_response(request)
        cache = caches[CACHE_ALIAS]
        entry = cache.get(key)
        if entry is not None and entry[0] > time.time():
            return self._hit(entry)
        response = self.get_response(request)
        if self._storable(request, response):
            self._store(cache, key, response)
            response[HIT_HEADER] = "miss"
        return response

    # A request that may be served from (and stored in) the cache gets a key; any other gets None.
    def _key(self, request) -> str | None:
        if request.method not in ("GET", "HEAD") or not getattr(settings, "PAGE_CACHE_ENABLED", True):
            return None
        if settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
            return None
        path = request.path
        if path.startswith(tuple(getattr(settings, "PAGE_CACHE_EXCLUDED_PATHS", DEFAULT_EXCLUDED_PATHS))):
            return None
        try:
            generation = current_generation()
        except GenerationUnavailable:
            logger.exception("page cache: generation unavailable; serving uncached")
            return None
        url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
        return f"{KEY_PREFIX}:{generation}:{hashlib.sha256(url.encode()).hexdigest()}"

    @staticmethod
    def _storable(request, response) -> bool:
        if not getattr(request, _REQUEST_MARK, False) or response.status_code != 200 or response.streaming:
            return False
        if response.cookies or response.has_header("Vary"):
            return False
        cache_control = response.get("Cache-Control", "").lower()
        if any(word in cache_control for word in ("private", "no-cache", "no-store")):
            return False
        session = getattr(request, "session", None)
        if session is not None and session.modified:
            return False
        user = getattr(request, "user", None)
        return not (user is not None and user.is_authenticated)

    @staticmethod
    def _store(cache, key, response) -> None:
        now = time.time()
        max_age = getattr(settings, "PAGE_CACHE_MAX_AGE", DEFAULT_MAX_AGE)
        valid_until = min(now + max_age, next_alert_change(now))
        if valid_until <= now:
            return
        headers = [(name, value) for name, value in response.items() if name.lower() != HIT_HEADER.lower()]
        entry = (valid_until, response.status_code, headers, response.content)
        cache.set(key, entry, max(1, math.ceil(valid_until - now)))

    @staticmethod
    def _hit(entry) -> HttpResponse:
        _valid_until, status, headers, content = entry
        response = HttpResponse(content, status=status, headers=dict(headers))
        # As the miss had: the entry is only for requests without a session.
        patch_vary_headers(response, ("Cookie",))
        response[HIT_HEADER] = "hit"
        return response


def next_alert_change(now: float) -> float:
    """The next moment (epoch seconds) a service alert starts or ends after ``now``; inf when none will."""
    from datetime import UTC, datetime

    from django.db.models import Min, Q

    from .models import ServiceAlert

    at = datetime.fromtimestamp(now, tz=UTC)
    found = ServiceAlert.objects.aggregate(
        next_start=Min("starts_at", filter=Q(starts_at__gt=at)),
        next_end=Min("ends_at", filter=Q(ends_at__gt=at)),
    )
    moments = [moment.timestamp() for moment in found.values() if moment is not None]
    return min(moments, default=math.inf)


def _connect_if_ready() -> None:
    from django.apps import apps

    if apps.ready:
        connect_signals()


_connect_if_ready()

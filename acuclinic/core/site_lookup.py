"""The request's Wagtail site and clinic settings, kept per process between requests (issue 15).

Finding the site (Wagtail builds a ranked query on every request) and reading the settings row cost the patient
forms and booking steps two queries and about half of their CPU time. Both change a few times a year, and every
change of either (``post_save``/``post_delete`` of sites and settings) replaces the page cache's *generation*
(acuclinic/core/page_cache.py, shared by every worker through a file or Redis). So they are kept here under that
generation, for at most ``PAGE_CACHE_MAX_AGE`` seconds: the same bound the page cache gives a change made by a
process that does not load it (a management command). When the generation cannot be read, nothing is kept.

Each request gets its own copy of the settings object, set where Wagtail looks for it: ``Site.find_for_request``
(``request._wagtail_site``) and ``ClinicSettings.for_request`` (the ``{{ settings.core.ClinicSettings }}`` of the
templates) then read no row again. ``SiteLookupMiddleware`` does it before any view (Wagtail's page serving
too). ``SITE_LOOKUP_KEEP = False`` (the test settings) keeps nothing between requests, so that a test sees the
queries its requests make.
"""

import copy
import threading
import time

from django.conf import settings
from wagtail.models import Site

from . import page_cache
from .models import ClinicSettings

_kept: dict = {}  # (generation, host, port) -> (site, clinic settings, monotonic time read)
_lock = threading.Lock()


def forget() -> None:
    """Drop what this process keeps (tests call it between tests: a rolled-back row raises no signal)."""
    with _lock:
        _kept.clear()


def _kept_for(request):
    """(key, (site, settings, when) or None); key is None when nothing may be kept."""
    if not getattr(settings, "SITE_LOOKUP_KEEP", True):
        return None, None
    try:
        generation = page_cache.current_generation()
    except page_cache.GenerationUnavailable:
        return None, None
    key = (generation, request._get_raw_host(), request.get_port())
    kept = _kept.get(key)
    if kept is not None and time.monotonic() - kept[2] >= getattr(settings, "PAGE_CACHE_MAX_AGE", 60):
        kept = None
    return key, kept


def _attach(request, site, clinic) -> ClinicSettings:
    if not hasattr(request, "_wagtail_site"):
        request._wagtail_site = site
    clinic._request = request  # as ClinicSettings.for_request does (page URLs in settings)
    setattr(request, ClinicSettings.get_cache_attr_name(), clinic)
    return clinic


def clinic_for(request) -> ClinicSettings:
    attr = ClinicSettings.get_cache_attr_name()
    if hasattr(request, attr):
        return getattr(request, attr)
    key, kept = _kept_for(request)
    if kept is not None:
        site, clinic = kept[0], copy.copy(kept[1])
    else:
        site = Site.find_for_request(request) or Site.objects.filter(is_default_site=True).first()
        clinic = ClinicSettings.for_site(site)
        if key is not None and site is not None:
            with _lock:
                _kept.clear()  # one entry per host is all a clinic needs
                _kept[key] = (site, copy.copy(clinic), time.monotonic())
    return _attach(request, site, clinic)


class SiteLookupMiddleware:
    """Hands every request the site and settings (two queries when a process first needs them, then none)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(settings, "SITE_LOOKUP_KEEP", True):
            clinic_for(request)
        return self.get_response(request)

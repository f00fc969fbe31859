"""Wagtail's back-office sidebar, kept per process for a minute per staff member (issue 15).

Every back-office page packs the whole sidebar menu (``{% sidebar_props %}``: each menu item asked whether the user
may see it, then serialised with telepath): about a third of the CPU of the inbox, the calendar or the audit log.
It depends on who the user is (their groups and superuser flag), on the menu items' permission checks and on the
library (the pages they may explore). So it is kept under the user, their groups, the page cache's generation
(core/page_cache.py) and for at most ``SIDEBAR_MAX_AGE`` seconds, which bounds a change of a group's permissions:
the sidebar only shows links, every view still checks its permission. ``SITE_LOOKUP_KEEP = False`` (tests) keeps
nothing.
"""

import threading
import time

from django.conf import settings

SIDEBAR_MAX_AGE = 60.0
_kept: dict = {}
_lock = threading.Lock()


def forget() -> None:
    with _lock:
        _kept.clear()


def install() -> None:
    from wagtail.admin.templatetags import wagtailadmin_tags

    library = wagtailadmin_tags.register
    original = library.tags["sidebar_props"]
    if getattr(original, "_acuclinic_kept", False):
        return
    original_function = wagtailadmin_tags.sidebar_props

    def sidebar_props(context):
        key = _key(context.get("request"))
        if key is None:
            return original_function(context)
        kept = _kept.get(key)
        if kept is not None and time.monotonic() - kept[1] < SIDEBAR_MAX_AGE:
            return kept[0]
        props = original_function(context)
        with _lock:
            if len(_kept) > 500:
                _kept.clear()
            _kept[key] = (props, time.monotonic())
        return props

    library.simple_tag(takes_context=True, name="sidebar_props")(sidebar_props)
    library.tags["sidebar_props"]._acuclinic_kept = True


def _key(request):
    from . import page_cache

    if request is None or not getattr(settings, "SITE_LOOKUP_KEEP", True):
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    try:
        generation = page_cache.current_generation()
    except page_cache.GenerationUnavailable:
        return None
    groups = tuple(user.groups.order_by("pk").values_list("pk", flat=True))
    return (
        user.pk,
        user.get_full_name(),
        user.is_superuser,
        groups,
        generation,
        request.get_host(),
        getattr(request, "LANGUAGE_CODE", ""),
        request.COOKIES.get("wagtail_sidebar_collapsed", "0"),
    )

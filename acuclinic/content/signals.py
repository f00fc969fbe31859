"""Render on publish (content/rendering.py): after a change that can alter rendered articles commits, the worker
renders every article whose stored parts it made out of date (``tasks.render_articles``). The task runs after the
commit and after the page cache's generation has been replaced, so it stores under the generation that visitors
read. ``ARTICLE_PRERENDER = False`` (the test settings) leaves every article to its first visitor."""

import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from wagtail.signals import page_published, page_unpublished, post_page_move

logger = logging.getLogger(__name__)
QUEUE_AT_MOST_EVERY = 1.0  # seconds: one task renders every stale article (one missed renders on first view)
_queued_at = [-1.0]


def _queue_rendering() -> None:
    from . import tasks

    if time.monotonic() - _queued_at[0] < QUEUE_AT_MOST_EVERY:
        return
    _queued_at[0] = time.monotonic()
    try:
        tasks.render_articles.enqueue()
    except Exception:  # a queue that fails must not fail a publish: visitors render instead
        logger.exception("could not queue the rendering of the articles")


def changed(**_kwargs) -> None:
    if getattr(settings, "ARTICLE_PRERENDER", True):
        transaction.on_commit(_queue_rendering)


def connect() -> None:
    from acuclinic.core.models import ClinicSettings, ServiceAlert
    from acuclinic.scheduling.models import AppointmentType, Location, Practitioner, Room

    from .models import Citation, MedicalReview, Source

    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(changed, dispatch_uid=f"content_render_{id(signal)}")
    # Everything whose change replaces the page cache's generation (core/page_cache.py, scheduling/apps.py).
    setup = (AppointmentType, Location, Practitioner, Room)
    for model in (Citation, MedicalReview, Source, ClinicSettings, ServiceAlert, *setup):
        post_save.connect(changed, sender=model, dispatch_uid=f"content_render_{model.__name__}_save")
        post_delete.connect(changed, sender=model, dispatch_uid=f"content_render_{model.__name__}_delete")

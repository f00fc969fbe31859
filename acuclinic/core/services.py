"""Writes for the clinic-wide parts of the site (HackSoft style: views call these, never save models themselves)."""

from django.db import transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent

from .models import ServiceAlert


@transaction.atomic
def end_service_alert(*, alert: ServiceAlert, by, request=None) -> ServiceAlert:
    """End an alert now ("End now"): it disappears from every page and e-mail at once. Audited.

    Saved with ``save()`` so that the cached alerts and cached pages are dropped (core.signals, core.page_cache).
    An alert that has already ended, or not started yet, is left as it is — except a future one, which is cancelled
    by ending it at its start (the database requires the end to be after the start).
    """
    alert = ServiceAlert.objects.select_for_update().get(pk=alert.pk)
    now = timezone.now()
    if alert.ends_at is not None and alert.ends_at <= now:
        return alert
    if alert.starts_at >= now:
        alert.starts_at = now - timezone.timedelta(seconds=1)
    alert.ends_at = now
    alert.save(update_fields=["starts_at", "ends_at"])
    audit.record(actor=by, action=AuditEvent.Action.CHANGE, obj=alert, detail="ended now", request=request)
    return alert

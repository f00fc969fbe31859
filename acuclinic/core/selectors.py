"""Reads for the clinic-wide parts of every page."""

from django.core.cache import cache
from django.utils import timezone

from .models import ServiceAlert

ALERTS_CACHE_KEY = "core:active-alerts"
ALERTS_CACHE_SECONDS = 60


def active_service_alerts(*, at=None) -> list[ServiceAlert]:
    """Alerts showing now, most severe first.

    Cached for at most a minute (and cleared whenever an alert is saved), but never past the moment the next alert
    starts or ends, so a scheduled alert appears and disappears on time.
    """
    if at is not None:
        return _query_active(at)
    cached = cache.get(ALERTS_CACHE_KEY)
    now = timezone.now()
    if cached is not None and cached["valid_until"] > now:
        return cached["alerts"]
    alerts = _query_active(now)
    next_change = (
        ServiceAlert.objects.filter(starts_at__gt=now)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    ends = [a.ends_at for a in alerts if a.ends_at]
    candidates = [now + timezone.timedelta(seconds=ALERTS_CACHE_SECONDS), *ends]
    if next_change:
        candidates.append(next_change)
    cache.set(ALERTS_CACHE_KEY, {"alerts": alerts, "valid_until": min(candidates)}, ALERTS_CACHE_SECONDS)
    return alerts


def phones_down_alert(*, at=None) -> ServiceAlert | None:
    """The active alert saying the phones are down (it always gives an e-mail address), or None.

    The one place that decides whether the site and its e-mails may tell people to call: every "call us", "we will
    call you" and tel: link asks this (templates through the ``phones_down`` context value).
    """
    return next((a for a in active_service_alerts(at=at) if a.phones_down and a.contact_email), None)


_SEVERITY_ORDER = {
    ServiceAlert.Severity.CRITICAL: 0,
    ServiceAlert.Severity.WARNING: 1,
    ServiceAlert.Severity.INFO: 2,
}


def _query_active(at) -> list[ServiceAlert]:
    alerts = list(ServiceAlert.objects.filter(starts_at__lte=at).exclude(ends_at__lte=at))
    return sorted(alerts, key=lambda a: (_SEVERITY_ORDER.get(a.severity, 9), -a.starts_at.timestamp()))


def forget_cached_alerts() -> None:
    cache.delete(ALERTS_CACHE_KEY)

from django.utils.functional import SimpleLazyObject

from .selectors import active_service_alerts, phones_down_alert


def service_alerts(request):
    # ``phones_down``: the active phones-down alert or None. Every phone call-to-action in the templates asks it
    # (includes/reach_us.html), so that none says "call us" while the phones are down.
    return {
        "service_alerts": SimpleLazyObject(active_service_alerts),
        "phones_down": SimpleLazyObject(phones_down_alert),
    }

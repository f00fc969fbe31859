from django.utils.functional import SimpleLazyObject

from .selectors import active_service_alerts


def service_alerts(request):
    return {"service_alerts": SimpleLazyObject(active_service_alerts)}

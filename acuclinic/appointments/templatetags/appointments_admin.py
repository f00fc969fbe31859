"""Template tags for the front desk's back office: the urgent-requests banner shown on every admin page."""

from django import template

from ..selectors import can_work_requests, unacknowledged_urgent_requests
from ..selectors import urgency_label as _urgency_label

register = template.Library()

BANNER_LIMIT = 5


@register.inclusion_tag("appointments/admin/urgent_banner.html", takes_context=True)
def urgent_requests_banner(context):
    """Unacknowledged emergency / urgent-today requests, for front-desk staff only (no query for others)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not can_work_requests(user):
        return {"show": False}
    shown = list(unacknowledged_urgent_requests()[:BANNER_LIMIT])
    total = shown[0].total if shown else 0
    for item in shown:
        item.urgency_label = _urgency_label(item.urgency)
    return {"show": bool(shown), "urgent_requests": shown, "more": total - len(shown), "total": total}


@register.filter
def urgency_label(key: str) -> str:
    return _urgency_label(key)

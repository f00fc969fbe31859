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
    from acuclinic.clinical.intake.selectors import unacknowledged_urgent_intakes

    # A patient whose intake had emergency or urgent answers comes first: they are already booked with us.
    intakes = list(unacknowledged_urgent_intakes()[:BANNER_LIMIT])
    intake_total = intakes[0].total if intakes else 0
    shown = list(unacknowledged_urgent_requests()[: max(BANNER_LIMIT - len(intakes), 1)])
    total = shown[0].total if shown else 0
    for item in [*intakes, *shown]:
        item.urgency_label = _urgency_label(item.urgency)
    return {
        "show": bool(shown or intakes),
        "urgent_intakes": intakes,
        "urgent_requests": shown,
        "more": total - len(shown),
        "more_intakes": intake_total - len(intakes),
        "total": total + intake_total,
    }


@register.filter
def urgency_label(key: str) -> str:
    return _urgency_label(key)

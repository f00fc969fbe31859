"""{% load today_tags %}: whether the signed-in user edits library pages (the home page keeps Wagtail's page search
and summary for them only; everyone else starts from their Today panel)."""

from django import template
from django.utils import timezone

from acuclinic.core import today

register = template.Library()


@register.simple_tag(takes_context=True)
def user_edits_pages(context) -> bool:
    request = context.get("request")
    return bool(request and today.edits_pages(request.user))


@register.simple_tag
def clinic_today():
    return timezone.localdate()

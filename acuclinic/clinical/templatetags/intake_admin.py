"""The appointment page's intake card: `{% include "clinical/admin/_intake_card.html" %}` loads these."""

from django import template

from ..intake.admin_views import intake_card as build_card

register = template.Library()


@register.simple_tag(takes_context=True)
def intake_card(context, appointment):
    return build_card(appointment=appointment, user=context["request"].user)

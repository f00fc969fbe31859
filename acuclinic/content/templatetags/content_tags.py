from django import template
from django.template.loader import render_to_string

from acuclinic.content.blocks import append_inside_last_paragraph

register = template.Library()


def _next_marker_id(context) -> str:
    request = context.get("request")
    holder = request if request is not None else context.render_context
    count = getattr(holder, "_citation_marker_count", 0) + 1
    try:
        holder._citation_marker_count = count
    except AttributeError:  # render_context is dict-like
        holder["_citation_marker_count"] = count
    return f"cite-pop-{count}"


@register.simple_tag(takes_context=True)
def cited_text(context, text, citations):
    """Rich text with a “Trusted Source” marker per citation, inside its last paragraph."""
    numbers = context.get("citation_numbers", {})
    markers = "".join(
        render_to_string(
            "content/includes/citation_marker.html",
            {"citation": citation, "number": numbers.get(citation.pk), "pop_id": _next_marker_id(context)},
        ).strip()
        for citation in citations
        if citation is not None
    )
    return append_inside_last_paragraph(text, markers)


@register.filter
def review_date(value):
    """“November 3, 2026” — month spelt out, no leading zero, as people write it."""
    return f"{value:%B} {value.day}, {value.year}" if value else ""

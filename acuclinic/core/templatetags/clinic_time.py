"""{% load clinic_time %}: {{ t|clock }} → "10:00 AM", {{ zone|zone_name }} → "Eastern Time" (core/timefmt.py)."""

from django import template

from acuclinic.core import timefmt

register = template.Library()

register.filter("clock", timefmt.clock)
register.filter("zone_name", timefmt.zone_name)
register.filter("long_date", timefmt.long_date)
register.filter("short_date", timefmt.short_date)


@register.simple_tag
def clock_range(start, end):
    return timefmt.clock_range(start, end)

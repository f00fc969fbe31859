"""One way to write times and time zones, for patients and staff alike: "10:00 AM", "Eastern Time".

Templates use the filters of ``{% load clinic_time %}``; Python code (e-mails, texts, messages) calls these
functions, so a time reads the same on every screen and in every message.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time

# US zones first, in the order a US clinic meets them, then every other zone by name.
US_TIME_ZONES: list[tuple[str, str]] = [
    ("America/New_York", "Eastern Time"),
    ("America/Chicago", "Central Time"),
    ("America/Denver", "Mountain Time"),
    ("America/Phoenix", "Mountain Time (Arizona, no daylight saving)"),
    ("America/Los_Angeles", "Pacific Time"),
    ("America/Anchorage", "Alaska Time"),
    ("Pacific/Honolulu", "Hawaii Time"),
    ("America/Puerto_Rico", "Atlantic Time (Puerto Rico)"),
]
_US_NAMES = dict(US_TIME_ZONES)


def time_zone_choices() -> list[tuple[str, str]]:
    """US zones first (with their everyday names), then the rest of the IANA list."""
    rest = sorted(z for z in zoneinfo.available_timezones() if "/" in z and z not in _US_NAMES)
    return [*US_TIME_ZONES, *((z, z.replace("_", " ")) for z in rest)]


def zone_name(zone) -> str:
    """ "America/New_York" -> "Eastern Time"; a zone without an everyday name keeps its city name."""
    key = getattr(zone, "key", None) or str(zone or "")
    if key in _US_NAMES:
        return _US_NAMES[key].split(" (")[0]
    return key.rsplit("/", 1)[-1].replace("_", " ") + " time" if key else ""


def clock(value: datetime | time | None) -> str:
    """10:00 AM (no leading zero on the hour, upper-case AM/PM, minutes always shown)."""
    if value is None:
        return ""
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"


def clock_range(start, end) -> str:
    """10:00 AM – 11:00 AM"""
    return f"{clock(start)} – {clock(end)}"


def long_date(value: date | datetime | None) -> str:
    """Monday, December 7, 2026"""
    if value is None:
        return ""
    return f"{value:%A}, {value:%B} {value.day}, {value.year}"


def short_date(value: date | datetime | None) -> str:
    """Mon 12/07/2026 (staff screens)"""
    if value is None:
        return ""
    return f"{value:%a} {value:%m/%d/%Y}"

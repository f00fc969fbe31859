"""The one parser of dates and instants that come from outside: query strings, forms, the APIs.

``datetime.fromisoformat`` accepts ``0001-01-01T00:00:00+05:00``, and the ``astimezone`` that follows overflows
(a 500). Everything read from a request goes through here instead: an ISO 8601 date-time with its UTC offset
(or a date), within ±14:00 (the widest offset in use), in the years 1900 to 2199 — wide enough for any birth
date and any booking, narrow enough that any zone and any horizon added to it stay representable. Anything else
raises ``InvalidInstant``, a ``ValueError`` that carries a message a person (or an API client) can act on.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=14)

INSTANT_MESSAGE = (
    "Use a date and time with its UTC offset, for example 2030-06-03T09:00:00-04:00, "
    "between the years 1900 and 2199 (offsets up to ±14:00)."
)
DAY_MESSAGE = "Use a date as YYYY-MM-DD, for example 2030-06-03, between the years 1900 and 2199."

_INSTANT = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::\d{2}(?:\.\d{1,6})?)?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class InvalidInstant(ValueError):
    def __init__(self, message: str = INSTANT_MESSAGE):
        super().__init__(message)
        self.message = message


def check_instant(value: datetime) -> datetime:
    """An aware datetime (already parsed, e.g. by pydantic) in UTC, or InvalidInstant."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInstant()
    if abs(value.utcoffset()) > MAX_OFFSET:
        raise InvalidInstant()
    # Compare without converting: astimezone itself is what overflows at the edges.
    if not (EARLIEST.year <= value.year < LATEST.year):
        raise InvalidInstant()
    try:
        instant = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInstant() from None
    if not (EARLIEST <= instant < LATEST):
        raise InvalidInstant()
    return instant


def parse_instant(text: str) -> datetime:
    """ "2030-06-03T09:00:00-04:00" (or …Z) → an aware datetime in UTC; InvalidInstant for anything else."""
    if not isinstance(text, str) or len(text) > 40:
        raise InvalidInstant()
    match = _INSTANT.fullmatch(text.strip())
    if match is None:
        raise InvalidInstant()
    offset = match["offset"]
    if offset != "Z" and (int(offset[1:3]) > 14 or int(offset[4:6]) > 59):
        raise InvalidInstant()
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T").replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise InvalidInstant() from None
    return check_instant(value)


def check_day(value: date) -> date:
    if not (EARLIEST.year <= value.year < LATEST.year):
        raise InvalidInstant(DAY_MESSAGE)
    return value


def parse_day(text: str) -> date:
    """ "2030-06-03" → date(2030, 6, 3); InvalidInstant for anything else."""
    if not isinstance(text, str) or not _DAY.fullmatch(text.strip()):
        raise InvalidInstant(DAY_MESSAGE)
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInstant(DAY_MESSAGE) from None
    return check_day(value)


def optional_instant(text: str | None) -> datetime | None:
    """None when nothing was sent; otherwise as parse_instant."""
    return parse_instant(text) if text not in (None, "") else None


def optional_day(text: str | None) -> date | None:
    return parse_day(text) if text not in (None, "") else None

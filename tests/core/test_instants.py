"""core/instants.py: the one parser of dates and instants that come from outside (query strings, forms, API).

Anything out of range answers InvalidInstant with a message, never an OverflowError later in astimezone()."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acuclinic.core import instants
from acuclinic.core.instants import InvalidInstant

HOSTILE_INSTANTS = [
    "0001-01-01T00:00:00+05:00",  # the overflow of the issue: astimezone(UTC) goes before year 1
    "0001-01-01T00:00:00-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",  # astimezone(UTC) goes past year 9999
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59+99:00",
    "2030-06-03T09:00:00+99:00",
    "2030-06-03T09:00:00+14:01",
    "2030-06-03T09:00:00-14:30",
    "2030-06-03T25:00:00+00:00",  # hour 25
    "2030-06-03T24:00:00Z",
    "2030-06-03T09:60:00Z",
    "2030-02-30T09:00:00Z",
    "2030-06-03T09:00:00",  # no zone
    "2030-06-03",
    "1899-12-31T23:00:00Z",  # outside the window
    "2201-01-01T00:00:00Z",
    "+2030-06-03T09:00:00Z",
    "2030-06-03T09:00:00Z\x00",
    "٢٠٣٠-06-03T09:00:00Z",
    "2030-06-03T09:00:00.1234567Z",
    "x" * 10_000,
    "",
]


@pytest.mark.parametrize("text", HOSTILE_INSTANTS)
def test_hostile_instants_are_refused_with_a_message(text):
    with pytest.raises(InvalidInstant) as caught:
        instants.parse_instant(text)
    assert caught.value.message and "Traceback" not in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-06-03T09:00:00-04:00", datetime(2030, 6, 3, 13, tzinfo=UTC)),
        ("2030-06-03T13:00:00Z", datetime(2030, 6, 3, 13, tzinfo=UTC)),
        ("2030-06-03T13:00:00+00:00", datetime(2030, 6, 3, 13, tzinfo=UTC)),
        ("2030-06-03T13:00+00:00", datetime(2030, 6, 3, 13, tzinfo=UTC)),
        ("2030-06-03 13:00:00.5+00:00", datetime(2030, 6, 3, 13, 0, 0, 500000, tzinfo=UTC)),
        ("2030-06-03T23:00:00+14:00", datetime(2030, 6, 3, 9, tzinfo=UTC)),
        ("2030-06-03T00:00:00-12:00", datetime(2030, 6, 3, 12, tzinfo=UTC)),
    ],
)
def test_good_instants_are_read_in_utc(text, expected):
    parsed = instants.parse_instant(text)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01", "2030-02-30", "2030-6-3", "20300603", "x"],
)
def test_hostile_days_are_refused(text):
    with pytest.raises(InvalidInstant):
        instants.parse_day(text)


def test_a_good_day_and_the_optional_forms():
    assert instants.parse_day("2030-06-03") == date(2030, 6, 3)
    assert instants.optional_day("") is None and instants.optional_day(None) is None
    assert instants.optional_instant("") is None
    with pytest.raises(InvalidInstant):
        instants.optional_day("0001-01-01")


@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14))),
        datetime(2030, 6, 3, 9, tzinfo=timezone(timedelta(hours=15))),
        datetime(2030, 6, 3, 9),  # naive
    ],
)
def test_check_instant_refuses_already_parsed_hostile_values(value):
    with pytest.raises(InvalidInstant):
        instants.check_instant(value)


# Every datetime Python can hold, with every offset it can hold: the parser either refuses it with a message or
# returns an instant in the window that any US zone can show.
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=300, deadline=None, database=None)
@given(moment=st.datetimes(timezones=st.just(UTC)), zone=offsets, zulu=st.booleans())
def test_any_datetime_with_any_offset_is_parsed_or_refused(moment, zone, zulu):
    text = moment.replace(tzinfo=zone).isoformat()
    if zulu and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    try:
        parsed = instants.parse_instant(text)
    except InvalidInstant as refused:
        assert refused.message
        return
    assert instants.EARLIEST <= parsed < instants.LATEST
    parsed.astimezone(ZoneInfo("Pacific/Kiritimati")), parsed.astimezone(ZoneInfo("Pacific/Pago_Pago"))
    (parsed + timedelta(days=3660)).astimezone(ZoneInfo("America/New_York"))

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.template import Context, Template

from acuclinic.core import timefmt


def test_one_clock_format():
    assert timefmt.clock(time(10, 0)) == "10:00 AM"
    assert timefmt.clock(time(0, 5)) == "12:05 AM"
    assert timefmt.clock(time(12, 0)) == "12:00 PM"
    assert timefmt.clock(datetime(2026, 12, 7, 13, 30)) == "1:30 PM"
    assert timefmt.clock_range(time(9), time(10)) == "9:00 AM – 10:00 AM"


def test_zone_names_for_patients():
    assert timefmt.zone_name("America/New_York") == "Eastern Time"
    assert timefmt.zone_name(ZoneInfo("America/Los_Angeles")) == "Pacific Time"
    assert timefmt.zone_name("America/Phoenix") == "Mountain Time"
    assert timefmt.zone_name("Europe/London") == "London time"
    choices = timefmt.time_zone_choices()
    assert choices[0] == ("America/New_York", "Eastern Time")
    assert ("Europe/London", "Europe/London") in choices or (
        "Europe/London",
        "Europe/London".replace("_", " "),
    ) in choices


def test_dates_and_template_filters():
    assert timefmt.long_date(date(2026, 12, 7)) == "Monday, December 7, 2026"
    assert timefmt.short_date(date(2026, 12, 7)) == "Mon 12/07/2026"
    out = Template("{% load clinic_time %}{{ t|clock }} {{ z|zone_name }}").render(
        Context({"t": time(10), "z": "America/Chicago"})
    )
    assert out == "10:00 AM Central Time"

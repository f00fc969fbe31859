"""When the front desk must first contact a patient: by urgency (the triage rule set) and the clinic's opening hours.

An urgent ("medical care today") request must not get "the next business day, after Saturday's closing" (issue 10).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from acuclinic.appointments import selectors
from acuclinic.appointments.models import AppointmentRequest
from acuclinic.appointments.selectors import BusinessCalendar, first_contact_deadline
from acuclinic.appointments.triage import FIRST_CONTACT, Urgency
from acuclinic.core.timefmt import clock
from tests.factories import make_appointment_request, make_user

NY = ZoneInfo("America/New_York")
THANKSGIVING = date(2026, 11, 26)  # a Thursday
# Mon–Sat, 8 AM – 6 PM, closed on Thanksgiving.
CLINIC = BusinessCalendar(
    open_weekdays=frozenset(range(6)),
    zone=NY,
    opens=time(8, 0),
    closes=time(18, 0),
    closed_dates=frozenset({THANKSGIVING}),
)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def due(urgency: Urgency, submitted: datetime) -> datetime:
    return first_contact_deadline(urgency=urgency, submitted_at=submitted, calendar=CLINIC)


def test_the_rule_is_data_with_its_source_in_the_triage_rule_set():
    assert set(FIRST_CONTACT) == set(Urgency)
    for rule in FIRST_CONTACT.values():
        assert rule.source and rule.label
    assert FIRST_CONTACT[Urgency.EMERGENCY].within == "now"
    assert FIRST_CONTACT[Urgency.URGENT_TODAY].within == "same_day"
    assert FIRST_CONTACT[Urgency.ROUTINE].within == "next_business_day"
    assert "clinical-rules" in FIRST_CONTACT[Urgency.URGENT_TODAY].source


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        (ny(2026, 11, 23, 10, 0), ny(2026, 11, 23, 18, 0)),  # Monday, open: by closing today
        (ny(2026, 11, 23, 7, 0), ny(2026, 11, 23, 8, 0)),  # Monday before opening: at opening
        (ny(2026, 11, 23, 18, 0), ny(2026, 11, 24, 8, 0)),  # Monday at closing: Tuesday's opening
        (ny(2026, 11, 28, 17, 59), ny(2026, 11, 28, 18, 0)),  # Saturday, a minute before closing
        (ny(2026, 11, 28, 19, 30), ny(2026, 11, 30, 8, 0)),  # Saturday evening: Monday's opening, not later
        (ny(2026, 11, 29, 11, 0), ny(2026, 11, 30, 8, 0)),  # Sunday (closed): Monday's opening
        (ny(2026, 11, 25, 20, 0), ny(2026, 11, 27, 8, 0)),  # evening before Thanksgiving: Friday's opening
        (ny(2026, 11, 26, 10, 0), ny(2026, 11, 27, 8, 0)),  # on Thanksgiving: Friday's opening
    ],
)
def test_urgent_today_is_the_same_day_if_open_else_the_next_opening(submitted, expected):
    assert due(Urgency.URGENT_TODAY, submitted) == expected


@pytest.mark.parametrize(
    "submitted", [ny(2026, 11, 28, 19, 30), ny(2026, 11, 29, 3, 0), ny(2026, 11, 26, 12, 0)]
)
def test_emergency_is_now_whatever_the_hours(submitted):
    assert due(Urgency.EMERGENCY, submitted) == submitted


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        (ny(2026, 11, 23, 10, 0), ny(2026, 11, 24, 10, 0)),  # Monday → Tuesday, same time
        (ny(2026, 11, 28, 15, 0), ny(2026, 11, 30, 15, 0)),  # Saturday → Monday (closed on Sunday)
        (ny(2026, 11, 29, 15, 0), ny(2026, 12, 1, 0, 0)),  # Sunday → the end of Monday
        (ny(2026, 11, 25, 10, 0), ny(2026, 11, 27, 10, 0)),  # Wednesday → Friday (Thanksgiving closed)
    ],
)
@pytest.mark.parametrize("urgency", [Urgency.ROUTINE, Urgency.SOON])
def test_routine_is_the_next_business_day(urgency, submitted, expected):
    assert due(urgency, submitted) == expected


@pytest.mark.django_db
def test_the_clinic_calendar_takes_hours_and_holidays_from_the_locations(demo):
    from acuclinic.scheduling.models import Closure, Location

    Location.objects.update(opens_at=time(9, 0), closes_at=time(17, 0))
    for location in Location.objects.all():
        Closure.objects.create(
            location=location, starts_on=THANKSGIVING, ends_on=THANKSGIVING, reason="Thanksgiving"
        )
    calendar = selectors.business_calendar()
    assert (calendar.opens, calendar.closes) == (time(9, 0), time(17, 0))
    assert THANKSGIVING in calendar.closed_dates
    assert not calendar.is_open(THANKSGIVING)


@pytest.mark.django_db
def test_an_urgent_request_page_shows_the_same_day_deadline(demo):
    desk = make_user("frida", "Front desk")
    client = Client()
    client.force_login(desk)
    request = make_appointment_request(urgency="urgent_today", urgency_rank=int(Urgency.URGENT_TODAY))
    calendar = selectors.business_calendar()
    # Saturday evening, after closing: due at Monday's opening, not "Monday, same time" (after its closing).
    saturday_evening = datetime(2026, 11, 28, 20, 0, tzinfo=calendar.zone)
    AppointmentRequest.objects.filter(pk=request.pk).update(submitted_at=saturday_evening)
    expected = first_contact_deadline(
        urgency=Urgency.URGENT_TODAY, submitted_at=saturday_evening, calendar=calendar
    )
    assert expected.date() == date(2026, 11, 30) and expected.time() == calendar.opens
    html = client.get(f"/admin/appointment-requests/{request.pk}/").content.decode()
    assert f"Monday, November 30, 2026, {clock(expected)}" in html
    assert FIRST_CONTACT[Urgency.URGENT_TODAY].label in html
    # And the overdue mark follows the same deadline.
    request.refresh_from_db()
    request.attempt_count = 0
    assert selectors.is_overdue(request=request, now=expected + timedelta(minutes=1), calendar=calendar)
    assert not selectors.is_overdue(request=request, now=expected - timedelta(minutes=1), calendar=calendar)


def test_an_unknown_or_blank_urgency_counts_as_routine():
    submitted = ny(2026, 11, 23, 10, 0)
    for urgency in ("", "no-such-level"):
        assert first_contact_deadline(urgency=urgency, submitted_at=submitted, calendar=CLINIC) == due(
            Urgency.ROUTINE, submitted
        )

"""The calendar staff live in (/admin/schedule/): practitioners or rooms side by side, each visit spanning its
length, working time shaded from the availability rules, closures, status by colour and text, actions that come
back to the calendar, free times that start a booking, a clinician's own day — in a constant number of queries."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from acuclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    Closure,
    Licence,
    Practitioner,
    Room,
    WorkingHours,
)
from acuclinic.scheduling.services import book_appointment
from tests.factories import make_user

from .conftest import DAY, make_patient

CALENDAR = "/admin/schedule/"
# 11:00 AM in New York on the test Monday (06/03/2030); the axis starts at 8:00 AM (the opening time).
NOW = datetime(2030, 6, 3, 15, 0, tzinfo=UTC)
ROW_0800 = 1


def row(hour, minute=0):
    """The grid row (5 minutes each) of a wall-clock time, counted from 8:00 AM."""
    return ROW_0800 + ((hour - 8) * 60 + minute) // 5


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def desk(clinic):
    return make_user("desk-board", "Front desk")


@pytest.fixture
def fd(desk):
    return client_for(desk)


@pytest.fixture
def clinician(clinic):
    user = make_user("clin-board", "Clinicians")
    clinic.practitioner.user = user
    clinic.practitioner.save()
    return user


def book(clinic, start, *, patient=None, practitioner=None, room=None, kind=None):
    return book_appointment(
        patient=patient or clinic.patient,
        practitioner=practitioner or clinic.practitioner,
        room=room or clinic.room,
        appointment_type=kind or clinic.follow_up,
        start=start,
    )


def block(html: str, appointment) -> str:
    """The HTML of one appointment's block on the calendar."""
    begin = html.rindex('<div class="acu-appt', 0, html.index(f'id="appointment-{appointment.pk}"'))
    ends = [
        i for i in (html.find('<div class="acu-appt ', begin + 10), html.find("</section>", begin)) if i > 0
    ]
    return html[begin : min(ends)]


def day_html(client, **params) -> str:
    response = client.get(CALENDAR, {"date": "06/03/2030", **params})
    assert response.status_code == 200
    return response.content.decode()


def desk_html(client, clinic, **params) -> str:
    """The test clinic's calendar (the test database also holds the demo clinic, which comes first)."""
    response = client.get(CALENDAR, {"date": "06/03/2030", "location": clinic.location.pk, **params})
    assert response.status_code == 200
    return response.content.decode()


def free_links(html: str, practitioner) -> list[str]:
    return re.findall(
        rf'href="/admin/schedule/book/\?practitioner={practitioner.pk}&amp;location=\d+&amp;start=([0-9T:-]+)"',
        html,
    )


# --- the day, side by side --------------------------------------------------------------------------------------
def test_practitioners_side_by_side_and_each_visit_spans_its_length(clinic, fd):
    long_one = book(clinic, clinic.at(10), kind=clinic.first_visit)  # 60 minutes
    short_one = book(
        clinic,
        clinic.at(13, 30),
        patient=clinic.other_patient,
        practitioner=clinic.other_practitioner,
        room=clinic.other_room,
    )  # 30 minutes
    html = desk_html(fd, clinic)
    heads = re.findall(r'<h3 class="acu-board__head" id="col-[^"]+">\s*([^<]+?)\s*<', html)
    assert heads == ["Pat Needles", "Sam Moxa"]
    assert f"grid-row: {row(10)} / span 12;" in block(html, long_one)
    assert "10:00 AM – 11:00 AM" in block(html, long_one) and "Patient, Test0" in block(html, long_one)
    assert f"grid-row: {row(13, 30)} / span 6;" in block(html, short_one)
    assert "Follow-up (test)" in block(html, short_one) and "Confirmed" in block(html, short_one)
    # The axis: 8:00 AM to the closing time, every half hour, in the clinic's time format.
    assert ">8:00 AM</span>" in html and ">5:30 PM</span>" in html and ">6:00 PM</span>" not in html
    assert "Eastern Time" in html


def test_rooms_side_by_side_with_the_toggle(clinic, fd):
    visit = book(clinic, clinic.at(9), room=clinic.other_room)
    html = desk_html(fd, clinic, show="rooms")
    heads = re.findall(r'<h3 class="acu-board__head" id="col-[^"]+">\s*([^<]+?)\s*<', html)
    assert heads == ["A", "B"]
    assert html.index('id="col-r') < html.index(f'id="appointment-{visit.pk}"')
    assert "Pat Needles" in block(html, visit)  # in a room's column, the practitioner is named


def test_working_time_is_shaded_from_hours_time_off_and_extra_hours(clinic, desk):
    WorkingHours.objects.filter(practitioner=clinic.practitioner).update(starts_at=time(9), ends_at=time(12))
    AvailabilityException.objects.create(
        practitioner=clinic.practitioner,
        kind=AvailabilityException.Kind.TIME_OFF,
        date=DAY,
        starts_at=time(10),
        ends_at=time(11),
    )
    AvailabilityException.objects.create(
        practitioner=clinic.other_practitioner, kind=AvailabilityException.Kind.TIME_OFF, date=DAY
    )
    with freeze_time(datetime(2030, 6, 1, 12, tzinfo=UTC)):
        fd = client_for(desk)
        html = desk_html(fd, clinic)
    mine = html[html.index(f'id="col-p{clinic.practitioner.pk}-') :]
    mine = mine[: mine.index("</section>")]
    assert re.findall(r'class="acu-band" style="grid-row: (\d+) / span (\d+)"', mine) == [
        (str(row(9)), "12"),
        (str(row(11)), "12"),
    ]
    assert free_links(html, clinic.practitioner) == [
        "2030-06-03T09:00",
        "2030-06-03T09:30",
        "2030-06-03T11:00",
        "2030-06-03T11:30",
    ]
    assert free_links(html, clinic.other_practitioner) == []
    assert "Not working" in html


def test_free_times_are_links_to_the_desk_booking_page_but_not_busy_or_past_times(clinic, desk):
    with freeze_time(NOW):
        fd = client_for(desk)
        book(clinic, clinic.at(14))  # 2:00–2:30 PM, held until 2:40 PM
        html = desk_html(fd, clinic)
    starts = free_links(html, clinic.practitioner)
    assert starts[0] == "2030-06-03T11:30"  # 11:00 AM has begun: not offered
    assert "2030-06-03T14:00" not in starts and "2030-06-03T14:30" not in starts
    assert "2030-06-03T15:00" in starts and starts[-1] == "2030-06-03T17:30"
    assert (
        '<span class="w-sr-only">Book </span>3:00 PM<span class="w-sr-only"> with Pat Needles</span>' in html
    )
    # The "now" line, on today's columns only.
    assert f'class="acu-now" style="grid-row: {row(11)}"' in html and "Now 11:00 AM" in html


def test_a_closed_day_says_why_and_offers_no_time(clinic, desk):
    Closure.objects.create(location=clinic.location, starts_on=DAY, ends_on=DAY, reason="Staff training")
    with freeze_time(datetime(2030, 6, 1, 12, tzinfo=UTC)):
        fd = client_for(desk)
        html = desk_html(fd, clinic)
    assert "Closed: Staff training." in html and html.count("Closed: Staff training</span>") == 2
    assert free_links(html, clinic.practitioner) == [] and 'class="acu-band"' not in html


def test_no_licence_no_bookable_time(clinic, desk):
    Licence.objects.filter(practitioner=clinic.other_practitioner).update(expires_on=date(2030, 5, 31))
    with freeze_time(datetime(2030, 6, 1, 12, tzinfo=UTC)):
        fd = client_for(desk)
        html = desk_html(fd, clinic)
    assert "No licence in NY" in html and free_links(html, clinic.other_practitioner) == []
    assert free_links(html, clinic.practitioner)


# --- status -----------------------------------------------------------------------------------------------------
def test_status_by_colour_and_text_and_cancelled_only_on_request(clinic, desk):
    with freeze_time(NOW):
        fd = client_for(desk)
        arrived = book(clinic, clinic.at(9))
        gone = book(clinic, clinic.at(16), patient=clinic.other_patient)
    Appointment.objects.filter(pk=arrived.pk).update(status=AppointmentStatus.ARRIVED)
    Appointment.objects.filter(pk=gone.pk).update(status=AppointmentStatus.CANCELLED, cancellation_reason="x")
    html = desk_html(fd, clinic)
    assert 'class="acu-appt acu-appt--arrived' in block(html, arrived)
    assert '<span class="acu-status acu-status--arrived">Arrived</span>' in block(html, arrived)
    assert f'id="appointment-{gone.pk}"' not in html
    html = desk_html(fd, clinic, cancelled="on")
    assert '<span class="acu-status acu-status--cancelled">Cancelled</span>' in block(html, gone)
    assert "cancelled=on" in html  # kept by previous / next / today


# --- actions ----------------------------------------------------------------------------------------------------
def actions_in(html, appointment) -> set[str]:
    found = set(re.findall(r'action="/admin/schedule/appointments/\d+/([a-z-]+)/"', block(html, appointment)))
    if f'href="/admin/schedule/appointments/{appointment.pk}/#move"' in block(html, appointment):
        found.add("move")
    return found


def test_only_the_actions_valid_for_the_status_and_the_time_are_offered(clinic, desk):
    with freeze_time(NOW):
        fd = client_for(desk)
        started = book(clinic, clinic.at(10))
        later = book(clinic, clinic.at(16))
        tomorrow = book(clinic, clinic.at(10, day=DAY + timedelta(days=1)))
        here = book(clinic, clinic.at(9), patient=clinic.other_patient)
        done = book(clinic, clinic.at(8), patient=clinic.other_patient)
        Appointment.objects.filter(pk=here.pk).update(status=AppointmentStatus.ARRIVED)
        Appointment.objects.filter(pk=done.pk).update(status=AppointmentStatus.COMPLETED)
        html = desk_html(fd, clinic)
        assert actions_in(html, started) == {"arrived", "no-show", "move", "cancel"}
        assert actions_in(html, later) == {"arrived", "move", "cancel"}  # no-show only after the start
        assert actions_in(html, here) == {"check-out", "cancel"}
        assert actions_in(html, done) == set()
        html = desk_html(fd, clinic, date="06/04/2030")
        assert actions_in(html, tomorrow) == {"move", "cancel"}  # arrived only on the day


def test_an_action_from_the_calendar_comes_back_to_the_same_calendar(clinic, desk):
    here = "/admin/schedule/?date=06%2F03%2F2030&show=rooms"
    with freeze_time(NOW):
        fd = client_for(desk)
        visit = book(clinic, clinic.at(10))
        html = desk_html(fd, clinic, show="rooms")
        assert 'name="next" value="/admin/schedule/?date=06%2F03%2F2030&amp;location=' in html
        response = fd.post(f"/admin/schedule/appointments/{visit.pk}/arrived/", {"next": here})
        assert response.status_code == 302 and response["Location"] == f"{here}#appointment-{visit.pk}"
        response = fd.post(f"/admin/schedule/appointments/{visit.pk}/check-out/", {"next": here})
        assert response["Location"] == f"{here}#appointment-{visit.pk}"
        other = book(clinic, clinic.at(15), patient=clinic.other_patient)
        response = fd.post(
            f"/admin/schedule/appointments/{other.pk}/cancel/", {"cancel-reason": "Called", "next": here}
        )
        assert response["Location"] == f"{here}#appointment-{other.pk}"
    visit.refresh_from_db()
    other.refresh_from_db()
    assert visit.status == AppointmentStatus.COMPLETED and other.status == AppointmentStatus.CANCELLED


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/admin/schedule/",
        "//evil.example/admin/schedule/",
        "/\\evil.example/admin/schedule/",
        "/admin/pages/",
        "/admin/schedule/book/",
        "javascript:alert(1)",
        "/admin/schedule/?a=1#x",
    ],
)
def test_next_goes_nowhere_but_our_own_calendar(clinic, desk, target):
    with freeze_time(NOW):
        fd = client_for(desk)
        visit = book(clinic, clinic.at(10))
        response = fd.post(f"/admin/schedule/appointments/{visit.pk}/arrived/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/schedule/appointments/{visit.pk}/"


def test_a_refused_action_from_the_calendar_explains_itself(clinic, desk):
    with freeze_time(NOW):
        fd = client_for(desk)
        later = book(clinic, clinic.at(16))
        response = fd.post(f"/admin/schedule/appointments/{later.pk}/no-show/", {"next": CALENDAR})
    assert response.status_code == 400 and "only after the appointment" in response.content.decode()


# --- the clinician's day ----------------------------------------------------------------------------------------
def test_a_clinicians_day_is_their_own_column_read_only_but_for_checking_out(clinic, clinician):
    with freeze_time(NOW):
        mine = book(clinic, clinic.at(9))
        waiting = book(clinic, clinic.at(10))
        theirs = book(
            clinic,
            clinic.at(9),
            patient=clinic.other_patient,
            practitioner=clinic.other_practitioner,
            room=clinic.other_room,
        )
        Appointment.objects.filter(pk=mine.pk).update(status=AppointmentStatus.ARRIVED)
        client = client_for(clinician)
        html = day_html(client, practitioner=clinic.other_practitioner.pk, show="rooms")
        assert "My day" in html and html.count('<section class="acu-board__col') == 1
        assert f'id="appointment-{theirs.pk}"' not in html
        assert actions_in(html, mine) == {"check-out"} and actions_in(html, waiting) == set()
        assert "/admin/schedule/book/" not in html  # no booking links, no "Book" button
        response = client.post(f"/admin/schedule/appointments/{mine.pk}/check-out/", {"next": CALENDAR})
        assert response["Location"] == f"{CALENDAR}#appointment-{mine.pk}"
        assert client.post(f"/admin/schedule/appointments/{waiting.pk}/arrived/").status_code == 403
        week = client.get(CALENDAR, {"view": "week", "date": "06/03/2030"}).content.decode()
    assert week.count('<section class="acu-board__col') == 7 and f'id="appointment-{mine.pk}"' in week


# --- a constant number of queries -------------------------------------------------------------------------------
def grow(clinic, practitioners: int, per_practitioner: int):
    """practitioners more, each with a room, weekly hours and visits on the test Monday."""
    n = Appointment.objects.count()
    for i in range(practitioners):
        p = Practitioner.objects.create(name=f"Extra {i:02d}", credentials="L.Ac.")
        p.locations.add(clinic.location)
        Licence.objects.create(practitioner=p, state="NY", number=f"X-{i}", expires_on=date(2031, 12, 31))
        WorkingHours.objects.create(
            practitioner=p, location=clinic.location, weekday=0, starts_at=time(8), ends_at=time(18)
        )
        clinic.follow_up.practitioners.add(p)
        room = Room.objects.create(location=clinic.location, name=f"X{i:02d}")
        for k in range(per_practitioner):
            book(clinic, clinic.at(9 + k), patient=make_patient(1000 + n), practitioner=p, room=room)
            n += 1


@pytest.mark.parametrize(
    "params",
    [{}, {"show": "rooms"}, {"cancelled": "on"}, {"view": "week"}],
    ids=["day", "rooms", "with-cancelled", "week"],
)
def test_the_calendar_takes_the_same_number_of_queries_for_1_or_10_practitioners(clinic, desk, params):
    Practitioner.objects.filter(pk=clinic.other_practitioner.pk).update(is_active=False)
    with freeze_time(NOW):
        fd = client_for(desk)
        visit = book(clinic, clinic.at(9))
        Appointment.objects.filter(pk=visit.pk).update(status=AppointmentStatus.ARRIVED)
        desk_html(fd, clinic, **params)  # warm-up: the session, content types, site settings
        with CaptureQueriesContext(connection) as small:
            html = desk_html(fd, clinic, **params)
        assert html.count('class="acu-appt ') == 1
        grow(clinic, practitioners=9, per_practitioner=6)  # 10 practitioners, 55 more visits…
        for k in range(5):  # …and 5 more: 60
            book(clinic, clinic.at(13 + k), patient=make_patient(2000 + k))
        with CaptureQueriesContext(connection) as large:
            html = desk_html(fd, clinic, **params)
    if params.get("view") != "week":
        assert html.count('class="acu-appt ') == 60
    assert len(large) == len(small), "\n".join(q["sql"] for q in large.captured_queries)

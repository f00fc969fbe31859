"""The staff home ("Today") per role: what each role sees and does not see, audited list reads, and a number of
queries that does not grow with the day's appointments, requests and offers."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Licence, WaitlistEntry
from tests.factories import make_appointment_request, make_booking, make_user

pytestmark = pytest.mark.django_db

HOME = "/admin/"
# Monday June 3, 2030, 8:00 AM in New York: nothing of the demo's is on this day.
NOW = datetime(2030, 6, 3, 12, 0, tzinfo=UTC)
SEARCH = "Search all pages"


def at(hour: int, minute: int = 0) -> datetime:
    """hour:minute in New York (EDT, UTC-4) on the test day."""
    return datetime(2030, 6, 3, hour + 4, minute, tzinfo=UTC)


def book(who: Patient, start: datetime, practitioner=None, status="confirmed"):
    """An appointment at `start`, in a room of its own (the factory's room is shared)."""
    from acuclinic.scheduling.models import Appointment, Room

    appt = make_booking(
        who,
        practitioner=practitioner,
        start=datetime(2035, 1, 1, tzinfo=UTC) + timedelta(hours=Appointment.objects.count()),
        status=status,
    )
    room = Room.objects.create(location=appt.location, name=f"Room {appt.pk}")
    Appointment.objects.filter(pk=appt.pk).update(
        room=room, start=start, end=start + timedelta(minutes=30), blocked_until=start + timedelta(minutes=30)
    )
    appt.refresh_from_db()
    return appt


def client_for(user) -> Client:
    client = Client()
    with freeze_time(NOW):  # signed in on the test day, so the session is fresh then
        client.force_login(user)
    return client


def patient(n: int, last="Today") -> Patient:
    return Patient.objects.create(
        first_name=f"Pat{n}", last_name=last, date_of_birth=date(1980, 1, 1) + timedelta(days=n)
    )


@pytest.fixture
def day(demo):
    """Two practitioners' appointments today (one arrived), one tomorrow, requests in several states, an offer."""
    with freeze_time(NOW):
        first = book(patient(1, "Arrivee"), at(10), status="arrived")
        second = book(patient(2, "Booked"), at(11), practitioner=first.practitioner)
        other = book(patient(3, "Elsewhere"), at(10))  # another practitioner
        tomorrow = book(patient(4, "Tomorrow"), at(10) + timedelta(days=1))
        new = make_appointment_request("NEWREQ22")
        urgent = make_appointment_request(
            "URGENT22", urgency="urgent_today", urgency_rank=2, status="contacting", is_spam=True
        )
        ended = make_appointment_request("ENDED222", status="ended", end_reason="declined")
        offer = WaitlistEntry.objects.create(
            patient=patient(5, "Offered"),
            appointment_type=first.appointment_type,
            location=first.location,
            earliest=date(2030, 6, 3),
            latest=date(2030, 6, 30),
            status="offered",
            offered_start=at(15),
            offered_practitioner=first.practitioner,
            offer_expires_at=at(14),
        )
    return {
        "first": first,
        "second": second,
        "other": other,
        "tomorrow": tomorrow,
        "requests": (new, urgent, ended),
        "offer": offer,
    }


def home(client) -> str:
    with freeze_time(NOW):
        response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def test_the_desk_sees_todays_arrivals_requests_and_offers_and_no_page_search(day):
    desk = make_user("desk-today", "Front desk")
    html = home(client_for(desk))
    assert "Today: Monday, June 3, 2030" in html
    assert SEARCH not in html
    first, second, other = day["first"], day["second"], day["other"]
    for appt in (first, second, other):
        assert f'data-appointment="{appt.pk}"' in html
    assert f'data-appointment="{day["tomorrow"].pk}"' not in html
    assert "10:00 AM" in html and "11:00 AM" in html
    assert html.index(f'data-appointment="{first.pk}"') < html.index(f'data-appointment="{second.pk}"')
    assert f'href="/admin/schedule/appointments/{first.pk}/#check-out">Check out' in html
    assert f'href="/admin/schedule/appointments/{second.pk}/#arrived">Mark arrived' in html
    assert "Arrived</span>" in html and "Confirmed</span>" in html  # status in words, not colour alone
    assert "Pat1 Arrivee" in html and first.practitioner.name in html

    new, urgent, ended = day["requests"]
    assert f'data-reference="{new.reference}"' in html and f'data-reference="{urgent.reference}"' in html
    assert f'data-reference="{ended.reference}"' not in html
    assert "(possible spam)" in html  # an urgent request flagged as spam is shown, marked
    assert html.index(urgent.reference) < html.index(new.reference)  # urgent first

    assert f'data-waitlist="{day["offer"].pk}"' in html and "answer by Mon 06/03/2030 2:00 PM" in html
    assert 'data-today="my-day"' not in html and 'data-today="reviews"' not in html

    listed = AuditEvent.objects.filter(action="list", actor_id=desk.pk).order_by("seq")
    details = {e.object_type: e.detail for e in listed}
    assert details["scheduling.appointment"].startswith("today page, today's appointments: 3; ids ")
    assert str(first.pk) in details["scheduling.appointment"]
    assert details["appointments.appointmentrequest"].startswith("today page, new and urgent requests: 2")
    assert details["scheduling.waitlistentry"] == f"today page, waitlist offers out: 1; ids {day['offer'].pk}"
    for event in listed:
        assert "Arrivee" not in event.detail and "Pat1" not in event.detail


def test_a_clinician_sees_their_own_day_only(day):
    clinician = make_user("clin-today", "Clinicians")
    practitioner = day["first"].practitioner
    practitioner.user = clinician
    practitioner.save()
    html = home(client_for(clinician))
    assert SEARCH not in html
    assert 'data-today="my-day"' in html and "My day (2)" in html
    assert (
        f'data-appointment="{day["first"].pk}"' in html and f'data-appointment="{day["second"].pk}"' in html
    )
    assert f'data-appointment="{day["other"].pk}"' not in html and "Elsewhere" not in html
    # Before treating: nobody here has signed the consent yet.
    assert "Before treating" in html and html.count("No consent \u2014 do not treat") == 2
    for hidden in ('data-today="appointments"', 'data-today="requests"', 'data-today="offers"', "NEWREQ22"):
        assert hidden not in html
    [event] = AuditEvent.objects.filter(action="list", actor_id=clinician.pk)
    assert event.detail.startswith("today page, my day: 2; ids ")


def test_a_clinician_without_a_practitioner_is_told_what_to_do(day):
    html = home(client_for(make_user("clin-unlinked", "Clinicians")))
    assert "not linked to a practitioner yet" in html and "data-appointment=" not in html


def test_an_administrator_sees_licences_and_reviews_coming_due_and_no_patients(day):
    Licence.objects.create(
        practitioner=day["first"].practitioner, state="NJ", number="NJ-1", expires_on=date(2030, 6, 20)
    )
    admin = make_user("admin-today", "Administrators")
    html = home(client_for(admin))
    assert SEARCH not in html
    assert "Licences to renew" in html and "NJ-1" in html
    assert 'data-today="reviews"' in html and "Medical reviews coming due" in html
    assert 'data-article="' in html  # the demo's articles are overdue by 2030
    for hidden in ("data-appointment=", 'data-today="requests"', 'data-today="offers"', "Arrivee"):
        assert hidden not in html
    assert not AuditEvent.objects.filter(action="list", actor_id=admin.pk).exists()


@pytest.mark.parametrize("group", ["Editors", "Medical reviewers"])
def test_editors_and_reviewers_see_reviews_due_and_keep_the_page_search(day, group):
    html = home(client_for(make_user(f"content-{group[:4]}", group)))
    assert 'data-today="reviews"' in html and 'data-article="' in html
    assert "Articles due for medical review" in html
    assert SEARCH in html
    assert "data-appointment=" not in html and "Arrivee" not in html


def test_the_desk_page_costs_the_same_queries_for_a_busy_day(day):
    desk = make_user("desk-count", "Front desk")
    client = client_for(desk)
    home(client)  # warm up the session and the caches

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            home(client)
        return len(ctx.captured_queries)

    quiet = count()
    with freeze_time(NOW):
        practitioner = day["first"].practitioner
        for n in range(6):
            book(patient(10 + n, "Busy"), at(12 + n), practitioner=practitioner)
            book(patient(20 + n, "Busier"), at(12 + n))
            make_appointment_request(f"BUSY{n:04d}")
            WaitlistEntry.objects.create(
                patient=patient(30 + n, "Waiting"),
                appointment_type=day["first"].appointment_type,
                location=day["first"].location,
                earliest=date(2030, 6, 3),
                latest=date(2030, 6, 30),
                status="offered",
                offered_start=at(16),
                offered_practitioner=practitioner,
                offer_expires_at=at(15),
            )
    busy = count()
    assert busy == quiet, f"{quiet} queries for a quiet day, {busy} for a busy one"
    assert "Busier" in home(client)

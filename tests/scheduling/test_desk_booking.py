"""The front desk books and moves from the free times: the same slot search as online booking (without its notice
and horizon, with working hours, closures, licences and rooms). A time in the past, on a closed day or outside
working hours needs an explicit "Book another time" with a reason (kept on the appointment, the rule named in the
audit log); a double booking never. No e-mail ever announces a time already past. Hostile input: a message next
to the field, never a 500."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from django.test import Client
from freezegun import freeze_time

from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments.models import AppointmentRequest, PreferredTime
from acuclinic.clinical.intake.selectors import intake_link
from acuclinic.scheduling import messages
from acuclinic.scheduling.availability import free_slots
from acuclinic.scheduling.models import Appointment, AppointmentNotification, Closure, WorkingHours
from acuclinic.scheduling.services import book_appointment
from tests.factories import make_appointment_request, make_user

from .conftest import DAY

BOOK = "/admin/schedule/book/"
# 11:00 AM in New York on the test Monday (06/03/2030).
NOW = datetime(2030, 6, 3, 15, 0, tzinfo=UTC)
SUNDAY = DAY + timedelta(days=6)  # 06/09/2030: no working hours on Sundays in these tests
HOLIDAY = DAY + timedelta(days=3)  # Thursday 06/06/2030: a closure
Kind = AppointmentNotification.Kind


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


@pytest.fixture
def desk(clinic):
    # Closed on Sundays (nobody works) and on a holiday; the patients have e-mail addresses.
    WorkingHours.objects.filter(weekday=6).delete()
    Closure.objects.create(location=clinic.location, starts_on=HOLIDAY, ends_on=HOLIDAY, reason="Staff day")
    for n, patient in enumerate(clinic.patients):
        patient.email = f"patient{n}@example.org"
        patient.save()
    client = Client()
    client.force_login(make_user("desk-free", "Front desk"))
    return client


def search(clinic, **extra):
    params = {
        "patient": clinic.patient.pk,
        "appointment_type": clinic.follow_up.pk,
        "location": clinic.location.pk,
        "practitioner": clinic.practitioner.pk,
        "date": "06/03/2030",
    }
    params.update(extra)
    return {key: value for key, value in params.items() if value is not None}


def shown_starts(html: str) -> list[datetime]:
    """The free times linked on the page, as local wall-clock times (the links carry start=YYYY-MM-DDTHH:MM)."""
    found = re.findall(r'href="[^"]*start=(\d{4}-\d\d-\d\dT\d\d(?:%3A|:)\d\d)', html)
    return [datetime.strptime(unquote(text), "%Y-%m-%dT%H:%M") for text in found]


def another_time(clinic, **overrides):
    data = {
        "book-patient": clinic.patient.pk,
        "book-appointment_type": clinic.follow_up.pk,
        "book-practitioner": clinic.practitioner.pk,
        "book-location": clinic.location.pk,
        "book-room": "",
        "book-date": "06/04/2030",
        "book-time": "10:00",
        "book-override_reason": "",
    }
    data.update(overrides)
    return data


def patient_mails(appointment, kind=Kind.PATIENT_CONFIRMATION):
    return AppointmentNotification.objects.filter(appointment=appointment, kind=kind).count()


# --- the free times -------------------------------------------------------------------------------------------
def test_the_free_times_shown_are_those_of_the_slot_search(clinic, desk):
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=clinic.at(14),
    )
    response = desk.get(BOOK, search(clinic))
    html = response.content.decode()
    assert response.status_code == 200
    expected = [
        slot.start.astimezone(clinic.location.zone).replace(tzinfo=None)
        for slot in free_slots(
            appointment_type=clinic.follow_up,
            location=clinic.location,
            day_from=DAY,
            day_to=DAY + timedelta(days=6),
            practitioner=clinic.practitioner,
            patient=clinic.patient,
            online=False,
        )
    ]
    assert shown_starts(html) == expected
    starts = set(expected)
    # Not the past (11:00 AM now), not the held 2:00 PM, not Sunday, not the holiday; the times read "11:30 AM".
    assert datetime(2030, 6, 3, 11, 0) not in starts and datetime(2030, 6, 3, 11, 30) in starts
    assert datetime(2030, 6, 3, 14, 0) not in starts and datetime(2030, 6, 3, 13, 30) not in starts
    assert not any(s.date() in (SUNDAY, HOLIDAY) for s in starts)
    assert ">11:30 AM<" in html and "Closed: Staff day" in html and "Eastern Time" in html
    assert "No working hours" in html  # Sunday
    # Previous and next days, and the date jump.
    assert "date=05%2F27%2F2030" in html and "date=06%2F10%2F2030" in html
    html = desk.get(BOOK, search(clinic, date="06/10/2030")).content.decode()
    assert shown_starts(html)[0] == datetime(2030, 6, 10, 8, 0)


def test_first_available_lists_each_time_once_with_the_practitioner(clinic, desk):
    html = desk.get(BOOK, search(clinic, practitioner="")).content.decode()
    starts = shown_starts(html)
    assert len(starts) == len(set(starts)) and datetime(2030, 6, 4, 8, 0) in starts
    assert "first available practitioner" in html and "Pat Needles" in html


def test_picking_a_free_time_confirms_and_books_it(clinic, desk):
    # The calendar links a free cell here with the same parameters and start=: the time arrives preselected.
    response = desk.get(BOOK, search(clinic, practitioner="", start="2030-06-04T14:30"))
    html = response.content.decode()
    assert "Confirm the booking" in html and "Tuesday, June 4, 2030 at 2:30 PM" in html
    fields = dict(re.findall(r'<input type="hidden" name="(book-[a-z_]+)" value="([^"]*)"', html))
    assert fields["book-practitioner"] == str(clinic.other_practitioner.pk) or fields[
        "book-practitioner"
    ] == str(clinic.practitioner.pk)
    assert fields["book-date"] == "06/04/2030" and fields["book-time"] == "14:30"
    response = desk.post(f"{BOOK}?{'&'.join(f'{k}={v}' for k, v in search(clinic).items())}", fields)
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient=clinic.patient)
    assert appointment.start == clinic.at(14, 30, day=DAY + timedelta(days=1))
    assert appointment.override_reason is None
    assert patient_mails(appointment) == 1  # a future time: the patient is told
    audit = AuditEvent.objects.get(
        action=AuditEvent.Action.CREATE, object_type="scheduling.appointment", object_id=str(appointment.pk)
    )
    assert "override" not in audit.detail
    # A first visit booked at the desk gets its intake questionnaire, and the confirmation carries the link.
    intake = appointment.responses.get()
    notification = AppointmentNotification.objects.get(
        appointment=appointment, kind=Kind.PATIENT_CONFIRMATION
    )
    body = messages.patient_mail(notification).body
    assert intake_link(intake) in body and "health questionnaire" in body


def test_a_picked_time_that_is_not_free_says_why_and_offers_another_time(clinic, desk):
    html = desk.get(BOOK, search(clinic, start="2030-06-09T10:00")).content.decode()
    assert "is not one of the free times" in html and "has no working hours" in html
    assert "Confirm the booking" not in html
    # "Book another time" is open and prefilled with what was picked.
    assert "<details open" in html and 'value="06/09/2030"' in html and 'value="10:00"' in html


# --- the override ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "at", "code", "message"),
    [
        ("06/09/2030", "10:00", "closed", "has no working hours"),  # a closed Sunday
        ("06/06/2030", "10:00", "closed", "The clinic is closed on Thursday, June 6, 2030 (Staff day)"),
        ("06/04/2030", "19:00", "outside_hours", "outside Pat Needles&#x27;s working hours"),
        ("06/03/2030", "09:00", "past", "That time has already passed"),
    ],
)
def test_a_time_that_is_not_free_needs_a_reason(clinic, desk, day, at, code, message):
    data = another_time(clinic, **{"book-date": day, "book-time": at})
    response = desk.post(BOOK, data)
    html = response.content.decode()
    assert response.status_code == 400 and not Appointment.objects.exists()
    assert message in html and "To book it anyway, give the reason here." in html
    assert f'value="{day}"' in html and f'value="{at}"' in html  # what was typed is kept
    reason = "Practitioner agreed; patient only free then"
    response = desk.post(BOOK, {**data, "book-override_reason": reason})
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.override_reason == reason
    audit = AuditEvent.objects.get(
        action=AuditEvent.Action.CREATE, object_type="scheduling.appointment", object_id=str(appointment.pk)
    )
    assert f"override={code}" in audit.detail and reason not in audit.detail
    # No e-mail announces a time already past; the others are announced.
    assert patient_mails(appointment) == (0 if code == "past" else 1)


def test_a_free_time_typed_in_needs_no_reason_and_keeps_none(clinic, desk):
    response = desk.post(BOOK, another_time(clinic, **{"book-override_reason": "just because"}))
    assert response.status_code == 302
    assert Appointment.objects.get().override_reason is None


def test_a_double_booking_is_never_overridable(clinic, desk):
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=clinic.at(19, day=DAY + timedelta(days=1)),
    )
    data = another_time(
        clinic,
        **{
            "book-time": "19:00",
            "book-room": clinic.other_room.pk,
            "book-override_reason": "squeeze in",
        },
    )
    response = desk.post(BOOK, data)
    assert response.status_code == 409 and "That time was just taken" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_booking_from_a_request_uses_the_free_times(clinic, desk):
    request = make_appointment_request("FREE-2345", preferred_practitioner=clinic.other_practitioner)
    PreferredTime.objects.create(request=request, date=DAY + timedelta(days=1), time_of_day="morning")
    url = f"/admin/schedule/book/from-request/{request.pk}/"
    html = desk.get(url).content.decode()
    assert shown_starts(html) == []  # no visit type chosen yet
    params = {
        "appointment_type": clinic.follow_up.pk,
        "location": clinic.location.pk,
        "practitioner": clinic.other_practitioner.pk,
        "date": "06/04/2030",
    }
    html = desk.get(url, params).content.decode()
    assert shown_starts(html)[0] == datetime(2030, 6, 4, 8, 0)
    html = desk.get(url, {**params, "start": "2030-06-04T09:00"}).content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(book-[a-z_]+)" value="([^"]*)"', html))
    assert "book-patient" not in fields
    response = desk.post(url, fields)
    assert response.status_code == 302
    appointment = Appointment.objects.get(request=request)
    assert appointment.start == clinic.at(9, day=DAY + timedelta(days=1))
    request.refresh_from_db()
    assert request.end_reason == AppointmentRequest.EndReason.BOOKED


# --- the move -------------------------------------------------------------------------------------------------
def page(appointment):
    return f"/admin/schedule/appointments/{appointment.pk}/"


def booked(clinic, start):
    return book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start,
    )


def test_move_from_the_free_times(clinic, desk):
    appointment = booked(clinic, clinic.at(14))
    html = desk.get(page(appointment)).content.decode()
    picks = re.findall(r'name="pick" value="([^"]+)"', html)
    slots = free_slots(
        appointment_type=clinic.follow_up,
        location=clinic.location,
        day_from=DAY,
        day_to=DAY + timedelta(days=6),
        practitioner=clinic.practitioner,
        patient=clinic.patient,
        online=False,
        moving=appointment,
    )
    zone = clinic.location.zone
    assert picks == [
        f"{s.start.astimezone(zone):%m/%d/%Y %H:%M} {s.practitioner_id} {s.room_id}" for s in slots
    ]
    # Its own held time is no conflict: 1:30 PM (which would overlap 2:00 PM) is offered.
    assert any(p.startswith("06/03/2030 13:30 ") for p in picks)
    assert "Move to Tue 06/04/2030 at 10:00 AM with Pat Needles" in html
    pick = next(p for p in picks if p.startswith("06/04/2030 10:00 "))
    response = desk.post(f"{page(appointment)}move/", {"pick": pick})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(10, day=DAY + timedelta(days=1))
    assert appointment.override_reason is None
    assert patient_mails(appointment, Kind.PATIENT_RESCHEDULED) == 1
    # Another practitioner's free times, on request.
    html = desk.get(
        page(appointment), {"free-practitioner": clinic.other_practitioner.pk, "free-date": "06/10/2030"}
    ).content.decode()
    assert re.findall(r'name="pick" value="([^"]+)"', html)[0] == (
        f"06/10/2030 08:00 {clinic.other_practitioner.pk} {clinic.room.pk}"
    )


def test_a_move_to_a_closed_sunday_is_refused_without_a_reason(clinic, desk):
    appointment = booked(clinic, clinic.at(14))
    data = {"move-date": "06/09/2030", "move-time": "10:00", "move-practitioner": clinic.practitioner.pk}
    response = desk.post(f"{page(appointment)}move/", data)
    html = response.content.decode()
    assert response.status_code == 400 and "has no working hours" in html
    assert "To book it anyway, give the reason here." in html and 'value="06/09/2030"' in html
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(14) and patient_mails(appointment, Kind.PATIENT_RESCHEDULED) == 0
    response = desk.post(f"{page(appointment)}move/", {**data, "move-override_reason": "Open house day"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(10, day=SUNDAY) and appointment.override_reason == "Open house day"
    audit = AuditEvent.objects.filter(action=AuditEvent.Action.CHANGE, object_id=str(appointment.pk)).last()
    assert "override=closed" in audit.detail and "Open house" not in audit.detail


def test_a_move_into_the_past_sends_no_e_mail(clinic, desk):
    appointment = booked(clinic, clinic.at(14))
    data = {
        "move-date": "06/03/2030",
        "move-time": "09:00",
        "move-practitioner": clinic.practitioner.pk,
        "move-override_reason": "Came early, seen at 9",
    }
    assert desk.post(f"{page(appointment)}move/", data).status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(9) and appointment.override_reason == "Came early, seen at 9"
    assert patient_mails(appointment, Kind.PATIENT_RESCHEDULED) == 0


def test_no_confirmation_for_a_past_start_from_any_booking(clinic, desk):
    past = book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=clinic.at(8),
    )
    future = book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=clinic.at(16),
    )
    assert patient_mails(past) == 0 and patient_mails(future) == 1


# --- hostile input --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "start", ["garbage", "0001-01-01T00:00", "9999-12-31T23:59", "2030-06-04T25:00", "2030-13-01T10:00"]
)
def test_a_hostile_start_gets_a_message_not_a_500(clinic, desk, start):
    response = desk.get(BOOK, search(clinic, start=start))
    html = response.content.decode()
    assert response.status_code == 200
    assert "could not be read" in html or "Enter a date between 2000 and 2100" in html
    assert "Confirm the booking" not in html


@pytest.mark.parametrize("day", ["01/01/0001", "12/31/9999", "garbage"])
def test_a_hostile_date_jump_gets_a_message_not_a_500(clinic, desk, day):
    response = desk.get(BOOK, search(clinic, date=day))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a date between 2000 and 2100" in html or "Enter the date as MM/DD/YYYY" in html


@pytest.mark.parametrize(
    ("day", "at", "message"),
    [
        ("01/01/0001", "10:00", "Enter a date between 2000 and 2100"),
        ("12/31/9999", "23:30", "Enter a date between 2000 and 2100"),
        ("06/04/2030", "25:00", "Enter the time as HH:MM"),
        ("garbage", "10:00", "Enter the date as MM/DD/YYYY"),
    ],
)
def test_hostile_desk_forms_get_a_message_next_to_the_field(clinic, desk, day, at, message):
    response = desk.post(
        BOOK, another_time(clinic, **{"book-date": day, "book-time": at, "book-override_reason": "x"})
    )
    assert response.status_code == 400 and message in response.content.decode()
    appointment = booked(clinic, clinic.at(14))
    response = desk.post(
        f"{page(appointment)}move/",
        {"move-date": day, "move-time": at, "move-practitioner": clinic.practitioner.pk},
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("value", ["999999", "99999999999999999999999", "x"])
def test_unknown_choices_in_the_search_get_a_message(clinic, desk, value):
    response = desk.get(BOOK, search(clinic, appointment_type=value, practitioner=value, patient=value))
    assert response.status_code == 200
    assert "Choose a visit type from the list." in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"free-date": "12/31/9999", "free-practitioner": ""},
        {"free-date": "01/01/0001"},
        {"free-date": "garbage", "free-practitioner": "99999999999999999999999"},
        {"pick": "x"},
    ],
)
def test_hostile_input_on_the_moves_free_times_gets_a_message_not_a_500(clinic, desk, params):
    appointment = booked(clinic, clinic.at(14))
    response = desk.get(page(appointment), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="pick"' in html  # the free times from today are still shown
    if "free-date" in params:
        assert "Enter a date between 2000 and 2100" in html or "Enter the date as MM/DD/YYYY" in html
    response = desk.post(f"{page(appointment)}move/", {"pick": "12/31/9999 25:00 x y"})
    assert response.status_code == 400
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(14)

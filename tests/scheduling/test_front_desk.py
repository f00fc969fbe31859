"""The schedule in the back office: calendars, the appointment page and its actions, booking for a patient and
from an appointment request; clinicians see their own day only. Every page showing patients is audited."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from freezegun import freeze_time

from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments.models import AppointmentRequest, PreferredTime
from acuclinic.scheduling.models import Appointment, AppointmentStatus
from acuclinic.scheduling.services import book_appointment
from tests.factories import make_appointment_request, make_user

from .conftest import DAY

CALENDAR = "/admin/schedule/"
BOOK = "/admin/schedule/book/"
# 11:00 in New York on the test Monday.
NOW = datetime(2030, 6, 3, 15, 0, tzinfo=UTC)


def page(appointment) -> str:
    return f"/admin/schedule/appointments/{appointment.pk}/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def book(clinic, start, *, patient=None, practitioner=None, room=None):
    return book_appointment(
        patient=patient or clinic.patient,
        practitioner=practitioner or clinic.practitioner,
        room=room or clinic.room,
        appointment_type=clinic.follow_up,
        start=start,
    )


@pytest.fixture
def desk(clinic):
    return make_user("desk-sched", "Front desk")


@pytest.fixture
def fd(desk):
    return client_for(desk)


@pytest.fixture
def clinician(clinic):
    user = make_user("clin-sched", "Clinicians")
    clinic.practitioner.user = user
    clinic.practitioner.save()
    return user


def audits(action, object_type="scheduling.appointment"):
    return AuditEvent.objects.filter(action=action, object_type=object_type)


# --- calendars -------------------------------------------------------------------------------------------------
def test_day_calendar_lists_the_practitioners_appointments_at_local_times(clinic, fd):
    mine = book(clinic, clinic.at(10))
    other = book(
        clinic,
        clinic.at(10),
        patient=clinic.other_patient,
        practitioner=clinic.other_practitioner,
        room=clinic.other_room,
    )
    response = fd.get(CALENDAR, {"date": "06/03/2030", "practitioner": clinic.practitioner.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{page(mine)}"' in html and f'href="{page(other)}"' not in html
    assert "10:00 AM – 10:30 AM" in html  # 14:00 UTC shown as New York time
    assert "Patient, Test0" in html
    event = audits(AuditEvent.Action.LIST).get()
    assert f"ids {mine.pk}" in event.detail and "Test0" not in event.detail


def test_week_calendar_per_room_with_previous_and_next(clinic, fd):
    monday = book(clinic, clinic.at(9))
    friday = book(clinic, clinic.at(16, day=DAY.replace(day=7)), practitioner=clinic.other_practitioner)
    html = fd.get(CALENDAR, {"view": "week", "date": "06/05/2030", "room": clinic.room.pk}).content.decode()
    assert f'href="{page(monday)}"' in html and f'href="{page(friday)}"' in html
    assert html.count('<section class="acu-board__col') == 7  # Monday..Sunday, side by side
    assert "date=05%2F27%2F2030" in html and "date=06%2F10%2F2030" in html  # previous and next week


def test_a_bad_date_gets_a_message_not_a_500(clinic, fd):
    response = fd.get(CALENDAR, {"date": "2030-13-45", "practitioner": clinic.practitioner.pk})
    assert response.status_code == 200
    assert "Enter the date as MM/DD/YYYY" in response.content.decode()


def test_a_clinician_sees_only_their_own_day(clinic, clinician):
    mine = book(clinic, clinic.at(10))
    theirs = book(clinic, clinic.at(11), patient=clinic.other_patient, practitioner=clinic.other_practitioner)
    client = client_for(clinician)
    html = client.get(
        CALENDAR, {"date": "06/03/2030", "practitioner": clinic.other_practitioner.pk}
    ).content.decode()
    assert "My day" in html
    assert f'href="{page(mine)}"' in html and f'href="{page(theirs)}"' not in html
    assert client.get(page(mine)).status_code == 200
    assert client.get(page(theirs)).status_code == 404
    # Read-only: no actions on the page, and a POST is refused.
    assert "Move appointment" not in client.get(page(mine)).content.decode()
    response = client.post(f"{page(mine)}cancel/", {"cancel-reason": "no"})
    assert response.status_code == 403
    assert client.get(BOOK).status_code == 403


def test_a_clinician_without_a_practitioner_sees_no_calendar(clinic):
    book(clinic, clinic.at(10))
    html = client_for(make_user("clin-none", "Clinicians")).get(CALENDAR).content.decode()
    assert "not linked to a practitioner" in html and "Patient, Test0" not in html


def test_editors_get_403_and_no_menu_item(clinic):
    appointment = book(clinic, clinic.at(10))
    client = client_for(make_user("ed-sched", "Editors"))
    assert client.get(CALENDAR).status_code == 403
    assert client.get(page(appointment)).status_code == 403
    assert CALENDAR not in client.get("/admin/").content.decode()


def test_the_schedule_menu_item_is_there_for_the_desk(fd):
    assert CALENDAR in fd.get("/admin/").content.decode()


# --- the appointment page -------------------------------------------------------------------------------------
def test_the_appointment_page_is_audited(clinic, fd):
    appointment = book(clinic, clinic.at(10))
    html = fd.get(page(appointment)).content.decode()
    assert "Test0 Patient" in html and "Monday 06/03/2030" in html
    assert audits(AuditEvent.Action.READ).filter(object_id=str(appointment.pk)).count() == 1


def test_move_from_the_page(clinic, fd):
    appointment = book(clinic, clinic.at(10))
    response = fd.post(
        f"{page(appointment)}move/",
        {"move-date": "06/04/2030", "move-time": "2:30 pm", "move-practitioner": clinic.practitioner.pk},
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(14, 30, day=DAY.replace(day=4)) and appointment.room == clinic.room


def test_move_onto_a_taken_time_offers_the_next_free_times_as_one_click_choices(clinic, fd):
    appointment = book(clinic, clinic.at(10))
    book(clinic, clinic.at(14), patient=clinic.other_patient, room=clinic.other_room)
    response = fd.post(
        f"{page(appointment)}move/",
        {
            "move-date": "06/03/2030",
            "move-time": "14:00",
            "move-practitioner": clinic.practitioner.pk,
            "move-room": clinic.room.pk,
        },
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "That time was just taken" in html
    assert 'name="move-time" value="15:00"' in html and "Move to Mon 06/03/2030 3:00 PM" in html
    response = fd.post(
        f"{page(appointment)}move/",
        {
            "move-date": "06/03/2030",
            "move-time": "15:00",
            "move-practitioner": clinic.practitioner.pk,
            "move-room": clinic.room.pk,
        },
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(15)


def test_move_with_bad_input_shows_messages_next_to_the_fields(clinic, fd):
    appointment = book(clinic, clinic.at(10))
    response = fd.post(
        f"{page(appointment)}move/",
        {"move-date": "31/31/2030", "move-time": "25:00", "move-practitioner": "x"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter the date as MM/DD/YYYY" in html and "Enter the time as HH:MM" in html
    # A time the clocks skip (spring forward) is refused next to the time, not a 500.
    response = fd.post(
        f"{page(appointment)}move/",
        {"move-date": "03/10/2030", "move-time": "02:30", "move-practitioner": clinic.practitioner.pk},
    )
    assert response.status_code == 400 and "does not exist" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(10)


def test_move_without_a_room_takes_the_first_free_one(clinic, fd):
    appointment = book(clinic, clinic.at(10))
    book(
        clinic, clinic.at(15), patient=clinic.other_patient, practitioner=clinic.other_practitioner
    )  # room A
    response = fd.post(
        f"{page(appointment)}move/",
        {"move-date": "06/03/2030", "move-time": "15:00", "move-practitioner": clinic.practitioner.pk},
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.room == clinic.other_room


def test_cancel_needs_a_reason(clinic, fd):
    appointment = book(clinic, clinic.at(10))
    response = fd.post(f"{page(appointment)}cancel/", {"cancel-reason": "  "})
    assert response.status_code == 400 and "Give a reason" in response.content.decode()
    assert audits(AuditEvent.Action.READ).filter(detail="after a refused cancel").count() == 1
    assert fd.post(f"{page(appointment)}cancel/", {"cancel-reason": "Patient called"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_arrived_and_no_show_from_the_page(clinic, desk):
    with freeze_time(NOW):
        fd = client_for(desk)
        now_one = book(clinic, clinic.at(10))
        later = book(clinic, clinic.at(16), patient=clinic.other_patient)
        html = fd.get(page(later)).content.decode()
        assert "The patient has arrived" in html and "The patient did not come" not in html
        response = fd.post(f"{page(later)}no-show/")
        assert response.status_code == 400 and "only after the appointment" in response.content.decode()
        assert fd.post(f"{page(later)}arrived/").status_code == 302
        assert fd.post(f"{page(now_one)}no-show/").status_code == 302
    now_one.refresh_from_db()
    later.refresh_from_db()
    assert later.status == AppointmentStatus.ARRIVED and later.arrived_at == NOW
    assert now_one.status == AppointmentStatus.NO_SHOW


def test_check_out_completes_an_arrived_visit_by_the_desk_or_its_clinician_only(clinic, desk, clinician):
    with freeze_time(NOW):
        fd = client_for(desk)
        visit = book(clinic, clinic.at(10))
        later = book(clinic, clinic.at(16), patient=clinic.other_patient)
        # Not arrived yet: refused with a message, nothing changed.
        response = fd.post(f"{page(visit)}check-out/")
        assert response.status_code == 400 and "Only a patient who has arrived" in response.content.decode()
        assert fd.post(f"{page(visit)}arrived/").status_code == 302
        html = fd.get(page(visit)).content.decode()
        assert "The visit is over: check out" in html
        # One time format on the staff page too: "10:00 AM – 10:30 AM (Eastern Time)", "arrived at 11:00 AM".
        assert "10:00 AM – 10:30 AM" in html and "(Eastern Time)" in html and "arrived at 11:00 AM" in html
        assert "10:00–" not in html and "America/New_York" not in html
        # The clinician whose visit it is checks out; a colleague's visit is not theirs to see.
        other = make_user("clin-other", "Clinicians")
        assert client_for(other).post(f"{page(visit)}check-out/").status_code == 404
        assert client_for(clinician).post(f"{page(visit)}check-out/").status_code == 302
        # Arrived early for 4 PM: not checked out before the visit has started.
        assert fd.post(f"{page(later)}arrived/").status_code == 302
        response = fd.post(f"{page(later)}check-out/")
        assert response.status_code == 400 and "only once it has started" in response.content.decode()
        # An editor may not.
        assert (
            client_for(make_user("ed-sched", "Editors")).post(f"{page(later)}check-out/").status_code == 403
        )
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.COMPLETED and visit.completed_at == NOW
    assert (
        audits(AuditEvent.Action.CHANGE).filter(detail="status=completed", actor_id=clinician.pk).count() == 1
    )


# --- booking --------------------------------------------------------------------------------------------------
def book_data(clinic, **overrides):
    data = {
        "book-appointment_type": clinic.follow_up.pk,
        "book-practitioner": clinic.practitioner.pk,
        "book-location": clinic.location.pk,
        "book-room": "",
        "book-date": "06/03/2030",
        "book-time": "10:00",
    }
    data.update(overrides)
    return data


def test_find_a_patient_by_name_and_date_of_birth_then_book(clinic, fd):
    response = fd.get(BOOK, {"q": "test1", "dob": "01/01/1980"})
    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'name="book-patient" value="(\d+)"', html) == [str(clinic.other_patient.pk)]
    assert audits(AuditEvent.Action.LIST, "clinical.patient").filter(detail__contains="booking form").exists()
    response = fd.post(f"{BOOK}?q=test1", book_data(clinic, **{"book-patient": clinic.other_patient.pk}))
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient=clinic.other_patient)
    assert response["Location"] == page(appointment)
    assert appointment.start == clinic.at(10) and appointment.room == clinic.room  # the first free room


def test_booking_errors_are_next_to_the_fields(clinic, fd):
    response = fd.post(BOOK, book_data(clinic, **{"book-date": "6/31/2030", "book-time": "soon"}))
    html = response.content.decode()
    assert response.status_code == 400
    assert (
        "Choose the patient" in html and "Enter the date as MM/DD/YYYY" in html and "Enter the time" in html
    )
    assert not Appointment.objects.exists()


def test_booking_a_taken_time_offers_one_click_choices(clinic, fd):
    book(clinic, clinic.at(10), patient=clinic.other_patient)
    data = book_data(clinic, **{"book-patient": clinic.patient.pk, "book-room": clinic.other_room.pk})
    response = fd.post(f"{BOOK}?patient={clinic.patient.pk}", data)
    html = response.content.decode()
    assert response.status_code == 409 and "That time was just taken" in html
    assert 'name="pick" value="06/03/2030 10:30"' not in html  # 10:00–10:40 is held, so 11:00 is next
    assert 'name="pick" value="06/03/2030 11:00"' in html
    response = fd.post(f"{BOOK}?patient={clinic.patient.pk}", {**data, "pick": "06/03/2030 11:00"})
    assert response.status_code == 302
    assert Appointment.objects.get(patient=clinic.patient).start == clinic.at(11)


def test_book_from_a_request_prefills_and_ends_it_as_booked(clinic, fd):
    request = make_appointment_request("DESK-2345", preferred_practitioner=clinic.other_practitioner)
    PreferredTime.objects.create(request=request, date=DAY, time_of_day="morning")
    detail = fd.get(f"/admin/appointment-requests/{request.pk}/").content.decode()
    url = f"/admin/schedule/book/from-request/{request.pk}/"
    assert f'href="{url}"' in detail and "Book appointment" in detail
    html = fd.get(url).content.decode()
    assert "DESK-2345" in html and 'value="06/03/2030"' in html
    assert f'<option value="{clinic.other_practitioner.pk}" selected>' in html
    response = fd.post(
        url, book_data(clinic, **{"book-practitioner": clinic.other_practitioner.pk, "book-time": "09:30"})
    )
    assert response.status_code == 302
    request.refresh_from_db()
    appointment = Appointment.objects.get(request=request)
    assert (
        request.end_reason == AppointmentRequest.EndReason.BOOKED and request.patient == appointment.patient
    )
    # Ended: the page says so and no longer offers the form.
    html = fd.get(url).content.decode()
    assert "already ended" in html and 'name="book-time"' not in html

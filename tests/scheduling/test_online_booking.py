"""The patient's online booking, end to end through the views: choose, book, get the link, cancel."""

import re
from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from freezegun import freeze_time

from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Appointment, AppointmentNotification, AppointmentStatus, WorkingHours
from acuclinic.scheduling.services import book_appointment, local_start

from .conftest import DAY, NOW, make_clinic

Kind = AppointmentNotification.Kind


@pytest.fixture
def clinic(db):
    clinic = make_clinic()
    for practitioner in (clinic.practitioner, clinic.other_practitioner):
        for weekday in range(5):
            WorkingHours.objects.create(
                practitioner=practitioner,
                location=clinic.location,
                weekday=weekday,
                starts_at=time(9),
                ends_at=time(12),
            )
    # A returning patient: one completed visit in the past.
    past = local_start(clinic.location, DAY - timedelta(days=14), time(9))
    Appointment.objects.create(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        location=clinic.location,
        appointment_type=clinic.follow_up,
        start=past,
        end=past + timedelta(minutes=30),
        blocked_until=past + timedelta(minutes=40),
        status=AppointmentStatus.COMPLETED,
    )
    clinic.patient.email = "returning@example.org"
    clinic.patient.save()
    return clinic


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time(NOW):
        yield


def details_of(patient, **overrides):
    return {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.strftime("%m/%d/%Y"),
        "email": patient.email or "new@example.org",
        "phone": "",
        **overrides,
    }


def choice(clinic, appointment_type=None, practitioner="any", **extra):
    return {
        "location": clinic.location.pk,
        "type": (appointment_type or clinic.follow_up).pk,
        "practitioner": practitioner,
        **extra,
    }


def test_the_steps_lead_from_a_visit_type_to_free_times(client, clinic):
    start_page = client.get(reverse("booking_start"), {"location": clinic.location.pk})
    assert start_page.status_code == 200
    assert "Is this your first visit with us?" in start_page.text
    types = client.get(reverse("booking_start"), {"location": clinic.location.pk, "who": "returning"})
    assert "Follow-up (test)" in types.text

    who = client.get(reverse("booking_start"), {"location": clinic.location.pk, "type": clinic.follow_up.pk})
    assert "First available" in who.text and "Pat Needles" in who.text

    days = client.get(reverse("booking_start"), choice(clinic))
    assert "Monday, June 3" in days.text  # NOW is Saturday June 1; weekends have no hours

    times = client.get(reverse("booking_start"), choice(clinic, day=DAY.isoformat()))
    assert times.status_code == 200
    shown = re.findall(r"(\d{1,2}:\d\d [AP]M)</a>", times.text)
    assert shown[0] == "9:00 AM" and shown[-1] == "11:30 AM"
    assert len(shown) == 6


def test_a_returning_patient_books_a_follow_up_and_gets_a_link(client, clinic):
    start = clinic.at(10)
    response = client.post(
        reverse("booking_details"),
        {
            **choice(clinic, practitioner=clinic.practitioner.slug),
            "start": start.isoformat(),
            **details_of(clinic.patient),
        },
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient=clinic.patient, start=start)
    assert appointment.booked_online and appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.practitioner == clinic.practitioner
    # The patient is told (with the link), and so is the clinic, because nobody at the desk saw it happen.
    assert set(appointment.notifications.values_list("kind", flat=True)) == {
        Kind.PATIENT_CONFIRMATION,
        Kind.CLINIC_BOOKED,
    }
    assert AuditEvent.objects.filter(
        object_type="scheduling.appointment", object_id=str(appointment.pk)
    ).exists()

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Your appointment is booked." in page.text
    assert "Monday, June 3, 2030, 10:00 AM" in page.text
    assert "Cancel my appointment" in page.text
    token = response["Location"].split("/manage/")[1].strip("/")
    assert token != str(appointment.pk) and ":" in token  # signed, not a bare id


def test_first_available_books_whoever_is_free(client, clinic):
    start = clinic.at(9)
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start,
    )
    response = client.post(
        reverse("booking_details"),
        {**choice(clinic), "start": start.isoformat(), **details_of(clinic.patient)},
    )
    assert response.status_code == 302
    booked = Appointment.objects.get(patient=clinic.patient, start=start)
    assert booked.practitioner == clinic.other_practitioner
    assert booked.room == clinic.other_room


def test_a_time_taken_meanwhile_offers_the_next_free_times_and_keeps_the_details(client, clinic):
    start = clinic.at(10)
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start,
    )
    response = client.post(
        reverse("booking_details"),
        {
            **choice(clinic, practitioner=clinic.practitioner.slug),
            "start": start.isoformat(),
            **details_of(clinic.patient),
        },
    )
    assert response.status_code == 409
    assert "That time was just taken" in response.text
    assert 'value="returning@example.org"' in response.text
    assert re.search(r"Book Monday, June 3 at 11:00 AM", response.text)
    assert not Appointment.objects.filter(patient=clinic.patient, start__gte=start).exists()


def test_a_new_patient_cannot_book_a_follow_up_and_no_record_is_left_behind(client, clinic):
    patients = Patient.objects.count()
    response = client.post(
        reverse("booking_details"),
        {
            **choice(clinic),
            "start": clinic.at(10).isoformat(),
            **details_of(clinic.patient, first_name="Newcomer", email="newcomer@example.org"),
        },
    )
    assert response.status_code == 400
    assert "New patients book this visit with the front desk." in response.text
    assert "Request your first appointment" in response.text
    assert Patient.objects.count() == patients
    assert not Appointment.objects.filter(start=clinic.at(10)).exists()


def test_a_new_patient_books_a_first_visit_online_when_the_type_allows_it(client, clinic):
    response = client.post(
        reverse("booking_details"),
        {
            **choice(clinic, appointment_type=clinic.first_visit),
            "start": clinic.at(10).isoformat(),
            **details_of(clinic.patient, first_name="Newcomer", email="newcomer@example.org"),
        },
    )
    assert response.status_code == 302
    patient = Patient.objects.get(first_name="Newcomer")
    assert patient.appointments.get().appointment_type == clinic.first_visit
    assert AuditEvent.objects.filter(object_type="clinical.patient", object_id=str(patient.pk)).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", "13/45/1980", "not a real date"),
        ("date_of_birth", "1980-01-01", "Enter the date as MM/DD/YYYY"),
        ("email", "not-an-address", "Enter a valid email address."),
        ("phone", "12", "is not a valid phone number"),
        ("first_name", "", "This field is required."),
    ],
)
def test_bad_details_are_explained_next_to_the_field(client, clinic, field, value, message):
    response = client.post(
        reverse("booking_details"),
        {
            **choice(clinic),
            "start": clinic.at(10).isoformat(),
            **details_of(clinic.patient, **{field: value}),
        },
    )
    assert response.status_code == 400
    assert message in response.text
    assert f'id="id_{field}-error"' in response.text
    assert not Appointment.objects.filter(start=clinic.at(10)).exists()


def test_nonsense_in_the_query_string_never_breaks_the_pages(client, clinic):
    for params in (
        {"location": "x", "type": "y"},
        {"location": clinic.location.pk, "type": "999999", "practitioner": "nobody"},
        {**choice(clinic), "day": "2030-13-40"},
        {**choice(clinic), "from": "yesterday"},
    ):
        assert client.get(reverse("booking_start"), params).status_code == 200
    details = client.get(reverse("booking_details"), {**choice(clinic), "start": "not-a-time"})
    assert details.status_code == 302


def book_online(client, clinic, start):
    response = client.post(
        reverse("booking_details"),
        {**choice(clinic), "start": start.isoformat(), **details_of(clinic.patient)},
    )
    assert response.status_code == 302
    return response["Location"]


def test_the_patient_cancels_through_the_link_and_the_time_is_free_again(client, clinic):
    start = clinic.at(11)
    link = book_online(client, clinic, start)
    response = client.post(link, {"reason": "cannot_make_it"})
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient=clinic.patient, start=start)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason.startswith("Patient online")
    kinds = list(appointment.notifications.values_list("kind", flat=True))
    assert Kind.PATIENT_CANCELLED in kinds and Kind.CLINIC_CANCELLED in kinds
    page = client.get(link)
    assert "Cancelled appointment" in page.text and "Cancel my appointment" not in page.text
    # The time can be booked again.
    book_appointment(
        patient=clinic.other_patient,
        practitioner=appointment.practitioner,
        room=appointment.room,
        appointment_type=clinic.follow_up,
        start=start,
    )


def test_no_online_cancellation_inside_the_cut_off(client, clinic):
    start = clinic.at(11)
    link = book_online(client, clinic, start)
    with freeze_time(start - timedelta(hours=23)):
        page = client.get(link)
        assert "can no longer be changed online" in page.text
        response = client.post(link, {"reason": "cannot_make_it"})
    assert response.status_code == 409
    assert Appointment.objects.get(patient=clinic.patient, start=start).status == AppointmentStatus.CONFIRMED


def test_a_forged_or_foreign_link_finds_nothing(client, clinic):
    link = book_online(client, clinic, clinic.at(11))
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert client.get(reverse("booking_manage", kwargs={"token": token[:-2] + "xx"})).status_code == 404
    appointment = Appointment.objects.get(patient=clinic.patient, start=clinic.at(11))
    from acuclinic.accounts.patient_links import Purpose, make_token

    other_purpose = make_token(purpose=Purpose.APPOINTMENT_CONFIRMATION, object_id=appointment.pk)
    assert client.get(reverse("booking_manage", kwargs={"token": other_purpose})).status_code == 404
    with freeze_time(NOW + timedelta(days=91)):
        assert client.get(link).status_code == 404


def test_the_days_list_stops_at_the_horizon(client, clinic):
    # NOW + 4 days is Wednesday June 5, 08:00 in New York: that morning's first time (9:00) is already too far.
    clinic.follow_up.horizon_days = 4
    clinic.follow_up.save()
    days = client.get(reverse("booking_start"), choice(clinic))
    assert "Monday, June 3" in days.text and "Tuesday, June 4" in days.text
    assert "Wednesday, June 5" not in days.text
    assert date(2030, 6, 5) > DAY


def test_the_patient_moves_the_booking_through_the_link(client, clinic):
    link = book_online(client, clinic, clinic.at(9))
    appointment = Appointment.objects.get(patient=clinic.patient, start=clinic.at(9))
    move = client.get(link + "move/")
    assert move.status_code == 200 and "Monday, June 3" in move.text
    times = client.get(link + "move/", {"day": DAY.isoformat()})
    # Its own 9:00 does not block 9:30 (the buffer of the booking being moved does not count).
    assert "9:30 AM" in times.text
    response = client.post(link + "move/", {"start": clinic.at(11).isoformat()})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(11) and appointment.status == AppointmentStatus.CONFIRMED
    assert Kind.PATIENT_RESCHEDULED in appointment.notifications.values_list("kind", flat=True)
    assert Kind.CLINIC_RESCHEDULED in appointment.notifications.values_list("kind", flat=True)
    assert "Your appointment has been moved." in client.get(link).text


def test_moving_to_a_time_taken_meanwhile_keeps_the_booking_and_offers_others(client, clinic):
    link = book_online(client, clinic, clinic.at(9))
    appointment = Appointment.objects.get(patient=clinic.patient, start=clinic.at(9))
    book_appointment(
        patient=clinic.other_patient,
        practitioner=appointment.practitioner,
        room=appointment.room,
        appointment_type=clinic.follow_up,
        start=clinic.at(11),
    )
    response = client.post(link + "move/", {"start": clinic.at(11).isoformat()})
    assert response.status_code == 409
    assert "That time was just taken" in response.text
    appointment.refresh_from_db()
    assert appointment.start == clinic.at(9)


def test_no_online_move_inside_the_cut_off(client, clinic):
    link = book_online(client, clinic, clinic.at(11))
    with freeze_time(clinic.at(11) - timedelta(hours=2)):
        response = client.post(
            link + "move/", {"start": clinic.at(9, day=DAY + timedelta(days=1)).isoformat()}
        )
    assert response.status_code == 302 and response["Location"] == link
    assert Appointment.objects.get(patient=clinic.patient, booked_online=True).start == clinic.at(11)


def test_a_profile_link_keeps_the_practitioner_through_the_visit_type_step(client, clinic):
    who = client.get(
        reverse("booking_start"), {"location": clinic.location.pk, "practitioner": "pat-needles"}
    )
    assert "practitioner=pat-needles" in who.text and "Is this your first visit with us?" in who.text
    types = client.get(
        reverse("booking_start"),
        {"location": clinic.location.pk, "practitioner": "pat-needles", "who": "returning"},
    )
    assert "Which visit with Pat Needles?" in types.text
    assert "practitioner=pat-needles" in types.text
    days = client.get(reverse("booking_start"), choice(clinic, practitioner="pat-needles"))
    assert "With: <strong>Pat Needles, L.Ac.</strong>" in days.text


def test_the_patient_asks_for_an_earlier_time_through_the_link(client, clinic):
    later = clinic.at(11, day=DAY + timedelta(days=7))
    link = book_online(client, clinic, later)
    page = client.get(link)
    assert "Tell me about earlier times" in page.text
    bad = client.post(link + "earlier/", {"earliest": "06/20/2030"})  # after the booking itself
    assert bad.status_code == 400 and "Choose a day before your current appointment." in bad.text
    response = client.post(link + "earlier/", {"earliest": "06/03/2030"})
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient=clinic.patient, start=later)
    entry = appointment.waitlist_entries.get()
    assert entry.earliest == DAY and entry.practitioner == appointment.practitioner
    assert "You are on the waitlist" in client.get(link).text


def test_the_days_list_shows_a_fortnight_of_days_with_times_then_later_days(client, clinic):
    # Weekdays only from Monday June 3: the 14th day with times is Thursday June 20, the 15th Friday June 21.
    days = client.get(reverse("booking_start"), choice(clinic))
    listed = re.findall(r"(\w+day, June \d+)", days.text)
    assert len(listed) == 14
    assert listed[0] == "Monday, June 3" and listed[-1] == "Thursday, June 20"
    assert "from=2030-06-21" in days.text and "Later days" in days.text

    later = client.get(reverse("booking_start"), choice(clinic, **{"from": "2030-06-21"}))
    assert re.findall(r"(\w+day, June \d+)", later.text)[0] == "Friday, June 21"


# --- who the visit is for: asked first (issue 10) ---------------------------------------------------------------


def test_the_first_step_asks_who_and_a_new_patient_sees_only_the_visits_open_to_them(client, clinic):
    clinic.follow_up.description = "A treatment for a patient we know."
    clinic.follow_up.save()
    new = client.get(reverse("booking_start"), {"location": clinic.location.pk, "who": "new"})
    assert new.status_code == 200
    assert f"type={clinic.first_visit.pk}&amp;who=new" in new.text
    assert "For new patients and returning patients" in new.text
    # The follow-up is not offered to book, but named, with the way to ask for it.
    assert f"type={clinic.follow_up.pk}&amp;who=new" not in new.text
    assert "Ask us to book “Follow-up (test)”" in new.text

    returning = client.get(reverse("booking_start"), {"location": clinic.location.pk, "who": "returning"})
    assert f"type={clinic.follow_up.pk}&amp;who=returning" in returning.text
    assert f"type={clinic.first_visit.pk}&amp;who=returning" in returning.text
    assert "For patients who have been treated here before" in returning.text
    assert "A treatment for a patient we know." in returning.text
    # The choice is carried through every later step.
    days = client.get(reverse("booking_start"), choice(clinic, who="returning"))
    assert "who=returning" in days.text and "treated here before" in days.text


def test_a_new_patient_who_asks_for_a_returning_patients_visit_is_told_at_once(client, clinic):
    page = client.get(reverse("booking_start"), choice(clinic, who="new"))
    assert page.status_code == 200
    assert "New patients book “Follow-up (test)” with us, not online" in page.text
    assert "Choose a day" not in page.text
    details = client.get(
        reverse("booking_details"), choice(clinic, who="new", start=clinic.at(10).isoformat())
    )
    assert details.status_code == 302


def test_the_way_forward_says_e_mail_while_the_phones_are_down(client, clinic):
    from acuclinic.core.models import ServiceAlert

    ServiceAlert.objects.create(
        message="Our phone line is down.",
        phones_down=True,
        contact_by="email",
        contact_email="desk@example.org",
    )
    page = client.get(reverse("booking_start"), choice(clinic, who="new"))
    assert "Our phones are not working at the moment: e-mail us at" in page.text
    assert "desk@example.org" in page.text and "Or call us" not in page.text


def returning_claim(clinic, appointment_type, **details):
    return {
        **choice(clinic, appointment_type=appointment_type, who="returning"),
        "start": clinic.at(10).isoformat(),
        **details,
    }


def test_a_returning_claim_that_matches_no_record_is_explained_next_to_the_fields(client, clinic):
    patients = Patient.objects.count()
    response = client.post(
        reverse("booking_details"),
        returning_claim(
            clinic,
            clinic.first_visit,
            **details_of(clinic.patient, first_name="Nobody", email="no@example.org"),
        ),
    )
    assert response.status_code == 400
    assert "We could not find your record with these details." in response.text
    assert 'id="id_identity-error"' in response.text
    assert re.search(
        r'id="id_first_name"[^>]*aria-describedby="id_identity-error', response.text
    ) or re.search(r'aria-describedby="id_identity-error[^"]*"[^>]*id="id_first_name"', response.text)
    assert 'value="Nobody"' in response.text and 'value="no@example.org"' in response.text
    assert "Book as a new patient" in response.text  # the first visit is open to new patients
    assert Patient.objects.count() == patients
    assert not Appointment.objects.filter(start=clinic.at(10)).exists()

    # "Book as a new patient": the same details, booked as a first visit.
    booked = client.post(
        reverse("booking_details"),
        {
            **returning_claim(
                clinic,
                clinic.first_visit,
                **details_of(clinic.patient, first_name="Nobody", email="no@example.org"),
            ),
            "as_new": "1",
        },
    )
    assert booked.status_code == 302
    assert Appointment.objects.get(start=clinic.at(10)).patient.first_name == "Nobody"


def test_a_returning_claim_for_a_returning_patients_visit_offers_the_request_form_with_everything_kept(
    client, clinic
):
    details = details_of(clinic.patient, first_name="Nobody", email="no@example.org", phone="(212) 555-0199")
    response = client.post(reverse("booking_details"), returning_claim(clinic, clinic.follow_up, **details))
    assert response.status_code == 400
    assert "Book as a new patient" not in response.text  # the follow-up is not open to new patients
    assert "Ask us to book it (request form)" in response.text

    handoff = client.post(
        reverse("booking_details"), {**returning_claim(clinic, clinic.follow_up, **details), "handoff": "1"}
    )
    assert handoff.status_code == 302 and handoff["Location"] == reverse("request_appointment")
    form = client.get(handoff["Location"])
    assert "We kept what you chose online: Follow-up (test), Monday, June 3, 2030 at 10:00 AM." in form.text
    assert 'value="Nobody"' in form.text and 'value="no@example.org"' in form.text
    assert 'value="01/01/1980"' in form.text and 'value="06/03/2030"' in form.text
    assert re.search(r'value="returning"[^>]*checked', form.text)
    # Carried once: a later visit to the form starts empty.
    assert 'value="Nobody"' not in client.get(reverse("request_appointment")).text


def test_a_matched_record_without_a_visit_yet_cannot_book_a_follow_up_online(client, clinic):
    # The desk booked their first visit for next week; it has not taken place.
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.first_visit,
        start=clinic.at(9, day=DAY + timedelta(days=7)),
    )
    clinic.other_patient.email = "other@example.org"
    clinic.other_patient.save()
    response = client.post(
        reverse("booking_details"),
        returning_claim(clinic, clinic.follow_up, **details_of(clinic.other_patient)),
    )
    assert response.status_code == 400
    assert "We found your record, but no visit of yours has taken place yet." in response.text


def test_a_patient_who_arrived_books_a_follow_up_online(client, clinic):
    """Before: only a "completed" visit counted, and nothing ever completed one."""
    clinic.other_patient.email = "arrived@example.org"
    clinic.other_patient.save()
    Appointment.objects.filter(patient=clinic.patient).update(patient=clinic.other_patient, status="arrived")
    response = client.post(
        reverse("booking_details"),
        returning_claim(clinic, clinic.follow_up, **details_of(clinic.other_patient)),
    )
    assert response.status_code == 302
    assert Appointment.objects.get(start=clinic.at(10)).patient == clinic.other_patient


def test_a_patient_the_desk_booked_moves_online_to_a_time_offered(client, clinic):
    """The bug: the move page offered free times, then refused the one tapped with "New patients book this visit
    with the front desk" — the new-patient rule applied again to a visit already booked."""
    from acuclinic.scheduling.booking_views import manage_token

    booked = book_appointment(
        patient=clinic.other_patient,  # never treated here
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=clinic.at(9, day=DAY + timedelta(days=2)),
    )
    link = reverse("booking_manage", kwargs={"token": manage_token(booked)})
    offered = client.get(link + "move/", {"day": DAY.isoformat()})
    assert "11:00 AM" in offered.text
    response = client.post(link + "move/", {"start": clinic.at(11).isoformat()})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.start == clinic.at(11)

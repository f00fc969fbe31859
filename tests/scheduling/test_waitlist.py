"""The waitlist: a freed slot goes to the first waiting patient who fits, as one offer, accepted through the online
booking rules; unanswered offers pass on; two cancellations racing still make exactly one offer per slot."""

import threading
from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from acuclinic.accounts.models import AuditEvent
from acuclinic.accounts.patient_links import Purpose, make_token
from acuclinic.scheduling import waitlist
from acuclinic.scheduling.models import (
    Appointment,
    AppointmentNotification,
    AppointmentStatus,
    WaitlistEntry,
)
from acuclinic.scheduling.services import SlotTaken, book_appointment, cancel_appointment, local_start

from .conftest import make_clinic, make_patient
from .test_race import file_database_for_threads

Status = WaitlistEntry.Status


def soon(clinic, hour, days=3):
    """A wall-clock time a few days from the real now (the cancellation hook uses the real clock)."""
    day = timezone.localdate(timezone=clinic.location.zone) + timedelta(days=days)
    return local_start(clinic.location, day, time(hour))


def local_day(clinic, start):
    return start.astimezone(clinic.location.zone).date()


def book(clinic, start, patient, practitioner=None, room=None):
    return book_appointment(
        patient=patient,
        practitioner=practitioner or clinic.practitioner,
        room=room or clinic.room,
        appointment_type=clinic.first_visit,
        start=start,
    )


def join(clinic, patient, start, **kwargs):
    day = local_day(clinic, start)
    return waitlist.join_waitlist(
        patient=patient,
        appointment_type=kwargs.pop("appointment_type", clinic.first_visit),
        location=clinic.location,
        earliest=kwargs.pop("earliest", day - timedelta(days=1)),
        latest=kwargs.pop("latest", day + timedelta(days=7)),
        **kwargs,
    )


def cancel(appointment, reason="Patient cannot come"):
    return cancel_appointment(appointment=appointment, by=None, reason=reason)


@pytest.fixture
def clinic(db):
    c = make_clinic(patients=5, working_hours=True)
    for p in c.patients:
        p.email = f"{p.first_name.lower()}@example.org"
        p.save()
    return c


# --- joining ----------------------------------------------------------------------------------------------------
def test_join_validates_and_keeps_one_place(clinic):
    start = soon(clinic, 10)
    with pytest.raises(ValidationError) as info:
        join(clinic, clinic.patient, start, earliest=date(2030, 1, 2), latest=date(2030, 1, 1))
    assert "latest" in info.value.message_dict
    first = join(clinic, clinic.patient, start)
    assert join(clinic, clinic.patient, start) == first
    assert WaitlistEntry.objects.count() == 1
    event = AuditEvent.objects.get(object_type="scheduling.waitlistentry", action="create")
    assert f"patient={clinic.patient.pk}" in event.detail and clinic.patient.last_name not in event.detail


def test_earlier_slot_form_and_request(clinic):
    booking = book(clinic, soon(clinic, 10, days=10), clinic.patient)
    today = timezone.localdate(timezone=clinic.location.zone)
    form = waitlist.EarlierSlotForm({"earliest": "13/45/2030"}, appointment=booking)
    assert not form.is_valid() and "MM/DD/YYYY" in form.errors["earliest"][0]
    later = local_day(clinic, booking.start)
    form = waitlist.EarlierSlotForm({"earliest": later.strftime("%m/%d/%Y")}, appointment=booking)
    assert not form.is_valid() and "before your current appointment" in form.errors["earliest"][0]
    form = waitlist.EarlierSlotForm(
        {"earliest": (today + timedelta(days=1)).strftime("%m/%d/%Y"), "any_practitioner": "on"},
        appointment=booking,
    )
    assert form.is_valid(), form.errors
    entry = waitlist.request_earlier_slot(appointment=booking, **form.cleaned_data)
    assert entry.appointment == booking and entry.practitioner is None and entry.latest == later
    assert entry.created_by is None


# --- offering ---------------------------------------------------------------------------------------------------
def test_the_first_matching_entry_is_offered_the_freed_slot(clinic, django_capture_on_commit_callbacks):
    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[4])
    # In order of joining: another type; another practitioner only; a booking that is already earlier; busy then;
    # then the one who fits; then one who would fit too.
    other_type = join(clinic, clinic.patients[0], start, appointment_type=clinic.follow_up)
    other_practitioner = join(clinic, clinic.patients[0], start, practitioner=clinic.other_practitioner)
    earlier = book(clinic, start - timedelta(days=1), clinic.patients[1])
    already_earlier = join(clinic, clinic.patients[1], start, appointment=earlier)
    book(clinic, start, clinic.patients[2], practitioner=clinic.other_practitioner, room=clinic.other_room)
    busy = join(clinic, clinic.patients[2], start)
    later = book(clinic, start + timedelta(days=2), clinic.patients[3])
    fits = join(clinic, clinic.patients[3], start, appointment=later)
    next_in_line = join(clinic, clinic.patients[0], start)

    with django_capture_on_commit_callbacks(execute=True):
        cancel(taken)

    fits.refresh_from_db()
    assert fits.status == Status.OFFERED
    assert (fits.offered_start, fits.offered_practitioner, fits.offered_room) == (
        start,
        clinic.practitioner,
        clinic.room,
    )
    hours = (fits.offer_expires_at - timezone.now()).total_seconds() / 3600
    assert 11.9 < hours <= 12  # SchedulingSettings.waitlist_offer_hours (default 12)
    for entry in (other_type, other_practitioner, already_earlier, busy, next_in_line):
        entry.refresh_from_db()
        assert entry.status == Status.WAITING
    notification = AppointmentNotification.objects.get(
        kind=AppointmentNotification.Kind.PATIENT_WAITLIST_OFFER
    )
    assert notification.waitlist_entry == fits and notification.appointment is None
    assert AuditEvent.objects.filter(object_id=str(fits.pk), detail__startswith="status=offered").exists()
    # The same slot is not offered twice.
    assert waitlist.offer_freed_slot(appointment=taken) is None
    assert WaitlistEntry.objects.filter(status=Status.OFFERED).count() == 1


def test_no_offer_for_a_rolled_back_cancellation(clinic, django_capture_on_commit_callbacks):
    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[4])
    entry = join(clinic, clinic.patient, start)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cancel(taken)
    assert len(callbacks) == 2  # the waitlist offer and the patient's e-mail: both only at commit
    entry.refresh_from_db()
    assert entry.status == Status.WAITING


def test_accepting_books_the_slot_and_cancels_the_later_booking(clinic, django_capture_on_commit_callbacks):
    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[4])
    later = book(clinic, start + timedelta(days=2), clinic.patient)
    entry = join(clinic, clinic.patient, start, appointment=later)
    # Someone else waits for a time like the later booking's.
    second = join(clinic, clinic.other_patient, start + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        cancel(taken)
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED

    with django_capture_on_commit_callbacks(execute=True):
        appointment = waitlist.accept_offer(entry=entry)

    assert appointment.start == start and appointment.patient == clinic.patient and appointment.booked_online
    later.refresh_from_db()
    assert later.status == AppointmentStatus.CANCELLED
    assert later.cancellation_reason == "moved earlier from the waitlist"
    entry.refresh_from_db()
    assert entry.status == Status.BOOKED
    # The time given up goes on down the list.
    second.refresh_from_db()
    assert second.status == Status.OFFERED and second.offered_start == later.start
    with pytest.raises(waitlist.OfferNotOpen):
        waitlist.accept_offer(entry=entry)


def test_an_offer_taken_meanwhile_puts_the_entry_back_to_waiting(clinic, django_capture_on_commit_callbacks):
    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[4])
    entry = join(clinic, clinic.patient, start)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(taken)
    book(clinic, start, clinic.patients[2])  # the desk booked it over the phone
    with pytest.raises(SlotTaken):
        waitlist.accept_offer(entry=entry)
    entry.refresh_from_db()
    assert entry.status == Status.WAITING and entry.offered_start is None and entry.offer_expires_at is None
    assert not Appointment.objects.filter(patient=clinic.patient).exists()


def test_expired_offers_pass_to_the_next_person(clinic, django_capture_on_commit_callbacks):
    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[4])
    first = join(clinic, clinic.patient, start)
    second = join(clinic, clinic.other_patient, start)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(taken)
    first.refresh_from_db()
    assert first.status == Status.OFFERED
    assert waitlist.expire_offers(now=first.offer_expires_at - timedelta(minutes=1)) == 0
    assert waitlist.expire_offers(now=first.offer_expires_at) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.EXPIRED
    assert second.status == Status.OFFERED and second.offered_start == start
    with pytest.raises(waitlist.OfferNotOpen):
        waitlist.accept_offer(entry=first)


def test_the_expiry_job_is_registered():
    from acuclinic.core import scheduler
    from acuclinic.scheduling import waitlist_tasks

    job = scheduler.JOBS["expire-waitlist-offers"]
    assert job.get_task() is waitlist_tasks.expire_waitlist_offers


# --- the public page --------------------------------------------------------------------------------------------
def test_public_offer_page_shows_and_accepts(clinic, django_capture_on_commit_callbacks):
    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[4])
    entry = join(clinic, clinic.patient, start)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(taken)
    url = reverse("waitlist_offer", kwargs={"token": waitlist.offer_token(entry)})
    client = Client()
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        clinic.practitioner.name in html and start.astimezone(clinic.location.zone).strftime("%-I:%M") in html
    )
    assert "no-store" in page.get("Cache-Control", "") or "max-age=0" in page.get("Cache-Control", "")
    response = client.post(url)
    assert response.status_code == 200 and "booked" in response.content.decode().lower()
    entry.refresh_from_db()
    assert entry.status == Status.BOOKED
    # A forged, foreign-purpose or stale link shows the expired page.
    wrong = make_token(purpose=Purpose.MANAGE_BOOKING, object_id=entry.pk)
    assert client.get(reverse("waitlist_offer", kwargs={"token": wrong})).status_code == 404
    assert client.get(reverse("waitlist_offer", kwargs={"token": "nope"})).status_code == 404


def test_public_offer_page_when_the_slot_was_taken(clinic, django_capture_on_commit_callbacks):
    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[4])
    entry = join(clinic, clinic.patient, start)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(taken)
    book(clinic, start, clinic.patients[2])
    response = Client().post(reverse("waitlist_offer", kwargs={"token": waitlist.offer_token(entry)}))
    assert response.status_code == 409
    assert "just taken" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == Status.WAITING


# --- races ------------------------------------------------------------------------------------------------------
def run_in_threads(file_db, functions):
    barrier = threading.Barrier(len(functions))
    errors = []

    def run(function):
        try:
            if file_db is not None:
                from django.db import connections

                connections["default"].settings_dict = {
                    **connections["default"].settings_dict,
                    "NAME": file_db,
                }
            barrier.wait(timeout=60)
            function()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


def offered_rows(file_db):
    if file_db is None:
        return (
            WaitlistEntry.objects.filter(status=Status.OFFERED).count(),
            AppointmentNotification.objects.filter(kind="patient_waitlist_offer").count(),
        )
    import sqlite3

    with sqlite3.connect(file_db) as db:
        return (
            db.execute("SELECT count(*) FROM scheduling_waitlistentry WHERE status = 'offered'").fetchone()[
                0
            ],
            db.execute(
                "SELECT count(*) FROM scheduling_appointmentnotification WHERE kind = 'patient_waitlist_offer'"
            ).fetchone()[0],
        )


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_cancellations_racing_make_one_offer_to_the_one_waiting(tmp_path):
    clinic = make_clinic(patients=3, working_hours=True)
    clinic.patient.email = "waiting@example.org"
    clinic.patient.save()
    start = soon(clinic, 10)
    a = book(clinic, start, clinic.patients[1])
    b = book(
        clinic, start, clinic.patients[2], practitioner=clinic.other_practitioner, room=clinic.other_room
    )
    join(clinic, clinic.patient, start)  # any practitioner: either freed slot fits
    file_db = file_database_for_threads(tmp_path)
    run_in_threads(
        file_db,
        [
            lambda: cancel_appointment(appointment=Appointment.objects.get(pk=a.pk), by=None, reason="ill"),
            lambda: cancel_appointment(appointment=Appointment.objects.get(pk=b.pk), by=None, reason="away"),
        ],
    )
    assert offered_rows(file_db) == (1, 1)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_one_freed_slot_offered_concurrently_gives_one_offer(tmp_path):
    clinic = make_clinic(patients=6, working_hours=True)
    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[5])
    for p in clinic.patients[:5]:
        p.email = "p@example.org"
        p.save()
        join(clinic, p, start)
    cancel_appointment(appointment=taken, by=None, reason="ill")  # autocommit: the hook already offered it
    WaitlistEntry.objects.update(
        status=Status.WAITING,
        offered_start=None,
        offered_practitioner=None,
        offered_room=None,
        offer_expires_at=None,
    )
    AppointmentNotification.objects.all().delete()
    file_db = file_database_for_threads(tmp_path)
    run_in_threads(
        file_db,
        [
            lambda: waitlist.offer_freed_slot(appointment=Appointment.objects.get(pk=taken.pk))
            for _ in range(5)
        ],
    )
    assert offered_rows(file_db) == (1, 1)


def test_patient_without_email_is_offered_without_an_outbox_row(clinic, django_capture_on_commit_callbacks):
    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[4])
    patient = make_patient(99)
    entry = join(clinic, patient, start)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(taken)
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED
    assert not AppointmentNotification.objects.filter(kind="patient_waitlist_offer").exists()


# --- the back office --------------------------------------------------------------------------------------------
def test_the_desk_lists_and_adds_waitlist_entries(clinic):
    from acuclinic.accounts.roles import CLINICIANS, FRONT_DESK
    from tests.factories import make_user

    desk = Client()
    desk.force_login(make_user("desk-wl", FRONT_DESK))
    url = reverse("scheduling_waitlist")
    day = local_day(clinic, soon(clinic, 10))
    data = {
        "patient": clinic.patient.pk,
        "appointment_type": clinic.first_visit.pk,
        "location": clinic.location.pk,
        "practitioner": "",
        "earliest": day.strftime("%m/%d/%Y"),
        "latest": "2030-01-01",
    }
    response = desk.post(url, data)
    assert response.status_code == 400 and "MM/DD/YYYY" in response.content.decode()
    assert not WaitlistEntry.objects.exists()
    data["latest"] = (day + timedelta(days=5)).strftime("%m/%d/%Y")
    data["patient"] = 999999
    assert "No patient has this record number" in desk.post(url, data).content.decode()
    data["patient"] = clinic.patient.pk
    assert desk.post(url, data).status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.practitioner is None and entry.created_by.username == "desk-wl"
    page = desk.get(url)
    assert page.status_code == 200 and f'data-entry="{entry.pk}"' in page.content.decode()
    assert AuditEvent.objects.filter(
        action="list", object_type="scheduling.waitlistentry", actor_username="desk-wl"
    ).exists()

    clinician = Client()
    clinician.force_login(make_user("clin-wl", CLINICIANS))
    assert clinician.get(url).status_code == 403


def test_the_offer_e_mail_names_the_time_and_the_link_and_closes_when_the_offer_does(
    clinic, django_capture_on_commit_callbacks, mailoutbox
):
    from acuclinic.scheduling.tasks import send_appointment_notification

    start = soon(clinic, 10)
    taken = book(clinic, start, clinic.patients[4])
    later = book(clinic, start + timedelta(days=2), clinic.patients[3])
    fits = join(clinic, clinic.patients[3], start, appointment=later)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(taken)
    fits.refresh_from_db()
    row = AppointmentNotification.objects.get(kind=AppointmentNotification.Kind.PATIENT_WAITLIST_OFFER)
    mailoutbox.clear()
    assert send_appointment_notification.call(row.pk) == "sent"
    (mail,) = mailoutbox
    assert mail.to == [clinic.patients[3].email]
    assert "at 10:00 AM Eastern Time" in mail.body
    assert waitlist.offer_url(fits) in mail.body
    assert clinic.patients[3].first_name not in mail.body  # no name, nothing of health
    # A second offer row for an offer that has meanwhile expired is closed without a message.
    fits.offer_expires_at = timezone.now() - timedelta(minutes=1)
    fits.save(update_fields=["offer_expires_at"])
    stale = AppointmentNotification.objects.create(
        kind=AppointmentNotification.Kind.PATIENT_WAITLIST_OFFER, waitlist_entry=fits
    )
    mailoutbox.clear()
    assert send_appointment_notification.call(stale.pk) == "the offer is no longer open"
    assert mailoutbox == []


def test_a_move_offers_the_time_it_leaves(clinic, django_capture_on_commit_callbacks):
    from acuclinic.scheduling.services import reschedule_appointment

    start = soon(clinic, 10)
    moving = book(clinic, start, clinic.patients[4])
    later = book(clinic, start + timedelta(days=2), clinic.patients[3])
    fits = join(clinic, clinic.patients[3], start, appointment=later)
    with django_capture_on_commit_callbacks(execute=True):
        reschedule_appointment(appointment=moving, start=start + timedelta(hours=3), by=None)
    fits.refresh_from_db()
    assert fits.status == Status.OFFERED and fits.offered_start == start


def test_moving_one_occurrence_of_a_plan_changes_only_that_one(clinic):
    from acuclinic.scheduling.models import TreatmentPlan
    from acuclinic.scheduling.services import reschedule_appointment

    plan = TreatmentPlan.objects.create(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        location=clinic.location,
        appointment_type=clinic.first_visit,
        pattern="weekly ×3",
    )
    visits = [book(clinic, soon(clinic, 10, days=3 + 7 * n), clinic.patient) for n in range(3)]
    for visit in visits:
        visit.plan = plan
        visit.save(update_fields=["plan"])
    reschedule_appointment(appointment=visits[1], start=visits[1].start + timedelta(hours=2), by=None)
    starts = [v.start for v in plan.appointments.order_by("pk")]
    assert starts == [visits[0].start, visits[1].start + timedelta(hours=2), visits[2].start]

"""The demo clinic of `make run` (acuclinic/scheduling/demo_clinic.py): a clinic on a Monday morning."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from freezegun import freeze_time

from acuclinic.accounts import roles
from acuclinic.appointments.models import AppointmentRequest, RequestNotification
from acuclinic.clinical.models import Patient
from acuclinic.core.models import DemoClinic
from acuclinic.scheduling.models import (
    Appointment,
    AppointmentNotification,
    AppointmentStatus,
    AppointmentType,
    Licence,
    Practitioner,
    TreatmentPlan,
    WaitlistEntry,
)

from ..conftest import _Null

NEW_YORK = ZoneInfo("America/New_York")
MONDAY_MORNING = datetime(2030, 6, 10, 10, 20, tzinfo=NEW_YORK)  # Monday 10 June 2030, 10:20 AM


def load():
    # The test database's demo licences were issued on the real day the session started: the frozen days here are
    # years later, and a practitioner with no active licence cannot be booked.
    Licence.objects.update(expires_on=date(2099, 12, 31))
    call_command("load_initial_data", "--demo-clinic", stdout=_Null())


def local_day(instant):
    return instant.astimezone(NEW_YORK).date()


@pytest.fixture
def monday(db):
    with freeze_time(MONDAY_MORNING):
        load()
        yield DemoClinic.objects.get()


def test_the_demo_clinic_is_off_unless_asked_for(db):
    call_command("load_initial_data", stdout=_Null())  # test settings: DEMO_CLINIC is off, as in production
    assert not DemoClinic.objects.exists()
    assert not Patient.objects.exists()


def test_a_monday_morning(monday):
    today = date(2030, 6, 10)
    assert monday.anchor_date == today == monday.today
    assert Patient.objects.count() == 12
    todays = [a for a in Appointment.objects.all() if local_day(a.start) == today]
    statuses = {a.status for a in todays}
    assert {AppointmentStatus.COMPLETED, AppointmentStatus.ARRIVED, AppointmentStatus.CONFIRMED} <= statuses
    assert len({a.practitioner_id for a in todays}) == 3
    now = MONDAY_MORNING
    for a in todays:  # the statuses agree with the clock
        if a.status == AppointmentStatus.COMPLETED:
            assert a.end <= now and a.completed_at and a.arrived_at
        elif a.status == AppointmentStatus.ARRIVED:
            assert a.start <= now + timedelta(minutes=15) and a.arrived_at <= now
        else:
            assert a.start > now
    last_week = [
        a for a in Appointment.objects.all() if today - timedelta(days=7) <= local_day(a.start) < today
    ]
    completed = [a for a in last_week if a.status == AppointmentStatus.COMPLETED]
    assert len(completed) >= 6 and all(a.completed_at for a in completed)
    assert any(a.status == AppointmentStatus.NO_SHOW for a in last_week)
    next_week = [
        a
        for a in Appointment.objects.all()
        if today + timedelta(days=7) <= local_day(a.start) < today + timedelta(days=14)
    ]
    assert len([a for a in next_week if a.plan_id is None]) >= 6
    plan = TreatmentPlan.objects.get()
    assert plan.appointments.count() == 6 and plan.pattern == "weekly ×6"
    entry = WaitlistEntry.objects.get()
    assert entry.status == WaitlistEntry.Status.WAITING and entry.appointment.patient == entry.patient


def test_requests_in_several_states_with_urgency_from_the_triage_rules(monday):
    requests = {r.last_name: r for r in AppointmentRequest.objects.all()}
    assert requests["Hypothetical"].status == "new" and requests["Hypothetical"].urgency == "routine"
    assert requests["Imaginary"].status == "contacting" and requests["Imaginary"].urgency == "soon"
    assert requests["Imaginary"].contact_attempts.count() == 1
    urgent = requests["Pretend"]
    assert urgent.urgency == "urgent_today" and urgent.urgency_reasons == ["fever"]
    assert urgent.status == "new" and urgent.urgent_acknowledged_at is None and not urgent.is_spam
    booked = requests["Invented"]
    assert booked.status == "ended" and booked.end_reason == "booked"
    assert booked.bookings.get().appointment_type.name == "First visit with intake"
    assert all(r.submitted_at < MONDAY_MORNING for r in requests.values())


def test_demo_patients_are_fictional_and_varied(monday):
    patients = list(Patient.objects.all())
    for patient in patients:
        assert patient.phone.startswith("+121255501")
        assert not patient.email or patient.email.endswith("@example.com")
    ages = [(date(2030, 6, 10) - p.date_of_birth).days // 365 for p in patients]
    assert max(ages) >= 80 and min(ages) < 35
    assert any(p.has_medicare for p in patients)
    assert any(p.insurance_carrier and p.insurance_member_id for p in patients)


def test_no_email_is_queued_for_demo_data(monday):
    assert not AppointmentNotification.objects.exists()
    assert not RequestNotification.objects.exists()
    from django.core import mail

    assert mail.outbox == []


def test_running_it_again_changes_nothing(monday):
    models = (Patient, Appointment, AppointmentRequest, TreatmentPlan, WaitlistEntry, DemoClinic)
    before = [list(m.objects.order_by("pk").values()) for m in models]
    with freeze_time(MONDAY_MORNING + timedelta(days=9, hours=3)):
        load()
    assert [list(m.objects.order_by("pk").values()) for m in models] == before


@pytest.mark.parametrize(
    ("first_run", "expected_today"),
    [
        (datetime(2030, 6, 12, 9, 40, tzinfo=NEW_YORK), date(2030, 6, 12)),  # a Wednesday
        (datetime(2030, 6, 16, 11, 0, tzinfo=NEW_YORK), date(2030, 6, 17)),  # a Sunday: Monday is "today"
        (datetime(2030, 11, 28, 8, 0, tzinfo=NEW_YORK), date(2030, 11, 29)),  # Thanksgiving: the Friday
    ],
)
def test_dates_follow_the_first_run(db, first_run, expected_today):
    with freeze_time(first_run):
        load()
    marker = DemoClinic.objects.get()
    assert marker.anchor_date == first_run.date() and marker.today == expected_today
    days = {local_day(a.start) for a in Appointment.objects.all()}
    assert expected_today in days
    assert min(days) >= expected_today - timedelta(days=7)
    assert any(d >= expected_today + timedelta(days=7) for d in days)
    assert date(2030, 11, 28) not in days
    for a in Appointment.objects.filter(start__gt=first_run):
        assert a.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.ARRIVED)


def test_no_double_booking(monday):
    holding = list(Appointment.objects.holding())
    for key in ("practitioner_id", "room_id", "patient_id"):
        by_key = {}
        for a in holding:
            by_key.setdefault(getattr(a, key), []).append((a.start, a.blocked_until))
        for ranges in by_key.values():
            ranges.sort()
            for (_s1, e1), (s2, _e2) in zip(ranges, ranges[1:], strict=False):
                assert e1 <= s2


def test_every_role_has_a_demo_account_and_the_clinician_is_linked(db):
    call_command("load_initial_data", stdout=_Null())
    User = get_user_model()
    for role in roles.ROLES:
        assert User.objects.filter(groups__name=role, is_active=True).exists(), role
    assert User.objects.filter(username="demo-admin", is_superuser=True).exists()
    administrator = User.objects.get(username="demo-administrator")
    assert not administrator.is_superuser and administrator.groups.filter(name=roles.ADMINISTRATORS).exists()
    clinician = User.objects.get(username="demo-clinician")
    assert Practitioner.objects.get(user=clinician).name == "Casey Example"
    from django.conf import settings

    stored = settings.DEMO_CREDENTIALS_FILE.read_text()
    for username in (
        "demo-admin",
        "demo-administrator",
        "demo-frontdesk",
        "demo-clinician",
        "demo-editor",
        "demo-moderator",
        "demo-reviewer",
    ):
        assert f"{username} " in stored
    assert settings.DEMO_CREDENTIALS_FILE.stat().st_mode & 0o777 == 0o600


def test_visit_types_say_who_they_are_for(db):
    call_command("load_initial_data", stdout=_Null())
    first = AppointmentType.objects.get(name="First visit with intake")
    assert first.new_patients_may_book_online and first.description.startswith("For new patients")
    follow_up = AppointmentType.objects.get(name="Follow-up treatment")
    assert not follow_up.new_patients_may_book_online
    assert follow_up.description == "For patients who have been treated here before."
    assert Practitioner.objects.filter(appointment_types=follow_up).count() == 3


def test_an_afternoon_first_run_still_has_done_waiting_and_coming_visits(db):
    first_run = datetime(2030, 6, 12, 15, 40, tzinfo=NEW_YORK)  # a Wednesday afternoon
    with freeze_time(first_run):
        load()
    todays = [a for a in Appointment.objects.all() if local_day(a.start) == first_run.date()]
    assert {a.status for a in todays} == {
        AppointmentStatus.COMPLETED,
        AppointmentStatus.ARRIVED,
        AppointmentStatus.CONFIRMED,
    }


def test_a_changed_demo_schedule_leaves_no_half_demo_and_does_not_stop_make_run(db):
    call_command("load_initial_data", stdout=_Null())
    Practitioner.objects.filter(name="Riley Placeholder").update(
        name="Riley Renamed"
    )  # an administrator's edit
    with freeze_time(MONDAY_MORNING):
        load()
    assert not DemoClinic.objects.exists()
    assert not Patient.objects.exists() and not Appointment.objects.exists()

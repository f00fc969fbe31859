"""Treatment plans: a whole series proposed (every occurrence checked, each conflict with alternatives) and booked
all or nothing."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from acuclinic.accounts.models import AuditEvent
from acuclinic.scheduling import plans
from acuclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    Closure,
    TreatmentPlan,
    WorkingHours,
)
from acuclinic.scheduling.plans import MONTHS, WEEKS, Phase
from acuclinic.scheduling.services import book_appointment, cancel_appointment

from .conftest import DAY, NOW

WEEKLY_6_MONTHLY_3 = [Phase(WEEKS, 1, 6), Phase(MONTHS, 1, 3)]


def work_weekdays(clinic, start=time(9), end=time(17)):
    for practitioner in (clinic.practitioner, clinic.other_practitioner):
        for weekday in range(5):
            WorkingHours.objects.create(
                practitioner=practitioner,
                location=clinic.location,
                weekday=weekday,
                starts_at=start,
                ends_at=end,
            )


@pytest.fixture
def desk(db):
    return get_user_model().objects.create_user("desk-plans", password="x" * 16, is_staff=True)


@pytest.fixture
def working_clinic(clinic):
    work_weekdays(clinic)
    return clinic


def propose(clinic, first_start, pattern=WEEKLY_6_MONTHLY_3, **kwargs):
    return plans.propose_series(
        patient=kwargs.get("patient", clinic.patient),
        practitioner=kwargs.get("practitioner", clinic.practitioner),
        location=clinic.location,
        appointment_type=clinic.follow_up,
        first_start=first_start,
        pattern=pattern,
        now=NOW,
    )


def book(clinic, occurrences, by, pattern=WEEKLY_6_MONTHLY_3):
    return plans.book_series(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        location=clinic.location,
        appointment_type=clinic.follow_up,
        pattern=pattern,
        occurrences=occurrences,
        by=by,
        now=NOW,
    )


# --- the pattern ------------------------------------------------------------------------------------------------
def test_weekly_then_monthly_dates_keep_the_weekday():
    dates = plans.series_dates(DAY, WEEKLY_6_MONTHLY_3)
    assert dates[:6] == [DAY + timedelta(weeks=k) for k in range(6)]
    # Monthly from Monday 8 July: the Monday nearest 8 August, 8 September, 8 October.
    assert dates[6:] == [date(2030, 8, 5), date(2030, 9, 9), date(2030, 10, 7)]
    assert {d.weekday() for d in dates} == {0}


def test_every_two_weeks_and_the_label():
    pattern = [Phase(WEEKS, 1, 2), Phase(WEEKS, 2, 2)]
    assert plans.series_dates(DAY, pattern) == [
        DAY,
        DAY + timedelta(weeks=1),
        DAY + timedelta(weeks=3),
        DAY + timedelta(weeks=5),
    ]
    assert plans.pattern_label(WEEKLY_6_MONTHLY_3) == "weekly ×6, then monthly ×3"
    assert plans.pattern_label(pattern) == "weekly ×2, then every 2 weeks ×2"


def test_parse_pattern_from_form_rows():
    assert plans.parse_pattern([("1", WEEKS, "6"), ("1", MONTHS, "3"), ("", WEEKS, "")]) == WEEKLY_6_MONTHLY_3
    for rows, code in [
        ([("", WEEKS, "")], "no_phases"),
        ([("1", "days", "3")], "invalid_unit"),
        ([("x", WEEKS, "3")], "invalid_number"),
        ([("1", WEEKS, "0")], "invalid_count"),
        ([("13", WEEKS, "2")], "invalid_every"),
        ([("1", WEEKS, "53")], "too_many"),
    ]:
        with pytest.raises(ValidationError) as info:
            plans.parse_pattern(rows)
        assert info.value.code == code


# --- the proposal -----------------------------------------------------------------------------------------------
def test_series_across_the_november_change_keeps_the_local_time(working_clinic):
    clinic = working_clinic
    first = clinic.at(10, day=date(2030, 10, 21))  # Monday; clocks go back on Sunday 3 November 2030
    occurrences = propose(clinic, first, [Phase(WEEKS, 1, 4)])
    assert all(o.is_free for o in occurrences), [o.conflict for o in occurrences]
    assert [o.start.astimezone(clinic.location.zone).time() for o in occurrences] == [time(10)] * 4
    assert [o.start.hour for o in occurrences] == [14, 14, 15, 15]  # UTC: EDT, then EST


def test_every_occurrence_is_checked_and_each_conflict_has_alternatives(working_clinic):
    clinic = working_clinic
    start = clinic.at(10)
    appointments_before, audit_before = Appointment.objects.count(), AuditEvent.objects.count()
    # Week 2: the clinic is closed. Week 3: the practitioner is off. Week 4: booked. Week 5: the patient is with
    # someone else. The last monthly visit: the licence has expired.
    Closure.objects.create(
        location=clinic.location,
        starts_on=DAY + timedelta(weeks=1),
        ends_on=DAY + timedelta(weeks=1),
        reason="Holiday",
    )
    AvailabilityException.objects.create(
        practitioner=clinic.practitioner, kind="time_off", date=DAY + timedelta(weeks=2)
    )
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start + timedelta(weeks=3),
        now=NOW,
    )
    book_appointment(
        patient=clinic.patient,
        practitioner=clinic.other_practitioner,
        room=clinic.other_room,
        appointment_type=clinic.follow_up,
        start=start + timedelta(weeks=4),
        now=NOW,
    )
    clinic.practitioner.licences.update(expires_on=date(2030, 10, 1))
    appointments_before += 2
    audit_before = AuditEvent.objects.count()

    occurrences = propose(clinic, start)

    assert [o.conflict_code for o in occurrences] == [
        "",
        "closed",
        "unavailable",
        "practitioner",
        "patient",
        "",
        "",
        "",
        "not_licensed",
    ]
    assert "Holiday" in occurrences[1].conflict
    for o in occurrences:
        if o.is_free:
            assert o.alternatives == () and o.room_id is not None
            continue
        if o.conflict_code == "closed":
            # Nothing that day: the alternatives are the same practitioner's nearest days that week.
            assert o.alternatives and all(
                a.start.astimezone(clinic.location.zone).date() != o.wanted_day for a in o.alternatives
            )
        else:
            assert o.alternatives, o.conflict
        # Each alternative is really free: booking it must not conflict.
        for alt in o.alternatives:
            assert (
                not Appointment.objects.overlapping(alt.start, alt.start + timedelta(minutes=40))
                .filter(patient=clinic.patient)
                .exists()
            )
    # Week 4: same day, same practitioner first, nearest the wanted 10:00.
    week4 = occurrences[3]
    assert week4.alternatives[0].practitioner_id == clinic.practitioner.pk
    # 09:30 would run into the 10:00 visit's time and 10:30 into its buffer: 09:00 and 11:00 are nearest.
    assert week4.alternatives[0].start == start + timedelta(weeks=3, hours=-1)
    assert week4.alternatives[1].start == start + timedelta(weeks=3, hours=1)
    # A pure read.
    assert Appointment.objects.count() == appointments_before
    assert AuditEvent.objects.count() == audit_before
    assert not TreatmentPlan.objects.exists()


def test_a_time_that_does_not_exist_is_a_conflict_with_alternatives(working_clinic):
    clinic = working_clinic
    # Extra hours on the Sunday of the spring change, 01:00–05:00, week after week is not needed: one visit.
    sunday = date(2031, 3, 9)
    AvailabilityException.objects.create(
        practitioner=clinic.practitioner,
        location=clinic.location,
        kind="extra_hours",
        date=sunday,
        starts_at=time(8),
        ends_at=time(12),
    )
    first = datetime(2031, 3, 2, 7, 30, tzinfo=UTC)  # 02:30 EST on the Sunday before
    clinic.location.opens_at = time(0, 30)
    clinic.location.save()
    occurrences = propose(clinic, first, [Phase(WEEKS, 1, 2)])
    assert occurrences[1].start is None and occurrences[1].conflict_code == "nonexistent"


# --- booking ----------------------------------------------------------------------------------------------------
def test_booking_the_series_with_a_chosen_alternative(working_clinic, desk):
    clinic = working_clinic
    start = clinic.at(10)
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start + timedelta(weeks=2),
        now=NOW,
    )
    occurrences = propose(clinic, start)
    assert occurrences[2].conflict_code == "practitioner"
    chosen = occurrences[2].alternatives[0]
    occurrences[2] = occurrences[2].choose(chosen)

    result = book(clinic, occurrences, desk)

    assert result.booked and result.problem == ""
    plan = result.plan
    assert plan.pattern == "weekly ×6, then monthly ×3" and plan.created_by == desk
    booked = list(plan.appointments.order_by("start"))
    assert len(booked) == 9
    assert booked[2].start == chosen.start and booked[2].practitioner_id == chosen.practitioner_id
    assert all(a.patient == clinic.patient and a.created_by == desk for a in booked)
    event = AuditEvent.objects.get(object_type="scheduling.treatmentplan", object_id=str(plan.pk))
    assert event.action == AuditEvent.Action.CREATE and f"patient={clinic.patient.pk}" in event.detail
    assert clinic.patient.last_name not in event.detail
    # Each visit went through book_appointment (and so is audited on its own).
    assert (
        AuditEvent.objects.filter(
            object_type="scheduling.appointment", action="create", actor_username="desk-plans"
        ).count()
        == 9
    )


def test_a_visit_left_with_its_conflict_is_not_booked_and_nothing_is(working_clinic, desk):
    clinic = working_clinic
    start = clinic.at(10)
    Closure.objects.create(
        location=clinic.location,
        starts_on=DAY + timedelta(weeks=1),
        ends_on=DAY + timedelta(weeks=1),
        reason="Holiday",
    )
    occurrences = propose(clinic, start, [Phase(WEEKS, 1, 3)])
    result = book(clinic, occurrences, desk, [Phase(WEEKS, 1, 3)])
    assert not result.booked and "Visit 2" in result.problem
    assert not Appointment.objects.filter(patient=clinic.patient).exists()
    assert not TreatmentPlan.objects.exists()
    # The desk may leave that visit out instead.
    result = book(clinic, [o for o in occurrences if o.is_free], desk, [Phase(WEEKS, 1, 3)])
    assert result.booked and len(result.appointments) == 2


def test_taken_meanwhile_books_nothing_and_returns_a_fresh_proposal(working_clinic, desk):
    clinic = working_clinic
    start = clinic.at(10)
    occurrences = propose(clinic, start)
    assert all(o.is_free for o in occurrences)
    # Between the preview and "confirm", someone else takes the fifth visit's time (room and practitioner).
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start + timedelta(weeks=4),
        now=NOW,
    )
    audit_before = AuditEvent.objects.count()

    result = book(clinic, occurrences, desk)

    assert not result.booked and result.plan is None
    assert "Visit 5" in result.problem
    assert not Appointment.objects.filter(patient=clinic.patient).exists()
    assert not TreatmentPlan.objects.exists()
    assert AuditEvent.objects.count() == audit_before  # rolled back with the bookings
    assert [o.conflict_code for o in result.proposal] == ["", "", "", "", "practitioner", "", "", "", ""]
    assert result.proposal[4].alternatives


def test_the_database_refusal_rolls_back_the_whole_series(working_clinic, desk, monkeypatch):
    """Even when the check passes (a race), book_appointment's SlotTaken undoes the visits already booked."""
    clinic = working_clinic
    start = clinic.at(10)
    occurrences = propose(clinic, start, [Phase(WEEKS, 1, 3)])
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=start + timedelta(weeks=2),
        now=NOW,
    )
    real_check = plans._check
    monkeypatch.setattr(
        plans, "_check", lambda **kw: ("", "", kw["room_id"]) if kw.get("room_id") else real_check(**kw)
    )
    result = book(clinic, occurrences, desk, [Phase(WEEKS, 1, 3)])
    assert not result.booked and "Visit 3 was just taken" in result.problem
    assert not Appointment.objects.filter(patient=clinic.patient).exists()
    assert not TreatmentPlan.objects.exists()


def test_cancelling_one_occurrence_changes_only_that_one(working_clinic, desk):
    clinic = working_clinic
    result = book(clinic, propose(clinic, clinic.at(10)), desk)
    booked = list(result.plan.appointments.order_by("start"))
    cancel_appointment(appointment=booked[3], by=desk, reason="Patient away that week")
    statuses = [a.status for a in result.plan.appointments.order_by("start")]
    assert (
        statuses
        == [AppointmentStatus.CONFIRMED] * 3
        + [AppointmentStatus.CANCELLED]
        + [AppointmentStatus.CONFIRMED] * 5
    )
    assert result.plan.appointments.count() == 9  # still part of the plan, as a cancelled visit
    assert TreatmentPlan.objects.get().status == TreatmentPlan.Status.ACTIVE


# --- the back office --------------------------------------------------------------------------------------------
def plan_form_data(clinic, first_day, at="10:00"):
    return {
        "patient": clinic.patient.pk,
        "practitioner": clinic.practitioner.pk,
        "appointment_type": clinic.follow_up.pk,
        "location": clinic.location.pk,
        "first_date": first_day.strftime("%m/%d/%Y"),
        "first_time": at,
        "phase1_every": "1",
        "phase1_unit": "weeks",
        "phase1_count": "3",
        "phase2_every": "",
        "phase2_unit": "months",
        "phase2_count": "",
        "phase3_every": "",
        "phase3_unit": "months",
        "phase3_count": "",
    }


@pytest.fixture
def desk_client(db):
    from django.test import Client

    from acuclinic.accounts.roles import FRONT_DESK
    from tests.factories import make_user

    client = Client()
    client.force_login(make_user("desk-plan-views", FRONT_DESK))
    return client


def test_plan_form_preview_and_confirm(working_clinic, desk_client):
    from django.urls import reverse

    clinic = working_clinic
    url = reverse("scheduling_plan_new")
    first_day = timezone.localdate(timezone=clinic.location.zone) + timedelta(days=7)
    first_day += timedelta(days=(0 - first_day.weekday()) % 7)  # a Monday
    # The form, from the patient's page: reading it is recorded.
    page = desk_client.get(f"{url}?patient={clinic.patient.pk}")
    assert page.status_code == 200 and clinic.patient.last_name in page.content.decode()
    assert AuditEvent.objects.filter(
        action="read", object_type="clinical.patient", object_id=str(clinic.patient.pk)
    ).exists()
    # Bad input: messages next to the fields, never a 500.
    bad = {
        **plan_form_data(clinic, first_day),
        "first_date": "2030-06-03",
        "phase1_count": "",
        "patient": "x",
    }
    response = desk_client.post(url, bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "MM/DD/YYYY" in html and "record number" in html and "aria-describedby" in html
    # The preview: the second week is taken, with alternatives.
    book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=plans.services.local_start(clinic.location, first_day + timedelta(weeks=1), time(10)),
    )
    data = plan_form_data(clinic, first_day)
    response = desk_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200 and html.count("conflict: practitioner already booked") == 1
    assert html.count(">free<") == 2
    assert not Appointment.objects.filter(patient=clinic.patient).exists()
    # Confirm without choosing for the conflicting visit: nothing booked, the visit is marked.
    response = desk_client.post(
        url, {**data, "action": "confirm", "visit-0": "proposed", "visit-2": "proposed"}
    )
    assert response.status_code == 400 and 'id="visit-1-error"' in response.content.decode()
    assert not TreatmentPlan.objects.exists()
    # Choose the first alternative offered for it.
    proposal = plans.propose_series(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        location=clinic.location,
        appointment_type=clinic.follow_up,
        first_start=plans.services.local_start(clinic.location, first_day, time(10)),
        pattern=[Phase(WEEKS, 1, 3)],
    )
    alternative = proposal[1].alternatives[0]
    assert f'value="{alternative.key}"' in html
    response = desk_client.post(
        url,
        {**data, "action": "confirm", "visit-0": "proposed", "visit-1": alternative.key, "visit-2": "skip"},
    )
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "scheduling_plan_detail", args=[plan.pk]
    )
    assert [a.start for a in plan.appointments.order_by("start")] == [proposal[0].start, alternative.start]
    detail = desk_client.get(response["Location"])
    assert detail.status_code == 200 and "weekly ×3" in detail.content.decode()


def test_plan_pages_are_for_the_front_desk_only(working_clinic):
    from django.test import Client
    from django.urls import reverse

    from acuclinic.accounts.roles import CLINICIANS
    from tests.factories import make_user

    client = Client()
    client.force_login(make_user("clin-plans", CLINICIANS))
    assert client.get(reverse("scheduling_plan_new")).status_code == 403
    assert client.post(reverse("scheduling_plan_new"), plan_form_data(working_clinic, DAY)).status_code == 403

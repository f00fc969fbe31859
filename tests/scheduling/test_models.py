from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from acuclinic.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Licence,
    Location,
    Room,
)

from .conftest import DAY


def test_location_needs_a_real_time_zone_and_state(db):
    location = Location(name="Nowhere", state="ny", time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError) as info:
        location.full_clean()
    assert "time_zone" in info.value.message_dict
    location = Location(name="Nowhere", state="New York", time_zone="America/New_York")
    with pytest.raises(ValidationError) as info:
        location.full_clean()
    assert "state" in info.value.message_dict


def test_location_state_is_upper_cased_and_hours_must_make_sense(db):
    location = Location(name="Brooklyn", state="ny", time_zone="America/New_York")
    location.full_clean()
    assert location.state == "NY"
    location.opens_at, location.closes_at = location.closes_at, location.opens_at
    with pytest.raises(ValidationError) as info:
        location.full_clean()
    assert "closes_at" in info.value.message_dict


def test_licence_is_active_until_its_expiry_date_inclusive(clinic):
    practitioner = clinic.practitioner
    assert practitioner.licensed_in("NY", date(2031, 12, 31))
    assert not practitioner.licensed_in("NY", date(2032, 1, 1))
    assert not practitioner.licensed_in("NJ", DAY)


def test_licence_number_is_unique_per_state_and_kind(clinic):
    licence = Licence(practitioner=clinic.other_practitioner, state="NY", number="T-0", expires_on=DAY)
    with pytest.raises(ValidationError):
        licence.full_clean()


def test_appointment_type_duration_and_notice_are_checked(db):
    with pytest.raises(ValidationError):
        AppointmentType(name="Zero", duration_minutes=0).full_clean()
    with pytest.raises(ValidationError):
        AppointmentType(
            name="Negative notice", duration_minutes=30, min_notice=timedelta(hours=-1)
        ).full_clean()
    default = AppointmentType(name="Defaults", duration_minutes=30)
    default.full_clean()
    assert default.min_notice == timedelta(hours=12) and default.horizon_days == 60


def test_pending_holds_time_and_only_cancelled_frees_it():
    assert AppointmentStatus.PENDING in HOLDING_STATUSES
    assert AppointmentStatus.CONFIRMED in HOLDING_STATUSES
    assert set(AppointmentStatus) - HOLDING_STATUSES == {AppointmentStatus.CANCELLED}


def test_appointment_clean_refuses_a_room_elsewhere_and_naive_or_reversed_times(clinic):
    elsewhere = Location.objects.create(name="Elsewhere", state="NY")
    room_elsewhere = Room.objects.create(location=elsewhere, name="Z")
    start = clinic.at(10)
    appointment = Appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=room_elsewhere,
        location=clinic.location,
        appointment_type=clinic.follow_up,
        start=start,
        end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40),
    )
    with pytest.raises(ValidationError) as info:
        appointment.full_clean()
    assert "room" in info.value.message_dict
    appointment.room = clinic.room
    appointment.end = start
    with pytest.raises(ValidationError) as info:
        appointment.full_clean()
    assert "end" in info.value.message_dict
    appointment.start = start.replace(tzinfo=None)
    with pytest.raises(ValidationError) as info:
        appointment.clean()
    assert "start" in info.value.message_dict

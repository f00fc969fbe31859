"""Small builders shared by the tests: staff users in a role, and an appointment request stored directly."""

from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

PASSWORD = "a-long-test-password"


def make_user(username: str, group: str | None = None, **extra):
    user = get_user_model().objects.create_user(username, f"{username}@acuclinic.example", PASSWORD, **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def make_appointment_request(reference: str = "QWERTYU7", **overrides):
    from acuclinic.appointments.models import AppointmentRequest

    fields = {
        "reference": reference,
        "first_name": "Pat",
        "last_name": "Example",
        "date_of_birth": date(1970, 1, 2),
        "phone": "+12125550100",
        "email": "pat@example.org",
        "contact_method": "phone",
        "patient_status": "new",
        "reason": "lower_back",
        "pain_duration": "chronic",
        "consent_to_contact": True,
        **overrides,
    }
    return AppointmentRequest.objects.create(**fields)


def make_booking(patient, *, practitioner_user=None, practitioner=None, start=None, status="confirmed"):
    """An appointment stored directly (no service, no audit): a Test location, room, type and practitioner are
    created when missing; ``practitioner_user`` links the practitioner to that staff account (a clinician's
    own patients are those with an appointment with them)."""
    from datetime import UTC, datetime, timedelta

    from acuclinic.scheduling.models import (
        Appointment,
        AppointmentType,
        Licence,
        Location,
        Practitioner,
        Room,
    )

    location, _ = Location.objects.get_or_create(
        name="Factory clinic", defaults={"state": "NY", "time_zone": "America/New_York"}
    )
    room, _ = Room.objects.get_or_create(location=location, name="Factory room")
    appointment_type, _ = AppointmentType.objects.get_or_create(
        name="Factory follow-up", defaults={"duration_minutes": 30}
    )
    if practitioner is None:
        n = Practitioner.objects.count()
        practitioner = Practitioner.objects.create(name=f"Factory Practitioner {n}", user=practitioner_user)
        Licence.objects.create(
            practitioner=practitioner, state="NY", number=f"F-{n}", expires_on=date(2099, 1, 1)
        )
        appointment_type.practitioners.add(practitioner)
        practitioner.locations.add(location)
    if start is None:
        start = datetime(2030, 6, 3, 14, 0, tzinfo=UTC) + timedelta(hours=Appointment.objects.count())
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        room=room,
        location=location,
        appointment_type=appointment_type,
        start=start,
        end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=30),
        status=status,
        cancellation_reason="Test" if status == "cancelled" else "",
    )

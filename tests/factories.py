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

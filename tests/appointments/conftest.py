import time
from datetime import date, timedelta

import pytest
from django.core import signing

from acuclinic.appointments import triage
from acuclinic.appointments.forms import FORM_STAMP_SALT


def next_open_day(start: date, days_ahead: int = 3) -> date:
    day = start + timedelta(days=days_ahead)
    while day.weekday() == 6:  # the demo clinic is closed on Sundays
        day += timedelta(days=1)
    return day


@pytest.fixture
def valid_post():
    """A routine request as a patient would send it (form stamp old enough not to look automated)."""

    def build(**overrides):
        from django.utils import timezone

        today = timezone.localdate()
        data = {
            "first_name": "Maria",
            "last_name": "Lopez",
            "date_of_birth": "04/27/1961",
            "phone": "(212) 555-0199",
            "email": "maria@example.org",
            "contact_method": "phone",
            "patient_status": "new",
            "reason": "lower_back",
            "reason_detail": "",
            "pain_duration": "chronic",
            "preferred_date_1": next_open_day(today).strftime("%m/%d/%Y"),
            "preferred_time_1": "morning",
            "insurance_carrier": "Acme Health",
            "has_medicare": "no",
            "message": "",
            "consent_to_contact": "on",
            "token": "tok-" + str(time.monotonic_ns()),
            "started": signing.dumps(f"{time.time() - 60:.3f}", salt=FORM_STAMP_SALT),
            "website": "",
        }
        for question in triage.QUESTIONS:
            data[f"flag_{question.key}"] = "no"
        data.update(overrides)
        return data

    return build

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest

from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import (
    AppointmentType,
    Licence,
    Location,
    Practitioner,
    Room,
    WorkingHours,
)
from acuclinic.scheduling.services import local_start

# A Monday well inside the licences' validity; tests pass `now` explicitly, so the real date does not matter.
DAY = date(2030, 6, 3)
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clinic:
    location: Location
    room: Room
    other_room: Room
    practitioner: Practitioner
    other_practitioner: Practitioner
    follow_up: AppointmentType  # 30 min, 10 min buffer
    first_visit: AppointmentType  # 60 min, no buffer
    patient: Patient
    other_patient: Patient

    def at(self, hour, minute=0, day=DAY, fold=0):
        return local_start(self.location, day, time(hour, minute), fold=fold)


def make_patient(n: int) -> Patient:
    return Patient.objects.create(first_name=f"Test{n}", last_name="Patient", date_of_birth=date(1980, 1, 1))


def make_clinic(*, patients: int = 2, working_hours: bool = False) -> Clinic:
    location = Location.objects.create(
        name="Test clinic", address="1 Test Street", state="NY", time_zone="America/New_York"
    )
    room = Room.objects.create(location=location, name="A")
    other_room = Room.objects.create(location=location, name="B")
    practitioner = Practitioner.objects.create(name="Pat Needles", credentials="L.Ac.")
    other_practitioner = Practitioner.objects.create(name="Sam Moxa", credentials="L.Ac.")
    for n, p in enumerate((practitioner, other_practitioner)):
        Licence.objects.create(practitioner=p, state="NY", number=f"T-{n}", expires_on=date(2031, 12, 31))
        if working_hours:  # every day, the whole opening window (08:00–18:00)
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    practitioner=p, location=location, weekday=d, starts_at=time(8), ends_at=time(18)
                )
                for d in range(7)
            )
    follow_up = AppointmentType.objects.create(
        name="Follow-up (test)", duration_minutes=30, buffer_after_minutes=10
    )
    first_visit = AppointmentType.objects.create(
        name="First visit (test)",
        duration_minutes=60,
        buffer_after_minutes=0,
        new_patients_may_book_online=True,
    )
    for t in (follow_up, first_visit):
        t.practitioners.set([practitioner, other_practitioner])
    people = [make_patient(n) for n in range(max(patients, 2))]
    clinic = Clinic(
        location,
        room,
        other_room,
        practitioner,
        other_practitioner,
        follow_up,
        first_visit,
        people[0],
        people[1],
    )
    clinic.patients = people
    return clinic


@pytest.fixture
def clinic(db):
    return make_clinic(working_hours=True)  # 08:00–18:00 every day, like the old opening-hours rule

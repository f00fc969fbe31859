"""Demo scheduling data for `load_initial_data`: one location with three rooms and its holiday closures, licences, two
appointment types whose descriptions say truthfully who each visit is for.

Idempotent: run it again and nothing changes (existing rows are found by name and kept as they are). A visit type is
updated only while it still has no description, i.e. it was made by an earlier version of this loader and nobody has
described it since: it then gets the description below and, for the first visit, is opened to new patients online.
An administrator's own description (or choice) is never overwritten.
"""

from datetime import date, time, timedelta

from .models import AppointmentType, Closure, Licence, Location, Room, WorkingHours

# name, minutes, buffer after, new patients may book online, who it is for (shown to patients when they choose).
DEMO_APPOINTMENT_TYPES = [
    (
        "First visit with intake",
        60,
        15,
        True,
        "For new patients, or anyone returning after more than a year: history, exam and first treatment.",
    ),
    ("Follow-up treatment", 30, 10, False, "For patients who have been treated here before."),
]


def us_holidays(year: int) -> list[tuple[date, str]]:
    """The holidays the demo clinic closes for: New Year's Day, Independence Day, Thanksgiving (the fourth
    Thursday of November) and Christmas Day."""
    first_of_november = date(year, 11, 1)
    first_thursday = first_of_november + timedelta(days=(3 - first_of_november.weekday()) % 7)
    return [
        (date(year, 1, 1), "New Year's Day"),
        (date(year, 7, 4), "Independence Day"),
        (first_thursday + timedelta(weeks=3), "Thanksgiving Day"),
        (date(year, 12, 25), "Christmas Day"),
    ]


def ensure_demo_schedule(practitioners):
    location, _ = Location.objects.get_or_create(
        name="Acuclinic Midtown",
        defaults={
            "address": "100 Example Street, Suite 200\nSpringfield, NY 10001",
            "state": "NY",
            "time_zone": "America/New_York",
        },
    )
    for room_name in ("Room 1", "Room 2", "Room 3"):  # one per practitioner: three can treat at once
        Room.objects.get_or_create(location=location, name=room_name)
    this_year = date.today().year
    for day, reason in us_holidays(this_year) + us_holidays(this_year + 1):
        Closure.objects.get_or_create(
            location=location, starts_on=day, defaults={"ends_on": day, "reason": reason}
        )
    for number, practitioner in enumerate(practitioners, start=1):
        practitioner.locations.add(location)
        if not practitioner.working_hours.exists():
            # Weekdays 9–5, Saturday mornings: the hours online booking offers.
            WorkingHours.objects.bulk_create(
                [
                    WorkingHours(
                        practitioner=practitioner,
                        location=location,
                        weekday=day,
                        starts_at=time(9),
                        ends_at=time(17),
                    )
                    for day in range(5)
                ]
                + [
                    WorkingHours(
                        practitioner=practitioner,
                        location=location,
                        weekday=5,
                        starts_at=time(9),
                        ends_at=time(13),
                    )
                ]
            )
        if not practitioner.licences.filter(state=location.state).exists():
            Licence.objects.get_or_create(
                state=location.state,
                number=f"DEMO-{number:04d}",
                kind=Licence.Kind.LAC,
                defaults={"practitioner": practitioner, "expires_on": date.today() + timedelta(days=2 * 365)},
            )
    for name, minutes, buffer, new_patients, description in DEMO_APPOINTMENT_TYPES:
        appointment_type, created = AppointmentType.objects.get_or_create(
            name=name,
            defaults={
                "duration_minutes": minutes,
                "buffer_after_minutes": buffer,
                "new_patients_may_book_online": new_patients,
                "description": description,
            },
        )
        if created:
            appointment_type.practitioners.set(practitioners)
        elif not appointment_type.description:
            # Made by the loader before visit types had descriptions, and not described by anyone since.
            appointment_type.description = description
            appointment_type.new_patients_may_book_online = new_patients
            appointment_type.save(update_fields=["description", "new_patients_may_book_online"])
    # A demo practitioner who offers nothing yet (the one added after the first release) offers both demo visits.
    for practitioner in practitioners:
        if not practitioner.appointment_types.exists():
            practitioner.appointment_types.add(
                *AppointmentType.objects.filter(name__in=[row[0] for row in DEMO_APPOINTMENT_TYPES])
            )
    return location

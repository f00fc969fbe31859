"""Demo scheduling data for `load_initial_data`: one location with two rooms, licences, two appointment types.

Idempotent: run it again and nothing changes (existing rows are found by name and kept as they are).
"""

from datetime import date, time, timedelta

from .models import AppointmentType, Licence, Location, Room, WorkingHours


def ensure_demo_schedule(practitioners):
    location, _ = Location.objects.get_or_create(
        name="Acuclinic Midtown",
        defaults={
            "address": "100 Example Street, Suite 200\nSpringfield, NY 10001",
            "state": "NY",
            "time_zone": "America/New_York",
        },
    )
    for room_name in ("Room 1", "Room 2"):
        Room.objects.get_or_create(location=location, name=room_name)
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
    for name, minutes, buffer, new_patients in (
        ("First visit with intake", 60, 15, False),
        ("Follow-up treatment", 30, 10, False),
    ):
        appointment_type, created = AppointmentType.objects.get_or_create(
            name=name,
            defaults={
                "duration_minutes": minutes,
                "buffer_after_minutes": buffer,
                "new_patients_may_book_online": new_patients,
            },
        )
        if created:
            appointment_type.practitioners.set(practitioners)
    return location

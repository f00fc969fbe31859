from datetime import date

from django.core.management import call_command

from acuclinic.scheduling.availability import closed_days
from acuclinic.scheduling.demo import us_holidays
from acuclinic.scheduling.models import AppointmentType, Closure, Licence, Location, Practitioner, Room

from ..conftest import _Null


def test_demo_data_gives_a_bookable_location_and_stays_idempotent(db):
    call_command("load_initial_data", stdout=_Null())
    models = (Location, Room, Closure, Licence, AppointmentType, Practitioner)
    counts = [m.objects.count() for m in models]
    call_command("load_initial_data", stdout=_Null())
    assert [m.objects.count() for m in models] == counts
    location = Location.objects.get(name="Acuclinic Midtown")
    assert location.rooms.count() == 3
    follow_up = AppointmentType.objects.get(name="Follow-up treatment")
    assert follow_up.duration_minutes == 30
    assert AppointmentType.objects.get(name="First visit with intake").duration_minutes == 60
    for practitioner in follow_up.practitioners.all():
        assert practitioner.licences.filter(state=location.state).exists()


def test_the_demo_clinic_closes_for_the_holidays_this_year_and_next(db):
    call_command("load_initial_data", stdout=_Null())
    location = Location.objects.get(name="Acuclinic Midtown")
    year = date.today().year
    closed = closed_days(location, date(year, 1, 1), date(year + 1, 12, 31))
    assert len(closed) == 8
    for day, reason in us_holidays(year) + us_holidays(year + 1):
        assert closed[day] == reason


def test_thanksgiving_is_the_fourth_thursday_of_november():
    assert {reason: day for day, reason in us_holidays(2026)}["Thanksgiving Day"] == date(2026, 11, 26)
    assert {reason: day for day, reason in us_holidays(2030)}["Thanksgiving Day"] == date(2030, 11, 28)
    assert {reason: day for day, reason in us_holidays(2024)}["Thanksgiving Day"] == date(2024, 11, 28)


def test_visit_types_from_an_older_demo_get_their_labels_but_an_administrators_edits_stay(db):
    call_command("load_initial_data", stdout=_Null())
    # As an earlier loader left them: no description, the first visit closed to new patients online.
    AppointmentType.objects.update(description="", new_patients_may_book_online=False)
    call_command("load_initial_data", stdout=_Null())
    first = AppointmentType.objects.get(name="First visit with intake")
    assert first.new_patients_may_book_online
    assert first.description.startswith("For new patients, or anyone returning after more than a year")
    # An administrator's own choice is left alone.
    AppointmentType.objects.filter(pk=first.pk).update(
        description="New patients: please call us first.", new_patients_may_book_online=False
    )
    call_command("load_initial_data", stdout=_Null())
    first.refresh_from_db()
    assert first.description == "New patients: please call us first."
    assert not first.new_patients_may_book_online

from django.core.management import call_command

from acuclinic.scheduling.models import AppointmentType, Licence, Location, Practitioner, Room

from ..conftest import _Null


def test_demo_data_gives_a_bookable_location_and_stays_idempotent(db):
    call_command("load_initial_data", stdout=_Null())
    counts = [m.objects.count() for m in (Location, Room, Licence, AppointmentType, Practitioner)]
    call_command("load_initial_data", stdout=_Null())
    assert [m.objects.count() for m in (Location, Room, Licence, AppointmentType, Practitioner)] == counts
    location = Location.objects.get(name="Acuclinic Midtown")
    assert location.rooms.count() == 2
    follow_up = AppointmentType.objects.get(name="Follow-up treatment")
    assert follow_up.duration_minutes == 30
    assert AppointmentType.objects.get(name="First visit with intake").duration_minutes == 60
    for practitioner in follow_up.practitioners.all():
        assert practitioner.licences.filter(state=location.state).exists()

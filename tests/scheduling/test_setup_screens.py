"""Clinic set-up in the back office (scheduling/setup_views.py): an administrator creates each kind of record through
the real views; errors appear next to their fields; the role table decides who may do what; a change that leaves
booked appointments outside availability lists them and is saved only once confirmed; everything is audited."""

import re
from datetime import date, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from acuclinic.accounts.models import AuditEvent
from acuclinic.scheduling.models import (
    AppointmentType,
    AvailabilityException,
    Closure,
    Licence,
    Location,
    Practitioner,
    Room,
    WorkingHours,
)
from acuclinic.scheduling.services import book_appointment
from tests.factories import make_user

from .conftest import DAY  # a Monday in 2030 (the future, whatever today is)

ADMIN = "/admin/snippets/scheduling/"


def url(model: str, view: str = "add", pk=None) -> str:
    return f"{ADMIN}{model}/{view}/" + (f"{pk}/" if pk is not None else "")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_user(db):
    return make_user("setup-admin", "Administrators")


@pytest.fixture
def admin(admin_user):
    return client_for(admin_user)


@pytest.fixture
def desk(db):
    return client_for(make_user("setup-desk", "Front desk"))


def formset(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{n}-{key}"] = value
    return data


def practitioner_data(location, **overrides) -> dict:
    data = {
        "name": "Robin Cupping",
        "credentials": "L.Ac.",
        "is_active": "on",
        "photo": "",
        "bio": "Treats back pain.",
        "languages": "English, Spanish",
        "locations": [str(location.pk)],
        "user": "",
        **formset(
            "licences",
            [{"state": "NY", "kind": "L.Ac.", "number": "NY-123", "expires_on": "2031-12-31", "id": ""}],
        ),
    }
    data.update(overrides)
    return data


def errors_of(response) -> str:
    return response.content.decode()


def field_error(html: str, field: str) -> bool:
    """An error message rendered inside the field's own wrapper (Wagtail marks it with data-contentpath)."""
    parts = html.split(f'data-contentpath="{field}"', 1)
    return len(parts) == 2 and 'class="error-message"' in parts[1].split("data-contentpath=", 1)[0]


# --- an administrator creates each kind -------------------------------------------------------------------------
def test_admin_creates_a_location_with_rooms_choosing_a_us_time_zone_first(admin):
    page = admin.get(url("location")).content.decode()
    options = re.findall(r'<option value="([^"]+)"', page[page.index('id="id_time_zone"') :])
    assert options[0] == "America/New_York" and "America/Chicago" in options[:8]
    data = {
        "name": "Brooklyn",
        "address": "5 Court Street",
        "state": "ny",
        "time_zone": "America/New_York",
        "opens_at": "08:00",
        "closes_at": "19:00",
        **formset("rooms", [{"name": "Room 1", "is_active": "on", "id": ""}, {"name": "Room 2", "id": ""}]),
    }
    response = admin.post(url("location"), data)
    assert response.status_code == 302, errors_of(response)
    location = Location.objects.get(name="Brooklyn")
    assert location.state == "NY"
    assert sorted(location.rooms.values_list("name", "is_active")) == [("Room 1", True), ("Room 2", False)]
    assert AuditEvent.objects.filter(
        action="create", object_type="scheduling.location", object_id=str(location.pk)
    ).exists()


def test_location_closing_before_opening_is_an_error_next_to_the_field(admin):
    data = {
        "name": "Backwards",
        "state": "NY",
        "time_zone": "America/New_York",
        "opens_at": "18:00",
        "closes_at": "08:00",
        **formset("rooms", []),
    }
    response = admin.post(url("location"), data)
    assert response.status_code == 200
    assert "Closing time must be after opening time." in response.content.decode()
    assert field_error(response.content.decode(), "closes_at")
    assert not Location.objects.filter(name="Backwards").exists()


def test_admin_creates_a_visit_type_open_to_new_patients_online(admin, clinic):
    data = {
        "name": "Back pain first visit",
        "description": "For new patients with back pain: history, examination and a first treatment.",
        "duration_minutes": "75",
        "buffer_after_minutes": "15",
        "min_notice": "24",
        "horizon_days": "30",
        "new_patients_may_book_online": "on",
        "practitioners": [str(clinic.practitioner.pk)],
    }
    response = admin.post(url("appointmenttype"), data)
    assert response.status_code == 302, errors_of(response)
    kind = AppointmentType.objects.get(name="Back pain first visit")
    assert kind.new_patients_may_book_online and kind.min_notice == timedelta(hours=24)
    assert kind.description.startswith("For new patients") and kind.buffer_after_minutes == 15
    assert list(kind.practitioners.all()) == [clinic.practitioner]
    # The edit form shows the notice in hours again.
    page = admin.get(url("appointmenttype", "edit", kind.pk)).content.decode()
    assert re.search(r'name="min_notice"[^>]*value="24"|value="24"[^>]*name="min_notice"', page)


def test_admin_creates_a_practitioner_with_a_licence_and_links_a_clinicians_account(admin, clinic):
    account = make_user("dr-lee", "Clinicians")
    response = admin.post(url("practitioner"), practitioner_data(clinic.location, user=str(account.pk)))
    assert response.status_code == 302, errors_of(response)
    practitioner = Practitioner.objects.get(name="Robin Cupping")
    assert practitioner.user == account and practitioner.slug == "robin-cupping"
    assert list(practitioner.locations.all()) == [clinic.location]
    assert list(practitioner.licences.values_list("state", "number", "expires_on")) == [
        ("NY", "NY-123", date(2031, 12, 31))
    ]
    assert AuditEvent.objects.filter(action="create", object_type="scheduling.practitioner").exists()


def test_only_clinicians_accounts_are_offered_and_one_practitioner_per_account(admin, clinic):
    clinician = make_user("dr-lee", "Clinicians")
    editor = make_user("ed-words", "Editors")
    page = admin.get(url("practitioner")).content.decode()
    select = page[page.index('id="id_user"') :]
    select = select[: select.index("</select>")]
    assert f'value="{clinician.pk}"' in select and f'value="{editor.pk}"' not in select

    response = admin.post(url("practitioner"), practitioner_data(clinic.location, user=str(editor.pk)))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Only a staff account in the Clinicians group can be linked" in html and field_error(html, "user")

    clinic.practitioner.user = clinician
    clinic.practitioner.save()
    response = admin.post(url("practitioner"), practitioner_data(clinic.location, user=str(clinician.pk)))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"already linked to {clinic.practitioner.name}" in html and field_error(html, "user")
    assert not Practitioner.objects.filter(name="Robin Cupping").exists()


def test_admin_adds_weekly_hours_and_overlapping_hours_are_refused_next_to_the_field(admin, clinic):
    data = {
        "practitioner": str(clinic.practitioner.pk),
        "location": str(clinic.location.pk),
        "weekday": "0",
        "starts_at": "09:00",
        "ends_at": "13:00",
    }
    WorkingHours.objects.filter(practitioner=clinic.practitioner).delete()
    response = admin.post(url("workinghours"), data)
    assert response.status_code == 302, errors_of(response)
    hours = WorkingHours.objects.get(practitioner=clinic.practitioner)
    assert (hours.weekday, hours.starts_at, hours.ends_at) == (0, time(9), time(13))

    response = admin.post(url("workinghours"), {**data, "starts_at": "12:00", "ends_at": "17:00"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "overlap" in html and "9:00 AM – 1:00 PM" in html and field_error(html, "starts_at")

    response = admin.post(url("workinghours"), {**data, "starts_at": "17:00", "ends_at": "14:00"})
    html = response.content.decode()
    assert "The hours must end after they start." in html and field_error(html, "ends_at")
    assert WorkingHours.objects.filter(practitioner=clinic.practitioner).count() == 1


def test_admin_adds_time_off_extra_hours_and_a_closure(admin, clinic):
    response = admin.post(
        url("availabilityexception"),
        {
            "practitioner": str(clinic.practitioner.pk),
            "kind": "extra_hours",
            "date": "2030-06-08",
            "starts_at": "",
            "ends_at": "",
            "location": "",
            "note": "",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Say where the extra hours are." in html
    assert field_error(html, "location")

    response = admin.post(
        url("availabilityexception"),
        {
            "practitioner": str(clinic.practitioner.pk),
            "kind": "extra_hours",
            "date": "2030-06-08",
            "starts_at": "19:00",
            "ends_at": "20:00",
            "location": str(clinic.location.pk),
            "note": "Evening clinic",
        },
    )
    assert response.status_code == 302, errors_of(response)
    assert AvailabilityException.objects.filter(kind="extra_hours", note="Evening clinic").exists()

    response = admin.post(
        url("closure"),
        {
            "location": str(clinic.location.pk),
            "starts_on": "2030-12-25",
            "ends_on": "2030-12-24",
            "reason": "X",
        },
    )
    html = response.content.decode()
    assert "The last day cannot be before the first." in html and field_error(html, "ends_on")
    response = admin.post(
        url("closure"),
        {
            "location": str(clinic.location.pk),
            "starts_on": "2030-12-25",
            "ends_on": "2030-12-25",
            "reason": "Christmas Day (test)",
        },
    )
    assert response.status_code == 302, errors_of(response)
    closure = Closure.objects.get(reason="Christmas Day (test)")
    assert AuditEvent.objects.filter(object_type="scheduling.closure", object_id=str(closure.pk)).exists()


# --- who may ------------------------------------------------------------------------------------------------------
SCREENS = ["practitioner", "workinghours", "availabilityexception", "closure", "appointmenttype", "location"]


@pytest.mark.parametrize("role", ["Editors", "Medical reviewers", "Moderators", "Clinicians"])
def test_roles_without_set_up_are_refused_every_screen(role, clinic):
    client = client_for(make_user("no-setup", role))
    for model in SCREENS:
        for address in (url(model, "list").replace("list/", ""), url(model)):
            response = client.get(address)
            assert response.status_code in (302, 403), (model, address, response.status_code)
            if response.status_code == 302:
                assert response["Location"].rstrip("/") in ("/admin", "") or "/login/" in response["Location"]
    page = client.get("/admin/").content.decode()
    assert "Clinic set-up" not in page


def test_the_front_desk_reads_practitioners_and_keeps_hours_time_off_and_closures(desk, clinic):
    assert desk.get(url("practitioner", "list").replace("list/", "")).status_code == 200
    assert desk.get(url("practitioner")).status_code in (302, 403)
    assert desk.get(url("practitioner", "edit", clinic.practitioner.pk)).status_code in (302, 403)
    for model in ("location", "appointmenttype"):
        assert desk.get(url(model)).status_code in (302, 403)
    for model in ("workinghours", "availabilityexception", "closure"):
        assert desk.get(url(model)).status_code == 200, model
    response = desk.post(
        url("availabilityexception"),
        {
            "practitioner": str(clinic.practitioner.pk),
            "kind": "time_off",
            "date": "2030-07-01",
            "starts_at": "",
            "ends_at": "",
            "location": "",
            "note": "Conference",
        },
    )
    assert response.status_code == 302
    home = desk.get("/admin/").content.decode()
    assert "Clinic set-up" in home


def test_the_snippets_index_opens_for_a_superuser(db):
    User = get_user_model()
    root = User.objects.create_superuser("root-setup", "root@acuclinic.example", "a-long-test-password")
    response = client_for(root).get("/admin/snippets/")
    assert response.status_code == 200
    assert "Practitioners" in response.content.decode()


# --- a change that leaves booked appointments outside hours ------------------------------------------------------
@pytest.fixture
def booked(clinic):
    """A follow-up on the test Monday at 10:00 AM (the practitioner works 8:00 AM – 6:00 PM every day)."""
    return book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=clinic.at(10),
    )


def monday_hours(clinic):
    return WorkingHours.objects.get(practitioner=clinic.practitioner, location=clinic.location, weekday=0)


def hours_data(clinic, starts_at, ends_at):
    return {
        "practitioner": str(clinic.practitioner.pk),
        "location": str(clinic.location.pk),
        "weekday": "0",
        "starts_at": starts_at,
        "ends_at": ends_at,
    }


def test_shortening_hours_lists_the_appointment_and_saves_only_once_confirmed(admin, clinic, booked):
    hours = monday_hours(clinic)
    edit = url("workinghours", "edit", hours.pk)
    response = admin.post(edit, hours_data(clinic, "12:00", "18:00"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "leaves 1 booked appointment outside hours" in html
    assert "10:00 AM" in html and "T. P." in html  # administrators see initials, not names
    assert "Test0 Patient" not in html
    hours.refresh_from_db()
    assert hours.starts_at == time(8)  # nothing changed
    assert not AuditEvent.objects.filter(object_type="scheduling.workinghours").exists()
    shown = AuditEvent.objects.get(action="list", object_type="scheduling.appointment")
    assert shown.detail.endswith(f"left outside hours if saved: {booked.pk}")

    confirm = re.search(r'name="confirm_outside_hours" value="([^"]*)"', html).group(1)
    assert confirm == str(booked.pk)
    response = admin.post(edit, {**hours_data(clinic, "12:00", "18:00"), "confirm_outside_hours": confirm})
    assert response.status_code == 302, errors_of(response)
    hours.refresh_from_db()
    booked.refresh_from_db()
    assert hours.starts_at == time(12) and booked.status == "confirmed"  # not cancelled
    event = AuditEvent.objects.get(object_type="scheduling.workinghours", object_id=str(hours.pk))
    assert event.action == "change" and f"left outside availability: {booked.pk}" in event.detail


def test_a_change_that_leaves_the_appointment_inside_needs_no_confirmation(admin, clinic, booked):
    hours = monday_hours(clinic)
    response = admin.post(url("workinghours", "edit", hours.pk), hours_data(clinic, "09:00", "17:00"))
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="scheduling.workinghours")
    assert "left outside" not in event.detail


def test_the_front_desk_sees_names_and_links_to_the_appointment(desk, clinic, booked):
    response = desk.post(
        url("availabilityexception"),
        {
            "practitioner": str(clinic.practitioner.pk),
            "kind": "time_off",
            "date": DAY.isoformat(),
            "starts_at": "",
            "ends_at": "",
            "location": "",
            "note": "",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Test0 Patient" in html
    assert f'href="/admin/schedule/appointments/{booked.pk}/"' in html
    assert not AvailabilityException.objects.exists()


def test_deleting_hours_lists_the_appointment_and_deletes_once_confirmed(admin, clinic, booked):
    hours = monday_hours(clinic)
    delete = url("workinghours", "delete", hours.pk)
    response = admin.post(delete)
    html = response.content.decode()
    assert response.status_code == 200 and "outside hours" in html and "10:00 AM" in html
    assert WorkingHours.objects.filter(pk=hours.pk).exists()
    response = admin.post(delete, {"confirm_outside_hours": str(booked.pk)})
    assert response.status_code == 302
    assert not WorkingHours.objects.filter(pk=hours.pk).exists()
    assert AuditEvent.objects.filter(
        object_type="scheduling.workinghours", object_id=str(hours.pk), detail__contains="deleted; confirmed"
    ).exists()


def test_a_closure_on_a_booked_day_needs_confirmation(admin, clinic, booked):
    data = {
        "location": str(clinic.location.pk),
        "starts_on": DAY.isoformat(),
        "ends_on": DAY.isoformat(),
        "reason": "Burst pipe",
    }
    response = admin.post(url("closure"), data)
    html = response.content.decode()
    assert response.status_code == 200 and "closed that day" in html
    assert not Closure.objects.filter(reason="Burst pipe").exists()
    response = admin.post(url("closure"), {**data, "confirm_outside_hours": str(booked.pk)})
    assert response.status_code == 302 and Closure.objects.filter(reason="Burst pipe").count() == 1


def test_deactivating_a_room_or_a_practitioner_or_ending_a_licence_needs_confirmation(admin, clinic, booked):
    location = clinic.location
    rooms = [
        {"id": str(r.pk), "name": r.name, **({"is_active": "on"} if r != clinic.room else {})}
        for r in location.rooms.order_by("pk")
    ]
    data = {
        "name": location.name,
        "address": location.address,
        "state": location.state,
        "time_zone": location.time_zone,
        "opens_at": "08:00",
        "closes_at": "18:00",
        **formset("rooms", rooms, initial=len(rooms)),
    }
    response = admin.post(url("location", "edit", location.pk), data)
    assert response.status_code == 200 and "room is not in use" in response.content.decode()
    assert Room.objects.get(pk=clinic.room.pk).is_active

    practitioner = clinic.practitioner
    licence = practitioner.licences.get()
    base = practitioner_data(
        location,
        name=practitioner.name,
        **formset(
            "licences",
            [
                {
                    "id": str(licence.pk),
                    "state": "NY",
                    "kind": licence.kind,
                    "number": licence.number,
                    "expires_on": "2030-05-31",
                }
            ],
            initial=1,
        ),
    )
    response = admin.post(url("practitioner", "edit", practitioner.pk), base)
    assert response.status_code == 200 and "no licence valid" in response.content.decode()
    assert Licence.objects.get(pk=licence.pk).expires_on == date(2031, 12, 31)

    active = practitioner_data(location, name=practitioner.name, is_active="")
    del active["is_active"]
    active.update(
        formset(
            "licences",
            [
                {
                    "id": str(licence.pk),
                    "state": "NY",
                    "kind": licence.kind,
                    "number": licence.number,
                    "expires_on": "2031-12-31",
                }
            ],
            initial=1,
        )
    )
    response = admin.post(url("practitioner", "edit", practitioner.pk), active)
    assert response.status_code == 200 and "not active" in response.content.decode()
    practitioner.refresh_from_db()
    assert practitioner.is_active
    response = admin.post(
        url("practitioner", "edit", practitioner.pk), {**active, "confirm_outside_hours": str(booked.pk)}
    )
    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert not practitioner.is_active


def test_a_room_with_appointments_cannot_be_deleted_from_its_location(admin, clinic, booked):
    location = clinic.location
    rooms = [{"id": str(r.pk), "name": r.name, "is_active": "on"} for r in location.rooms.order_by("pk")]
    rooms[[r["id"] for r in rooms].index(str(clinic.room.pk))]["DELETE"] = "on"
    data = {
        "name": location.name,
        "address": location.address,
        "state": location.state,
        "time_zone": location.time_zone,
        "opens_at": "08:00",
        "closes_at": "18:00",
        **formset("rooms", rooms, initial=len(rooms)),
    }
    response = admin.post(url("location", "edit", location.pk), data)
    assert response.status_code == 200
    assert "has appointments and cannot be deleted" in response.content.decode()
    assert Room.objects.filter(pk=clinic.room.pk).exists()


def test_deleting_a_practitioner_with_appointments_is_refused_with_a_message(admin, clinic, booked):
    response = admin.post(url("practitioner", "delete", clinic.practitioner.pk))
    assert response.status_code == 200
    assert "has appointments and cannot be deleted" in response.content.decode()
    assert Practitioner.objects.filter(pk=clinic.practitioner.pk).exists()

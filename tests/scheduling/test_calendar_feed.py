"""A practitioner's private calendar feed: a token shown once and stored as its SHA-256, 404 for a wrong, replaced or
revoked token, the right appointments with type and initials only, no caching, an audited read; the back-office
page where a clinician manages their own link and administrators switch off anyone's."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from acuclinic.accounts.models import AuditEvent
from acuclinic.scheduling import feed
from acuclinic.scheduling.models import AppointmentStatus
from acuclinic.scheduling.services import book_appointment
from tests.factories import make_user

pytestmark = pytest.mark.django_db

MY_FEED = "/admin/my-calendar-feed/"
ALL_FEEDS = "/admin/calendar-feeds/"


def book(clinic, start, *, patient=None, practitioner=None, room=None):
    return book_appointment(
        patient=patient or clinic.patient,
        practitioner=practitioner or clinic.practitioner,
        room=room or clinic.room,
        appointment_type=clinic.follow_up,
        start=start,
    )


def at(delta):
    return (timezone.now() + delta).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def clinician(clinic):
    user = make_user("dr-needles", "Clinicians")
    clinic.practitioner.user = user
    clinic.practitioner.save()
    client = Client()
    client.force_login(user)
    return user, client


def feed_path(token):
    return reverse("scheduling_calendar_feed", kwargs={"token": token})


def test_only_the_hash_is_stored_and_a_wrong_replaced_or_revoked_token_answers_404(clinic):
    token = feed.create_feed_token(practitioner=clinic.practitioner, by=None)
    clinic.practitioner.refresh_from_db()
    assert clinic.practitioner.feed_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in clinic.practitioner.feed_token_hash and len(token) >= 43

    client = Client()
    assert client.get(feed_path(token)).status_code == 200
    assert client.get(feed_path(token[:-1] + ("A" if token[-1] != "A" else "B"))).status_code == 404
    assert client.get(feed_path(clinic.practitioner.feed_token_hash)).status_code == 404  # the hash is no key
    assert client.get(feed_path("x")).status_code == 404

    new_token = feed.create_feed_token(practitioner=clinic.practitioner, by=None)
    assert client.get(feed_path(token)).status_code == 404
    assert client.get(feed_path(new_token)).status_code == 200
    assert feed.revoke_feed_token(practitioner=clinic.practitioner, by=None) is True
    assert client.get(feed_path(new_token)).status_code == 404
    assert feed.revoke_feed_token(practitioner=clinic.practitioner, by=None) is False
    # A practitioner without a feed (empty hash) is never matched, whatever is presented.
    assert feed.practitioner_for_token("") is None


def test_feed_content_window_minimum_necessary_no_cache_and_audited_read(clinic, clinician):
    user, _ = clinician
    clinic.patient.first_name, clinic.patient.last_name = "Quentin", "Yarrow"
    clinic.patient.save()
    inside = book(clinic, at(timedelta(days=2)))
    past = book(clinic, at(-timedelta(days=29)))
    too_old = book(clinic, at(-timedelta(days=31)))
    too_far = book(clinic, at(timedelta(days=91)))
    cancelled = book(clinic, at(timedelta(days=3)))
    cancelled.status, cancelled.cancellation_reason = AppointmentStatus.CANCELLED, "sciatica worse"
    cancelled.save()
    someone_else = book(
        clinic,
        at(timedelta(days=2)),
        patient=clinic.other_patient,
        practitioner=clinic.other_practitioner,
        room=clinic.other_room,
    )
    token = feed.create_feed_token(practitioner=clinic.practitioner, by=user)

    response = Client().get(feed_path(token))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Cache-Control"] == "private, no-store"
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    ids = {str(e["UID"]).split("@")[0] for e in events}
    assert ids == {f"appointment-{a.pk}" for a in (inside, past)}
    assert not ids & {f"appointment-{a.pk}" for a in (too_old, too_far, cancelled, someone_else)}
    summaries = {str(e["SUMMARY"]) for e in events}
    assert summaries == {"Follow-up (test) — Q.Y."}
    text = response.content.decode()
    for private in ("Quentin", "Yarrow", "sciatica", "1980"):
        assert private not in text

    event = AuditEvent.objects.filter(
        action=AuditEvent.Action.READ,
        object_type="scheduling.practitioner",
        object_id=str(clinic.practitioner.pk),
    ).get()
    assert event.actor_username == "dr-needles"
    assert event.detail.startswith("calendar feed: 2 appointments; ids ")
    assert str(inside.pk) in event.detail and "Yarrow" not in event.detail


def test_clinician_creates_sees_once_replaces_and_revokes_their_own_link(clinic, clinician):
    user, client = clinician
    page = client.get(MY_FEED)
    assert page.status_code == 200 and "You have no calendar feed link" in page.content.decode()

    created = client.post(MY_FEED, {"action": "create"})
    assert created.status_code == 200
    assert created["Cache-Control"].startswith("max-age=0") or "no-store" in created["Cache-Control"]
    url = re.search(r'value="(http[^"]+\.ics)"', created.content.decode()).group(1)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert Client().get(feed_path(token)).status_code == 200
    clinic.practitioner.refresh_from_db()
    assert clinic.practitioner.feed_token_hash == feed.hash_token(token)

    again = client.get(MY_FEED).content.decode()
    assert token not in again and "not shown again" in again

    replaced = client.post(MY_FEED, {"action": "create"}).content.decode()
    new_token = re.search(r'value="http[^"]+/calendar/([^"/]+)\.ics"', replaced).group(1)
    assert new_token != token
    assert Client().get(feed_path(token)).status_code == 404

    assert client.post(MY_FEED, {"action": "revoke"}).status_code == 302
    assert Client().get(feed_path(new_token)).status_code == 404
    changes = AuditEvent.objects.filter(
        action=AuditEvent.Action.CHANGE, object_type="scheduling.practitioner", actor_username="dr-needles"
    )
    assert sorted(changes.values_list("detail", flat=True)) == [
        "calendar feed link created",
        "calendar feed link created",
        "calendar feed link revoked",
    ]


def test_a_clinician_without_a_linked_practitioner_cannot_make_a_link(clinic):
    client = Client()
    client.force_login(make_user("unlinked", "Clinicians"))
    assert "not linked to a practitioner" in client.get(MY_FEED).content.decode()
    assert client.post(MY_FEED, {"action": "create"}).status_code == 302
    clinic.practitioner.refresh_from_db()
    assert clinic.practitioner.feed_token_hash == ""


def test_administrators_revoke_anyones_link_and_others_cannot(clinic, clinician):
    token = feed.create_feed_token(practitioner=clinic.practitioner, by=None)
    revoke = reverse("scheduling_calendar_feed_revoke", kwargs={"pk": clinic.practitioner.pk})
    for role in ("Front desk", "Clinicians", "Editors"):
        client = Client()
        client.force_login(make_user(f"u-{role[:5].lower()}", role))
        assert client.post(revoke).status_code == 403
        assert client.get(ALL_FEEDS).status_code == 403
    assert Client().get(feed_path(token)).status_code == 200

    admin = Client()
    admin.force_login(make_user("admin-a", "Administrators"))
    listing = admin.get(ALL_FEEDS)
    assert listing.status_code == 200 and clinic.practitioner.name in listing.content.decode()
    assert token not in listing.content.decode()
    assert admin.post(revoke).status_code == 302
    assert Client().get(feed_path(token)).status_code == 404
    assert admin.post(reverse("scheduling_calendar_feed_revoke", kwargs={"pk": 999999})).status_code == 404


def test_menu_item_shown_to_clinicians_only(clinic, clinician):
    _, client = clinician
    assert MY_FEED in client.get("/admin/").content.decode()
    desk = Client()
    desk.force_login(make_user("desk-m", "Front desk"))
    assert MY_FEED not in desk.get("/admin/").content.decode()
    assert desk.get(MY_FEED).status_code == 403

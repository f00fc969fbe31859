"""Public practitioner pages and who is bookable where (scheduling.selectors.bookable_locations)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Site

from acuclinic.core.models import ClinicSettings
from acuclinic.scheduling.models import AppointmentType, Licence, Location, Practitioner
from acuclinic.scheduling.selectors import bookable_locations

DAY = date(2030, 6, 3)


@pytest.fixture
def people(db):
    ny = Location.objects.create(name="Profile NY", address="1 Test St\nNew York", state="NY")
    nj = Location.objects.create(
        name="Profile NJ", address="2 Test Rd", state="NJ", time_zone="America/New_York"
    )
    lee = Practitioner.objects.create(
        name="Lee Profile",
        credentials="L.Ac., Dipl. Ac. (NCCAOM)",
        bio="Treats back pain.",
        languages="English, Spanish",
    )
    lee.locations.set([ny, nj])
    Licence.objects.create(
        practitioner=lee, state="NY", number="NY-123", expires_on=DAY + timedelta(days=365)
    )
    Licence.objects.create(practitioner=lee, state="NJ", number="NJ-9", expires_on=DAY - timedelta(days=1))
    follow_up = AppointmentType.objects.create(name="Profile follow-up", duration_minutes=30)
    follow_up.practitioners.add(lee)
    return {"ny": ny, "nj": nj, "lee": lee, "type": follow_up}


def test_bookable_only_where_an_unexpired_licence_covers_the_state(people):
    lee, ny, nj = people["lee"], people["ny"], people["nj"]
    assert bookable_locations(lee, on=DAY) == [ny]  # the NJ licence expired the day before
    assert bookable_locations(lee, on=DAY - timedelta(days=1)) == [
        nj,
        ny,
    ]  # its last valid day (ordered by name)
    assert bookable_locations(lee, on=DAY + timedelta(days=366)) == []  # the NY licence has expired too


def test_not_bookable_when_inactive_without_types_or_outside_its_locations(people):
    lee, ny = people["lee"], people["ny"]
    other = Location.objects.create(name="Profile NY 2", state="NY")
    assert other not in bookable_locations(lee, on=DAY)  # licensed in NY, but does not work there
    people["type"].practitioners.remove(lee)
    assert bookable_locations(lee, on=DAY) == []  # offers no appointment type
    people["type"].practitioners.add(lee)
    lee.is_active = False
    assert bookable_locations(lee, on=DAY) == []
    lee.is_active = True
    assert bookable_locations(lee, on=DAY) == [ny]


def test_bookable_locations_agrees_with_licensed_in(people):
    lee = people["lee"]
    for day in (DAY - timedelta(days=1), DAY, DAY + timedelta(days=365), DAY + timedelta(days=366)):
        expected = [loc for loc in lee.locations.all() if lee.licensed_in(loc.state, day)]
        assert bookable_locations(lee, on=day) == expected


def test_list_shows_active_practitioners_only(people, client):
    Practitioner.objects.create(name="Retired Person", is_active=False)
    response = client.get(reverse("practitioner_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Lee Profile" in body and reverse("practitioner_profile", kwargs={"slug": "lee-profile"}) in body
    assert "Retired Person" not in body
    listed = [card.practitioner for card in response.context["cards"]]
    assert listed == list(Practitioner.objects.filter(is_active=True).order_by("name", "pk"))


def test_list_shows_credentials_languages_photo_and_book_link(people, client):
    lee = people["lee"]
    lee.photo = Image.objects.create(title="lee.jpg", file=get_test_image_file())
    lee.save()
    Practitioner.objects.create(name="Ash Unbookable", credentials="L.Ac.", languages="English, Korean")
    body = client.get(reverse("practitioner_list")).content.decode()
    assert "Dipl. Ac. (NCCAOM)" in body and "Speaks English, Spanish" in body
    assert 'alt="Photo of Lee Profile"' in body
    link = reverse("booking_start") + "?practitioner=lee-profile"
    assert f'href="{link}"' in body and "Book with Lee Profile" in body
    # No appointment type, location or licence: listed, but no online booking (the profile's rule).
    assert "Ash Unbookable" in body and "Speaks English, Korean" in body
    assert "Book with Ash Unbookable" not in body
    Licence.objects.filter(practitioner=lee).update(expires_on=timezone.localdate() - timedelta(days=1))
    body = client.get(reverse("practitioner_list")).content.decode()
    assert "Lee Profile" in body and "Book with Lee Profile" not in body


def test_main_navigation_links_to_the_practitioners(db, client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    nav = body[body.index('<nav aria-label="Main">') :]
    nav = nav[: nav.index("</nav>")]
    assert f'<a href="{reverse("practitioner_list")}">Practitioners</a>' in nav


def test_profile_shows_credentials_languages_locations_and_licences(people, client):
    response = client.get(reverse("practitioner_profile", kwargs={"slug": "lee-profile"}))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Dipl. Ac. (NCCAOM)" in body and "Treats back pain." in body
    assert "<li>Spanish</li>" in body
    assert "Profile NY" in body and "Profile NJ" in body
    assert "NY-123" in body and "NJ-9" in body
    assert "Licensed Acupuncturist (L.Ac.)" in body
    assert "<strong>expired</strong>" not in body
    Licence.objects.filter(number="NJ-9").update(expires_on=timezone.localdate() - timedelta(days=1))
    body = client.get(reverse("practitioner_profile", kwargs={"slug": "lee-profile"})).content.decode()
    assert body.count("<strong>expired</strong> on") == 1


def test_no_booking_where_the_licence_has_expired_and_the_phone_instead(people, client):
    site = Site.objects.get(is_default_site=True)
    clinic = ClinicSettings.for_site(site)
    clinic.phone = "+12125550142"
    clinic.save()
    lee = people["lee"]
    Licence.objects.filter(practitioner=lee).update(expires_on=timezone.localdate() - timedelta(days=1))
    body = client.get(reverse("practitioner_profile", kwargs={"slug": lee.slug})).content.decode()
    assert "Not taking online bookings at Profile NY" in body
    assert "Not taking online bookings at Profile NJ" in body
    assert "(212) 555-0142" in body
    assert "Book with" not in body


def test_unknown_or_inactive_profile_is_a_404(people, client):
    assert client.get("/practitioners/nobody/").status_code == 404
    people["lee"].is_active = False
    people["lee"].save()
    assert client.get(reverse("practitioner_profile", kwargs={"slug": "lee-profile"})).status_code == 404


def test_photo_has_alt_text(people, client):
    image = Image.objects.create(title="lee.jpg", file=get_test_image_file())
    lee = people["lee"]
    lee.photo = image
    lee.save()
    body = client.get(reverse("practitioner_profile", kwargs={"slug": lee.slug})).content.decode()
    assert 'alt="Photo of Lee Profile"' in body
    image.description = "Lee smiling in the treatment room"
    image.save()
    body = client.get(reverse("practitioner_profile", kwargs={"slug": lee.slug})).content.decode()
    assert 'alt="Lee smiling in the treatment room"' in body


def test_book_link_only_where_bookable(people, client):
    lee = people["lee"]
    Licence.objects.filter(number="NJ-9").update(expires_on=timezone.localdate() - timedelta(days=1))
    body = client.get(reverse("practitioner_profile", kwargs={"slug": lee.slug})).content.decode()
    link = reverse("booking_start") + "?practitioner=lee-profile"
    assert f'href="{link}"' in body and "Book with Lee Profile" in body
    assert "Not taking online bookings at Profile NJ" in body  # expired NJ licence
    assert "Not taking online bookings at Profile NY" not in body


def test_sitemap_lists_profiles(people, client):
    body = client.get("/sitemap.xml").content.decode()
    assert "/practitioners/lee-profile/</loc>" in body and "/practitioners/</loc>" in body
    assert "/articles/" in body  # the Wagtail pages are still there

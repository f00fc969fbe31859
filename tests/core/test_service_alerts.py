from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from acuclinic.core.models import ServiceAlert
from acuclinic.core.selectors import active_service_alerts

pytestmark = pytest.mark.django_db


def test_phones_down_alert_without_an_address_cannot_be_saved():
    # The source page published "contact us by email at for all matters" with no address at all.
    alert = ServiceAlert(
        message="Our phones are down because of a carrier outage. Please email us for all matters."
    )
    with pytest.raises(ValidationError) as exc:
        alert.full_clean()
    assert "contact_by" in exc.value.message_dict

    alert.contact_by = ServiceAlert.ContactBy.EMAIL
    with pytest.raises(ValidationError) as exc:
        alert.full_clean()
    assert exc.value.message_dict["contact_email"] == ["Enter the e-mail address people should use."]

    alert.contact_email = "not an address"
    with pytest.raises(ValidationError) as exc:
        alert.full_clean()
    assert "contact_email" in exc.value.message_dict

    alert.contact_email = "frontdesk@clinic.example"
    alert.full_clean()
    alert.save()


def test_phone_alert_normalises_and_rejects_bad_numbers():
    alert = ServiceAlert(
        message="Call our backup line.", contact_by=ServiceAlert.ContactBy.PHONE, contact_phone="12"
    )
    with pytest.raises(ValidationError) as exc:
        alert.full_clean()
    assert "contact_phone" in exc.value.message_dict
    alert.contact_phone = "(212) 555-0142"
    alert.full_clean()
    assert alert.contact_phone == "+12125550142"
    assert alert.contact_phone_display == "(212) 555-0142"


def test_database_refuses_an_email_alert_without_an_address():
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceAlert.objects.create(message="Email us", contact_by="email", contact_email="")


def test_database_refuses_an_alert_that_ends_before_it_starts():
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceAlert.objects.create(message="Closed", starts_at=now, ends_at=now - timedelta(hours=1))


def test_only_alerts_in_their_window_are_active():
    now = timezone.now()
    current = ServiceAlert.objects.create(message="Now", starts_at=now - timedelta(hours=1))
    ServiceAlert.objects.create(message="Later", starts_at=now + timedelta(hours=1))
    ServiceAlert.objects.create(
        message="Over", starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=2)
    )
    assert [a.pk for a in active_service_alerts(at=now)] == [current.pk]


def test_alert_shows_on_every_page_with_its_address(demo, client):
    ServiceAlert.objects.create(
        message="Our phones are down because of a carrier outage.",
        severity="critical",
        contact_by="email",
        contact_email="frontdesk@clinic.example",
    )
    for url in ["/", "/articles/", "/topics/back-pain/", demo.url, "/search/?q=back", "/experts/"]:
        html = client.get(url).content.decode()
        assert "Our phones are down because of a carrier outage." in html, url
        assert 'href="mailto:frontdesk@clinic.example"' in html, url


def test_cached_alerts_expire_when_an_alert_ends(demo, client):
    ends = timezone.now() + timedelta(seconds=2)
    ServiceAlert.objects.create(
        message="Brief outage", starts_at=timezone.now() - timedelta(minutes=1), ends_at=ends
    )
    assert "Brief outage" in client.get("/").content.decode()
    from freezegun import freeze_time

    with freeze_time(ends + timedelta(seconds=1)):
        assert "Brief outage" not in client.get("/").content.decode()


def test_admin_shows_the_missing_address_error_next_to_the_field(demo, admin_client):
    response = admin_client.post(
        "/admin/snippets/core/servicealert/add/",
        {
            "message": "Our phones are down. Please email us for all matters.",
            "severity": "critical",
            "contact_by": "email",
            "contact_email": "",
            "contact_phone": "",
            "starts_at": "2026-11-23 09:00",
            "ends_at": "",
        },
    )
    assert response.status_code == 200  # the form again, not a redirect
    html = response.content.decode()
    assert "Enter the e-mail address people should use." in html
    assert not ServiceAlert.objects.exists()

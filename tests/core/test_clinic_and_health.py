import pytest
from django.core.exceptions import ValidationError
from wagtail.models import Site

from acuclinic.core.models import ClinicSettings

pytestmark = pytest.mark.django_db


def test_header_and_footer_show_clinic_settings_and_emergency_notice(demo, client):
    clinic = ClinicSettings.for_site(Site.objects.get(is_default_site=True))
    clinic.practice_name = "Riverside Back Care"
    clinic.phone = "(518) 555-0199"
    clinic.full_clean()
    clinic.save()
    for url in ["/", demo.url, "/topics/back-pain/"]:
        html = client.get(url).content.decode()
        assert "Riverside Back Care" in html
        assert 'href="tel:+15185550199"' in html and "(518) 555-0199" in html
        assert "If this is a medical emergency, call 911 or go to the nearest emergency department." in html
        assert "Monday to Friday: 8 am to 6 pm" in html


def test_clinic_phone_must_be_a_real_number(demo):
    clinic = ClinicSettings.for_site(Site.objects.get(is_default_site=True))
    clinic.phone = "call us"
    with pytest.raises(ValidationError):
        clinic.full_clean()


def test_health_checks_the_database(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_reports_database_failure(client, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/health/")
    assert response.status_code == 503


def test_robots_points_at_sitemap(client):
    body = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body
    assert "Disallow: /admin/" in body


def test_load_initial_data_twice_changes_nothing(demo):
    from django.apps import apps
    from django.core.management import call_command

    def counts():
        return {
            m._meta.label: m.objects.count()
            for m in apps.get_models()
            if m._meta.app_label not in {"sessions"}
        }

    before = counts()
    from tests.conftest import _Null

    call_command("load_initial_data", stdout=_Null())
    assert counts() == before

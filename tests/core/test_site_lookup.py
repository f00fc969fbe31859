"""The site and clinic settings kept per process (acuclinic/core/site_lookup.py) never hide a change."""

import pytest

from acuclinic.core.models import ClinicSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def keeping(settings):
    settings.SITE_LOOKUP_KEEP = True  # as in production


def test_kept_settings_cost_no_query_and_a_change_shows_on_the_next_request(db, client, keeping):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/book/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/book/")
    assert not [q for q in captured.captured_queries if "core_clinicsettings" in q["sql"]]

    clinic = ClinicSettings.objects.get()
    clinic.practice_name = "Renamed Acupuncture Practice"
    clinic.save()  # replaces the page cache's generation, under which the settings are kept
    assert "Renamed Acupuncture Practice" in client.get("/book/").text


def test_each_request_gets_its_own_copy(db, rf, keeping):
    from acuclinic.core import site_lookup

    first = site_lookup.clinic_for(rf.get("/book/"))
    second = site_lookup.clinic_for(rf.get("/book/"))
    assert first is not second and first.pk == second.pk


def test_the_kept_sidebar_is_the_sidebar_and_follows_the_users_groups(db, client, keeping):
    import re

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from acuclinic.accounts.roles import ADMINISTRATORS, FRONT_DESK, ensure_roles

    ensure_roles()
    user = get_user_model().objects.create_user("sidebar-desk", "s@example.com", "x-password-0123456789")
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    client.force_login(user)

    def sidebar():
        html = client.get("/admin/").content.decode()
        return re.search(r'<script id="wagtail-sidebar-props"[^>]*>(.*?)</script>', html, re.S).group(1)

    first, kept = sidebar(), sidebar()
    assert kept == first and "appointment-requests" in first and "audit-log" not in first
    user.groups.add(Group.objects.get(name=ADMINISTRATORS))
    assert "audit-log" in sidebar()  # other groups: another sidebar at once

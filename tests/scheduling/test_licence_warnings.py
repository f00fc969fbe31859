"""The back office warns 60 days before a licence expires: a dashboard panel and a weekly e-mail to the clinic."""

import smtplib
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from wagtail.models import Site

from acuclinic.accounts.roles import ADMINISTRATORS, CLINICIANS, EDITORS, FRONT_DESK
from acuclinic.core import scheduler
from acuclinic.core.models import ClinicSettings
from acuclinic.core.scheduler import JOBS, enqueue_due_jobs
from acuclinic.scheduling.licence_tasks import send_licence_expiry_warnings
from acuclinic.scheduling.models import Licence, Practitioner
from acuclinic.scheduling.selectors import licence_warnings
from tests.factories import make_user

TASK_PATH = "acuclinic.scheduling.licence_tasks.send_licence_expiry_warnings"
TODAY = date(2030, 6, 3)


@pytest.fixture
def licences(demo):
    # Only this test's licences count.
    Licence.objects.update(expires_on=date(2099, 1, 1))
    kim = Practitioner.objects.create(name="Kim Warned", credentials="L.Ac.")
    ray = Practitioner.objects.create(name="Ray Renewed", credentials="L.Ac.")
    gone = Practitioner.objects.create(name="Gone Away", is_active=False)

    def make(practitioner, number, days, state="NY"):
        return Licence.objects.create(
            practitioner=practitioner, state=state, number=number, expires_on=TODAY + timedelta(days=days)
        )

    return {
        "expired": make(kim, "K-EXPIRED", -1, state="NJ"),
        "today": make(kim, "K-TODAY", 0, state="CT"),
        "edge": make(kim, "K-60", 60),
        "later": make(kim, "K-61", 61, state="PA"),
        "renewed_old": make(ray, "R-OLD", 10),
        "renewed_new": make(ray, "R-NEW", 400),
        "inactive": make(gone, "G-1", 5),
    }


def test_expired_and_expiring_within_60_days_soonest_first(licences):
    warnings = licence_warnings(today=TODAY)
    assert [w.licence.number for w in warnings] == ["K-EXPIRED", "K-TODAY", "K-60"]
    assert [w.days_left for w in warnings] == [-1, 0, 60]
    assert [w.expired for w in warnings] == [True, False, False]


def test_panel_on_the_dashboard_for_administrators_and_front_desk_only(licences, client):
    Licence.objects.filter(number="K-60").update(expires_on=timezone.localdate() + timedelta(days=30))
    for group, sees in ((ADMINISTRATORS, True), (FRONT_DESK, True), (CLINICIANS, False), (EDITORS, False)):
        user = make_user(f"lic-{group.lower().replace(' ', '-')}", group)
        client.force_login(user)
        response = client.get(reverse("wagtailadmin_home"))
        assert response.status_code == 200
        body = response.content.decode()
        assert ("Licences to renew" in body) is sees, group
        assert ("K-60" in body and "Kim Warned" in body) is sees, group
        client.logout()


def test_no_panel_when_nothing_expires(licences, client):
    Licence.objects.update(expires_on=timezone.localdate() + timedelta(days=700))
    client.force_login(make_user("lic-admin", ADMINISTRATORS))
    assert "Licences to renew" not in client.get(reverse("wagtailadmin_home")).content.decode()


@pytest.fixture
def clinic_email(demo):
    clinic = ClinicSettings.for_site(Site.objects.get(is_default_site=True))
    clinic.contact_email = "office@clinic.example"
    clinic.save()
    return clinic.contact_email


def test_weekly_email_to_the_clinic_lists_the_licences(licences, clinic_email, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    assert send_licence_expiry_warnings.call() == 1
    [message] = mail.outbox
    assert message.to == [clinic_email]
    assert message.subject == "3 practitioner licences to renew (1 expired)"
    assert "Kim Warned: L.Ac. NJ K-EXPIRED, expired on Jun 2, 2030" in message.body
    assert "Kim Warned: L.Ac. NY K-60, expires on Aug 2, 2030" in message.body
    assert "R-OLD" not in message.body and "G-1" not in message.body and "K-61" not in message.body


def test_no_email_when_nothing_expires_or_no_address(licences, clinic_email, monkeypatch):
    assert send_licence_expiry_warnings.call() == 0  # today: every licence runs well past 60 days
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    ClinicSettings.objects.update(contact_email="")
    assert send_licence_expiry_warnings.call() == 0
    assert mail.outbox == []


def test_refused_mail_is_retried(licences, clinic_email, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    assert send_licence_expiry_warnings.call() == 0
    retry = DBTaskResult.objects.get(task_path=TASK_PATH)
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}


def test_registered_as_a_weekly_job(db, monkeypatch):
    monkeypatch.setattr(
        scheduler, "JOBS", {"weekly-licence-expiry-warnings": JOBS["weekly-licence-expiry-warnings"]}
    )
    ny = zoneinfo.ZoneInfo("America/New_York")
    assert enqueue_due_jobs(datetime(2026, 11, 23, 7, 30, tzinfo=ny)) == []  # Monday, before 8:00
    due = datetime(2026, 11, 23, 8, 1, tzinfo=ny)
    assert enqueue_due_jobs(due) == [("weekly-licence-expiry-warnings", "2026-W48")]
    assert enqueue_due_jobs(due + timedelta(days=2)) == []  # once a week
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 1

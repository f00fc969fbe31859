"""While a "phones down" alert is on, nothing on the site or in e-mails tells people to call the clinic (issue 10).

Every phone call-to-action asks one context value (``phones_down``, from core.selectors.phones_down_alert) and gives
the alert's e-mail address instead; an administrator ends the alert with one button, audited.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Site

from acuclinic.accounts.models import AuditEvent
from acuclinic.core.models import ClinicSettings, ServiceAlert
from acuclinic.core.selectors import phones_down_alert
from acuclinic.scheduling.models import Practitioner
from tests.appointments.conftest import valid_post  # noqa: F401 - the request form's fixture
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ALTERNATIVE = "outage@acuclinic.example"
TEMPLATES = Path(__file__).resolve().parents[2] / "acuclinic" / "templates"
# Staff screens other helpers own, and the staff's own sign-in pages (about authenticator phones).
NOT_PUBLIC = ("scheduling/admin", "clinical/admin", "appointments/admin", "accounts", "wagtailadmin")


@pytest.fixture
def outage(demo):
    clinic = ClinicSettings.for_site(Site.objects.get(is_default_site=True))
    assert clinic.phone  # the demo clinic has a number, so every call-to-action would show it
    return ServiceAlert.objects.create(
        message="Our phones are down because of a carrier outage.",
        severity="critical",
        contact_by="email",
        contact_email=ALTERNATIVE,
        phones_down=True,
        starts_at=timezone.now() - timedelta(minutes=5),
    )


def calls_the_clinic(html: str) -> list[str]:
    """tel: links other than 911, and words asking people to call us (or saying we will call them)."""
    found = [link for link in re.findall(r'href="(tel:[^"]*)"', html) if link != "tel:911"]
    text = re.sub(r"<[^>]+>", " ", html)
    text = re.sub(r"\s+", " ", text)
    for phrase in (
        r"call us",
        r"or call\b",
        r"please call\b",
        r"we will call you",
        r"call or e-mail",
        r"\bCall \(\d{3}\)",
        r"Phone: \(\d{3}\)",
    ):
        found += re.findall(phrase, text, flags=re.IGNORECASE)
    return found


def public_pages(client, demo, valid_post) -> dict[str, str]:  # noqa: F811
    practitioner = Practitioner.objects.filter(is_active=True).first()
    urls = [
        "/",
        "/articles/",
        "/topics/back-pain/",
        demo.url,
        "/search/?q=back",
        "/experts/",
        reverse("practitioner_list"),
        reverse("practitioner_profile", kwargs={"slug": practitioner.slug}),
        reverse("request_appointment"),
        reverse("booking_start"),
        "/no-such-page/",
    ]
    pages = {url: client.get(url).content.decode() for url in urls}
    response = client.post(reverse("request_appointment"), valid_post(), follow=True)
    pages["confirmation"] = response.content.decode()
    return pages


def test_with_the_phones_down_no_page_asks_anyone_to_call(client, demo, outage, valid_post):  # noqa: F811
    for url, html in public_pages(client, demo, valid_post).items():
        assert calls_the_clinic(html) == [], url
        assert f"mailto:{ALTERNATIVE}" in html, url  # the alternative, in the header at least


def test_without_an_outage_the_phone_is_offered(client, demo, valid_post):  # noqa: F811
    pages = public_pages(client, demo, valid_post)
    assert all("tel:+1" in html for url, html in pages.items()), [
        u for u, h in pages.items() if "tel:+1" not in h
    ]


def test_every_public_template_with_a_phone_call_to_action_asks_the_one_context_value():
    """Found by grep (tel:, phone_uri, “call”): each such template checks ``phones_down`` or uses the partial."""
    offenders = []
    for path in TEMPLATES.rglob("*"):
        if not path.is_file() or path.suffix not in (".html", ".txt"):
            continue
        relative = str(path.relative_to(TEMPLATES))
        if relative.startswith(NOT_PUBLIC) or relative == "includes/reach_us.html":
            continue
        # The partial decides by itself: what it is told to say ("Or call us at") is not a call-to-action of its own.
        source = re.sub(r'{% include "includes/reach_us.html"[^%]*%}', "", path.read_text())
        mentions_phone = re.search(
            r"phone_uri|tel:(?!911)|\bcall (us|or)\b|please call|we will call", source, re.I
        )
        if mentions_phone and "phones_down" not in source:
            offenders.append(relative)
    assert offenders == []


def test_e_mails_give_the_alternative_address_not_the_phone(outage):
    from acuclinic.appointments.models import RequestNotification
    from acuclinic.appointments.tasks import _message
    from tests.factories import make_appointment_request

    clinic = ClinicSettings.for_site(Site.objects.get(is_default_site=True))
    request = make_appointment_request(urgency="routine", wants_email_acknowledgement=True)
    notification = RequestNotification.objects.create(
        request=request, kind=RequestNotification.Kind.PATIENT_ACK
    )
    _subject, body, _to = _message(notification)
    assert clinic.phone_display not in body and ALTERNATIVE in body

    from acuclinic.scheduling import messages

    lines = messages._contact_lines(clinic)
    assert not any(clinic.phone_display in line for line in lines) and any(
        ALTERNATIVE in line for line in lines
    )


def test_the_helper_sees_only_an_active_phones_down_alert(outage):
    assert phones_down_alert() == outage
    ServiceAlert.objects.filter(pk=outage.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    from acuclinic.core.selectors import forget_cached_alerts

    forget_cached_alerts()
    assert phones_down_alert() is None


def test_end_now_ends_the_alert_at_once_and_is_audited(outage, admin_client):
    listing = admin_client.get(reverse("wagtailsnippets_core_servicealert:list")).content.decode()
    end_url = reverse("wagtailsnippets_core_servicealert:end", args=[outage.pk])
    assert end_url in listing and "End now" in listing
    confirm = admin_client.get(end_url)
    assert confirm.status_code == 200 and "End now" in confirm.content.decode()
    before = timezone.now()
    response = admin_client.post(end_url, follow=True)
    assert response.status_code == 200
    outage.refresh_from_db()
    assert outage.ends_at is not None and before <= outage.ends_at <= timezone.now()
    assert phones_down_alert() is None
    assert AuditEvent.objects.filter(object_type="core.servicealert", object_id=str(outage.pk)).exists()
    assert "Our phones are down" not in Client().get("/").content.decode()


def test_only_administrators_can_end_an_alert(outage, client):
    client.force_login(make_user("eddie", "Editors"))
    end_url = reverse("wagtailsnippets_core_servicealert:end", args=[outage.pk])
    response = client.post(end_url)
    assert response.status_code in (302, 403)
    outage.refresh_from_db()
    assert outage.ends_at is None

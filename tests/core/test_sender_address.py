"""E-mails come from the clinic (Settings → Clinic: practice name and e-mail), not from no-reply@localhost (issue 10).

One function decides the sender (core.outbox.sender_address); every sender uses it.
"""

from email.utils import parseaddr

import pytest
from django.core import mail
from django.test import override_settings
from wagtail.models import Site

from acuclinic.core.models import ClinicSettings
from acuclinic.core.outbox import sender_address
from tests.factories import make_appointment_request, make_user

pytestmark = pytest.mark.django_db

CLINIC = ("Acuclinic Back Pain & Acupuncture", "hello@acuclinic.example")


@pytest.fixture
def clinic(demo):
    settings = ClinicSettings.for_site(Site.objects.get(is_default_site=True))
    settings.practice_name, settings.contact_email = CLINIC
    settings.save()
    return settings


def test_the_sender_is_the_clinic(clinic):
    assert parseaddr(sender_address()) == CLINIC
    assert "localhost" not in sender_address()


@override_settings(DEFAULT_FROM_EMAIL="Front desk <desk@clinic.example>")
def test_without_a_clinic_address_the_environment_decides(clinic):
    clinic.contact_email = ""
    clinic.save()
    assert sender_address() == "Front desk <desk@clinic.example>"


def test_request_notifications_come_from_the_clinic(clinic):
    from acuclinic.appointments.models import RequestNotification
    from acuclinic.appointments.tasks import send_request_notification

    request = make_appointment_request(urgency="routine")
    notification = RequestNotification.objects.create(request=request, kind=RequestNotification.Kind.CLINIC)
    send_request_notification.call(notification.pk)
    assert [parseaddr(m.from_email) for m in mail.outbox] == [CLINIC]


def test_licence_booking_and_review_mails_come_from_the_clinic(clinic):
    from acuclinic.content.tasks import reminder_message
    from acuclinic.scheduling.licence_tasks import warning_message
    from acuclinic.scheduling.messages import Mail

    reviewer = make_user("rita", "Medical reviewers")
    messages = [
        warning_message([], "admin@clinic.example"),
        Mail(subject="Your appointment", body="See you soon.", to=["pat@example.org"]).email_message(),
        reminder_message(reviewer, []),
    ]
    for message in messages:
        assert parseaddr(message.from_email) == CLINIC, message.subject

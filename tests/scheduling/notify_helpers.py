"""Shared by the notification, reminder and feed tests."""

from email import message_from_bytes, policy

import pytest
from icalendar import Calendar

from acuclinic.scheduling import sms


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "acuclinic.scheduling.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def calendar_part(message):
    """(Content-Type header, parsed Calendar) of the e-mail's .ics attachment."""
    mime = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    [part] = [p for p in mime.walk() if p.get_content_type() == "text/calendar"]
    return part["Content-Type"], part.get_filename(), Calendar.from_ical(part.get_payload(decode=True))

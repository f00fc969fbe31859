"""Text messages (appointment reminders) through a pluggable backend, in the manner of Django's e-mail backends.

``settings.SMS_BACKEND`` is the dotted path of a class with ``send_messages(messages) -> int`` (how many were sent),
raising ``SmsError`` when the provider cannot take them (the caller then tries again later):

* ``acuclinic.scheduling.sms.ConsoleBackend`` (default): writes each message to standard output, for development.
* ``acuclinic.scheduling.sms.LocmemBackend``: keeps them in ``acuclinic.scheduling.sms.outbox``, for tests.

A clinic plugs in its provider (Twilio, Vonage, AWS SNS …) with a small class of its own; see the README
("Text-message reminders"). Messages never say anything about the patient's health: time, place, practitioner and a
link, nothing else.
"""

import sys
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "acuclinic.scheduling.sms.ConsoleBackend"


class SmsError(Exception):
    """The provider did not accept the message (network, credentials, rate limit); try again later."""


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164, e.g. +12125550142
    body: str


class BaseSmsBackend:
    def __init__(self, **options):
        self.options = options

    def send_messages(self, messages: list[SmsMessage]) -> int:
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """Prints messages (number masked but for its last digits) instead of sending them."""

    def __init__(self, stream=None, **options):
        super().__init__(**options)
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send_messages(self, messages):
        with self._lock:
            for message in messages:
                self.stream.write(f"SMS to {mask(message.to)}\n{message.body}\n{'-' * 40}\n")
            self.stream.flush()
        return len(messages)


outbox: list[SmsMessage] = []


class LocmemBackend(BaseSmsBackend):
    """Keeps messages in ``outbox`` (module-level, like ``django.core.mail.outbox``); tests empty it."""

    def send_messages(self, messages):
        outbox.extend(messages)
        return len(messages)


def mask(number: str) -> str:
    return "…" + number[-2:] if len(number) > 2 else "…"


def get_backend(path: str | None = None, **options) -> BaseSmsBackend:
    return import_string(path or getattr(settings, "SMS_BACKEND", "") or DEFAULT_BACKEND)(**options)


def send_sms(*, to: str, body: str) -> int:
    return get_backend().send_messages([SmsMessage(to=to, body=body)])

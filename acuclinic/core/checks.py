"""System checks of the deployment (``manage.py check --deploy``).

E-mail: patients' confirmations carry their signed booking links. Without a mail server Django's default would be
the console backend, which writes every message — links included — to the log. Production must name a mail server
(``EMAIL_HOST``) or say explicitly that it runs without e-mail (``EMAIL_OFF=true``: nothing is sent or printed).
"""

from django.conf import settings
from django.core.checks import Error, Tags, register

# Backends that deliver nothing to anyone (they print, keep or drop the message).
NOT_DELIVERING = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}
SMTP = "django.core.mail.backends.smtp.EmailBackend"


@register(Tags.security, deploy=True)
def email_server_configured(app_configs=None, **kwargs):
    if getattr(settings, "EMAIL_OFF", False):
        return []
    backend = settings.EMAIL_BACKEND
    if backend in NOT_DELIVERING or (backend == SMTP and not settings.EMAIL_HOST):
        return [
            Error(
                "No e-mail server is set: patients' e-mails (with their booking links) would be written to the "
                "log or lost.",
                hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, DEFAULT_FROM_EMAIL), "
                "or EMAIL_OFF=true to run without e-mail (patients then get no e-mail at all).",
                id="core.E001",
            )
        ]
    return []

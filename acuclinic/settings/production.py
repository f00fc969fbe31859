"""Production: everything secret or host-specific must come from the environment.

`manage.py check --deploy --fail-level WARNING` is clean with these settings (tests/security/test_web_layer.py).
HTTPS, HSTS and cookies are here; the Content Security Policy, X-Frame-Options, Referrer-Policy and
Permissions-Policy apply in every environment and live in base.py ("Security headers"). README: "Security
headers and HTTPS".
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = False
if not SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured("Set SECRET_KEY in the environment.")

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto: https on every request it forwards, and strips
# any X-Forwarded-Proto the client sent (README, "Security headers and HTTPS"). BEHIND_TLS_PROXY=false when
# gunicorn itself terminates TLS: then the header must not be trusted at all.
if env_bool("BEHIND_TLS_PROXY", True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# /health/ answers the load balancer's plain-HTTP probe without a redirect.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# "preload" only allows the domain to be submitted to the browsers' HSTS preload list (hstspreload.org); the
# submission is a separate, deliberate step. SECURE_HSTS_PRELOAD=false for a domain that must never be listed,
# which also silences Django's reminder (security.W021) about it: that is then a decision, not an oversight.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
SESSION_COOKIE_HTTPONLY = True
# The CSRF cookie is read by no script of ours (forms carry the token in a hidden field).
CSRF_COOKIE_HTTPONLY = True

# E-mail: a mail server (EMAIL_HOST, base.py), or EMAIL_OFF=true to run without e-mail; never the console, which would
# write patients' booking links to the log. `check --deploy` refuses neither set (acuclinic/core/checks.py).
EMAIL_OFF = env_bool("EMAIL_OFF", False)
if EMAIL_OFF:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

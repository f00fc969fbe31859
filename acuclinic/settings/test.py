"""Tests: fast hashing, in-memory mail, tasks run on the database backend like production."""

from .base import *  # noqa: F403

SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "acuclinic.scheduling.sms.LocmemBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
ALLOWED_HOSTS = ["*"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Tests see every query their requests make: nothing kept between requests (acuclinic/core/site_lookup.py).
SITE_LOOKUP_KEEP = False
# Articles are rendered by their first visitor, not also on publish (content/rendering.py): no task per publish.
ARTICLE_PRERENDER = False
DEMO_CREDENTIALS_FILE = VAR_DIR / "test-demo-credentials.txt"  # noqa: F405

"""Local development: DEBUG on, a secret kept in var/ so sessions survive restarts."""

import secrets

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool

DEBUG = env_bool("DEBUG", True)
DEMO_CLINIC = env_bool("DEMO_CLINIC", True)  # `make run`: fictional patients, visits and requests (README)

_secret_file = VAR_DIR / "secret_key"
if not SECRET_KEY:  # noqa: F405
    if not _secret_file.exists():
        _secret_file.write_text(secrets.token_urlsafe(50))
        _secret_file.chmod(0o600)
    SECRET_KEY = _secret_file.read_text().strip()

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

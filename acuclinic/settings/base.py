"""Settings shared by every environment. Everything that differs between machines comes from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROJECT_DIR = BASE_DIR / "acuclinic"
VAR_DIR = Path(os.environ.get("ACUCLINIC_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "acuclinic.core",
    "acuclinic.content",
    "acuclinic.appointments",
    "acuclinic.scheduling",
    "acuclinic.clinical",
    "acuclinic.api",
    "acuclinic.accounts",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "wagtail.contrib.forms",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "django_tasks_db",
    "oauth2_provider",  # API clients: OAuth 2.0 client credentials (acuclinic/api/clients.py)
    "ninja",  # serves the Swagger UI of /api/v1/docs from our static files (no CDN): see "Security headers"
    "csp",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every error under /api/fhir/ (404, 405, 500 …) answered as a FHIR OperationOutcome: acuclinic/api/middleware.py.
    "acuclinic.api.middleware.FhirErrorsMiddleware",
    # Outside the page cache, so that a cached page gets a policy of its own: acuclinic/core/security_headers.py.
    "acuclinic.core.security_headers.PathCSPMiddleware",
    "acuclinic.core.security_headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Right inside the session layer: see the docstring of acuclinic/core/page_cache.py.
    "acuclinic.core.page_cache.PageCacheMiddleware",
    # The site and clinic settings, kept per process between requests (acuclinic/core/site_lookup.py).
    "acuclinic.core.site_lookup.SiteLookupMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Anonymous visitors' public GETs read from the replica when there is one, unless they have just written.
    "acuclinic.core.replica.ReplicaReadsMiddleware",
    # Remembers the client address for audit records written by services during this request.
    "acuclinic.accounts.audit.AuditContextMiddleware",
    # Staff who can see patient data must have verified a second factor before any back-office page.
    "acuclinic.accounts.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a lock-out raised during authentication into the lock-out response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "acuclinic.urls"
# Django's own widgets written by Python, not a template each (same HTML; acuclinic/core/form_rendering.py).
FORM_RENDERER = "acuclinic.core.form_rendering.WidgetRenderer"
CSRF_FAILURE_VIEW = "acuclinic.core.views.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "acuclinic.core.context_processors.service_alerts",
            ],
        },
    },
]

WSGI_APPLICATION = "acuclinic.wsgi.application"

# SQLite in var/ by default so a new user needs no server; DATABASE_URL selects PostgreSQL in production.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'acuclinic.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer commits; IMMEDIATE takes the write lock at BEGIN, so two writers
    # queue on busy_timeout instead of failing with "database is locked" half-way through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# A PostgreSQL streaming replica for the public pages' reads, with pinning after a write: acuclinic/core/replica.py.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["acuclinic.core.replica.ReplicaRouter"]
REPLICA_PIN_SECONDS = int(os.environ.get("REPLICA_PIN_SECONDS", "10"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Argon2id first (OWASP ASVS 2.4); older hashes are upgraded at the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock a username, and an address, out for an hour after 5 failed sign-ins (ASVS 2.2.1). Offices behind one
# shared address may raise AXES_FAILURE_LIMIT.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Sessions end after 30 idle minutes (HIPAA §164.312(a)(2)(iii) automatic logoff): every request renews the expiry.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Acuclinic")
# Flash messages (e.g. "Created patient: NAME") stay on the server, not in a signed but readable cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LANGUAGE_CODE = "en-us"
# "10:00 AM" for {{ value|time }} and datetimes shown as they are (acuclinic/formats/en/formats.py; core/timefmt.py).
FORMAT_MODULE_PATH = ["acuclinic.formats"]
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PROJECT_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads (article images, documents) on S3 or any S3-compatible store (django-storages) when a bucket is named;
# else on disk in MEDIA_ROOT. Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the machine's role.
if os.environ.get("MEDIA_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["MEDIA_S3_BUCKET"],
            "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("MEDIA_S3_REGION") or None,
            "default_acl": "private",  # health-adjacent uploads are never public objects; URLs are signed
            "querystring_auth": True,
            "querystring_expire": 3600,
            "file_overwrite": False,
        },
    }

# E-mail: console by default; SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
# With EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (the browser tests read the mail there).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Acuclinic <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Text-message reminders: the dotted path of a backend class (acuclinic/scheduling/sms.py; README "Text messages").
SMS_BACKEND = os.environ.get("SMS_BACKEND", "acuclinic.scheduling.sms.ConsoleBackend")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
    }
    if os.environ.get("REDIS_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "acuclinic"}
}
if os.environ.get("REDIS_URL"):
    # Sessions read from Redis, shared by every app process; written through to the database, so a Redis restart
    # (it keeps nothing on disk) signs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Appointment requests (form and API) accepted per client address per hour before the rest are held back
# (the form stores them flagged as spam, the API answers 429). Raised only for load tests (bench/).
APPOINTMENTS_RATE_LIMIT_PER_HOUR = int(os.environ.get("APPOINTMENTS_RATE_LIMIT_PER_HOUR", "10"))

# Whole-page cache for anonymous visitors (acuclinic/core/page_cache.py); PAGE_CACHE=off disables it.
PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE", True)
PAGE_CACHE_MAX_AGE = int(os.environ.get("PAGE_CACHE_MAX_AGE", "60"))

# Background tasks: TASKS_BACKEND=database (default: rows in the database, `manage.py db_worker`) or rq (jobs in
# Redis, `manage.py rqworker --with-scheduler --job-class django_tasks_rq.backend.Job default`; enqueued on
# commit: acuclinic/core/tasks_rq.py), or the dotted path of another django-tasks backend.
TASKS_BACKEND_ALIASES = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "acuclinic.core.tasks_rq.OnCommitRQBackend",
}
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": TASKS_BACKEND_ALIASES.get(TASKS_BACKEND, TASKS_BACKEND),
        "QUEUES": ["default"],
    }
}
# RQ's Redis (TASKS_REDIS_URL, else REDIS_URL): read only with TASKS_BACKEND=rq.
RQ_QUEUES = {
    "default": {
        "URL": os.environ.get("TASKS_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "DEFAULT_TIMEOUT": 600,
    }
}
if TASKS["default"]["BACKEND"].startswith(("django_tasks_rq.", "acuclinic.core.tasks_rq.")):
    INSTALLED_APPS.append("django_rq")  # its rqworker command

WAGTAIL_SITE_NAME = "Acuclinic"
WAGTAILADMIN_BASE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# API clients (acuclinic/api/clients.py): client credentials only; tokens for an hour; scopes given per client.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "slots.read": "Read schedules and free slots",
        "appointments.write": "Book and cancel appointments",
    },
    "DEFAULT_SCOPES": ["slots.read"],
    "SCOPES_BACKEND_CLASS": "acuclinic.api.clients.ClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "acuclinic.api.clients.ClientValidator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,  # nosec B105 - a lifetime in seconds, not a password
    # RFC 9700 (OAuth 2.0 Security BCP): only client credentials are used here; everything else the BCP retires is off.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named in acuclinic/api's migration
# FHIR: the base of our canonical URLs (the appointment-type CodeSystem, our extensions), never the request's host.
# Set it once for the clinic and keep it: clients store these URLs. Each is served under /api/fhir/.
FHIR_CANONICAL_BASE = os.environ.get("FHIR_CANONICAL_BASE", f"{WAGTAILADMIN_BASE_URL.rstrip('/')}/api/fhir")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILIMAGES_EXTENSIONS = ["png", "jpg", "jpeg", "webp", "svg"]
WAGTAIL_ENABLE_UPDATE_CHECK = False
# Approving a workflow publishes the approved revision without the approver holding "publish": medical reviewers do
# not, so they cannot publish outside the workflow (acuclinic/content/workflow_actions.py).
WAGTAIL_FINISH_WORKFLOW_ACTION = "acuclinic.content.workflow_actions.publish_approved"
# /admin/snippets/ lists every snippet the user may see. Without this it lists only snippets without a menu item
# of their own, and as every snippet here has one, the page refused everybody (superusers included).
WAGTAILSNIPPETS_MENU_SHOW_ALL = True
WAGTAILDOCS_EXTENSIONS = ["pdf", "txt"]

# The canonical base of our FHIR definitions (Questionnaire urls in the patient export): stable across deployments,
# so one version of the built-in intake is the same Questionnaire wherever it was answered.
FHIR_CANONICAL_BASE = os.environ.get("FHIR_CANONICAL_BASE", "https://acuclinic.example/fhir").rstrip("/")
# Staff rich text is limited to these features; Wagtail's whitelist (and nh3 on save) strip the rest.
WAGTAILADMIN_RICH_TEXT_EDITORS = {
    "default": {
        "WIDGET": "wagtail.admin.rich_text.DraftailRichTextArea",
        "OPTIONS": {"features": ["bold", "italic", "link"]},
    }
}

LOGIN_URL = "wagtailadmin_login"

# Structured (JSON) logs to stdout. Health details never reach a log line: forms and services log references only,
# and the "no_health_data" filter on every handler strips what others attach (the request, SQL parameters,
# exception messages, query strings; see acuclinic/core/logging_filters.py).
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "no_health_data": {"()": "acuclinic.core.logging_filters.HealthDataFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["no_health_data"]},
        # Django's default 500 e-mail (sent only when ADMINS is set), declared here so that it is filtered too.
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["no_health_data", "require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces the unfiltered handlers Django's default logging config puts on "django" and "django.server".
        "django": {"handlers": ["mail_admins"]},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "WARNING"},
    },
}
# 500 reports (the e-mail to ADMINS) show no POST or GET value, cookie, session, local variable or exception text.
DEFAULT_EXCEPTION_REPORTER_FILTER = "acuclinic.core.logging_filters.HealthDataExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "acuclinic.core.logging_filters.HealthDataExceptionReporter"

# Uploaded images are served by the app itself unless a web server in front takes /media/ over.
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)

# Adds /bench/minimal/, the yardstick view of bench/article_page.py. Never set it on a public site.
BENCHMARK_MINIMAL_VIEW = env_bool("BENCHMARK_MINIMAL_VIEW")
if BENCHMARK_MINIMAL_VIEW:  # and X-Bench-Queries: the SQL queries of a request (acuclinic/core/bench.py)
    MIDDLEWARE = ["acuclinic.core.bench.QueryCountMiddleware", *MIDDLEWARE]

DEMO_CREDENTIALS_FILE = VAR_DIR / "demo-credentials.txt"
# load_initial_data adds the demo clinic (fictional patients, visits, requests) only where this is on: `make run`
# (dev settings) turns it on; production and tests leave it off (`--demo-clinic` asks for it explicitly).
DEMO_CLINIC = env_bool("DEMO_CLINIC", False)

ACUCLINIC_DEFAULT_REVIEW_INTERVAL_MONTHS = 12
ACUCLINIC_REVIEW_DUE_SOON_DAYS = 30


# --- Security headers (CSP, framing, referrer, permissions) ------------------------------------------------
# See acuclinic/core/security_headers.py and README "Security headers and HTTPS". HTTPS, HSTS and secure cookies
# are set in settings/production.py.
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE  # noqa: E402

# The public site: everything from our own origin; inline <script> only with the response's nonce
# ({{ request.csp_nonce }}); no plugins, no <base>, no framing; forms post to us only.
_CSP_PUBLIC = {
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF],
    "img-src": [SELF, "data:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    "object-src": [NONE],
    "base-uri": [NONE],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}
if os.environ.get("MEDIA_S3_BUCKET"):
    # Images come from the bucket's signed URLs: its origin only (MEDIA_S3_ENDPOINT_URL, or AWS's for the bucket).
    _CSP_PUBLIC["img-src"].append(
        os.environ.get("MEDIA_S3_CSP_ORIGIN")
        or os.environ.get("MEDIA_S3_ENDPOINT_URL")
        or f"https://{os.environ['MEDIA_S3_BUCKET']}.s3.amazonaws.com"
    )
CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_PUBLIC}
# The Wagtail admin writes inline scripts without a nonce (date pickers, inline panels, chooser modals) and
# inline style attributes: it gets 'unsafe-inline' for those, and nothing else the public site does not have.
CONTENT_SECURITY_POLICY_ADMIN_PATHS = ["/admin/"]
CONTENT_SECURITY_POLICY_ADMIN = {
    "DIRECTIVES": {
        **_CSP_PUBLIC,
        "script-src": [SELF, UNSAFE_INLINE],
        "style-src": [SELF, UNSAFE_INLINE],
    }
}
X_FRAME_OPTIONS = "DENY"
# Article addresses name conditions: other sites are not told which page a visitor came from.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# No staff e-mail hashes sent to gravatar.com from the admin (and no third-party image origin in its CSP).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Features the site never uses are switched off for it and for anything it could embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

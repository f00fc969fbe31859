"""Reads from a streaming replica where a few seconds' lag is harmless, with pinning after a write.

With ``DATABASE_REPLICA_URL`` set there is a second database alias, ``replica`` (a PostgreSQL hot standby).
Everything reads from and writes to the primary (``default``) except, in ``ReplicaReadsMiddleware``, the
``GET``/``HEAD`` requests of anonymous visitors to public pages — articles, practitioners, the slot search of
online booking, the confirmation pages — which read from the replica.

A replica lags the primary (milliseconds usually, seconds under load, longer while it replays a big transaction).
So a visitor who has just written — booked, moved or cancelled, sent a request, voted — is *pinned*: the response
to any unsafe request (POST, PUT, PATCH, DELETE) that did not fail sets the ``acu_pin`` cookie for
``REPLICA_PIN_SECONDS`` (10 s by default; more than the lag the replica is allowed, see the README's monitoring),
and while it is there every read of that visitor goes to the primary: the booking page they are redirected to
finds their booking, the slot search no longer offers the time they took. Anyone else may see the old state
for as long as the replica lags — which is what makes reading from the replica safe only for pages where that is
harmless: a slot shown as free that was just taken is refused at booking by the primary's constraints ("That
time was just taken").

A replica that does not answer is skipped for ten seconds (its readers use the primary), so its loss costs a
page nothing. Staff (signed in) never read from the replica, and nor does any write path: services that read in
order to write (``select_for_update``, availability checks at booking) run in POST requests, on the primary.
"""

import logging
import time
from contextvars import ContextVar

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
PIN_COOKIE = "acu_pin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Public pages whose readers may see a state a few seconds old. Not the back office, not the API (its clients
# write and read back), not patients' calendar feeds.
PRIVATE_PREFIXES = ("/admin/", "/api/", "/account/", "/calendar/", "/health/", "/documents/")

_reads_from_replica: ContextVar[bool] = ContextVar("reads_from_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


class ReplicaRouter:
    """Writes and migrations: the primary. Reads: the replica only inside ``reading_from_replica()``."""

    def db_for_read(self, model, **hints):
        if _reads_from_replica.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


class reading_from_replica:  # noqa: N801 - used as a context manager, like transaction.atomic
    def __enter__(self):
        self._token = _reads_from_replica.set(True)

    def __exit__(self, *exc):
        _reads_from_replica.reset(self._token)


def pinned(request, now: float | None = None) -> bool:
    try:
        until = float(request.COOKIES.get(PIN_COOKIE, ""))
    except ValueError:
        return False
    return (now or time.time()) < until


# A replica that did not answer is left alone for this long (per process); its readers use the primary meanwhile.
REPLICA_RETRY_SECONDS = 10.0
_replica_down_until = 0.0


def replica_available() -> bool:
    """Connect to the replica if need be; when it does not answer, read from the primary for a while."""
    global _replica_down_until
    if time.monotonic() < _replica_down_until:
        return False
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError:
        _replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
        logger.warning(
            "replica unavailable; reading from the primary", extra={"retry_in": REPLICA_RETRY_SECONDS}
        )
        return False
    return True


def may_read_from_replica(request) -> bool:
    return (
        replica_configured()
        and request.method in SAFE_METHODS
        and not request.path.startswith(PRIVATE_PREFIXES)
        and not pinned(request)
        and not request.user.is_authenticated
        and replica_available()
    )


class ReplicaReadsMiddleware:
    """Place after AuthenticationMiddleware (the session and the user are read from the primary first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if may_read_from_replica(request):
            with reading_from_replica():
                response = self.get_response(request)
            response["X-Acuclinic-Read-From"] = "replica"
            return response
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and response.status_code < 500 and replica_configured():
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                f"{time.time() + seconds:.3f}",
                max_age=seconds,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

"""The one function through which every audit record is written, and the check that the chain is intact."""

import contextvars
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from .models import AuditEvent

GENESIS = "0" * 64
# Any constant: PostgreSQL advisory lock that serialises appends so the chain has one head. (SQLite's
# BEGIN IMMEDIATE already serialises writers.)
_CHAIN_LOCK = 0x41554449


# The address of the request being served, set by AuditContextMiddleware, so that services (which take the
# acting user, not the HTTP request) still record where an action came from.
_current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_client_ip", default=None)


def client_ip(request) -> str | None:
    # REMOTE_ADDR: behind a reverse proxy, the proxy must pass the client's address (README, "Deploying").
    if request is not None:
        return request.META.get("REMOTE_ADDR") or None
    return _current_ip.get()


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            _current_ip.reset(token)


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: str = "",
    request=None,
) -> AuditEvent:
    """Append one event. Runs in the caller's transaction, so an action that rolls back leaves no record of it."""
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = obj.pk
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        authenticated = actor is not None and getattr(actor, "is_authenticated", False)
        event = AuditEvent(
            seq=seq,
            at=timezone.now(),
            actor_id=actor.pk if authenticated else None,
            actor_username=actor.get_username() if authenticated else "",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=detail[:500],
            ip_address=client_ip(request),
            prev_hash=prev_hash,
        )
        event.hash = event.compute_hash()
        event.save()
    return event


@dataclass
class ChainProblem:
    seq: int
    problem: str


def verify_chain(*, batch_size: int = 2000) -> tuple[int, list[ChainProblem]]:
    """Walk the whole log in order; return how many rows were checked and every break found."""
    problems: list[ChainProblem] = []
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        checked += 1
        if event.seq != expected_seq:
            problems.append(ChainProblem(event.seq, f"rows {expected_seq}–{event.seq - 1} are missing"))
        if event.prev_hash != expected_prev:
            problems.append(
                ChainProblem(event.seq, "does not follow the row before it (removed or inserted)")
            )
        if event.compute_hash() != event.hash:
            problems.append(ChainProblem(event.seq, "its content was changed after it was written"))
        expected_prev, expected_seq = event.hash, event.seq + 1
    return checked, problems

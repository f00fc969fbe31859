"""A practitioner's private calendar feed (``/calendar/<token>.ics``): the token, its lookup and the feed's content.

The token is 256 random bits, shown once to its practitioner; only its SHA-256 is stored
(``Practitioner.feed_token_hash``), so the database (or a backup) cannot give out a working link. A request is
matched by the hash of the token it presents: the lookup never compares secrets byte by byte, and what a timing
difference could reveal is a hash prefix, which gives nothing towards a valid token. Creating a new link replaces
the old one; revoking empties the hash, and the old link answers 404.

The feed holds what a practitioner needs in their own calendar app and no more: the appointment type and the
patient's initials — never a name, a diagnosis or a reason for the visit.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent

from .models import Appointment, Practitioner

FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=90)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- services (writes) ---------------------------------------------------------------------------------------------


def create_feed_token(*, practitioner: Practitioner, by) -> str:
    """A new feed link for the practitioner (replacing any earlier one). Returns the token: show it once."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        practitioner.feed_token_hash = hash_token(token)
        practitioner.save(update_fields=["feed_token_hash"])
        audit.record(
            actor=by, action=AuditEvent.Action.CHANGE, obj=practitioner, detail="calendar feed link created"
        )
    return token


def revoke_feed_token(*, practitioner: Practitioner, by) -> bool:
    """Switch the feed off; False if there was none."""
    with transaction.atomic():
        practitioner = Practitioner.objects.select_for_update().get(pk=practitioner.pk)
        if not practitioner.feed_token_hash:
            return False
        # An empty hash means "no feed" (bandit takes the field name for a password).
        practitioner.feed_token_hash = ""  # nosec B105
        practitioner.save(update_fields=["feed_token_hash"])
        audit.record(
            actor=by, action=AuditEvent.Action.CHANGE, obj=practitioner, detail="calendar feed link revoked"
        )
    return True


# --- selectors (reads) ---------------------------------------------------------------------------------------------


def practitioner_for_token(token: str) -> Practitioner | None:
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    practitioner = (
        Practitioner.objects.filter(feed_token_hash=digest, is_active=True).select_related("user").first()
    )
    if practitioner is None or not hmac.compare_digest(practitioner.feed_token_hash, digest):
        return None
    return practitioner


def feed_appointments(*, practitioner: Practitioner, now: datetime | None = None):
    """The practitioner's appointments that hold time, from 30 days back to 90 days ahead."""
    now = now or timezone.now()
    return (
        Appointment.objects.holding()
        .filter(practitioner=practitioner, start__gte=now - FEED_PAST, start__lte=now + FEED_AHEAD)
        .select_related("patient", "appointment_type", "location", "room", "practitioner")
        .order_by("start")
    )


def practitioners_with_feeds():
    no_feed = ""  # an empty hash means "no feed"
    return Practitioner.objects.exclude(feed_token_hash=no_feed).select_related("user").order_by("name")

"""Links for patients, who have no accounts: signed, expiring and single-purpose (ASVS 3.5, 4.2.1).

A token names one record for one purpose and is signed with the site's secret and a per-purpose salt, so a link
made to show a confirmation cannot manage a booking, a changed id breaks the signature, and an old link expires.
Records are never reachable by their database id alone.
"""

from datetime import timedelta
from enum import StrEnum

from django.core import signing


class Purpose(StrEnum):
    # The value is the signing salt: changing it invalidates every link already sent for that purpose.
    APPOINTMENT_CONFIRMATION = "appointments.confirmation"
    MANAGE_BOOKING = "scheduling.manage-booking"
    QUESTIONNAIRE = "clinical.questionnaire"
    WAITLIST_OFFER = "scheduling.waitlist-offer"


MAX_AGE: dict[Purpose, timedelta] = {
    Purpose.APPOINTMENT_CONFIRMATION: timedelta(days=7),
    Purpose.MANAGE_BOOKING: timedelta(days=90),
    Purpose.QUESTIONNAIRE: timedelta(days=14),
    # Longer than any offer is open (SchedulingSettings.waitlist_offer_hours); the page checks the offer itself.
    Purpose.WAITLIST_OFFER: timedelta(days=7),
}


class InvalidLink(Exception):
    """Tampered with, made for another purpose, or expired: the page says the link no longer works."""


def make_token(*, purpose: Purpose, object_id: int) -> str:
    return signing.dumps(int(object_id), salt=purpose.value, compress=False)


def read_token(*, purpose: Purpose, token: str) -> int:
    try:
        value = signing.loads(token, salt=purpose.value, max_age=MAX_AGE[purpose])
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature
        raise InvalidLink(str(exc)) from None
    if not isinstance(value, int):
        raise InvalidLink("not a record id")
    return value

"""Reads for scheduling: who is bookable where, public practitioner profiles, licences that need renewing."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from acuclinic.accounts.roles import ADMINISTRATORS, FRONT_DESK

from .models import Licence, Location, Practitioner

LICENCE_WARNING_DAYS = 60


# --- practitioners and where they can be booked -----------------------------------------------------------------


def public_practitioners() -> QuerySet[Practitioner]:
    """Active practitioners with what their profile and bookability need, fetched in a fixed number of queries."""
    return (
        Practitioner.objects.filter(is_active=True)
        .select_related("photo")
        .prefetch_related(
            Prefetch("locations", queryset=Location.objects.order_by("name")),
            Prefetch("licences", queryset=Licence.objects.order_by("state", "-expires_on", "kind")),
            "appointment_types",
        )
        .order_by("name", "pk")
    )


def public_practitioner(*, slug: str) -> Practitioner | None:
    return public_practitioners().filter(slug=slug).first()


def bookable_locations(practitioner: Practitioner, *, on: date | None = None) -> list[Location]:
    """The practitioner's locations where they can be booked on ``on``.

    Bookable means: the practitioner is active, offers at least one appointment type, works at the location, and
    holds a licence in the location's state that has not expired on that day. ``on`` defaults to today in each
    location's own time zone. Works on prefetched relations (``public_practitioners``) without further queries;
    ``services.book_appointment`` enforces the licence rule itself with ``Practitioner.licensed_in``.
    """
    if not practitioner.is_active or not practitioner.appointment_types.all():
        return []
    licences = list(practitioner.licences.all())
    found = []
    for location in practitioner.locations.all():
        day = on or timezone.localdate(timezone=location.zone)
        if any(lic.state == location.state and lic.expires_on >= day for lic in licences):
            found.append(location)
    return found


@dataclass(frozen=True)
class LocationBooking:
    location: Location
    bookable: bool


def profile_locations(practitioner: Practitioner, *, on: date | None = None) -> list[LocationBooking]:
    """Every location of the practitioner, each with whether patients can book it online."""
    bookable = {loc.pk for loc in bookable_locations(practitioner, on=on)}
    return [LocationBooking(loc, loc.pk in bookable) for loc in practitioner.locations.all()]


def bookable_pairs(*, on: date | None = None) -> list[tuple[Practitioner, Location]]:
    """Every (practitioner, location) that can be booked: the FHIR Schedules, in a stable order."""
    return [(p, loc) for p in public_practitioners() for loc in bookable_locations(p, on=on)]


# --- licences that expire ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LicenceWarning:
    licence: Licence
    days_left: int  # negative once expired

    @property
    def expired(self) -> bool:
        return self.days_left < 0


def licence_warnings(
    *, today: date | None = None, within_days: int = LICENCE_WARNING_DAYS
) -> list[LicenceWarning]:
    """Licences of active practitioners that have expired or expire within ``within_days``, soonest first.

    A licence that has been renewed — the same practitioner holds another of the same kind in the same state that
    runs past the warning window — is not a warning any more.
    """
    today = today or timezone.localdate()
    limit = today + timedelta(days=within_days)
    licences = list(
        Licence.objects.filter(practitioner__is_active=True, expires_on__lte=limit)
        .select_related("practitioner")
        .order_by("expires_on", "practitioner__name", "state", "pk")
    )
    renewed = set(
        Licence.objects.filter(
            practitioner__in={lic.practitioner_id for lic in licences}, expires_on__gt=limit
        ).values_list("practitioner_id", "state", "kind")
    )
    return [
        LicenceWarning(lic, (lic.expires_on - today).days)
        for lic in licences
        if (lic.practitioner_id, lic.state, lic.kind) not in renewed
    ]


def can_see_licence_warnings(user) -> bool:
    """Administrators (who keep licences up to date) and the front desk (who book): the dashboard panel."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.groups.filter(name__in=[ADMINISTRATORS, FRONT_DESK]).exists()

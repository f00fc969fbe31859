"""Public practitioner pages: who works here, their licences, and where patients can book them online."""

from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from . import selectors
from .models import Practitioner


def booking_url(practitioner) -> str:
    """The public booking flow, started with this practitioner chosen."""
    return f"{reverse('booking_start')}?{urlencode({'practitioner': practitioner.slug})}"


def photo_alt(practitioner) -> str:
    photo = practitioner.photo
    described = (getattr(photo, "description", "") or "").strip() if photo else ""
    return described or f"Photo of {practitioner.name}"


def spoken_languages(practitioner) -> list[str]:
    return [lang.strip() for lang in practitioner.languages.split(",") if lang.strip()]


def online_booking_url(practitioner, locations: list[selectors.LocationBooking]) -> str | None:
    """The "Book with …" link, only when patients can book the practitioner online at one of their locations."""
    return booking_url(practitioner) if any(item.bookable for item in locations) else None


@dataclass(frozen=True)
class PractitionerCard:
    practitioner: Practitioner
    photo_alt: str
    languages: list[str]
    booking_url: str | None


@require_safe
def practitioner_list(request):
    cards = [
        PractitionerCard(
            practitioner=practitioner,
            photo_alt=photo_alt(practitioner),
            languages=spoken_languages(practitioner),
            booking_url=online_booking_url(practitioner, selectors.profile_locations(practitioner)),
        )
        for practitioner in selectors.public_practitioners()
    ]
    return render(request, "scheduling/practitioner_list.html", {"cards": cards})


@require_safe
def practitioner_profile(request, slug: str):
    practitioner = selectors.public_practitioner(slug=slug)
    if practitioner is None:
        raise Http404("No such practitioner")
    today = timezone.localdate()
    locations = selectors.profile_locations(practitioner)
    context = {
        "practitioner": practitioner,
        "photo_alt": photo_alt(practitioner),
        "locations": locations,
        "licences": [(lic, lic.expires_on < today) for lic in practitioner.licences.all()],
        "languages": spoken_languages(practitioner),
        "booking_url": online_booking_url(practitioner, locations),
    }
    return render(request, "scheduling/practitioner_profile.html", context)

"""Public practitioner pages: who works here, their licences, and where patients can book them online."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from . import selectors


def booking_url(practitioner) -> str:
    """The public booking flow, started with this practitioner chosen."""
    return f"{reverse('booking_start')}?{urlencode({'practitioner': practitioner.slug})}"


def photo_alt(practitioner) -> str:
    photo = practitioner.photo
    described = (getattr(photo, "description", "") or "").strip() if photo else ""
    return described or f"Photo of {practitioner.name}"


@require_safe
def practitioner_list(request):
    practitioners = list(selectors.public_practitioners())
    return render(request, "scheduling/practitioner_list.html", {"practitioners": practitioners})


@require_safe
def practitioner_profile(request, slug: str):
    practitioner = selectors.public_practitioner(slug=slug)
    if practitioner is None:
        raise Http404("No such practitioner")
    today = timezone.localdate()
    locations = selectors.profile_locations(practitioner)
    bookable = any(item.bookable for item in locations)
    context = {
        "practitioner": practitioner,
        "photo_alt": photo_alt(practitioner),
        "locations": locations,
        "licences": [(lic, lic.expires_on < today) for lic in practitioner.licences.all()],
        "languages": [lang.strip() for lang in practitioner.languages.split(",") if lang.strip()],
        "booking_url": booking_url(practitioner) if bookable else None,
    }
    return render(request, "scheduling/practitioner_profile.html", context)

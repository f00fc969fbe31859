"""The public page of a waitlist offer: GET shows the offered time, POST takes it. Reached only with the signed,
expiring link from the offer e-mail; patients have no accounts."""

import logging

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from acuclinic.accounts.patient_links import InvalidLink, Purpose, read_token

from . import services, waitlist
from .models import WaitlistEntry

logger = logging.getLogger(__name__)
TEMPLATE = "scheduling/waitlist_offer.html"


def _entry(token: str) -> WaitlistEntry | None:
    try:
        pk = read_token(purpose=Purpose.WAITLIST_OFFER, token=token)
    except InvalidLink:
        return None
    return (
        WaitlistEntry.objects.select_related("offered_practitioner", "location", "appointment_type")
        .filter(pk=pk)
        .first()
    )


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_offer(request, token: str):
    entry = _entry(token)
    if entry is None:
        return render(request, TEMPLATE, {"state": "invalid"}, status=404)
    context = {"entry": entry, "state": "open"}
    if entry.status == WaitlistEntry.Status.BOOKED:
        context["state"] = "booked"
    elif entry.status != WaitlistEntry.Status.OFFERED or not _open(entry):
        context["state"] = "closed"
    if request.method == "POST" and context["state"] == "open":
        try:
            appointment = waitlist.accept_offer(entry=entry)
        except waitlist.OfferNotOpen:
            context["state"] = "closed"
        except services.SlotTaken:
            context["state"] = "taken"
            return render(request, TEMPLATE, context, status=409)
        except ValidationError:  # the online rules no longer allow it (e.g. too soon by now)
            logger.info("waitlist offer not bookable", extra={"waitlist_entry": entry.pk})
            context["state"] = "taken"
            return render(request, TEMPLATE, context, status=409)
        else:
            context.update(state="booked", appointment=appointment)
    context["local_start"] = entry.offered_start if context["state"] in ("open", "booked") else None
    return render(request, TEMPLATE, context, status=410 if context["state"] == "closed" else 200)


def _open(entry: WaitlistEntry) -> bool:
    from django.utils import timezone

    return bool(entry.offer_expires_at and entry.offer_expires_at > timezone.now())

"""Reads of instruments and their versions."""

from .models import Instrument, InstrumentVersion

INTAKE_KEY = "intake"
CONSENT_KEY = "consent"


def current_version(*, key: str) -> InstrumentVersion | None:
    """The newest version of an active instrument, or None when it is switched off."""
    return (
        InstrumentVersion.objects.filter(instrument__key=key, instrument__active=True)
        .select_related("instrument")
        .order_by("-version")
        .first()
    )


def instruments_for_list():
    return Instrument.objects.prefetch_related("versions").order_by("kind", "title")

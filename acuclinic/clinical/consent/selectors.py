"""Reads of consent: what the clinician sees ("consent signed (version, date)" or "no consent — do not treat")."""

from dataclasses import dataclass

from django.utils import timezone

from .models import ConsentRecord


@dataclass(frozen=True)
class ConsentStatus:
    signed: bool
    record: ConsentRecord | None
    withdrawn: ConsentRecord | None  # the latest withdrawn one, when none stands

    @property
    def label(self) -> str:
        if self.signed:
            signed = timezone.localtime(self.record.signed_at)
            return f"Consent signed (version {self.record.version.version}, {signed:%m/%d/%Y})"
        if self.withdrawn is not None:
            withdrawn = timezone.localtime(self.withdrawn.withdrawn_at)
            return f"Consent withdrawn on {withdrawn:%m/%d/%Y} \u2014 do not treat"
        return "No consent \u2014 do not treat"


def consent_status(*, patient) -> ConsentStatus:
    records = list(
        ConsentRecord.objects.filter(patient=patient).select_related("version").order_by("-signed_at")[:5]
    )
    standing = next((r for r in records if r.withdrawn_at is None), None)
    withdrawn = None if standing else next(iter(records), None)
    return ConsentStatus(signed=standing is not None, record=standing, withdrawn=withdrawn)


def standing_consent(*, patient) -> ConsentRecord | None:
    return (
        ConsentRecord.objects.filter(patient=patient, withdrawn_at__isnull=True)
        .select_related("version")
        .first()
    )

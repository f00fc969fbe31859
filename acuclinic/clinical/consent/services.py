"""Writes of consent: signing (the exact version of the text), withdrawing, and a new version of the text."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent

from ..instruments.models import InstrumentVersion
from .models import ConsentRecord


@transaction.atomic
def sign(
    *,
    patient,
    version: InstrumentVersion,
    signed_name: str,
    signed_date: date,
    agreed: bool,
    ip_address: str | None,
    response=None,
    now=None,
) -> ConsentRecord:
    """Record the signature. The standing consent of the same version is returned unchanged (a double submit); one
    of an older version ends when the new one is signed."""
    if not agreed:
        raise ValidationError({"agree": "Please tick \u201cI agree\u201d to sign the consent."})
    if not signed_name.strip():
        raise ValidationError({"name": "Please type your full name."})
    now = now or timezone.now()
    standing = (
        ConsentRecord.objects.select_for_update().filter(patient=patient, withdrawn_at__isnull=True).first()
    )
    if standing is not None:
        if standing.version_id == version.pk:
            return standing
        standing.withdrawn_at = now
        standing.save(update_fields=["withdrawn_at"])
    record = ConsentRecord.objects.create(
        patient=patient,
        version=version,
        response=response,
        signed_name=signed_name.strip()[:200],
        signed_date=signed_date,
        agreed=True,
        signed_at=now,
        ip_address=ip_address,
    )
    audit.record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        obj=record,
        detail=f"consent version {version.version} signed",
    )
    return record


@transaction.atomic
def withdraw(*, patient, ip_address: str | None, by=None, now=None) -> ConsentRecord | None:
    """End the standing consent (the patient through their link, or the desk on the patient's word)."""
    record = (
        ConsentRecord.objects.select_for_update().filter(patient=patient, withdrawn_at__isnull=True).first()
    )
    if record is None:
        return None
    record.withdrawn_at = now or timezone.now()
    record.withdrawn_ip = ip_address
    record.save(update_fields=["withdrawn_at", "withdrawn_ip"])
    audit.record(actor=by, action=AuditEvent.Action.CHANGE, obj=record, detail="consent withdrawn")
    return record


@transaction.atomic
def new_text_version(*, instrument, text: str, by) -> InstrumentVersion:
    """The clinic's edit of the consent text: a new version; every signed consent keeps the one it signed."""
    current = instrument.versions.select_for_update().order_by("-version").first()
    if current is not None and current.text.strip() == text.strip():
        return current
    version = InstrumentVersion.objects.create(
        instrument=instrument,
        version=(current.version + 1) if current else 1,
        definition=current.definition if current else {},
        text=text.strip(),
        created_by=by,
    )
    audit.record(
        actor=by,
        action=AuditEvent.Action.CREATE,
        obj=version,
        detail=f"{instrument.key} version {version.version}",
    )
    return version

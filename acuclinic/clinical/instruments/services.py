"""Writes of instruments from the back office: switching one on or off, adding one the clinic holds a licence for,
and a new version of an added instrument's definition. Every write is audited (references only).

The consent text's new version is consent.services.new_text_version (one place for it).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent

from . import questionnaire as q
from .models import Instrument, InstrumentVersion

ADDABLE_KINDS = (Instrument.Kind.OUTCOME, Instrument.Kind.INTAKE)
CONSENT_STAYS_ON = (
    "The consent form cannot be switched off: every intake ends with the patient's consent. "
    "Edit its text instead."
)


@transaction.atomic
def set_active(*, instrument: Instrument, active: bool, by, request=None) -> Instrument:
    """Switch an instrument on or off; switching to the state it is already in changes and records nothing."""
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    if instrument.active == active:
        return instrument
    if not active and instrument.kind == Instrument.Kind.CONSENT:
        raise ValidationError({"active": CONSENT_STAYS_ON})
    instrument.active = active
    instrument.save(update_fields=["active"])
    audit.record(
        actor=by,
        action=AuditEvent.Action.CHANGE,
        obj=instrument,
        detail=f"{instrument.key} switched {'on' if active else 'off'}",
        request=request,
    )
    return instrument


def _check_definition(definition: dict) -> None:
    found = q.problems(definition)
    if found:
        raise ValidationError({"definition": found})


def add_instrument(
    *,
    key: str,
    title: str,
    kind: str,
    licence_note: str,
    source: str,
    definition: dict,
    by,
    request=None,
) -> Instrument:
    """A new instrument (switched off until the clinic switches it on) with its definition as version 1."""
    if kind not in ADDABLE_KINDS:
        raise ValidationError({"kind": "Choose an outcome measure or an intake questionnaire."})
    if not licence_note.strip():
        raise ValidationError(
            {"licence_note": "Say who holds the rights and on what terms the clinic uses it."}
        )
    _check_definition(definition)
    instrument = Instrument(
        key=key,
        kind=kind,
        title=title.strip(),
        description=str(definition.get("description", ""))[:2000],
        active=False,
        licence_note=licence_note.strip(),
        source=source.strip(),
    )
    instrument.full_clean()
    try:
        with transaction.atomic():
            instrument.save()
            version = InstrumentVersion.objects.create(
                instrument=instrument, version=1, definition=definition, created_by=by
            )
            audit.record(
                actor=by,
                action=AuditEvent.Action.CREATE,
                obj=instrument,
                detail=f"{instrument.key} added with version 1",
                request=request,
            )
            audit.record(
                actor=by,
                action=AuditEvent.Action.CREATE,
                obj=version,
                detail=f"{instrument.key} version 1",
                request=request,
            )
    except IntegrityError:
        raise ValidationError({"key": "An instrument with this key exists already."}) from None
    return instrument


@transaction.atomic
def new_definition_version(
    *, instrument: Instrument, definition: dict, by, request=None
) -> InstrumentVersion:
    """The next version of an added instrument's definition; the earlier versions (and what answered them) stay.

    The built-in intake, consent and pain-rating definitions come with the code that reads them: not here.
    """
    if instrument.builtin or instrument.kind == Instrument.Kind.CONSENT:
        raise ValidationError("A built-in instrument's definition changes with a release of Acuclinic.")
    _check_definition(definition)
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    current = instrument.versions.order_by("-version").first()
    if current is not None and current.definition == definition:
        return current
    version = InstrumentVersion.objects.create(
        instrument=instrument,
        version=(current.version + 1) if current else 1,
        definition=definition,
        created_by=by,
    )
    audit.record(
        actor=by,
        action=AuditEvent.Action.CREATE,
        obj=version,
        detail=f"{instrument.key} version {version.version}",
        request=request,
    )
    return version

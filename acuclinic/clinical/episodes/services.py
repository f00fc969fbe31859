"""Writes of episodes of care: the one open episode of a patient, opened when it is first needed, and the
clinician's confirmation of its diagnosis."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent

from .. import selectors as clinical_selectors
from ..models import Patient
from .models import Episode


def open_episode(*, patient: Patient) -> Episode:
    """The patient's open episode, opened now if there is none (two racing callers get the same one)."""
    episode = Episode.objects.filter(patient=patient, status=Episode.Status.OPEN).first()
    if episode is not None:
        return episode
    try:
        with transaction.atomic():
            return Episode.objects.create(patient=patient)
    except IntegrityError:  # another request opened it between the read and the write
        return Episode.objects.get(patient=patient, status=Episode.Status.OPEN)


@transaction.atomic
def confirm_diagnosis(*, episode: Episode, code: str, by, request=None, now=None) -> Episode:
    """The clinician confirms the episode's ICD-10-CM code (M54.50 / M54.51 / M54.59, clinical-rules §10).

    Only a user who may write this patient's clinical record (clinicians: their own patients; superusers) may:
    anyone else gets PermissionDenied. A code outside the three is a ValidationError on "code". Confirming the code
    already confirmed changes nothing; another code replaces it (who and when are the new confirmation's). Audited
    as a change of the episode, without the code (the log holds references, never health details).
    """
    if not clinical_selectors.may_change_clinical_record(by, episode.patient):
        raise PermissionDenied("Only the patient's clinician may confirm the diagnosis.")
    if code not in Episode.Diagnosis.values:
        raise ValidationError({"code": "Choose one of the low back pain codes."})
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if episode.diagnosis == code and episode.diagnosis_confirmed_at is not None:
        return episode
    changed = bool(episode.diagnosis_confirmed_at)
    episode.diagnosis = code
    episode.diagnosis_confirmed_by = by
    episode.diagnosis_confirmed_at = now or timezone.now()
    episode.save(update_fields=["diagnosis", "diagnosis_confirmed_by", "diagnosis_confirmed_at"])
    audit.record(
        actor=by,
        action=AuditEvent.Action.CHANGE,
        obj=episode,
        detail="diagnosis changed and confirmed" if changed else "diagnosis confirmed",
        request=request,
    )
    return episode

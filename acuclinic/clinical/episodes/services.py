"""Writes of episodes of care: the one open episode of a patient, opened when it is first needed."""

from django.db import IntegrityError, transaction

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

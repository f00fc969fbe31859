"""Reads of episodes of care."""

from .models import Episode


def open_episode_of(*, patient) -> Episode | None:
    return Episode.objects.filter(patient=patient, status=Episode.Status.OPEN).first()

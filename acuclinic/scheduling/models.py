"""Practitioners. (Locations, availability and bookings come with the scheduling issue.)"""

from django.db import models


class Practitioner(models.Model):
    name = models.CharField(max_length=120)
    credentials = models.CharField(max_length=120, blank=True, help_text="e.g. “L.Ac., Dipl. Ac. (NCCAOM)”")
    is_active = models.BooleanField(default=True, help_text="Shown to patients and bookable.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name

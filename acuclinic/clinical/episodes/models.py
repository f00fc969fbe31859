"""The episode of care: one course of treatment for one complaint, the spine of the clinical course.

The intake's baseline, the session notes, the outcome series and the coverage periods of the later parts all belong
to an episode (FHIR EpisodeOfCare). A patient who comes back a year later with a new complaint starts a new one.
"""

from django.db import models
from django.db.models import Q


class Episode(models.Model):
    class Status(models.TextChoices):
        OPEN = "active", "Open"
        CLOSED = "finished", "Closed"

    # ICD-10-CM codes for low back pain (clinical-rules §10); M54.5 itself was retired on 2021-10-01.
    class Diagnosis(models.TextChoices):
        LBP_UNSPECIFIED = "M54.50", "M54.50 Low back pain, unspecified"
        LBP_VERTEBROGENIC = "M54.51", "M54.51 Vertebrogenic low back pain"
        LBP_OTHER = "M54.59", "M54.59 Other low back pain"

    patient = models.ForeignKey("clinical.Patient", on_delete=models.CASCADE, related_name="episodes")
    complaint = models.CharField(max_length=100, default="Low back pain")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    onset_date = models.DateField(
        null=True, blank=True, help_text="When the pain began, as the patient reported it."
    )
    diagnosis = models.CharField(max_length=10, choices=Diagnosis.choices, blank=True)
    diagnosis_confirmed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    diagnosis_confirmed_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="active"), name="one_open_episode_per_patient"
            ),
        ]

    def __str__(self):
        return f"{self.complaint} (episode #{self.pk})"

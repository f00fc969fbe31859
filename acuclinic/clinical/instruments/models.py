"""Instruments as data: versioned, FHIR-Questionnaire-shaped definitions, and the responses that answer them.

An instrument (the intake questionnaire, the consent form, the 0–10 pain rating, PEG, or one a clinic adds under its
own licence) has numbered versions. A version's definition is never edited: a change is a new version, so every
response and every signed consent names exactly the text that was answered or signed.
"""

from django.db import models
from django.db.models import Q


class Instrument(models.Model):
    class Kind(models.TextChoices):
        INTAKE = "intake", "Intake questionnaire"
        CONSENT = "consent", "Consent form"
        OUTCOME = "outcome", "Outcome measure"

    key = models.SlugField(
        max_length=60, unique=True, help_text="A short, stable name, e.g. 'intake' or 'peg'."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(
        default=True, help_text="Only active instruments are sent to patients or offered at check-in."
    )
    licence_note = models.TextField(
        blank=True, help_text="Who holds the rights and on what terms the clinic uses this instrument."
    )
    source = models.TextField(blank=True, help_text="Where the instrument comes from (a citation).")
    builtin = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "title"]

    def __str__(self):
        return self.title

    @property
    def current(self) -> "InstrumentVersion | None":
        return self.versions.order_by("-version").first()


class InstrumentVersion(models.Model):
    """One frozen definition. `definition` is a FHIR R4 Questionnaire (items, types, required, enableWhen,
    answerOption); `text` is the plain-words text of a consent form (empty for questionnaires)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["instrument", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "version"], name="instrument_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="instrument_version_positive"),
        ]

    def __str__(self):
        return f"{self.instrument.title}, version {self.version}"


class QuestionnaireResponse(models.Model):
    """A patient's answers to one version of an instrument: saved step by step, then completed.

    `answers` maps each item's linkId to its value (text, number, yes/no, ISO date, or a list of codes). Triage of
    the answers (the same rule set as the request form) is kept with the response so the desk's banner can list it.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in-progress", "In progress"
        COMPLETED = "completed", "Completed"

    class Source(models.TextChoices):
        LINK = "link", "The patient's link"
        DESK = "desk", "At the desk"

    patient = models.ForeignKey("clinical.Patient", on_delete=models.CASCADE, related_name="responses")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="responses")
    episode = models.ForeignKey(
        "clinical.Episode", null=True, blank=True, on_delete=models.CASCADE, related_name="responses"
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.LINK)
    answers = models.JSONField(default=dict, blank=True)
    step = models.PositiveSmallIntegerField(default=0, help_text="The first step not yet answered.")
    urgency = models.CharField(
        max_length=20, blank=True
    )  # triage.Urgency key once the warning signs are answered
    urgency_rank = models.PositiveSmallIntegerField(default=0)
    urgency_reasons = models.JSONField(default=list, blank=True)
    urgent_acknowledged_at = models.DateTimeField(null=True, blank=True)
    urgent_acknowledged_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One intake per booked visit: a double submit or a second booking e-mail finds the same one.
            models.UniqueConstraint(
                fields=["appointment", "instrument"],
                condition=Q(appointment__isnull=False),
                name="one_response_per_visit_and_instrument",
            ),
            models.CheckConstraint(
                condition=Q(status="in-progress", completed_at__isnull=True)
                | Q(status="completed", completed_at__isnull=False),
                name="response_completed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["urgency_rank", "urgent_acknowledged_at"], name="response_urgent_idx")
        ]

    def __str__(self):
        return f"Response #{self.pk} to {self.instrument_id}"

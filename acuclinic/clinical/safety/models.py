"""Safety flags: what the intake found that the acupuncturist must know before any needle (clinical-rules §1–2)."""

from django.db import models
from django.db.models import Q


class SafetyFlag(models.Model):
    class Kind(models.TextChoices):
        RED_FLAG = "red-flag", "Red flag"
        CONTRAINDICATION = "contraindication", "Contraindication"
        LOCAL = "local", "Local contraindication"
        PRECAUTION = "precaution", "Precaution"

    patient = models.ForeignKey("clinical.Patient", on_delete=models.CASCADE, related_name="safety_flags")
    rule = models.CharField(max_length=60, help_text="The rule that raised it (clinical/safety/rules.py).")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    finding = models.CharField(max_length=200)
    effect = models.TextField()
    source = models.CharField(max_length=300)
    avoid_points = models.JSONField(default=list, blank=True)  # WHO codes, e.g. ["LI4", "SP6"]
    no_electro = models.BooleanField(default=False)
    do_not_treat = models.BooleanField(default=False)
    response = models.ForeignKey(
        "clinical.QuestionnaireResponse",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flags",
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)  # a later intake no longer reports it

    class Meta:
        ordering = ["raised_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "rule"],
                condition=Q(cleared_at__isnull=True),
                name="one_active_flag_per_rule",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.finding}"

"""Consent to acupuncture: the exact version of the text signed, by whom, when and from where; withdrawable."""

from django.db import models
from django.db.models import Q


class ConsentRecord(models.Model):
    patient = models.ForeignKey("clinical.Patient", on_delete=models.CASCADE, related_name="consents")
    version = models.ForeignKey(
        "clinical.InstrumentVersion", on_delete=models.PROTECT, related_name="consents"
    )
    response = models.ForeignKey(
        "clinical.QuestionnaireResponse", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The electronic signature (E-SIGN Act): the typed full name, the date the patient wrote, the "I agree" box.
    signed_name = models.CharField(max_length=200)
    signed_date = models.DateField()
    agreed = models.BooleanField()
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(agreed=True), name="consent_agreed"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_standing_consent_per_patient",
            ),
        ]

    def __str__(self):
        return f"Consent #{self.pk}"

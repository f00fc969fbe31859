"""Patients, and (from the packages of the clinical course) their episodes, intake, consent and safety flags."""

from django.db import models
from django.db.models.functions import Lower


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +12125550142")
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    # Carried over from the appointment request; the coverage rules of the clinical course build on these.
    insurance_carrier = models.CharField(max_length=100, blank=True)
    insurance_member_id = models.CharField(max_length=40, blank=True)
    has_medicare = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, null=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(Lower("last_name"), "date_of_birth", name="patient_name_dob_idx")]
        permissions = [
            ("view_clinical_record", "Can see patients' clinical records"),
            ("change_clinical_record", "Can write patients' clinical records"),
            ("export_patient", "Can export a patient's data"),
            ("erase_patient", "Can erase a patient's data on request"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class ErasureReason(models.TextChoices):
    """Why a patient's data was erased: the category only goes into the audit log, never a free-text note."""

    PATIENT_REQUEST = "patient_request", "The patient asked for their data to be erased"
    REPRESENTATIVE_REQUEST = "representative_request", "The patient's legal representative asked"
    CREATED_IN_ERROR = "created_in_error", "Record created in error (test or wrong person)"


# The clinical course's parts keep their models in their own packages; importing them here registers them with the
# "clinical" app (and its migrations).
from .consent.models import ConsentRecord  # noqa: E402
from .episodes.models import Episode  # noqa: E402
from .instruments.models import Instrument, InstrumentVersion, QuestionnaireResponse  # noqa: E402
from .safety.models import SafetyFlag  # noqa: E402

__all__ = [
    "ConsentRecord",
    "Episode",
    "ErasureReason",
    "Instrument",
    "InstrumentVersion",
    "Patient",
    "QuestionnaireResponse",
    "SafetyFlag",
]

"""Appointment requests from the public form and the API, and the front desk's work on them."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from .triage import URGENCY_LABELS, Urgency

# No 0/O, 1/I/L, U: a reference read out over the phone is not misheard.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_reference() -> str:
    raw = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


class AppointmentRequest(models.Model):
    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        EMAIL = "email", "E-mail"
        TEXT = "text", "Text message"

    class PatientStatus(models.TextChoices):
        NEW = "new", "New patient"
        RETURNING = "returning", "Returning patient"

    class Reason(models.TextChoices):
        LOWER_BACK = "lower_back", "Lower back pain"
        UPPER_MID_BACK = "upper_mid_back", "Upper or middle back pain"
        NECK = "neck", "Neck pain"
        OTHER = "other", "Something else"

    class PainDuration(models.TextChoices):
        ACUTE = "acute", "Less than 6 weeks"
        SUBACUTE = "subacute", "6 weeks to 3 months"
        CHRONIC = "chronic", "More than 3 months"

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTING = "contacting", "Contacting"
        ENDED = "ended", "Ended"

    class EndReason(models.TextChoices):
        BOOKED = "booked", "Booked"
        DECLINED = "declined", "Declined"
        UNREACHABLE = "unreachable", "Unreachable"
        DUPLICATE = "duplicate", "Duplicate"
        SPAM = "spam", "Spam"

    URGENCY_CHOICES = [(level.key, URGENCY_LABELS[level]) for level in Urgency]

    reference = models.CharField(max_length=9, unique=True, default=new_reference, editable=False)
    # The form's one-time token: a refresh or a double click sends the same token and finds the same request.
    submission_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(auto_now_add=True, db_index=True)
    channel = models.CharField(max_length=10, choices=[("web", "Web form"), ("api", "API")], default="web")

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=20, help_text="E.164")
    email = models.EmailField(max_length=254, blank=True)
    contact_method = models.CharField(max_length=10, choices=ContactMethod.choices)
    patient_status = models.CharField(max_length=10, choices=PatientStatus.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    reason_detail = models.CharField(max_length=200, blank=True)
    pain_duration = models.CharField(max_length=10, choices=PainDuration.choices)
    preferred_practitioner = models.ForeignKey(
        "scheduling.Practitioner", null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    insurance_carrier = models.CharField(max_length=100, blank=True)
    insurance_member_id = models.CharField(max_length=40, blank=True)
    has_medicare = models.BooleanField(default=False)
    message = models.TextField(max_length=1000, blank=True)
    consent_to_contact = models.BooleanField()
    wants_email_acknowledgement = models.BooleanField(default=False)

    red_flag_answers = models.JSONField(default=dict, help_text="Question key → yes/no, as answered.")
    urgency = models.CharField(max_length=15, choices=URGENCY_CHOICES, db_index=True)
    urgency_rank = models.PositiveSmallIntegerField(
        default=0, help_text="Orders the inbox: most urgent first."
    )
    urgency_reasons = models.JSONField(default=list)
    urgent_acknowledged_at = models.DateTimeField(null=True, blank=True)
    urgent_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    is_spam = models.BooleanField(default=False)
    spam_reason = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW, db_index=True)
    end_reason = models.CharField(max_length=12, choices=EndReason.choices, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_requests",
    )
    patient = models.ForeignKey(
        "clinical.Patient",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointment_requests",
    )

    class Meta:
        ordering = ["-urgency_rank", "submitted_at"]
        constraints = [
            models.CheckConstraint(
                name="ended_request_has_reason",
                condition=(Q(status="ended") & ~Q(end_reason="")) | (~Q(status="ended") & Q(end_reason="")),
            ),
            models.CheckConstraint(name="request_consent_given", condition=Q(consent_to_contact=True)),
            models.CheckConstraint(
                name="email_contact_needs_email", condition=~Q(contact_method="email") | ~Q(email="")
            ),
        ]
        permissions = [("work_appointmentrequest", "Can work appointment requests (front desk)")]

    def __str__(self):
        return self.reference

    @property
    def urgency_level(self) -> Urgency:
        return Urgency[self.urgency.upper()]

    @property
    def is_emergency(self) -> bool:
        return self.urgency == Urgency.EMERGENCY.key


class PreferredTime(models.Model):
    class TimeOfDay(models.TextChoices):
        ANY = "any", "Any time"
        MORNING = "morning", "Morning"
        AFTERNOON = "afternoon", "Afternoon"
        EVENING = "evening", "Evening"

    request = models.ForeignKey(AppointmentRequest, on_delete=models.CASCADE, related_name="preferred_times")
    date = models.DateField()
    time_of_day = models.CharField(max_length=10, choices=TimeOfDay.choices, default=TimeOfDay.ANY)

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%m/%d/%Y} ({self.get_time_of_day_display()})"


class ContactAttempt(models.Model):
    class Method(models.TextChoices):
        PHONE = "phone", "Phone call"
        EMAIL = "email", "E-mail"
        TEXT = "text", "Text message"

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached the patient"
        VOICEMAIL = "voicemail", "Left a voicemail"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        SENT = "sent", "Message sent"

    request = models.ForeignKey(AppointmentRequest, on_delete=models.CASCADE, related_name="contact_attempts")
    at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=Method.choices)
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    note = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["at"]

    def __str__(self):
        return f"{self.get_method_display()} at {self.at:%Y-%m-%d %H:%M}: {self.get_outcome_display()}"


class RequestNotification(models.Model):
    """One e-mail about a request. The row makes sending exactly-once across retries and workers."""

    class Kind(models.TextChoices):
        CLINIC = "clinic", "Clinic inbox"
        PATIENT_ACK = "patient_ack", "Acknowledgement to the patient"

    request = models.ForeignKey(AppointmentRequest, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(
        max_length=100, blank=True, help_text="The exception class only, never content."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sending_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is sending it until then (core.outbox): others leave it."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "kind"], name="one_notification_per_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.request_id} ({'sent' if self.sent_at else 'pending'})"

"""Practitioners, their licences, places, appointment types and appointments.

The rule that matters most lives here and in the migration that enforces it: an appointment in a status that holds
time never overlaps another such appointment of the same practitioner, the same room or the same patient. The
range an appointment holds is ``[start, blocked_until)`` (half-open, so back to back is allowed), where
``blocked_until`` is its end plus the type's buffer. See ``migrations/0002_locations_and_appointments.py`` for how
the database enforces it (an exclusion constraint on PostgreSQL, triggers on SQLite) and ``services.py`` for the
one write path.
"""

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

US_STATE = re.compile(r"^[A-Za-z]{2}$")  # clean() upper-cases it


def validate_state(value: str):
    if not US_STATE.match(value or ""):
        raise ValidationError("Use the two-letter state code, e.g. “NY”.", code="invalid_state")


def validate_time_zone(value: str):
    if value not in available_timezones():
        raise ValidationError(
            "Not an IANA time zone name (e.g. “America/New_York”).", code="invalid_time_zone"
        )


class Practitioner(models.Model):
    name = models.CharField(max_length=120)
    credentials = models.CharField(max_length=120, blank=True, help_text="e.g. “L.Ac., Dipl. Ac. (NCCAOM)”")
    is_active = models.BooleanField(default=True, help_text="Shown to patients and bookable.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name

    def licensed_in(self, state: str, on) -> bool:
        """An unexpired licence in that state on that date (``on`` is a date in the location's zone)."""
        return self.licences.filter(state=state, expires_on__gte=on).exists()


class Licence(models.Model):
    """A state licence to practise. Without an active one in its state, a practitioner is not bookable there."""

    class Kind(models.TextChoices):
        LAC = "L.Ac.", "Licensed Acupuncturist (L.Ac.)"
        MD = "MD", "Physician (MD/DO) with acupuncture privileges"
        OTHER = "other", "Other"

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="licences")
    state = models.CharField(
        max_length=2, validators=[validate_state], help_text="Two-letter code, e.g. “NY”."
    )
    number = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.LAC)
    expires_on = models.DateField()

    class Meta:
        ordering = ["practitioner", "state", "-expires_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["state", "number", "kind"], name="licence_unique_number_per_state"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.state} {self.number}"

    def clean(self):
        if self.state:
            self.state = self.state.strip().upper()
        self.number = (self.number or "").strip()


class Location(models.Model):
    name = models.CharField(max_length=120, unique=True)
    address = models.TextField(blank=True)
    state = models.CharField(
        max_length=2, validators=[validate_state], help_text="Two-letter code, e.g. “NY”."
    )
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone], help_text="IANA name."
    )
    # One daily window for now; weekly hours and closures come with availability.
    opens_at = models.TimeField(default=time(8, 0))
    closes_at = models.TimeField(default=time(18, 0))

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="location_opens_before_close"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def clean(self):
        if self.state:
            self.state = self.state.strip().upper()
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "Closing time must be after opening time."})
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"time_zone": "Unknown time zone."}) from None


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=60)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="room_unique_name_per_location")
        ]

    def __str__(self):
        return f"{self.location} — {self.name}"


class AppointmentType(models.Model):
    name = models.CharField(max_length=120, unique=True)
    duration_minutes = models.PositiveSmallIntegerField(
        help_text="e.g. 60 for a first visit, 30 for a follow-up."
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Time kept free after the appointment (notes, cleaning the room)."
    )
    min_notice = models.DurationField(
        default=timedelta(hours=12), help_text="Online bookings: how long before the start they must be made."
    )
    horizon_days = models.PositiveSmallIntegerField(default=60, help_text="Online bookings: how far ahead.")
    practitioners = models.ManyToManyField(Practitioner, blank=True, related_name="appointment_types")
    new_patients_may_book_online = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0) & Q(duration_minutes__lte=8 * 60),
                name="appointment_type_duration_range",
            ),
            models.CheckConstraint(condition=Q(horizon_days__gt=0), name="appointment_type_positive_horizon"),
        ]

    def __str__(self):
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    def clean(self):
        if self.min_notice is not None and self.min_notice < timedelta(0):
            raise ValidationError({"min_notice": "Minimum notice cannot be negative."})


class AppointmentStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    ARRIVED = "arrived", "Arrived"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Every status holds its time except "cancelled" (a pending booking blocks the slot exactly like a confirmed one).
# The database constraints/triggers spell the same rule as `status <> 'cancelled'`.
FREE_STATUSES = frozenset({AppointmentStatus.CANCELLED})
HOLDING_STATUSES = frozenset(set(AppointmentStatus) - FREE_STATUSES)


class AppointmentQuerySet(models.QuerySet):
    def holding(self):
        return self.exclude(status__in=FREE_STATUSES)

    def overlapping(self, start, blocked_until):
        """Holding appointments whose [start, blocked_until) meets the given half-open range."""
        return self.holding().filter(start__lt=blocked_until, blocked_until__gt=start)


class Appointment(models.Model):
    Status = AppointmentStatus

    patient = models.ForeignKey("clinical.Patient", on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="appointments"
    )
    # Aware datetimes, stored in UTC; shown in the location's time zone.
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_until = models.DateTimeField(
        help_text="End plus the type's buffer: the time this appointment holds."
    )
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.CONFIRMED
    )
    booked_online = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=200, blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        # The no-overlap rule is NOT declared here: ExclusionConstraint is PostgreSQL-only (Django would emit
        # `EXCLUDE USING gist` into SQLite's CREATE TABLE and validate_constraints() would run range lookups), so
        # migration 0002 adds it with an operation that runs on PostgreSQL only, and SQLite gets triggers instead.
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=models.F("end")), name="appointment_blocked_until_after_end"
            ),
        ]
        indexes = [
            models.Index(fields=["practitioner", "start"], name="appointment_practitioner_idx"),
            models.Index(fields=["room", "start"], name="appointment_room_idx"),
            models.Index(fields=["patient", "start"], name="appointment_patient_idx"),
        ]

    def __str__(self):
        return f"Appointment {self.pk} at {self.start:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def holds_time(self) -> bool:
        return self.status not in FREE_STATUSES

    @property
    def local_start(self):
        return self.start.astimezone(self.location.zone)

    def clean(self):
        errors = {}
        for name in ("start", "end", "blocked_until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                errors[name] = "Must be an aware datetime."
        if errors:
            raise ValidationError(errors)
        if self.start and self.end and self.end <= self.start:
            errors["end"] = "The appointment must end after it starts."
        if self.end and self.blocked_until and self.blocked_until < self.end:
            errors["blocked_until"] = "The held time cannot end before the appointment."
        if self.room_id and self.location_id and self.room.location_id != self.location_id:
            errors["room"] = "That room is at another location."
        if self.status == AppointmentStatus.CANCELLED and not self.cancellation_reason:
            errors["cancellation_reason"] = "Give a reason for the cancellation."
        if errors:
            raise ValidationError(errors)

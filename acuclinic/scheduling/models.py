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
from django.utils.text import slugify
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

US_STATE = re.compile(r"^[A-Za-z]{2}$")  # clean() upper-cases it


def validate_state(value: str):
    if not US_STATE.match(value or ""):
        raise ValidationError("Use the two-letter state code, e.g. “NY”.", code="invalid_state")


def validate_time_zone(value: str):
    if value not in available_timezones():
        raise ValidationError(
            "Not an IANA time zone name (e.g. “America/New_York”).", code="invalid_time_zone"
        )


class Practitioner(ClusterableModel):  # clusterable: its licences are edited inline (Clinic set-up)
    name = models.CharField(max_length=120)
    credentials = models.CharField(max_length=120, blank=True, help_text="e.g. “L.Ac., Dipl. Ac. (NCCAOM)”")
    is_active = models.BooleanField(default=True, help_text="Shown to patients and bookable.")
    slug = models.SlugField(
        max_length=140, blank=True, help_text="The public profile's address; made from the name."
    )
    photo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bio = models.TextField(blank=True, help_text="A few sentences for patients, in plain words.")
    languages = models.CharField(
        max_length=200, blank=True, default="English", help_text="e.g. “English, Spanish”"
    )
    locations = models.ManyToManyField("Location", blank=True, related_name="practitioners")
    # The staff account of a clinician: their own day, their own calendar feed, and (issue 4) their own patients.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="practitioner",
    )
    # SHA-256 of the private calendar feed's token (the token itself is shown once); empty = no feed.
    feed_token_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], condition=~Q(slug=""), name="practitioner_unique_slug"),
        ]

    def __str__(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name

    def save(self, *args, **kwargs):
        if not self.slug and self.name:
            base = slugify(self.name)[:130] or "practitioner"
            slug, n = base, 2
            while Practitioner.objects.filter(slug=slug).exclude(pk=self.pk).exists():
                slug, n = f"{base}-{n}", n + 1
            self.slug = slug
        super().save(*args, **kwargs)

    def licensed_in(self, state: str, on) -> bool:
        """An unexpired licence in that state on that date (``on`` is a date in the location's zone).

        Read from ``licences.all()``, which uses a prefetch where there is one: ``licences`` is a modelcluster
        ParentalKey (edited inline in Clinic set-up), and a ``.filter()`` on its manager after a prefetch answered
        from stale, unfiltered rows (an expired licence counted as valid)."""
        return any(licence.state == state and licence.expires_on >= on for licence in self.licences.all())


class Licence(models.Model):
    """A state licence to practise. Without an active one in its state, a practitioner is not bookable there."""

    class Kind(models.TextChoices):
        LAC = "L.Ac.", "Licensed Acupuncturist (L.Ac.)"
        MD = "MD", "Physician (MD/DO) with acupuncture privileges"
        OTHER = "other", "Other"

    practitioner = ParentalKey(Practitioner, on_delete=models.CASCADE, related_name="licences")
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


class Location(ClusterableModel):  # clusterable: its rooms are edited inline (Clinic set-up)
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
    location = ParentalKey(Location, on_delete=models.CASCADE, related_name="rooms")
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
    description = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who this visit is for, in plain words, shown to patients when they choose a visit.",
    )
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
    arrived_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, help_text="When the visit was checked out.")
    # Nullable: SQLite adds a nullable column in place; a NOT NULL one would rebuild the table and drop the
    # no-overlap triggers of migration 0002. Empty means no override.
    override_reason = models.CharField(
        max_length=300,
        null=True,
        blank=True,
        help_text="Why the desk booked this outside the free times (outside hours, a closed day, in the past).",
    )
    # Booked from an appointment request (which then ends as "booked") or as one occurrence of a treatment plan.
    request = models.ForeignKey(
        "appointments.AppointmentRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookings",
    )
    plan = models.ForeignKey(
        "TreatmentPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )

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


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """A practitioner's regular weekly hours at one location, in the location's wall-clock time."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField()
    ends_at = models.TimeField()

    class Meta:
        ordering = ["practitioner", "weekday", "starts_at"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="working_hours_order"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="working_hours_weekday"
            ),
        ]

    def __str__(self):
        from acuclinic.core.timefmt import clock_range

        return f"{self.practitioner.name}: {self.get_weekday_display()} {clock_range(self.starts_at, self.ends_at)}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The hours must end after they start."})


class AvailabilityException(models.Model):
    """One day that differs from the weekly hours: time off (all day, or a part of it) or extra hours."""

    class Kind(models.TextChoices):
        TIME_OFF = "time_off", "Time off"
        EXTRA_HOURS = "extra_hours", "Extra hours"

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="availability_exceptions"
    )
    # Extra hours are at one location; time off without a location applies everywhere.
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="availability_exceptions"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    date = models.DateField()
    starts_at = models.TimeField(
        null=True, blank=True, help_text="Leave both times empty for the whole day off."
    )
    ends_at = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=120, blank=True, help_text="For staff, e.g. “conference”.")

    class Meta:
        ordering = ["date", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(starts_at__isnull=True) & Q(ends_at__isnull=True))
                | (Q(starts_at__isnull=False) & Q(ends_at__gt=models.F("starts_at"))),
                name="availability_exception_times",
            ),
            models.CheckConstraint(
                condition=Q(kind="time_off") | (Q(location__isnull=False) & Q(starts_at__isnull=False)),
                name="availability_exception_extra_hours_need_place_and_time",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.practitioner.name} {self.date:%Y-%m-%d}"

    def clean(self):
        errors = {}
        if (self.starts_at is None) != (self.ends_at is None):
            errors["ends_at"] = "Give both times, or neither for the whole day."
        elif self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The time must end after it starts."
        if self.kind == self.Kind.EXTRA_HOURS:
            if not self.location_id:
                errors["location"] = "Say where the extra hours are."
            if self.starts_at is None:
                errors["starts_at"] = "Give the extra hours' times."
        if errors:
            raise ValidationError(errors)


class Closure(models.Model):
    """Days a location is closed (holidays): nobody can be booked there."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The last closed day (the same as the first for one day).")
    reason = models.CharField(max_length=120, help_text="Shown to patients, e.g. “Thanksgiving”.")

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="closure_order"),
        ]

    def __str__(self):
        return f"{self.location}: closed {self.starts_on:%Y-%m-%d}–{self.ends_on:%Y-%m-%d} ({self.reason})"

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The last day cannot be before the first."})


class TreatmentPlan(models.Model):
    """A course booked as a series (e.g. weekly for 6 weeks, then monthly); each occurrence is an Appointment."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    patient = models.ForeignKey("clinical.Patient", on_delete=models.PROTECT, related_name="treatment_plans")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="treatment_plans")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="treatment_plans")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    # The pattern as booked, e.g. "weekly ×6, then monthly ×3" — for people; the occurrences are the appointments.
    pattern = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Treatment plan {self.pk} ({self.pattern})"


class WaitlistEntry(models.Model):
    """A patient who wants an earlier (or any) slot; when one frees up, the next person waiting is offered it."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a slot"
        BOOKED = "booked", "Booked"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    patient = models.ForeignKey("clinical.Patient", on_delete=models.CASCADE, related_name="waitlist_entries")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="waitlist_entries")
    practitioner = models.ForeignKey(
        Practitioner,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        help_text="Empty: any practitioner.",
    )
    # The booking the patient would like to move earlier, if any.
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    earliest = models.DateField(help_text="First day the patient can come.")
    latest = models.DateField(help_text="Last day that would be useful.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    offered_start = models.DateTimeField(null=True, blank=True)
    offered_practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offered_room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]  # first come, first offered
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(latest__gte=models.F("earliest")), name="waitlist_dates_order"
            ),
        ]

    def __str__(self):
        return f"Waitlist entry {self.pk} ({self.status})"


class AppointmentNotification(models.Model):
    """An e-mail about an appointment, kept until sent (an outbox: the worker sends and retries it).

    Patient mails carry the time, place, practitioner and links; clinic mails carry references only. Neither carries
    anything about the patient's health.
    """

    class Kind(models.TextChoices):
        PATIENT_CONFIRMATION = "patient_confirmation", "Confirmation to the patient"
        PATIENT_CANCELLED = "patient_cancelled", "Cancellation to the patient"
        PATIENT_RESCHEDULED = "patient_rescheduled", "New time to the patient"
        PATIENT_WAITLIST_OFFER = "patient_waitlist_offer", "Waitlist offer to the patient"
        CLINIC_BOOKED = "clinic_booked", "Online booking to the clinic"
        CLINIC_CANCELLED = "clinic_cancelled", "Online cancellation to the clinic"
        CLINIC_RESCHEDULED = "clinic_rescheduled", "Online reschedule to the clinic"

    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    waitlist_entry = models.ForeignKey(
        WaitlistEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    sending_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is sending it until then (core.outbox): others leave it."
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} ({'sent' if self.sent_at else 'unsent'})"


class SentReminder(models.Model):
    """One reminder sent for one appointment time, offset and channel: the unique key makes sending exactly-once,
    and a moved appointment (new ``for_start``) gets its reminders again."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="sent_reminders")
    for_start = models.DateTimeField()
    offset_minutes = models.PositiveIntegerField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    sent_at = models.DateTimeField(auto_now_add=True)
    sending_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Claimed and being sent until then; cleared once sent. A claim that ran out was a dead worker's.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "for_start", "offset_minutes", "channel"], name="reminder_sent_once"
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_channel_display()} reminder, {self.offset_minutes} min before #{self.appointment_id}"
        )


class ApiBookingKey(models.Model):
    """An ``Idempotency-Key`` an API client sent with a booking, stored with the booking in one transaction: a
    retry (from any worker process, or racing the first) answers with the booking already made."""

    key_digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the client's key.")
    body_digest = models.CharField(max_length=64, help_text="SHA-256 of the request body it came with.")
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"API booking key for #{self.appointment_id}"


@register_setting(icon="date")
class SchedulingSettings(BaseSiteSetting):
    """Online booking rules the clinic can change (Settings → Scheduling)."""

    online_change_cutoff_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Patients can cancel or move a booking online until this many hours before it."
    )
    reminder_offsets_hours = models.CharField(
        max_length=40,
        default="48, 2",
        help_text="When reminders go out, in hours before the appointment, separated by commas.",
    )
    sms_reminders = models.BooleanField(default=False, help_text="Also send reminders by text message.")
    staff_notification_email = models.EmailField(
        blank=True,
        help_text="Who is told of online bookings, cancellations and moves (else the clinic e-mail).",
    )
    waitlist_offer_hours = models.PositiveSmallIntegerField(
        default=12, help_text="How long a patient on the waitlist has to take an offered slot."
    )

    class Meta:
        verbose_name = "Scheduling settings"

    def reminder_offsets(self) -> list[timedelta]:
        hours = []
        for part in self.reminder_offsets_hours.split(","):
            part = part.strip()
            if part:
                hours.append(timedelta(hours=float(part)))
        return sorted(set(hours), reverse=True)

    def clean(self):
        try:
            offsets = self.reminder_offsets()
        except ValueError:
            raise ValidationError(
                {"reminder_offsets_hours": "Use numbers of hours separated by commas, e.g. “48, 2”."}
            ) from None
        if any(o <= timedelta(0) or o > timedelta(days=14) for o in offsets):
            raise ValidationError(
                {"reminder_offsets_hours": "Each reminder must be between 0 and 336 hours before."}
            )

"""Clinic-wide settings, site-wide service alerts and the home page."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField
from wagtail.models import Page

from .validators import format_phone_for_display, normalise_phone, phone_uri

DEFAULT_EMERGENCY_NOTICE = (
    "If this is a medical emergency, call 911 or go to the nearest emergency department."
)
TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name]


@register_setting(icon="site")
class ClinicSettings(BaseSiteSetting):
    """What the header and footer of every page say about the practice; edited under Settings → Clinic."""

    practice_name = models.CharField(max_length=120, default="Acuclinic Back Pain & Acupuncture")
    address = models.TextField(blank=True, help_text="Street address, one line per line of the envelope.")
    phone = models.CharField(max_length=32, blank=True, validators=[normalise_phone])
    office_hours = models.TextField(
        blank=True, help_text="For example “Mon–Fri 8 am – 6 pm”, one line per range."
    )
    contact_email = models.EmailField(blank=True)
    emergency_notice = models.CharField(max_length=240, default=DEFAULT_EMERGENCY_NOTICE)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="America/New_York")
    open_monday = models.BooleanField("Monday", default=True)
    open_tuesday = models.BooleanField("Tuesday", default=True)
    open_wednesday = models.BooleanField("Wednesday", default=True)
    open_thursday = models.BooleanField("Thursday", default=True)
    open_friday = models.BooleanField("Friday", default=True)
    open_saturday = models.BooleanField("Saturday", default=True)
    open_sunday = models.BooleanField("Sunday", default=False)

    WEEKDAY_FIELDS = (
        "open_monday",
        "open_tuesday",
        "open_wednesday",
        "open_thursday",
        "open_friday",
        "open_saturday",
        "open_sunday",
    )

    panels = [
        FieldPanel("practice_name"),
        MultiFieldPanel(
            [
                FieldPanel("address"),
                FieldPanel("phone"),
                FieldPanel("contact_email"),
                FieldPanel("office_hours"),
            ],
            heading="How patients reach us",
        ),
        FieldRowPanel([FieldPanel(name) for name in WEEKDAY_FIELDS], heading="Open on"),
        FieldPanel("emergency_notice"),
        FieldPanel("time_zone"),
    ]

    class Meta:
        verbose_name = "clinic settings"

    def clean(self):
        super().clean()
        if self.phone:
            self.phone = normalise_phone(self.phone)

    @property
    def phone_display(self) -> str:
        return format_phone_for_display(self.phone) if self.phone else ""

    @property
    def open_weekdays(self) -> set[int]:
        """Python weekday numbers (Monday = 0) on which the clinic sees patients."""
        return {i for i, name in enumerate(self.WEEKDAY_FIELDS) if getattr(self, name)}

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def phone_uri(self) -> str:
        return phone_uri(self.phone) if self.phone else ""

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]

    @property
    def office_hours_lines(self) -> list[str]:
        return [line.strip() for line in self.office_hours.splitlines() if line.strip()]


class ServiceAlert(models.Model):
    """A notice at the top of every page ("our phones are down — e-mail us at …") while it is active.

    The address or number people are told to use is a field, not free text in the message, so it is validated and
    always rendered: the page this replaces told patients to "contact us by email at" and showed no address.
    """

    class Severity(models.TextChoices):
        INFO = "info", "Information"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    class ContactBy(models.TextChoices):
        NONE = "", "No alternative contact"
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        EMAIL_OR_PHONE = "email_or_phone", "E-mail or phone"

    message = models.CharField(
        max_length=280,
        help_text="What is happening, in plain words. Do not type the address or number here: fill in the fields "
        "below and they are shown after the message.",
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    contact_by = models.CharField(
        "tell people to contact us by",
        max_length=20,
        choices=ContactBy.choices,
        blank=True,
        default=ContactBy.NONE,
    )
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    phones_down = models.BooleanField(
        "our phones are not working",
        default=False,
        help_text="Pages that normally say “we will call you” or “call us” give the alert's e-mail address instead.",
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="Leave empty to show it until you end it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [
        FieldPanel("message"),
        FieldPanel("severity"),
        MultiFieldPanel(
            [
                FieldPanel("contact_by"),
                FieldRowPanel([FieldPanel("contact_email"), FieldPanel("contact_phone")]),
                FieldPanel("phones_down"),
            ],
            heading="Alternative contact",
        ),
        FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")], heading="When to show it"),
    ]

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                name="alert_ends_after_it_starts",
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
            ),
            models.CheckConstraint(
                name="alert_email_present_when_asked",
                condition=~Q(contact_by__in=["email", "email_or_phone"]) | ~Q(contact_email=""),
            ),
            models.CheckConstraint(
                name="alert_phones_down_gives_email", condition=Q(phones_down=False) | ~Q(contact_email="")
            ),
            models.CheckConstraint(
                name="alert_phone_present_when_asked",
                condition=~Q(contact_by__in=["phone", "email_or_phone"]) | ~Q(contact_phone=""),
            ),
        ]

    def __str__(self):
        return self.message

    # Words that mean the message sends people somewhere; such a message needs the contact fields filled in.
    EMAIL_WORDS = ("email", "e-mail")
    PHONE_WORDS = ("call", "phone", "text us", "ring")

    def clean(self):
        super().clean()
        errors: dict[str, list[str]] = {}
        lowered = (self.message or "").lower()
        asks_email = self.contact_by in (self.ContactBy.EMAIL, self.ContactBy.EMAIL_OR_PHONE)
        asks_phone = self.contact_by in (self.ContactBy.PHONE, self.ContactBy.EMAIL_OR_PHONE)
        if not self.contact_by and any(word in lowered for word in self.EMAIL_WORDS + self.PHONE_WORDS):
            errors.setdefault("contact_by", []).append(
                "The message asks people to e-mail or call: choose how, and fill in the address or number."
            )
        if asks_email:
            if not self.contact_email:
                errors.setdefault("contact_email", []).append("Enter the e-mail address people should use.")
            else:
                try:
                    validate_email(self.contact_email)
                except ValidationError:
                    errors.setdefault("contact_email", []).append("Enter a valid e-mail address.")
        if asks_phone:
            if not self.contact_phone:
                errors.setdefault("contact_phone", []).append("Enter the phone number people should use.")
            else:
                try:
                    self.contact_phone = normalise_phone(self.contact_phone)
                except ValidationError as exc:
                    errors.setdefault("contact_phone", []).extend(exc.messages)
        if self.phones_down and not asks_email:
            errors.setdefault("contact_by", []).append(
                "When the phones are down, give an e-mail address people can use instead."
            )
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            errors.setdefault("ends_at", []).append("The end must be after the start.")
        if errors:
            raise ValidationError(errors)

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.starts_at <= at and (self.ends_at is None or at < self.ends_at)

    @property
    def shows_email(self) -> bool:
        return self.contact_by in (self.ContactBy.EMAIL, self.ContactBy.EMAIL_OR_PHONE) and bool(
            self.contact_email
        )

    @property
    def shows_phone(self) -> bool:
        return self.contact_by in (self.ContactBy.PHONE, self.ContactBy.EMAIL_OR_PHONE) and bool(
            self.contact_phone
        )

    @property
    def contact_phone_display(self) -> str:
        return format_phone_for_display(self.contact_phone)

    @property
    def contact_phone_uri(self) -> str:
        return phone_uri(self.contact_phone)


class HomePage(Page):
    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    call_to_action = models.CharField(
        max_length=200, blank=True, default="Read our medically reviewed guides to back pain and acupuncture."
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("call_to_action")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    def route(self, request, path_components):
        """A page under the home page in one lookup by its path instead of one per level (issue 15: the walk cost
        four queries an article). Anything else — a sub-route of a routable page (topic feeds), a missing or
        unpublished page — is left to Wagtail's own walk, which answers it as before."""
        if path_components:
            url_path = f"{self.url_path}{'/'.join(path_components)}/"
            page = Page.objects.filter(url_path=url_path, live=True).specific().first()
            if page is not None and page.path.startswith(self.path):
                return page.route(request, [])
        return super().route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        from acuclinic.content.selectors import latest_reviewed_articles, topics_for_home

        context = super().get_context(request, *args, **kwargs)
        context["articles"] = latest_reviewed_articles(limit=6)
        context["topics"] = topics_for_home()
        return context


class StandardPage(Page):
    """A plain page: privacy notice, about us, accessibility statement."""

    intro = models.CharField(max_length=300, blank=True)
    body = RichTextField(features=["h2", "h3", "bold", "italic", "link", "ol", "ul"])

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["core.HomePage", "core.StandardPage"]


class PeriodicRun(models.Model):
    """One row per (job, period): inserting it is how the scheduler claims a run, so each runs once per period."""

    job = models.CharField(max_length=100)
    period = models.CharField(max_length=40)
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="periodic_run_once_per_period")]

    def __str__(self):
        return f"{self.job} {self.period}"


class DemoClinic(models.Model):
    """The marker of the demo clinic (patients, visits, requests) that `load_initial_data` adds once.

    ``anchor_date`` is the day it was first loaded, in the clinic's time zone: every demo date is relative to it, so a
    fresh install never shows a stale demo, and running the loader again moves and duplicates nothing.
    """

    key = models.CharField(max_length=20, unique=True, default="demo", editable=False)
    anchor_date = models.DateField(help_text="The day the demo clinic was first loaded.")
    today = models.DateField(help_text="The demo's “today”: the anchor, or the next day the clinic was open.")
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "demo clinic"

    def __str__(self):
        return f"Demo clinic loaded on {self.anchor_date:%Y-%m-%d}"

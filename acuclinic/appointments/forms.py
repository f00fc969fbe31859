"""The public appointment-request form. Every error is in plain words, next to its field."""

import re
import time
from datetime import date, timedelta

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from acuclinic.core.validators import normalise_phone
from acuclinic.scheduling.models import Practitioner

from . import triage
from .models import AppointmentRequest, PreferredTime

_MDY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})\s*$")
MAX_AGE_YEARS = 120
PREFERRED_DATES_HORIZON_DAYS = 180
MIN_FILL_SECONDS = 3
FORM_STAMP_SALT = "appointments.form-started"
YES_NO = [("yes", "Yes"), ("no", "No")]


def parse_mdy(value: str) -> date:
    """“04/27/1961” → date(1961, 4, 27), with a message a person understands for anything else."""
    value = (value or "").strip()
    match = _MDY.match(value)
    if not match:
        raise ValidationError("Enter the date as MM/DD/YYYY, for example 04/27/1961.", code="format")
    month, day, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationError(f"{value} is not a real date.", code="invalid_date") from None


class MDYDateField(forms.CharField):
    """A date typed as MM/DD/YYYY (what US patients expect), kept as typed when invalid."""

    MAX_TYPED_LENGTH = 20

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(
            {"inputmode": "numeric", "placeholder": "MM/DD/YYYY", "maxlength": str(self.MAX_TYPED_LENGTH)}
        )
        return attrs

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        if len(value) > self.MAX_TYPED_LENGTH:
            raise ValidationError("Enter the date as MM/DD/YYYY, for example 04/27/1961.", code="format")
        return parse_mdy(value)


def clinic_today(clinic) -> date:
    return timezone.localtime(timezone.now(), clinic.zone).date()


class AppointmentRequestForm(forms.Form):
    first_name = forms.CharField(
        label="First name", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    date_of_birth = MDYDateField(
        label="Date of birth",
        help_text="MM/DD/YYYY, for example 04/27/1961.",
        widget=forms.TextInput(attrs={"autocomplete": "bday"}),
    )
    phone = forms.CharField(
        label="Phone number",
        max_length=32,
        help_text="A number we can call or text, for example (212) 555-0142.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label="E-mail address",
        required=False,
        max_length=254,
        help_text="Optional, unless you want us to e-mail you.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    contact_method = forms.ChoiceField(
        label="How should we contact you?",
        choices=AppointmentRequest.ContactMethod.choices,
        widget=forms.RadioSelect,
    )
    patient_status = forms.ChoiceField(
        label="Have you been to our clinic before?",
        choices=[("new", "No, I am a new patient"), ("returning", "Yes, I am a returning patient")],
        widget=forms.RadioSelect,
    )
    reason = forms.ChoiceField(
        label="Where is your pain?", choices=AppointmentRequest.Reason.choices, widget=forms.RadioSelect
    )
    reason_detail = forms.CharField(
        label="Tell us more (optional)",
        required=False,
        max_length=200,
        help_text="Needed if you chose “Something else”. Up to 200 characters.",
    )
    pain_duration = forms.ChoiceField(
        label="How long have you had this pain?",
        choices=AppointmentRequest.PainDuration.choices,
        widget=forms.RadioSelect,
    )
    preferred_practitioner = forms.ModelChoiceField(
        label="Preferred acupuncturist (optional)",
        required=False,
        empty_label="No preference",
        queryset=Practitioner.objects.filter(is_active=True),
    )
    preferred_date_1 = MDYDateField(label="First choice of date", required=False, help_text="MM/DD/YYYY")
    preferred_time_1 = forms.ChoiceField(
        label="Time of day", choices=PreferredTime.TimeOfDay.choices, required=False
    )
    preferred_date_2 = MDYDateField(label="Second choice of date", required=False, help_text="MM/DD/YYYY")
    preferred_time_2 = forms.ChoiceField(
        label="Time of day", choices=PreferredTime.TimeOfDay.choices, required=False
    )
    preferred_date_3 = MDYDateField(label="Third choice of date", required=False, help_text="MM/DD/YYYY")
    preferred_time_3 = forms.ChoiceField(
        label="Time of day", choices=PreferredTime.TimeOfDay.choices, required=False
    )
    insurance_carrier = forms.CharField(label="Insurance company (optional)", required=False, max_length=100)
    insurance_member_id = forms.CharField(label="Member ID (optional)", required=False, max_length=40)
    has_medicare = forms.ChoiceField(label="Do you have Medicare?", choices=YES_NO, widget=forms.RadioSelect)
    message = forms.CharField(
        label="Anything else we should know? (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
        help_text="Up to 1,000 characters.",
    )
    consent_to_contact = forms.BooleanField(
        label="I agree that the clinic may contact me about this request.",
        error_messages={"required": "Please agree that we may contact you, so that we can book your visit."},
    )
    wants_email_acknowledgement = forms.BooleanField(
        label="E-mail me a copy of my reference number.", required=False
    )
    # Spam defences: a field people never see, and a signed stamp of when the form was shown.
    website = forms.CharField(required=False, max_length=200, label="Leave this field empty")
    started = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)
    token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    PREFERRED = (
        (1, "preferred_date_1", "preferred_time_1"),
        (2, "preferred_date_2", "preferred_time_2"),
        (3, "preferred_date_3", "preferred_time_3"),
    )

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.today = clinic_today(clinic)
        for question in triage.QUESTIONS:
            self.fields[f"flag_{question.key}"] = forms.ChoiceField(
                label=question.question,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": "Please answer yes or no."},
            )
        for field in self.fields.values():
            field.error_messages.setdefault("required", "This field is required.")
        self.fields["first_name"].error_messages["required"] = "Enter your first name."
        self.fields["last_name"].error_messages["required"] = "Enter your last name."
        self.fields["date_of_birth"].error_messages["required"] = "Enter your date of birth as MM/DD/YYYY."
        self.fields["phone"].error_messages["required"] = "Enter a phone number we can reach you on."
        for name in ("contact_method", "patient_status", "reason", "pain_duration", "has_medicare"):
            self.fields[name].error_messages["required"] = "Choose one of the options."
        self._describe_widgets(with_errors=False)

    def full_clean(self):
        super().full_clean()
        self._describe_widgets(with_errors=True)

    def _describe_widgets(self, *, with_errors: bool):
        """Tie each input to its hint and error so a screen reader reads them with the field."""
        for name, field in self.fields.items():
            if isinstance(field.widget, (forms.RadioSelect, forms.HiddenInput)):
                continue  # radio groups are described on their fieldset
            auto_id = self[name].auto_id
            ids = []
            if field.help_text:
                ids.append(f"{auto_id}-hint")
            if with_errors and name in self._errors:
                ids.append(f"{auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    @property
    def red_flag_fields(self):
        return [self[f"flag_{q.key}"] for q in triage.QUESTIONS]

    @property
    def preferred_rows(self):
        return [(n, self[d], self[t]) for n, d, t in self.PREFERRED]

    def clean_first_name(self):
        return _no_control_chars(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return _no_control_chars(self.cleaned_data["last_name"])

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born >= self.today:
            raise ValidationError("Your date of birth must be in the past.")
        if triage.age_on(born, self.today) > MAX_AGE_YEARS:
            raise ValidationError(f"Check the year: that would make you older than {MAX_AGE_YEARS}.")
        return born

    def clean_phone(self):
        return normalise_phone(self.cleaned_data["phone"])

    def clean_message(self):
        return _no_control_chars(self.cleaned_data["message"], keep_newlines=True)

    def clean_insurance_carrier(self):
        return _no_control_chars(self.cleaned_data["insurance_carrier"])

    def clean_insurance_member_id(self):
        return _no_control_chars(self.cleaned_data["insurance_member_id"])

    def clean_reason_detail(self):
        return _no_control_chars(self.cleaned_data["reason_detail"])

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("contact_method") == "email"
            and not cleaned.get("email")
            and "email" not in self.errors
        ):
            self.add_error("email", "Enter your e-mail address, or choose another way for us to contact you.")
        if (
            cleaned.get("wants_email_acknowledgement")
            and not cleaned.get("email")
            and "email" not in self.errors
        ):
            self.add_error("email", "Enter your e-mail address so that we can send you the copy.")
        if cleaned.get("reason") == "other" and not cleaned.get("reason_detail"):
            self.add_error("reason_detail", "Tell us briefly where the pain is.")
        seen = set()
        open_days = self.clinic.open_weekdays
        horizon = self.today + timedelta(days=PREFERRED_DATES_HORIZON_DAYS)
        for _n, date_name, _time_name in self.PREFERRED:
            wanted = cleaned.get(date_name)
            if wanted is None:
                continue
            if wanted <= self.today:
                self.add_error(
                    date_name, f"{wanted:%m/%d/%Y} has passed or is today: choose a date from tomorrow on."
                )
            elif wanted > horizon:
                self.add_error(
                    date_name, f"Choose a date within the next {PREFERRED_DATES_HORIZON_DAYS // 30} months."
                )
            elif wanted.weekday() not in open_days:
                self.add_error(date_name, f"We are closed on {wanted:%A}s. Choose another day.")
            elif wanted in seen:
                self.add_error(date_name, "You chose this date already.")
            seen.add(wanted)
        return cleaned

    # --- what the services need -------------------------------------------------------------------------------
    def red_flag_answers(self) -> dict[str, bool]:
        return {q.key: self.cleaned_data.get(f"flag_{q.key}") == "yes" for q in triage.QUESTIONS}

    def preferred_times(self) -> list[tuple[date, str]]:
        return [
            (self.cleaned_data[d], self.cleaned_data.get(t) or PreferredTime.TimeOfDay.ANY)
            for _n, d, t in self.PREFERRED
            if self.cleaned_data.get(d)
        ]

    def spam_reason(self) -> str:
        """Why this looks automated ('' when it does not). Spam is stored, flagged, never silently dropped."""
        if self.cleaned_data.get("website"):
            return "honeypot"
        try:
            started = signing.loads(
                self.cleaned_data.get("started") or "", salt=FORM_STAMP_SALT, max_age=60 * 60 * 24
            )
        except signing.BadSignature:
            return "missing form stamp"
        if time.time() - float(started) < MIN_FILL_SECONDS:
            return "filled too fast"
        return ""


def form_stamp() -> str:
    return signing.dumps(f"{time.time():.3f}", salt=FORM_STAMP_SALT)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_chars(value: str, keep_newlines: bool = False) -> str:
    value = _CONTROL.sub("", value or "")
    if not keep_newlines:
        value = value.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return value.strip()


def request_fields_from(form: AppointmentRequestForm) -> dict:
    data = form.cleaned_data
    return {
        "first_name": data["first_name"],
        "last_name": data["last_name"],
        "date_of_birth": data["date_of_birth"],
        "phone": data["phone"],
        "email": data.get("email") or "",
        "contact_method": data["contact_method"],
        "patient_status": data["patient_status"],
        "reason": data["reason"],
        "reason_detail": data.get("reason_detail") or "",
        "pain_duration": data["pain_duration"],
        "preferred_practitioner": data.get("preferred_practitioner"),
        "insurance_carrier": data.get("insurance_carrier") or "",
        "insurance_member_id": data.get("insurance_member_id") or "",
        "has_medicare": data["has_medicare"] == "yes",
        "message": data.get("message") or "",
        "consent_to_contact": True,
        "wants_email_acknowledgement": bool(data.get("wants_email_acknowledgement")),
    }


__all__ = ["AppointmentRequestForm", "form_stamp", "parse_mdy", "request_fields_from"]

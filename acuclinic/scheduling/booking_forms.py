"""Forms of the patient's online booking: who you are (details) and why you cancel."""

from django import forms
from django.core.exceptions import ValidationError

from acuclinic.appointments.forms import MDYDateField, _no_control_chars
from acuclinic.core.validators import normalise_phone


class BookingDetailsForm(forms.Form):
    """The patient's details for a booking. Nothing about their health is asked here."""

    first_name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    date_of_birth = MDYDateField(label="Date of birth", help_text="MM/DD/YYYY, for example 04/27/1961")
    email = forms.EmailField(
        label="E-mail",
        help_text="We send your confirmation, a calendar file and a link to change the booking here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Phone",
        max_length=32,
        required=False,
        help_text="A US number, e.g. (212) 555-0142. Used if we must reach you about this visit.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args, today, **kwargs):
        self.today = today
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}-hint"

    def full_clean(self):
        super().full_clean()
        # Link each error message to its field for screen readers, and mark the field invalid.
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                described = [part for part in widget.attrs.get("aria-describedby", "").split() if part]
                described.append(f"id_{name}-error")
                widget.attrs["aria-describedby"] = " ".join(dict.fromkeys(described))
                widget.attrs["aria-invalid"] = "true"

    identity_error = ""
    IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth", "email", "phone")
    IDENTITY_ERROR_ID = "id_identity-error"

    def add_identity_error(self, message: str) -> None:
        """The details do not match a record of a patient treated here: one message next to the fields that are
        matched (not a guess at which of them is wrong), in the summary too; what was typed stays."""
        self.identity_error = message
        self.add_error(None, message)
        for name in self.IDENTITY_FIELDS:
            widget = self.fields[name].widget
            described = [part for part in widget.attrs.get("aria-describedby", "").split() if part]
            widget.attrs["aria-describedby"] = " ".join(dict.fromkeys([self.IDENTITY_ERROR_ID, *described]))

    def clean_first_name(self):
        return _no_control_chars(self.cleaned_data["first_name"]).strip()

    def clean_last_name(self):
        return _no_control_chars(self.cleaned_data["last_name"]).strip()

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born > self.today:
            raise ValidationError("The date of birth cannot be in the future.")
        if born.year < self.today.year - 120:
            raise ValidationError("Please check the year of birth.")
        return born

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "").strip()
        return normalise_phone(value) if value else ""


class CancelBookingForm(forms.Form):
    REASONS = [
        ("cannot_make_it", "I can no longer make this time"),
        ("booked_elsewhere", "I have booked another time"),
        ("not_needed", "I no longer need this visit"),
        ("other", "Another reason, or prefer not to say"),
    ]
    reason = forms.ChoiceField(
        label="Why are you cancelling?", choices=REASONS, widget=forms.RadioSelect, initial="cannot_make_it"
    )

    def reason_text(self) -> str:
        return dict(self.REASONS)[self.cleaned_data["reason"]]

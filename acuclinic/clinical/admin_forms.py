"""Forms of the back office's patient pages."""

from datetime import date

from django import forms
from django.utils import timezone

from acuclinic.core.validators import format_phone_for_display, normalise_phone

from .models import ErasureReason, Patient
from .selectors import same_text
from .services import EDITABLE_FIELDS


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search by name",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "First or last name, or record number"}
        ),
    )

    def query(self) -> str:
        return self.cleaned_data.get("q", "").strip() if self.is_valid() else ""


class EraseForm(forms.Form):
    """Erasure cannot be undone: the user types the patient's last name and chooses the reason."""

    confirm_last_name = forms.CharField(
        label="Type the patient's last name to confirm",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    reason = forms.ChoiceField(label="Reason", choices=ErasureReason.choices, widget=forms.RadioSelect)

    def __init__(self, *args, patient, **kwargs):
        kwargs.setdefault("prefix", "erase")
        super().__init__(*args, **kwargs)
        self.patient = patient

    def clean_confirm_last_name(self):
        value = self.cleaned_data["confirm_last_name"]
        if not same_text(value, self.patient.last_name):
            raise forms.ValidationError("This is not the last name on the record: nothing was erased.")
        return value


class PatientForm(forms.ModelForm):
    """The details the front desk keeps: validated here (phone to E.164, birth date, e-mail), saved by services."""

    date_of_birth = forms.DateField(
        label="Date of birth",
        input_formats=["%m/%d/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(format="%m/%d/%Y", attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text="As MM/DD/YYYY, e.g. 04/27/1961.",
        error_messages={"invalid": "Enter the date of birth as MM/DD/YYYY, e.g. 04/27/1961."},
    )

    class Meta:
        model = Patient
        fields = list(EDITABLE_FIELDS)
        labels = {
            "first_name": "First name",
            "last_name": "Last name",
            "phone": "Phone",
            "email": "E-mail",
            "address": "Address",
            "insurance_carrier": "Insurance carrier",
            "insurance_member_id": "Member ID",
            "has_medicare": "Has Medicare",
        }
        help_texts = {
            "phone": "A US number such as (212) 555-0142, or +country code for another country.",
            "insurance_member_id": "As printed on the insurance card.",
        }
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.phone:  # as people write it: (212) 555-0142
            self.initial["phone"] = format_phone_for_display(self.instance.phone)

    def clean_first_name(self):
        return self._required_text("first_name")

    def clean_last_name(self):
        return self._required_text("last_name")

    def _required_text(self, name):
        value = (self.cleaned_data.get(name) or "").strip()
        if not value:
            raise forms.ValidationError("This cannot be blank.")
        return value

    def clean_phone(self):
        value = (self.cleaned_data.get("phone") or "").strip()
        if not value:
            return ""
        return normalise_phone(value)

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip()

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if value < date(1900, 1, 1):
            raise forms.ValidationError("The date of birth cannot be before 1900.")
        return value

    def clean(self):
        cleaned = super().clean()
        for name in ("address", "insurance_carrier", "insurance_member_id"):
            if isinstance(cleaned.get(name), str):
                cleaned[name] = cleaned[name].strip()
        return cleaned

    def _post_clean(self):
        # Validated here; services.update_patient / create_patient save (the instance is not touched).
        pass


class NewPatientForm(PatientForm):
    """Add a patient (phone call, walk-in): the likely duplicates are shown first; a new record needs a confirm."""

    confirm_new = forms.BooleanField(
        label="None of these is the caller: create a new record",
        required=False,
    )


class MergeForm(forms.Form):
    duplicate = forms.IntegerField(
        label="Record number of the duplicate",
        min_value=1,
        help_text="It is removed; its appointments, requests, waitlist entries and plans move to this record.",
        widget=forms.NumberInput(attrs={"autocomplete": "off"}),
    )
    confirm = forms.BooleanField(
        label="I have checked that both records are the same person",
        required=True,
        error_messages={"required": "Tick this box to confirm that both records are the same person."},
    )

    def __init__(self, *args, keep, **kwargs):
        kwargs.setdefault("prefix", "merge")
        super().__init__(*args, **kwargs)
        self.keep = keep

    def clean_duplicate(self):
        pk = self.cleaned_data["duplicate"]
        if pk == self.keep.pk:
            raise forms.ValidationError("That is this record: choose the other one.")
        try:
            self.duplicate_patient = Patient.objects.get(pk=pk)
        except Patient.DoesNotExist:
            raise forms.ValidationError(f"There is no patient record #{pk}.") from None
        return pk

"""Forms of the back office's patient pages."""

from django import forms

from .models import ErasureReason
from .selectors import same_text


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

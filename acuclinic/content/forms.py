from django import forms
from django.utils import timezone

from .models import default_next_review


class MedicalReviewApprovalForm(forms.Form):
    next_review_due = forms.DateField(
        label="Next review due",
        help_text="By default 12 months from today.",
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=default_next_review,
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean_next_review_due(self):
        value = self.cleaned_data["next_review_due"]
        if value <= timezone.localdate():
            raise forms.ValidationError("The next review must be after today.")
        return value


class MedicalReviewRejectForm(forms.Form):
    comment = forms.CharField(
        label="What needs to change", widget=forms.Textarea(attrs={"rows": 4}), required=True
    )


class HelpfulVoteForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        error_messages={"required": "Choose yes or no."},
    )
    missing = forms.CharField(
        label="What was missing? (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
    )

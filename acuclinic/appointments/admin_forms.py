"""Forms of the front-desk inbox: the list's filters and the actions on a request."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from acuclinic.scheduling.models import Practitioner

from . import selectors
from .models import AppointmentRequest, ContactAttempt
from .services import UNREACHABLE_MIN_ATTEMPTS

# A contact attempt logged “in the future” is a typo; a few minutes of clock difference are not.
FUTURE_TOLERANCE = timedelta(minutes=5)


class InboxFilterForm(forms.Form):
    """GET filters. An unknown value gets a message next to its filter and is ignored, never a 500."""

    status = forms.ChoiceField(label="Status", choices=selectors.STATUS_CHOICES, required=False)
    urgency = forms.ChoiceField(
        label="Urgency",
        choices=[("", "Any urgency"), *reversed(AppointmentRequest.URGENCY_CHOICES)],
        required=False,
    )
    age = forms.ChoiceField(label="Age", choices=[("", "Any age"), *selectors.AGE_CHOICES], required=False)
    practitioner = forms.ChoiceField(label="Preferred practitioner", required=False)
    assignee = forms.ChoiceField(label="Assigned to", required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["practitioner"].choices = [
            ("", "Any practitioner"),
            (selectors.NONE, "No preference"),
            *((str(p.pk), p.name) for p in Practitioner.objects.order_by("name")),
        ]
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            ("me", "Me"),
            (selectors.NONE, "Nobody (unassigned)"),
            *((str(u.pk), display_name(u)) for u in selectors.front_desk_users()),
        ]

    def filters(self) -> dict:
        """Keyword arguments for selectors.inbox_requests; invalid values fall back to their default."""
        self.is_valid()  # fills cleaned_data with the valid fields only
        data = getattr(self, "cleaned_data", {})
        result = {"status": data.get("status") or selectors.STATUS_OPEN}
        for name in ("urgency", "age"):
            if data.get(name):
                result[name] = data[name]
        if data.get("practitioner"):
            value = data["practitioner"]
            result["practitioner"] = value if value == selectors.NONE else int(value)
        if data.get("assignee"):
            value = data["assignee"]
            if value == "me":
                result["assignee"] = self.user.pk
            else:
                result["assignee"] = value if value == selectors.NONE else int(value)
        return result


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


class ContactAttemptForm(forms.Form):
    at = forms.DateTimeField(
        label="When",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Your local time.",
    )
    method = forms.ChoiceField(label="How", choices=ContactAttempt.Method.choices)
    outcome = forms.ChoiceField(label="Outcome", choices=ContactAttempt.Outcome.choices)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=ContactAttempt._meta.get_field("note").max_length,
        widget=forms.TextInput,
        help_text="Optional. No health details: they belong in the patient's record.",
    )

    prefix = "attempt"

    def __init__(self, *args, request_obj: AppointmentRequest, **kwargs):
        kwargs.setdefault("initial", {"at": timezone.localtime().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)
        self.request_obj = request_obj

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at > timezone.now() + FUTURE_TOLERANCE:
            raise forms.ValidationError("That time is in the future. Log an attempt once it has happened.")
        if at < self.request_obj.submitted_at - FUTURE_TOLERANCE:
            raise forms.ValidationError("That is before the request arrived.")
        return at


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label="Assign to", queryset=None, required=False, empty_label="Nobody (unassign)"
    )

    prefix = "assign"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.front_desk_users()
        self.fields["assignee"].label_from_instance = display_name


class EndForm(forms.Form):
    reason = forms.ChoiceField(
        label="How did it end?",
        choices=AppointmentRequest.EndReason.choices,
        widget=forms.RadioSelect,
        help_text=f"“Unreachable” needs at least {UNREACHABLE_MIN_ATTEMPTS} logged contact attempts.",
    )

    prefix = "end"

    def __init__(self, *args, request_obj: AppointmentRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_obj = request_obj

    def clean_reason(self):
        reason = self.cleaned_data["reason"]
        if reason == AppointmentRequest.EndReason.UNREACHABLE:
            attempts = self.request_obj.contact_attempts.count()
            if attempts < UNREACHABLE_MIN_ATTEMPTS:
                raise forms.ValidationError(
                    f"Log at least {UNREACHABLE_MIN_ATTEMPTS} contact attempts before ending a request as "
                    f"unreachable ({attempts} so far)."
                )
        return reason


class ConfirmForm(forms.Form):
    """The actions with nothing to fill in (reopen, acknowledge, create patient): CSRF and nothing else."""

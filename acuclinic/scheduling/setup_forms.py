"""Forms of the Clinic set-up screens (setup_views.py): the checks that need more than one record, next to the
field they concern."""

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from wagtail.admin.forms import WagtailAdminModelForm

from acuclinic.accounts.roles import CLINICIANS
from acuclinic.core.timefmt import clock, time_zone_choices

from .models import Appointment, Practitioner, WorkingHours


class HoursField(forms.IntegerField):
    """A duration entered as a whole number of hours (12, not “12:00:00”)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 24 * 60)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, timedelta):
            return int(value.total_seconds() // 3600)
        return value

    def to_python(self, value):
        hours = super().to_python(value)
        return None if hours is None else timedelta(hours=hours)

    def validate(self, value):
        forms.Field.validate(self, value)

    def run_validators(self, value):
        hours = None if value is None else int(value.total_seconds() // 3600)
        super().run_validators(hours)


class AppointmentTypeForm(WagtailAdminModelForm):
    min_notice = HoursField(
        label="Minimum notice (hours)",
        help_text="Online bookings: how many hours before the start they must be made, e.g. 12.",
    )


class StaffAccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        full_name = user.get_full_name()
        return f"{full_name} ({user.get_username()})" if full_name else user.get_username()


class PractitionerForm(WagtailAdminModelForm):
    user = StaffAccountChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        label="Staff account",
        help_text="The clinician's own sign-in: their day, their calendar feed, their patients. Only accounts "
        "in the Clinicians group are listed.",
        error_messages={
            "invalid_choice": "Only a staff account in the Clinicians group can be linked to a practitioner."
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        eligible = User.objects.filter(groups__name=CLINICIANS, is_active=True)
        if self.instance.user_id:  # keep the current link selectable even if the account left the group
            eligible = eligible | User.objects.filter(pk=self.instance.user_id)
        self.fields["user"].queryset = eligible.distinct().order_by("first_name", "last_name", "username")

    def clean_user(self):
        user = self.cleaned_data.get("user")
        if user is not None:
            other = Practitioner.objects.filter(user=user).exclude(pk=self.instance.pk).first()
            if other is not None:
                raise forms.ValidationError(
                    f"This staff account is already linked to {other.name}. Unlink it there first: one "
                    "practitioner per account.",
                    code="account_taken",
                )
        return user


class LocationForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        field.widget = forms.Select(choices=time_zone_choices())
        field.help_text = "US zones first, then every other zone by region."

    def clean(self):
        cleaned = super().clean()
        rooms = self.formsets.get("rooms")
        if rooms is not None:
            for form in rooms.forms:
                room = form.instance
                if (
                    room.pk
                    and "DELETE" in form.fields
                    and form["DELETE"].data
                    and Appointment.objects.filter(room_id=room.pk).exists()
                ):
                    self.add_error(
                        None,
                        f"Room “{room.name}” has appointments and cannot be deleted: untick "
                        "“In use” instead.",
                    )
        return cleaned


class WorkingHoursForm(WagtailAdminModelForm):
    def clean(self):
        cleaned = super().clean()
        practitioner, weekday = cleaned.get("practitioner"), cleaned.get("weekday")
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if practitioner is None or weekday in (None, "") or not starts_at or not ends_at:
            return cleaned
        if ends_at <= starts_at:
            self.add_error("ends_at", "The hours must end after they start.")
            return cleaned
        # One person cannot work two sets of hours at once, here or at another location.
        overlapping = (
            WorkingHours.objects.filter(
                practitioner=practitioner, weekday=weekday, starts_at__lt=ends_at, ends_at__gt=starts_at
            )
            .exclude(pk=self.instance.pk)
            .select_related("location")
            .first()
        )
        if overlapping is not None:
            self.add_error(
                "starts_at",
                f"These hours overlap {practitioner.name}’s {overlapping.get_weekday_display()} hours "
                f"{clock(overlapping.starts_at)} – {clock(overlapping.ends_at)} at {overlapping.location}. "
                "Change those instead, or choose other times.",
            )
        return cleaned

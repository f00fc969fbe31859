"""Forms of the front desk's schedule: the calendar's filters, booking, moving and cancelling.

Dates are typed MM/DD/YYYY and times HH:MM (or 2:30 pm), in the location's time zone. Bad input is a message next
to its field, never a 500: a time skipped by the clocks going forward included.
"""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError

from acuclinic.clinical.models import Patient

from . import selectors
from .models import AppointmentType, Location, Practitioner, Room
from .services import local_start

DATE_FORMATS = ["%m/%d/%Y"]
# The desk books and moves within these years; anything else (year 1, 9999) is a typing mistake, answered next
# to the field (and never reaches a time zone conversion that could overflow).
FIRST_YEAR, LAST_YEAR = 2000, 2100
TIME_FORMATS = ["%H:%M", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p"]
VIEWS = [("day", "Day"), ("week", "Week")]


def date_field(label="Date", **kwargs):
    return forms.DateField(
        label=label,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(format="%m/%d/%Y", attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text="MM/DD/YYYY",
        error_messages={"invalid": "Enter the date as MM/DD/YYYY, e.g. 06/03/2030."},
        **kwargs,
    )


def validate_booking_year(value: date):
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(
            f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}, as MM/DD/YYYY.", code="year_out_of_range"
        )


def booking_date_field(label="Date", **kwargs):
    return date_field(label, validators=[validate_booking_year], **kwargs)


def override_reason_field():
    return forms.CharField(
        label="Reason for booking outside the free times",
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=(
            "Only for a time in the past, on a closed day, outside working hours or between the half-hours, "
            "e.g. “visit recorded afterwards” or “practitioner agreed to stay late”. "
            "Kept on the appointment; no health details."
        ),
    )


def time_field(label="Time", **kwargs):
    return forms.TimeField(
        label=label,
        input_formats=TIME_FORMATS,
        widget=forms.TimeInput(format="%H:%M", attrs={"autocomplete": "off"}),
        help_text="24-hour HH:MM (e.g. 14:30) or 2:30 pm, the clinic's local time.",
        error_messages={"invalid": "Enter the time as HH:MM, e.g. 14:30 or 2:30 pm."},
        **kwargs,
    )


def practitioner_label(practitioner: Practitioner) -> str:
    return practitioner.name


def room_label(room: Room) -> str:
    return f"{room.name} ({room.location.name})"


def patient_label(patient: Patient) -> str:
    return f"{patient.last_name}, {patient.first_name} — born {patient.date_of_birth:%m/%d/%Y} — record #{patient.pk}"


class CalendarForm(forms.Form):
    """GET filters of the calendar; an invalid value gets its message and falls back to the default.

    A clinician (``own_only``) chooses only the day and the view: their own column is the calendar."""

    view = forms.ChoiceField(label="Show", choices=VIEWS, required=False)
    date = date_field(required=False)
    location = forms.ModelChoiceField(
        label="Location", queryset=None, required=False, empty_label="The first location"
    )
    show = forms.ChoiceField(
        label="Columns",
        choices=[("practitioners", "Practitioners"), ("rooms", "Rooms")],
        required=False,
        help_text="Side by side in the day view.",
    )
    practitioner = forms.ModelChoiceField(
        label="Practitioner",
        queryset=None,
        required=False,
        empty_label="Everyone",
        help_text="One practitioner, or everyone (day view).",
    )
    room = forms.ModelChoiceField(label="Room", queryset=None, required=False, empty_label="Every room")
    cancelled = forms.BooleanField(label="Show cancelled appointments", required=False)

    def __init__(self, *args, own_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        if own_only:
            for name in ("location", "show", "practitioner", "room", "cancelled"):
                del self.fields[name]
            return
        self.fields["location"].queryset = Location.objects.order_by("name")
        self.fields["practitioner"].queryset = selectors.active_practitioners()
        self.fields["practitioner"].label_from_instance = practitioner_label
        self.fields["room"].queryset = selectors.active_rooms()
        self.fields["room"].label_from_instance = room_label

    def value(self, name, default=None):
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get(name) or default


class _WhenMixin:
    """Turns the typed date and time into an aware instant at the location (``self.start``)."""

    def location_for_start(self, cleaned) -> Location | None:
        raise NotImplementedError

    def clean_start(self, cleaned):
        day, at = cleaned.get("date"), cleaned.get("time")
        location = self.location_for_start(cleaned)
        if day is None or at is None or location is None:
            return
        try:
            self.start = local_start(location, day, at)
        except ValidationError as exc:
            self.add_error("time", exc)
        except OverflowError:
            self.add_error("date", f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}, as MM/DD/YYYY.")


class MoveForm(_WhenMixin, forms.Form):
    prefix = "move"

    date = booking_date_field("New date")
    time = time_field("New time")
    practitioner = forms.ModelChoiceField(label="Practitioner", queryset=None)
    room = forms.ModelChoiceField(
        label="Room",
        queryset=None,
        required=False,
        empty_label="The same room if free, else the first free room",
    )
    override_reason = override_reason_field()

    def __init__(self, *args, appointment, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "date": appointment.local_start.date(),
                "time": appointment.local_start.time(),
                "practitioner": appointment.practitioner_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self.start = None
        self.fields["practitioner"].queryset = selectors.active_practitioners()
        self.fields["practitioner"].label_from_instance = practitioner_label
        self.fields["room"].queryset = selectors.active_rooms()
        self.fields["room"].label_from_instance = room_label

    def location_for_start(self, cleaned):
        room = cleaned.get("room")
        return room.location if room else self.appointment.location

    def clean(self):
        cleaned = super().clean()
        self.clean_start(cleaned)
        if self.start is not None and not cleaned.get("room"):
            # Keep the room when it is free at the new time; otherwise the first free room at the same place;
            # if none is free, keep it anyway and let the service answer "just taken" with free times.
            appointment = self.appointment
            if selectors.room_is_free(
                room=appointment.room,
                appointment_type=appointment.appointment_type,
                start=self.start,
                exclude_pk=appointment.pk,
            ):
                cleaned["room"] = appointment.room
            else:
                cleaned["room"] = (
                    selectors.first_free_room(
                        location=appointment.location,
                        appointment_type=appointment.appointment_type,
                        start=self.start,
                        exclude_pk=appointment.pk,
                    )
                    or appointment.room
                )
        return cleaned


class CancelForm(forms.Form):
    prefix = "cancel"

    reason = forms.CharField(
        label="Reason for cancelling",
        max_length=200,
        widget=forms.TextInput,
        help_text="E.g. “patient called: schedule conflict”. Kept on the appointment; no health details needed.",
        error_messages={"required": "Give a reason for the cancellation."},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason for the cancellation.")
        return reason


class ConfirmForm(forms.Form):
    """Arrived / no-show: CSRF and nothing else."""


class PatientFinderForm(forms.Form):
    """GET: find the patient to book for, by name (or record number) and/or date of birth."""

    q = forms.CharField(
        label="Name or record number",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    dob = date_field("Date of birth", required=False)

    def criteria(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"query": (data.get("q") or "").strip(), "date_of_birth": data.get("dob")}


class BookForm(_WhenMixin, forms.Form):
    """Book for an existing patient (``with_patient``) or for the patient of an appointment request."""

    prefix = "book"

    patient = forms.ModelChoiceField(
        label="Patient",
        queryset=None,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose the patient (search above).",
            "invalid_choice": "Choose the patient again (search above).",
        },
    )
    appointment_type = forms.ModelChoiceField(label="Appointment type", queryset=None)
    practitioner = forms.ModelChoiceField(label="Practitioner", queryset=None)
    location = forms.ModelChoiceField(label="Location", queryset=None)
    room = forms.ModelChoiceField(
        label="Room", queryset=None, required=False, empty_label="The first free room"
    )
    date = booking_date_field()
    time = time_field()
    override_reason = override_reason_field()

    def __init__(self, *args, patients=None, with_patient=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.start = None
        if with_patient:
            self.fields["patient"].queryset = patients if patients is not None else Patient.objects.none()
            self.fields["patient"].label_from_instance = patient_label
        else:
            del self.fields["patient"]
        self.fields["appointment_type"].queryset = AppointmentType.objects.order_by("name")
        self.fields["practitioner"].queryset = selectors.active_practitioners()
        self.fields["practitioner"].label_from_instance = practitioner_label
        self.fields["location"].queryset = Location.objects.order_by("name")
        self.fields["room"].queryset = selectors.active_rooms()
        self.fields["room"].label_from_instance = room_label
        if not self.is_bound and "location" not in self.initial:
            self.initial["location"] = getattr(Location.objects.order_by("name").first(), "pk", None)

    def location_for_start(self, cleaned):
        return cleaned.get("location")

    def clean(self):
        cleaned = super().clean()
        location, room = cleaned.get("location"), cleaned.get("room")
        if location and room and room.location_id != location.pk:
            self.add_error("room", "That room is at another location.")
            return cleaned
        self.clean_start(cleaned)
        if self.start is not None and location and not room and cleaned.get("appointment_type"):
            room = selectors.first_free_room(
                location=location, appointment_type=cleaned["appointment_type"], start=self.start
            )
            if room is None:
                self.add_error("room", "No room is free at that time at this location.")
            cleaned["room"] = room
        return cleaned


# --- the desk's free times --------------------------------------------------------------------------------------

START_FORMAT = "%Y-%m-%dT%H:%M"  # ?start= of the booking page: local wall-clock time at the location
FREE_DAYS = 7  # the days of free times shown at once


def parse_start(value: str) -> datetime | None:
    """'YYYY-MM-DDTHH:MM' (local) -> a naive datetime, or ValidationError with a message for the desk."""
    try:
        parsed = datetime.strptime(value.strip(), START_FORMAT)
    except ValueError:
        raise ValidationError(
            "The time asked for could not be read (expected YYYY-MM-DDTHH:MM). Choose one of the free times.",
            code="invalid_start",
        ) from None
    validate_booking_year(parsed.date())
    return parsed


class FreeTimesForm(forms.Form):
    """GET: what to look for (visit type, place, practitioner or first available) and from which day.

    Field names are the page's query parameters (the calendar links free cells here with them)."""

    appointment_type = forms.ModelChoiceField(
        label="Visit type",
        queryset=None,
        required=False,
        empty_label="Choose a visit type",
        error_messages={"invalid_choice": "Choose a visit type from the list."},
    )
    location = forms.ModelChoiceField(
        label="Location",
        queryset=None,
        required=False,
        empty_label="Choose a location",
        error_messages={"invalid_choice": "Choose a location from the list."},
    )
    practitioner = forms.ModelChoiceField(
        label="Practitioner",
        queryset=None,
        required=False,
        empty_label="First available",
        error_messages={"invalid_choice": "Choose a practitioner from the list, or first available."},
    )
    date = booking_date_field("From", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["appointment_type"].queryset = AppointmentType.objects.order_by("name")
        self.fields["location"].queryset = Location.objects.order_by("name")
        self.fields["practitioner"].queryset = selectors.active_practitioners()
        self.fields["practitioner"].label_from_instance = practitioner_label
        self.fields["date"].help_text = "MM/DD/YYYY: free times for a week from that day"

    def value(self, name, default=None):
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get(name) or default


class MoveFreeTimesForm(FreeTimesForm):
    """GET on the appointment page: the free times to move to (its own visit type and place)."""

    prefix = "free"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["appointment_type"]
        del self.fields["location"]
        self.fields["practitioner"].empty_label = "Any practitioner"

"""Clinic set-up in the back office: locations and rooms, visit types, practitioners and their licences, weekly
hours, time off and extra hours, closures (Wagtail snippets, grouped under “Clinic set-up”).

Who sees what is the role table (accounts.roles): Wagtail's model permissions decide each screen and menu item.

A change that would leave booked appointments outside availability (setup_checks) is saved in a transaction, the
appointments it newly leaves outside are listed, and the change is rolled back until the person saving ticks the
box that says they have seen that list. Nothing is cancelled or moved. Every create, change and delete here, and
the confirmation, is written to the audit log.
"""

from functools import reduce
from operator import or_

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.core.timefmt import clock, short_date

from . import selectors
from .models import AppointmentType, AvailabilityException, Closure, Location, Practitioner, WorkingHours
from .setup_checks import affected_scope, outside_availability, upcoming_holding
from .setup_forms import AppointmentTypeForm, LocationForm, PractitionerForm, WorkingHoursForm

CONFIRM_FIELD = "confirm_outside_hours"
# The browser's own date and time pickers (keyboard and screen-reader friendly), not the admin's pop-up calendar.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
NOT_SAVED = (
    "Not saved: this change leaves booked appointments outside hours. Check the list, then tick the box to "
    "save."
)


class ClockColumn(Column):
    """A time of day as everywhere else: “10:00 AM”."""

    def get_value(self, instance):
        return clock(getattr(instance, self.name))


class DateColumn(Column):
    def get_value(self, instance):
        return short_date(getattr(instance, self.name))


class NeedsConfirmation(Exception):
    """The change leaves these appointments outside availability and was not confirmed: roll it back."""

    def __init__(self, appointments, reasons):
        super().__init__("unconfirmed change")
        self.appointments = appointments
        self.reasons = reasons


def confirmation_value(appointments) -> str:
    return ",".join(str(a.pk) for a in appointments)


class AffectedAppointmentsMixin:
    """Check, confirm and audit a set-up change (see the module docstring)."""

    affected = None  # NeedsConfirmation, when the change waits for a confirmation

    def _scope(self, instance):
        scopes = []
        if instance.pk is not None:
            old = type(instance)._default_manager.filter(pk=instance.pk).first()
            if old is not None:
                scopes.append(affected_scope(old))
        scopes.append(affected_scope(instance))
        scopes = [s for s in scopes if s is not None]
        return reduce(or_, scopes) if scopes else None

    def checked_change(self, instance, change, *, verb: str):
        """Run ``change()`` (a save or a delete) so that it commits only if it leaves no appointment outside
        availability that was inside before, or the person saving confirmed exactly that list."""
        scope = self._scope(instance)
        object_type, object_id = instance._meta.label_lower, instance.pk
        with transaction.atomic():
            candidates = list(upcoming_holding(scope)) if scope is not None else []
            before = outside_availability(candidates)
            result = change()
            after = outside_availability(candidates)
            newly = [a for a in candidates if a.pk in after and a.pk not in before]
            confirmed = bool(newly) and self.request.POST.get(CONFIRM_FIELD) == confirmation_value(newly)
            if newly and not confirmed:
                raise NeedsConfirmation(newly, after)
            detail = f"clinic set-up: {verb}"
            if newly:
                detail += (
                    f"; confirmed {len(newly)} appointment(s) left outside availability: "
                    f"{confirmation_value(newly)}"
                )
            audit.record(
                actor=self.request.user,
                action=AuditEvent.Action.CREATE if verb == "created" else AuditEvent.Action.CHANGE,
                object_type=object_type,
                object_id=instance.pk if instance.pk is not None else object_id,
                detail=detail,
                request=self.request,
            )
        return result

    def affected_rows(self):
        """The waiting list, as shown: date, time, practitioner, patient (name or initials), link, why."""
        if self.affected is None:
            return []
        user = self.request.user
        sees_names = user.has_perm("clinical.view_patient")
        may_open = selectors.can_view_schedule(user)
        # Showing patients (names or initials) is a read of patient data: recorded, references only.
        audit.record(
            actor=user,
            action=AuditEvent.Action.LIST,
            object_type="scheduling.appointment",
            detail=f"clinic set-up: left outside hours if saved: {confirmation_value(self.affected.appointments)}",
            request=self.request,
        )
        rows = []
        for a in self.affected.appointments:
            local = a.start.astimezone(a.location.zone)
            patient = a.patient
            rows.append(
                {
                    "pk": a.pk,
                    "date": local.date(),
                    "time": clock(local),
                    "practitioner": a.practitioner.name,
                    "location": a.location.name,
                    "patient": f"{patient.first_name} {patient.last_name}"
                    if sees_names
                    else f"{patient.first_name[:1]}. {patient.last_name[:1]}.",
                    "url": reverse("scheduling_appointment_detail", args=[a.pk]) if may_open else "",
                    "why": self.affected.reasons.get(a.pk, ""),
                }
            )
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.affected is not None:
            context["affected_rows"] = self.affected_rows()
            context["affected_count"] = len(self.affected.appointments)
            context["confirm_field"] = CONFIRM_FIELD
            context["confirm_value"] = confirmation_value(self.affected.appointments)
        return context


class SetupCreateView(AffectedAppointmentsMixin, snippet_views.CreateView):
    def save_instance(self):
        parent = super().save_instance
        return self.checked_change(self.form.instance, parent, verb="created")

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except NeedsConfirmation as exc:
            self.affected = exc
            self.produced_error_message = NOT_SAVED
            form.instance.pk = None
            form.instance._state.adding = True
            return self.form_invalid(form)


class SetupEditView(AffectedAppointmentsMixin, snippet_views.EditView):
    def save_instance(self):
        parent = super().save_instance
        return self.checked_change(self.form.instance, parent, verb="changed")

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except NeedsConfirmation as exc:
            self.affected = exc
            self.produced_error_message = NOT_SAVED
            return self.form_invalid(form)


class SetupDeleteView(AffectedAppointmentsMixin, snippet_views.DeleteView):
    def delete_action(self):
        parent = super().delete_action
        return self.checked_change(self.object, parent, verb="deleted")

    def form_valid(self, form):
        pk = self.object.pk
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except NeedsConfirmation as exc:
            self.affected = exc
            self.object.pk = pk  # the delete was rolled back
            messages.warning(
                self.request, NOT_SAVED.replace("Not saved", "Not deleted").replace("save", "delete")
            )
        except ProtectedError:
            self.object.pk = pk
            messages.error(
                self.request,
                f"{self.object} has appointments and cannot be deleted. Mark it not active (or not in use) "
                "instead.",
            )
        return self.render_to_response(self.get_context_data(form=form))


class SetupViewSet(SnippetViewSet):
    add_view_class = SetupCreateView
    edit_view_class = SetupEditView
    delete_view_class = SetupDeleteView
    inspect_view_enabled = True
    copy_view_enabled = False  # a copy would be created without the outside-hours check
    create_template_name = "scheduling/setup/create.html"
    edit_template_name = "scheduling/setup/edit.html"
    delete_template_name = "scheduling/setup/delete.html"


class LocationViewSet(SetupViewSet):
    model = Location
    icon = "home"
    menu_label = "Locations and rooms"
    list_display = [
        "name",
        "state",
        "time_zone",
        ClockColumn("opens_at", label="Opens"),
        ClockColumn("closes_at", label="Closes"),
    ]
    search_fields = ["name"]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("address"),
            FieldRowPanel([FieldPanel("state"), FieldPanel("time_zone")]),
            FieldRowPanel(
                [FieldPanel("opens_at", widget=TIME), FieldPanel("closes_at", widget=TIME)],
                heading="Opening hours",
            ),
            InlinePanel(
                "rooms", heading="Rooms", label="Room", panels=[FieldPanel("name"), FieldPanel("is_active")]
            ),
        ],
        base_form_class=LocationForm,
    )


class AppointmentTypeViewSet(SetupViewSet):
    model = AppointmentType
    icon = "list-ul"
    menu_label = "Visit types"
    list_display = ["name", "duration_minutes", "new_patients_may_book_online"]
    search_fields = ["name"]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("description"),
            FieldRowPanel([FieldPanel("duration_minutes"), FieldPanel("buffer_after_minutes")]),
            FieldRowPanel([FieldPanel("min_notice"), FieldPanel("horizon_days")], heading="Online booking"),
            FieldPanel("new_patients_may_book_online"),
            FieldPanel("practitioners", widget=forms.CheckboxSelectMultiple, heading="Who offers it"),
        ],
        base_form_class=AppointmentTypeForm,
    )


class PractitionerViewSet(SetupViewSet):
    model = Practitioner
    icon = "user"
    menu_label = "Practitioners"
    list_display = ["name", "credentials", "is_active", "user"]
    list_filter = ["is_active", "locations"]
    search_fields = ["name"]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldPanel("name"),
                    FieldPanel("credentials"),
                    FieldPanel("is_active"),
                    FieldPanel("photo"),
                    FieldPanel("bio"),
                    FieldPanel("languages"),
                ],
                heading="Profile",
            ),
            FieldPanel("locations", widget=forms.CheckboxSelectMultiple),
            FieldPanel("user"),
            InlinePanel(
                "licences",
                heading="Licences",
                label="Licence",
                panels=[
                    FieldPanel("state"),
                    FieldPanel("kind"),
                    FieldPanel("number"),
                    FieldPanel("expires_on", widget=DATE),
                ],
            ),
        ],
        base_form_class=PractitionerForm,
    )


class WorkingHoursViewSet(SetupViewSet):
    model = WorkingHours
    icon = "time"
    menu_label = "Weekly hours"
    list_display = [
        "practitioner",
        "location",
        "weekday",
        ClockColumn("starts_at", label="From"),
        ClockColumn("ends_at", label="Until"),
    ]
    list_filter = ["practitioner", "location", "weekday"]
    edit_handler = ObjectList(
        [
            FieldPanel("practitioner", widget=forms.Select),
            FieldPanel("location", widget=forms.Select),
            FieldPanel("weekday"),
            FieldRowPanel(
                [FieldPanel("starts_at", widget=TIME), FieldPanel("ends_at", widget=TIME)], heading="Hours"
            ),
        ],
        base_form_class=WorkingHoursForm,
    )


class AvailabilityExceptionViewSet(SetupViewSet):
    model = AvailabilityException
    icon = "calendar-alt"
    menu_label = "Time off and extra hours"
    list_display = [
        "practitioner",
        "kind",
        DateColumn("date", label="Date"),
        ClockColumn("starts_at", label="From"),
        ClockColumn("ends_at", label="Until"),
        "location",
        "note",
    ]
    list_filter = ["kind", "practitioner"]
    edit_handler = ObjectList(
        [
            FieldPanel("practitioner", widget=forms.Select),
            FieldPanel("kind", widget=forms.RadioSelect),
            FieldPanel("date", widget=DATE),
            FieldRowPanel(
                [FieldPanel("starts_at", widget=TIME), FieldPanel("ends_at", widget=TIME)], heading="Times"
            ),
            FieldPanel("location", widget=forms.Select),
            FieldPanel("note"),
        ],
    )


class ClosureViewSet(SetupViewSet):
    model = Closure
    icon = "calendar-alt"
    menu_label = "Closures and holidays"
    list_display = [
        "location",
        DateColumn("starts_on", label="First day"),
        DateColumn("ends_on", label="Last day"),
        "reason",
    ]
    list_filter = ["location"]
    edit_handler = ObjectList(
        [
            FieldPanel("location", widget=forms.Select),
            FieldRowPanel(
                [FieldPanel("starts_on", widget=DATE), FieldPanel("ends_on", widget=DATE)],
                heading="Closed days",
            ),
            FieldPanel("reason"),
        ],
    )


class ClinicSetupGroup(SnippetViewSetGroup):
    menu_label = "Clinic set-up"
    menu_icon = "cogs"
    menu_order = 800
    items = (
        PractitionerViewSet,
        WorkingHoursViewSet,
        AvailabilityExceptionViewSet,
        ClosureViewSet,
        AppointmentTypeViewSet,
        LocationViewSet,
    )

"""The schedule in the back office: day and week calendars, an appointment's page and the desk's actions on it,
and booking for a patient (also from an appointment request).

- Calendars and appointment pages: ``scheduling.view_appointment``. The front desk sees every practitioner and
  room; a clinician sees their own practitioner's appointments only ("My day") and nothing else (404).
- Booking, moving, cancelling, arrived, no-show: ``scheduling.change_appointment`` (the front desk).
Everyone else gets a real 403 before anything is looked up. Every page that shows patients is recorded in the
audit log (references only); writes are recorded by scheduling.services.
"""

from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments.models import AppointmentRequest
from acuclinic.appointments.selectors import can_work_requests
from acuclinic.clinical import selectors as patient_selectors
from acuclinic.clinical.models import Patient
from acuclinic.core import timefmt
from acuclinic.core.validators import format_phone_for_display

from . import selectors, services
from .admin_forms import BookForm, CalendarForm, CancelForm, ConfirmForm, MoveForm, PatientFinderForm
from .models import Appointment

SCHEDULE_TITLE = "Schedule"
PATIENT_RESULTS = 20


class PermissionRequiredMixin:
    """403 unless ``has_permission(user)``, checked first so nobody else learns whether a record exists."""

    def has_permission(self, user) -> bool:
        return selectors.can_view_schedule(user)

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission(request.user):
            return permission_denied(request, PermissionDenied())
        return super().dispatch(request, *args, **kwargs)


class ManageRequiredMixin(PermissionRequiredMixin):
    def has_permission(self, user) -> bool:
        return selectors.can_manage_schedule(user)


def calendar_return_url(request) -> str | None:
    """The POSTed ``next``, when it is a path of the schedule calendar on this site; None otherwise (an absolute
    or scheme-relative address, another admin page, a backslash or a fragment are all refused)."""
    target = request.POST.get("next", "")
    calendar_path = reverse("scheduling_calendar")
    if (
        not target
        or len(target) > 1000
        or any(char in target for char in "\\#\r\n\t")
        or not url_has_allowed_host_and_scheme(target, allowed_hosts=None)
        or urlsplit(target).path != calendar_path
        or urlsplit(target).netloc
    ):
        return None
    return target


def _ids(rows) -> str:
    text = ",".join(str(row.pk) for row in rows)
    return text if len(text) <= 400 else text[:400].rsplit(",", 1)[0] + ",…"


# --- calendars ------------------------------------------------------------------------------------------------


class CalendarView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "scheduling/admin/calendar.html"
    header_icon = "date"
    http_method_names = ["get"]

    def get_page_title(self):
        return "My day" if self.own_only else SCHEDULE_TITLE

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get(self, request, *args, **kwargs):
        user = request.user
        self.own_only = not selectors.can_manage_schedule(user)
        form = CalendarForm(request.GET, own_only=self.own_only)
        view = form.value("view", "day")
        cancelled = bool(form.value("cancelled"))
        if self.own_only:  # a clinician: their own practitioner, whatever the address asks for
            practitioner, room, show = selectors.own_practitioner(user), None, "practitioners"
            location = selectors.calendar_location_for(practitioner) if practitioner else None
        else:
            practitioner, room = form.value("practitioner"), form.value("room")
            show = "rooms" if room or form.value("show") == "rooms" else "practitioners"
            location = (
                room.location
                if room
                else form.value("location") or selectors.calendar_location_for(practitioner)
            )
        self.context = {"form": form, "view": view, "practitioner": practitioner, "room": room, "show": show}
        if location is None or (self.own_only and practitioner is None):
            self.context.update(board=None, location=location)
            return super().get(request, *args, **kwargs)
        today = timezone.now().astimezone(location.zone).date()
        day = form.value("date", today)
        # The filters show what the calendar shows: the day and the location, also when they were not asked for.
        shown = form.data.copy()
        shown["date"] = f"{day:%m/%d/%Y}"
        if not self.own_only and not form.value("location"):
            shown["location"] = str(location.pk)
        if not form.errors:
            form.data = shown
        days = selectors.week_of(day) if view == "week" else [day]
        step = timedelta(days=7 if view == "week" else 1)
        practitioners = rooms = None
        if show == "rooms":
            rooms = [room] if room else list(selectors.active_rooms().filter(location=location))
            rooms = rooms[:1] if view == "week" else rooms
            room = rooms[0] if view == "week" and rooms else room
        else:
            practitioners = (
                [practitioner] if practitioner else list(selectors.board_practitioners(location=location))
            )
            practitioners = practitioners[:1] if view == "week" else practitioners
            practitioner = practitioners[0] if view == "week" and practitioners else practitioner
        board = selectors.board(
            location=location,
            days=days,
            practitioners=practitioners,
            rooms=rooms,
            include_cancelled=cancelled,
            manage=not self.own_only,
            check_out=selectors.can_check_out(user),
        )
        if room:
            subject = f"room={room.pk}"
        elif practitioner:
            subject = f"practitioner={practitioner.pk}"
        else:
            subject = f"{show}=all"
        audit.record(
            actor=user,
            action=AuditEvent.Action.LIST,
            object_type=Appointment._meta.label_lower,
            detail=(
                f"calendar {view} {days[0]:%Y-%m-%d} {subject}: {len(board.appointments)} appointments; "
                f"ids {_ids(board.appointments) or 'none'}"
            ),
            request=request,
        )

        def link(on, as_view=view):
            params = {"view": as_view, "date": f"{on:%m/%d/%Y}"}
            if not self.own_only:
                params["location"] = location.pk
                if show == "rooms":
                    params["show"] = "rooms"
                if room and (as_view == "week" or form.value("room")):
                    params["room"] = room.pk
                elif practitioner and (as_view == "week" or form.value("practitioner")):
                    params["practitioner"] = practitioner.pk
                if cancelled:
                    params["cancelled"] = "on"
            return f"{reverse('scheduling_calendar')}?{urlencode(params)}"

        self.annotate(board, location=location, week=view == "week")
        for column in board.columns:
            column.day_url = link(column.day, "day")
        other_view = "week" if view == "day" else "day"
        self.context.update(
            board=board,
            location=location,
            day=day,
            today=today,
            prev_url=link(days[0] - step),  # a week moves from its Monday
            next_url=link(days[0] + step),
            today_url=link(today),
            other_view_url=link(day, other_view),
            other_view=other_view,
            closed_reason=board.closed.get(day, ""),
            cancelled=cancelled,
            here=request.get_full_path(),
        )
        return super().get(request, *args, **kwargs)

    ACTION_URLS = {
        "arrived": "scheduling_appointment_arrived",
        "check_out": "scheduling_appointment_check_out",
        "no_show": "scheduling_appointment_no_show",
        "cancel": "scheduling_appointment_cancel",
    }

    SHORT_STATUS = {"pending": "Pending"}  # "Pending confirmation" does not fit a half-hour block

    def annotate(self, board, *, location, week: bool):
        """Addresses and labels made once in Python: a 10-practitioner day has hundreds of cells and links, and
        the template then only prints them."""
        book_url = reverse("scheduling_book")
        for column in board.columns:
            who = f"practitioner={column.practitioner.pk}&" if column.practitioner else ""
            name = column.name
            column.free_cells = []
            if not self.own_only:
                for cell in column.cells:
                    if cell.free:
                        cell.url = f"{book_url}?{who}location={location.pk}&start={cell.start:%Y-%m-%dT%H:%M}"
                        cell.label = timefmt.clock(cell.start)
                        cell.before = f"Book {timefmt.short_date(column.day)} " if week else "Book "
                        cell.after = f" with {name}" if column.practitioner else f" in {name}"
                        column.free_cells.append(cell)
            for block in column.blocks:
                a = block.appointment
                block.url = reverse("scheduling_appointment_detail", args=[a.pk])
                block.when = timefmt.clock_range(block.local_start, block.local_end)
                block.starts = timefmt.clock(block.local_start)
                block.status_label = self.SHORT_STATUS.get(a.status) or a.get_status_display()
                block.urls = {
                    name: reverse(url_name, args=[a.pk])
                    for name, url_name in self.ACTION_URLS.items()
                    if name in block.actions
                }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.context, own_only=self.own_only, can_manage=not self.own_only)
        return context


# --- one appointment ------------------------------------------------------------------------------------------


class AppointmentDetailView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "scheduling/admin/appointment_detail.html"
    header_icon = "date"
    http_method_names = ["get"]

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission(request.user):
            return permission_denied(request, PermissionDenied())
        self.load(request.user, kwargs["pk"])
        return super(PermissionRequiredMixin, self).dispatch(request, *args, **kwargs)

    def load(self, user, pk):
        try:
            self.object = selectors.appointment_for_detail(pk=pk, user=user)
        except Appointment.DoesNotExist:
            raise Http404("No such appointment") from None

    def get(self, request, *args, **kwargs):
        # The page shows the patient: every view of it is recorded (actions are recorded by their services).
        audit.record(actor=request.user, action=AuditEvent.Action.READ, obj=self.object, request=request)
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return f"Appointment #{self.object.pk}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("scheduling_calendar"), "label": SCHEDULE_TITLE},
            {"url": "", "label": f"Appointment #{self.object.pk}"},
        ]

    def detail_url(self):
        return reverse("scheduling_appointment_detail", args=[self.object.pk])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.object
        user = self.request.user
        can_manage = selectors.can_manage_schedule(user)
        now = timezone.now()
        zone = obj.location.zone
        forms = {
            "move_form": MoveForm(appointment=obj),
            "cancel_form": CancelForm(),
            "arrived_form": ConfirmForm(prefix="arrived"),
            "no_show_form": ConfirmForm(prefix="no_show"),
            "check_out_form": ConfirmForm(prefix="check_out"),
        }
        forms.update({name: form for name, form in kwargs.items() if name in forms})
        calendar_params = {"view": "day", "date": f"{obj.local_start:%m/%d/%Y}"}
        if can_manage:
            calendar_params["practitioner"] = obj.practitioner_id
        context.update(forms)
        context.update(
            appointment=obj,
            patient=obj.patient,
            local_start=obj.local_start,
            local_end=obj.end.astimezone(zone),
            phone_display=format_phone_for_display(obj.patient.phone) if obj.patient.phone else "",
            can_manage=can_manage,
            can_check_out=selectors.can_check_out(user) and obj.status == "arrived",
            can_see_patient=patient_selectors.may_see_patient(user, obj.patient),
            can_work_requests=can_work_requests(user),
            is_open=selectors.movable(obj),
            is_today=now.astimezone(zone).date() == obj.local_start.date(),
            has_started=now >= obj.start,
            calendar_url=f"{reverse('scheduling_calendar')}?{urlencode(calendar_params)}",
            next_free=kwargs.get("next_free", []),
            taken=kwargs.get("taken", False),
        )
        return context


class AppointmentActionView(ManageRequiredMixin, AppointmentDetailView):
    """A POST from one of the appointment page's forms. Invalid input re-renders the page (400) with the message
    next to the field; nothing is saved."""

    http_method_names = ["post"]
    form_name = ""

    def build_form(self, data):
        return ConfirmForm(data, prefix=self.form_name.removesuffix("_form"))

    def success_url(self) -> str:
        """Back to the calendar the action was sent from (a ``next`` path of our own schedule only, e.g.
        ``/admin/schedule/?date=…``), else the appointment's page."""
        target = calendar_return_url(self.request)
        return f"{target}#appointment-{self.object.pk}" if target else self.detail_url()

    def perform(self, form) -> str:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        form = self.build_form(request.POST)
        extra = {}
        if form.is_valid():
            try:
                message = self.perform(form)
            except services.SlotTaken as exc:
                form.add_error(None, "That time was just taken. Choose one of the next free times below.")
                extra = {"next_free": self.choices(exc, form), "taken": True}
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, message)
                return redirect(self.success_url())
        messages.error(request, "Nothing was changed: please correct the form below.")
        self.load(request.user, self.object.pk)
        # The page is shown again, with the patient: a read like any other.
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.READ,
            obj=self.object,
            detail=f"after a refused {self.form_name.removesuffix('_form')}",
            request=request,
        )
        context = self.get_context_data(**{self.form_name: form}, **extra)
        context["focus_form"] = self.form_name
        return self.render_to_response(context, status=409 if extra else 400)

    def choices(self, exc, form):
        return []


class MoveView(AppointmentActionView):
    form_name = "move_form"

    def build_form(self, data):
        return MoveForm(data, appointment=self.object)

    def perform(self, form):
        moved = services.reschedule_appointment(
            appointment=self.object,
            start=form.start,
            by=self.request.user,
            practitioner=form.cleaned_data["practitioner"],
            room=form.cleaned_data["room"],
        )
        return f"Moved to {moved.local_start:%A %m/%d/%Y at %H:%M} with {moved.practitioner.name}, {moved.room.name}."

    def choices(self, exc, form):
        """The next free times as ready-made move forms: one click each."""
        room = form.cleaned_data["room"]
        zone = room.location.zone
        return [
            {
                "label": f"{start.astimezone(zone):%a %m/%d/%Y %H:%M}",
                "date": f"{start.astimezone(zone):%m/%d/%Y}",
                "time": f"{start.astimezone(zone):%H:%M}",
                "practitioner": form.cleaned_data["practitioner"].pk,
                "room": room.pk,
            }
            for start in exc.next_free
        ]


class CancelView(AppointmentActionView):
    form_name = "cancel_form"

    def build_form(self, data):
        return CancelForm(data)

    def perform(self, form):
        services.cancel_appointment(
            appointment=self.object, by=self.request.user, reason=form.cleaned_data["reason"]
        )
        return "Appointment cancelled: the time is free again."


class ArrivedView(AppointmentActionView):
    form_name = "arrived_form"

    def perform(self, form):
        services.mark_arrived(appointment=self.object, by=self.request.user)
        return "Marked as arrived."


class CheckOutView(AppointmentActionView):
    """Arrived -> completed. The front desk, and the clinician whose visit it is (their own appointments only:
    appointment_for_detail scopes a clinician to their own)."""

    form_name = "check_out_form"

    def has_permission(self, user) -> bool:
        return selectors.can_check_out(user)

    def perform(self, form):
        services.check_out_appointment(appointment=self.object, by=self.request.user)
        return "Checked out: the visit is completed."


class NoShowView(AppointmentActionView):
    form_name = "no_show_form"

    def perform(self, form):
        services.mark_no_show(appointment=self.object, by=self.request.user)
        return "Recorded as a no-show."


# --- booking --------------------------------------------------------------------------------------------------


def picked(data):
    """One of the "next free times" buttons was pressed: its value (MM/DD/YYYY HH:MM) replaces the date and time."""
    choice = data.get("pick", "").split()
    if len(choice) != 2:
        return data
    data = data.copy()
    data["book-date"], data["book-time"] = choice
    return data


class BookView(ManageRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    """Book for an existing patient: find them (name, record number, date of birth), then type, practitioner,
    place and time."""

    template_name = "scheduling/admin/book.html"
    header_icon = "date"
    http_method_names = ["get", "post"]
    page_title = "Book an appointment"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("scheduling_calendar"), "label": SCHEDULE_TITLE},
            {"url": "", "label": self.page_title},
        ]

    def found_patients(self):
        """The search results (and a patient chosen by ?patient=), audited as a list of record ids."""
        user = self.request.user
        finder = PatientFinderForm(self.request.GET)
        criteria = finder.criteria()
        chosen = self.request.GET.get("patient") or self.request.POST.get("book-patient") or ""
        searched = bool(criteria["query"] or criteria["date_of_birth"])
        condition = Q(pk=int(chosen)) if chosen.isdigit() else Q(pk__in=[])
        if searched:
            ids = list(
                patient_selectors.search_patients(user=user, **criteria).values_list("pk", flat=True)[
                    :PATIENT_RESULTS
                ]
            )
            condition |= Q(pk__in=ids)
        patients = (
            patient_selectors.patients_visible_to(user)
            .filter(condition)
            .order_by("last_name", "first_name", "pk")
        )
        rows = list(patients)
        if rows:
            audit.record(
                actor=user,
                action=AuditEvent.Action.LIST,
                object_type=Patient._meta.label_lower,
                detail=f"booking form: {len(rows)} patients{', searched' if searched else ''}; ids {_ids(rows)}",
                request=self.request,
            )
        return finder, patients, rows, searched

    def initial(self):
        initial = {}
        for name in ("practitioner", "appointment_type", "location"):
            value = self.request.GET.get(name, "")
            if value.isdigit():
                initial[name] = int(value)
        if self.request.GET.get("patient", "").isdigit():
            initial["patient"] = int(self.request.GET["patient"])
        return initial

    def get(self, request, *args, **kwargs):
        finder, patients, rows, searched = self.found_patients()
        form = BookForm(patients=patients, initial=self.initial())
        return self.render_to_response(
            self.get_context_data(form=form, finder=finder, patient_rows=rows, searched=searched)
        )

    def post(self, request, *args, **kwargs):
        finder, patients, rows, searched = self.found_patients()
        form = BookForm(picked(request.POST), patients=patients)
        if form.is_valid():
            response = self.book(form, patient=form.cleaned_data["patient"])
            if response is not None:
                return response
        messages.error(request, "Nothing was booked: please correct the form below.")
        context = self.get_context_data(form=form, finder=finder, patient_rows=rows, searched=searched)
        return self.render_to_response(context, status=409 if context.get("next_free") else 400)

    def book(self, form, *, patient, request_obj=None):
        data = form.cleaned_data
        try:
            if request_obj is not None:
                appointment = services.book_from_request(
                    request=request_obj,
                    by=self.request.user,
                    practitioner=data["practitioner"],
                    room=data["room"],
                    appointment_type=data["appointment_type"],
                    start=form.start,
                )
            else:
                appointment = services.book_appointment(
                    patient=patient,
                    practitioner=data["practitioner"],
                    room=data["room"],
                    appointment_type=data["appointment_type"],
                    start=form.start,
                    by=self.request.user,
                )
        except services.SlotTaken as exc:
            form.add_error("time", "That time was just taken. Choose one of the next free times below.")
            zone = data["room"].location.zone
            self.next_free = [start.astimezone(zone) for start in exc.next_free]
            return None
        except ValidationError as exc:
            form.add_error(None, exc)
            return None
        messages.success(
            self.request,
            f"Booked: {appointment.local_start:%A %m/%d/%Y at %H:%M} with {appointment.practitioner.name} "
            f"({appointment.room.name}).",
        )
        return redirect("scheduling_appointment_detail", appointment.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["next_free"] = getattr(self, "next_free", [])
        context["post_url"] = self.request.get_full_path()
        return context


class BookFromRequestView(BookView):
    """The same form, prefilled from an appointment request; the patient is matched or created from the request
    and the request ends as "booked" when the booking succeeds (scheduling.services.book_from_request)."""

    page_title = "Book from an appointment request"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.request_obj = None

    def load_request(self, pk):
        try:
            self.request_obj = AppointmentRequest.objects.select_related(
                "patient", "preferred_practitioner"
            ).get(pk=pk)
        except AppointmentRequest.DoesNotExist:
            raise Http404("No such appointment request") from None

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("appointments_inbox"), "label": "Appointment requests"},
            {
                "url": reverse("appointments_request_detail", args=[self.request_obj.pk]),
                "label": self.request_obj.reference,
            },
            {"url": "", "label": "Book"},
        ]

    def initial(self):
        req = self.request_obj
        initial = {}
        if req.preferred_practitioner_id:
            initial["practitioner"] = req.preferred_practitioner_id
            location = selectors.default_location_for(req.preferred_practitioner)
            if location:
                initial["location"] = location.pk
        first_wish = req.preferred_times.order_by("date").first()
        if first_wish:
            initial["date"] = first_wish.date
        return initial

    def get(self, request, *args, **kwargs):
        self.load_request(kwargs["pk"])
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.READ,
            obj=self.request_obj,
            detail="booking form",
            request=request,
        )
        form = BookForm(with_patient=False, initial=self.initial())
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        self.load_request(kwargs["pk"])
        form = BookForm(picked(request.POST), with_patient=False)
        if form.is_valid():
            response = self.book(form, patient=None, request_obj=self.request_obj)
            if response is not None:
                return response
        messages.error(request, "Nothing was booked: please correct the form below.")
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.READ,
            obj=self.request_obj,
            detail="booking form, after a refused booking",
            request=request,
        )
        context = self.get_context_data(form=form)
        return self.render_to_response(context, status=409 if context.get("next_free") else 400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        req = self.request_obj
        context.update(
            req=req,
            request_ended=req.status == AppointmentRequest.Status.ENDED,
            preferred_times=list(req.preferred_times.all()),
        )
        return context

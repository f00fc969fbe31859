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
from acuclinic.clinical.chart import chart_for_view
from acuclinic.clinical.intake.selectors import urgent_intake_for
from acuclinic.clinical.models import Patient
from acuclinic.core import timefmt
from acuclinic.core.validators import format_phone_for_display

from . import selectors, services
from .admin_forms import (
    FREE_DAYS,
    START_FORMAT,
    BookForm,
    CalendarForm,
    CancelForm,
    ConfirmForm,
    FreeTimesForm,
    MoveForm,
    MoveFreeTimesForm,
    PatientFinderForm,
    parse_start,
)
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
        if can_manage and selectors.movable(obj):
            context.update(self.move_free_times(obj))
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
            # The clinical course: the chart header for clinicians, an urgent intake for the desk.
            chart=chart_for_view(self.request, patient=obj.patient, on=obj.local_start.date()),
            urgent_intake=urgent_intake_for(user=user, appointment=obj),
        )
        return context

    def move_free_times(self, obj) -> dict:
        """The free times to move to: the appointment's visit type at its location, for its practitioner unless
        another (or any) is asked for, a week from today or the day asked for; its own time is not a conflict."""
        params = self.request.GET
        zone = obj.location.zone
        today = timezone.now().astimezone(zone).date()
        if not any(key.startswith("free-") for key in params):
            search = MoveFreeTimesForm(initial={"practitioner": obj.practitioner_id, "date": today})
            practitioner, day_from = obj.practitioner, today
        else:
            data = params.copy()
            if (
                "free-practitioner" not in data
            ):  # the appointment's own practitioner unless another is asked for
                data["free-practitioner"] = str(obj.practitioner_id)
            search = MoveFreeTimesForm(data)
            practitioner = search.value("practitioner")
            day_from = search.value("date") or today
            if not data.get("free-date") and "date" not in search.errors:
                data["free-date"] = f"{day_from:%m/%d/%Y}"  # the "From" field shows the first day shown
        days = selectors.desk_free_days(
            appointment_type=obj.appointment_type,
            location=obj.location,
            day_from=day_from,
            days=FREE_DAYS,
            practitioner=practitioner,
            patient=obj.patient,
            moving=obj,
        )
        step = timedelta(days=FREE_DAYS)

        def link(on):
            query = dict(params.items())
            query["free-date"] = f"{on:%m/%d/%Y}"
            if "free-practitioner" not in query:
                query["free-practitioner"] = obj.practitioner_id
            return f"{self.detail_url()}?{urlencode(query)}#move"

        return {
            "move_search": search,
            "move_free_days": days,
            "move_practitioner": practitioner,
            "move_prev_url": link(day_from - step),
            "move_next_url": link(day_from + step),
            "zone": zone,
        }


class AlreadyShown(Exception):
    """A refusal whose messages are already next to the form's fields."""


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
            except AlreadyShown:
                pass
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
        return MoveForm(picked_move(data), appointment=self.object)

    def perform(self, form):
        try:
            moved = services.reschedule_appointment(
                appointment=self.object,
                start=form.start,
                by=self.request.user,
                practitioner=form.cleaned_data["practitioner"],
                room=form.cleaned_data["room"],
                desk=True,
                override_reason=form.cleaned_data.get("override_reason"),
            )
        except ValidationError as exc:
            refused_for_rules(form, exc)
            raise AlreadyShown from None
        local = moved.local_start
        return (
            f"Moved to {timefmt.long_date(local)} at {timefmt.clock(local)} with {moved.practitioner.name}, "
            f"{moved.room.name}{' — outside the free times, reason kept' if moved.override_reason else ''}."
        )

    def choices(self, exc, form):
        """The next free times as ready-made move forms: one click each."""
        room = form.cleaned_data["room"]
        zone = room.location.zone
        return [
            {
                "label": f"{timefmt.short_date(start.astimezone(zone))} {timefmt.clock(start.astimezone(zone))}",
                "date": f"{start.astimezone(zone):%m/%d/%Y}",
                "time": f"{start.astimezone(zone):%H:%M}",
                "practitioner": form.cleaned_data["practitioner"].pk,
                "room": room.pk,
            }
            for start in exc.next_free
        ]


def picked_move(data):
    """One of the free times on the appointment page was pressed: its value ("MM/DD/YYYY HH:MM practitioner room")
    replaces the date, time, practitioner and room of the move."""
    choice = data.get("pick", "").split()
    if len(choice) != 4:
        return data
    data = data.copy()
    data["move-date"], data["move-time"], data["move-practitioner"], data["move-room"] = choice
    return data


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


def refused_for_rules(form, exc: ValidationError) -> None:
    """A service's refusal, each message next to the field it is about: the free-time rules next to the date or
    time (and, without a reason, next to the reason: the way to book it anyway); anything else on top."""
    overridable = False
    for error in exc.error_list:
        if error.code in services.OVERRIDABLE:
            overridable = True
            form.add_error("date" if error.code == "closed" else "time", error)
        else:
            form.add_error(None, error)
    if overridable and not (form.cleaned_data.get("override_reason") or "").strip():
        form.add_error(
            "override_reason",
            "This time is not one of the free times. To book it anyway, give the reason here.",
        )


class BookView(ManageRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    """Book for an existing patient: find them (name, record number, date of birth), choose the visit type,
    location and practitioner (or first available), then one of the free times; another time only with a reason.

    Query parameters (the calendar links its free cells here with them): ``patient``, ``appointment_type``,
    ``location``, ``practitioner``, ``date`` (MM/DD/YYYY, the first day shown) and ``start`` (local
    'YYYY-MM-DDTHH:MM': the time picked, shown for confirmation)."""

    template_name = "scheduling/admin/book.html"
    header_icon = "date"
    http_method_names = ["get", "post"]
    page_title = "Book an appointment"
    for_request = False

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
        condition = Q(pk=int(chosen)) if chosen.isdigit() and len(chosen) < 12 else Q(pk__in=[])
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

    def chosen_patient(self, rows):
        chosen = self.request.GET.get("patient", "")
        return next((row for row in rows if str(row.pk) == chosen), None)

    def url_with(self, **changes) -> str:
        """This page's address with some query parameters changed (None drops one)."""
        params = dict(self.request.GET.items())
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return f"{self.request.path}?{urlencode(params)}" if params else self.request.path

    def free_times(self, patient):
        """The free-times part of the page, from the query parameters: what is searched, the days shown, the time
        picked (free: a confirmation; not free: why, and the way to book it anyway)."""
        search = FreeTimesForm(self.request.GET)
        context = {"search": search}
        appointment_type, location = search.value("appointment_type"), search.value("location")
        practitioner = search.value("practitioner")
        if appointment_type is None or location is None:
            return context
        zone = location.zone
        today = timezone.now().astimezone(zone).date()
        picked_start = picked_error = None
        if self.request.GET.get("start"):
            try:
                wall = parse_start(self.request.GET["start"])
                picked_start = services.local_start(location, wall.date(), wall.time())
            except ValidationError as exc:
                picked_error = exc.messages[0]
            except OverflowError:
                picked_error = "The time asked for is out of range. Choose one of the free times."
        day_from = search.value("date") or (
            picked_start.astimezone(zone).date() if picked_start is not None else today
        )
        days = selectors.desk_free_days(
            appointment_type=appointment_type,
            location=location,
            day_from=day_from,
            days=FREE_DAYS,
            practitioner=practitioner,
            patient=patient,
        )
        for free_day in days:
            for free in free_day.times:
                free.url = self.url_with(start=f"{free.start:{START_FORMAT}}") + "#picked"
        if search.data.get("date") != f"{day_from:%m/%d/%Y}" and "date" not in search.errors:
            search.data = search.data.copy()  # the "From" field shows the first day shown
            search.data["date"] = f"{day_from:%m/%d/%Y}"
        step = timedelta(days=FREE_DAYS)
        context.update(
            appointment_type=appointment_type,
            location=location,
            practitioner=practitioner,
            zone=zone,
            free_days=days,
            prev_url=self.url_with(date=f"{day_from - step:%m/%d/%Y}", start=None),
            next_url=self.url_with(date=f"{day_from + step:%m/%d/%Y}", start=None),
            picked_error=picked_error,
        )
        if picked_start is not None:
            free = selectors.desk_free_time_at(
                appointment_type=appointment_type,
                location=location,
                start=picked_start,
                practitioner=practitioner,
                patient=patient,
            )
            context["picked"] = {"start": picked_start.astimezone(zone), "free": free}
            if free is None:
                reasons = []
                if practitioner is not None:
                    reasons = services.desk_rules_broken(
                        practitioner=practitioner,
                        location=location,
                        window=services.window_for(appointment_type, picked_start),
                        now=timezone.now(),
                    )
                context["picked"]["reasons"] = [m for error in reasons for m in error.messages] or [
                    "It is taken, outside working hours, or nobody who offers this visit is free then."
                ]
        return context

    def initial(self):
        initial = {}
        for name in ("practitioner", "appointment_type", "location"):
            value = self.request.GET.get(name, "")
            if value.isdigit() and len(value) < 12:
                initial[name] = int(value)
        if self.request.GET.get("patient", "").isdigit():
            initial["patient"] = int(self.request.GET["patient"][:12])
        return initial

    def initial_for_picked(self, initial, context):
        """The time picked prefills "Book another time" (with its practitioner and room when it is free)."""
        picked_time = context.get("picked")
        if not picked_time:
            return initial
        start = picked_time["start"]
        initial = {**initial, "date": start.date(), "time": start.time()}
        if picked_time["free"] is not None:
            initial.update(practitioner=picked_time["free"].practitioner.pk, room=picked_time["free"].room_id)
        return initial

    def get(self, request, *args, **kwargs):
        finder, patients, rows, searched = self.found_patients()
        patient = self.chosen_patient(rows)
        free = self.free_times(patient)
        form = BookForm(patients=patients, initial=self.initial_for_picked(self.initial(), free))
        return self.render_to_response(
            self.get_context_data(
                form=form, finder=finder, patient_rows=rows, searched=searched, patient=patient, **free
            )
        )

    def post(self, request, *args, **kwargs):
        finder, patients, rows, searched = self.found_patients()
        form = BookForm(picked(request.POST), patients=patients)
        if form.is_valid():
            response = self.book(form, patient=form.cleaned_data["patient"])
            if response is not None:
                return response
        messages.error(request, "Nothing was booked: please correct the form below.")
        patient = self.chosen_patient(rows)
        context = self.get_context_data(
            form=form,
            finder=finder,
            patient_rows=rows,
            searched=searched,
            patient=patient,
            **self.free_times(patient),
        )
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
                    desk=True,
                    override_reason=data.get("override_reason"),
                )
            else:
                appointment = services.book_appointment(
                    patient=patient,
                    practitioner=data["practitioner"],
                    room=data["room"],
                    appointment_type=data["appointment_type"],
                    start=form.start,
                    by=self.request.user,
                    desk=True,
                    override_reason=data.get("override_reason"),
                )
        except services.SlotTaken as exc:
            form.add_error("time", "That time was just taken. Choose one of the next free times below.")
            zone = data["room"].location.zone
            self.next_free = [start.astimezone(zone) for start in exc.next_free]
            return None
        except ValidationError as exc:
            refused_for_rules(form, exc)
            return None
        local = appointment.local_start
        messages.success(
            self.request,
            f"Booked: {timefmt.long_date(local)} at {timefmt.clock(local)} with {appointment.practitioner.name} "
            f"({appointment.room.name})"
            f"{' — outside the free times, reason kept' if appointment.override_reason else ''}.",
        )
        return redirect("scheduling_appointment_detail", appointment.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["next_free"] = getattr(self, "next_free", [])
        context["post_url"] = self.request.get_full_path()
        context["for_request"] = self.for_request
        form = kwargs.get("form")
        # "Book another time" is open when it was used (or has something to say), or when the time picked is not free.
        picked_time = kwargs.get("picked")
        context["another_open"] = bool(
            (form is not None and form.is_bound) or (picked_time and picked_time["free"] is None)
        )
        if not self.for_request:
            context["change_patient_url"] = self.url_with(patient=None, start=None)
            for row in kwargs.get("patient_rows", []):
                row.book_url = self.url_with(patient=row.pk, start=None)
            context["search_hidden"] = [
                (key, self.request.GET[key]) for key in ("patient", "q", "dob") if self.request.GET.get(key)
            ]
            context["finder_hidden"] = [
                (key, self.request.GET[key])
                for key in ("appointment_type", "location", "practitioner", "date")
                if self.request.GET.get(key)
            ]
        return context


class BookFromRequestView(BookView):
    """The same page, prefilled from an appointment request; the patient is matched or created from the request
    and the request ends as "booked" when the booking succeeds (scheduling.services.book_from_request)."""

    page_title = "Book from an appointment request"
    for_request = True

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

    def request_defaults(self) -> dict:
        """What the request says (practitioner, their location, the first wished-for day), as query parameters."""
        req = self.request_obj
        defaults = {}
        if req.preferred_practitioner_id:
            defaults["practitioner"] = str(req.preferred_practitioner_id)
            location = selectors.default_location_for(req.preferred_practitioner)
            if location:
                defaults["location"] = str(location.pk)
        else:
            location = selectors.default_location_for(None)
            if location:
                defaults["location"] = str(location.pk)
        first_wish = req.preferred_times.order_by("date").first()
        if first_wish:
            defaults["date"] = f"{first_wish.date:%m/%d/%Y}"
        return defaults

    def setup_request(self, request, pk):
        self.load_request(pk)
        # The request's wishes fill in what the address does not say (a bare link from the request page).
        if not any(key in request.GET for key in ("appointment_type", "location", "practitioner", "date")):
            query = request.GET.copy()
            query.update(self.request_defaults())
            request.GET = query

    def initial(self):
        initial = super().initial()
        initial.pop("patient", None)
        date_text = self.request.GET.get("date", "")
        if date_text:
            initial["date"] = date_text
        return initial

    def get(self, request, *args, **kwargs):
        self.setup_request(request, kwargs["pk"])
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.READ,
            obj=self.request_obj,
            detail="booking form",
            request=request,
        )
        patient = self.request_obj.patient
        free = self.free_times(patient)
        form = BookForm(with_patient=False, initial=self.initial_for_picked(self.initial(), free))
        return self.render_to_response(self.get_context_data(form=form, **free))

    def post(self, request, *args, **kwargs):
        self.setup_request(request, kwargs["pk"])
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
        context = self.get_context_data(form=form, **self.free_times(self.request_obj.patient))
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

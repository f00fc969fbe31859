"""The front desk's inbox in the back office: the list, its CSV, one request's page and the actions on it.

Only staff with `appointments.work_appointmentrequest` (the “Front desk” group) and superusers get in;
everyone else is turned away by Wagtail's “permission denied” redirect. Every write goes through
appointments.services or clinical.services; reads come from appointments.selectors.
"""

import csv
import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical.services import create_or_match_patient_from_request
from acuclinic.core.validators import format_phone_for_display, phone_uri
from acuclinic.scheduling.selectors import can_manage_schedule

from . import selectors, services
from .admin_forms import AssignForm, ConfirmForm, ContactAttemptForm, EndForm, InboxFilterForm, display_name
from .models import AppointmentRequest
from .selectors import urgency_label
from .triage import age_on

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
INBOX_TITLE = "Appointment requests"


class FrontDeskRequiredMixin:
    def dispatch(self, request, *args, **kwargs):
        if not selectors.can_work_requests(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _filter_querystring(data) -> str:
    return urlencode([(k, v) for k, v in data.items() if k != "p" and v])


# --- the list ---------------------------------------------------------------------------------------------


class InboxView(FrontDeskRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "appointments/admin/inbox.html"
    page_title = INBOX_TITLE
    header_icon = "mail"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": INBOX_TITLE}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = InboxFilterForm(self.request.GET, user=self.request.user)
        now = timezone.now()
        calendar = selectors.business_calendar()
        filters = form.filters()
        queryset = selectors.inbox_requests(**filters, now=now, calendar=calendar)
        page = Paginator(queryset, PAGE_SIZE).get_page(self.request.GET.get("p"))
        rows = list(page.object_list)
        for row in rows:
            row.overdue = selectors.is_overdue(request=row, now=now, calendar=calendar)
            row.urgency_label = urgency_label(row.urgency)
            row.first_contact_label = selectors.first_contact_label(row.urgency)
        querystring = _filter_querystring(self.request.GET)
        audit.record(
            actor=self.request.user,
            action=AuditEvent.Action.LIST,
            object_type=AppointmentRequest._meta.label_lower,
            detail="; ".join(
                filter(
                    None,
                    [
                        f"inbox page {page.number}: {len(rows)} of {page.paginator.count} requests",
                        querystring,
                    ],
                )
            ),
            request=self.request,
        )
        context.update(
            filter_form=form,
            page_obj=page,
            rows=rows,
            overdue_count=sum(row.overdue for row in rows),
            querystring=querystring,
            export_url=reverse("appointments_inbox_export") + (f"?{querystring}" if querystring else ""),
            showing_spam=filters["status"] == selectors.STATUS_SPAM,
            is_filtered=bool(querystring),
        )
        return context


# --- CSV --------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "Reference",
    "Submitted",
    "Urgency",
    "Status",
    "End reason",
    "First name",
    "Last name",
    "Phone",
    "E-mail",
    "Contact method",
    "Patient status",
    "Pain duration",
    "Preferred practitioner",
    "Assigned to",
    "Contact attempts",
)
# A cell starting with one of these is a formula to Excel and LibreOffice (OWASP “CSV injection”).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_row(request: AppointmentRequest, zone) -> list[str]:
    """One request for the spreadsheet. Never the message, the red-flag answers or the reason's free text."""
    cells = [
        request.reference,
        timezone.localtime(request.submitted_at, zone).strftime("%Y-%m-%d %H:%M"),
        urgency_label(request.urgency),
        request.get_status_display(),
        request.get_end_reason_display() if request.end_reason else "",
        request.first_name,
        request.last_name,
        format_phone_for_display(request.phone) if request.phone else "",
        request.email,
        request.get_contact_method_display(),
        request.get_patient_status_display(),
        request.get_pain_duration_display(),
        request.preferred_practitioner.name if request.preferred_practitioner else "",
        display_name(request.assigned_to) if request.assigned_to else "",
        request.attempt_count,
    ]
    return [csv_safe(cell) for cell in cells]


class _Echo:
    def write(self, value):
        return value


class ExportView(FrontDeskRequiredMixin, View):
    http_method_names = ["get"]

    def get(self, request):
        form = InboxFilterForm(request.GET, user=request.user)
        calendar = selectors.business_calendar()
        queryset = selectors.inbox_requests(**form.filters(), calendar=calendar).prefetch_related(None)
        writer = csv.writer(_Echo())

        def rows():
            yield "\ufeff"  # so that Excel reads the file as UTF-8
            yield writer.writerow(CSV_COLUMNS)
            for item in queryset.iterator(chunk_size=500):
                yield writer.writerow(csv_row(item, calendar.zone))

        filename = f"appointment-requests-{calendar.local_date(timezone.now()):%Y-%m-%d}.csv"
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            object_type=AppointmentRequest._meta.label_lower,
            detail="; ".join(
                filter(None, [f"csv: {queryset.count()} requests", _filter_querystring(request.GET)])
            ),
            request=request,
        )
        logger.info("appointment requests exported", extra={"user": request.user.pk})
        return response


# --- one request ------------------------------------------------------------------------------------------


class RequestDetailView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "appointments/admin/detail.html"
    header_icon = "mail"
    http_method_names = ["get"]

    def dispatch(self, request, *args, **kwargs):
        # The permission first: nobody else learns whether a request number exists.
        if not selectors.can_work_requests(request.user):
            raise PermissionDenied
        try:
            self.object = selectors.request_for_detail(pk=kwargs["pk"])
        except AppointmentRequest.DoesNotExist:
            raise Http404("No such appointment request") from None
        if request.method == "GET":
            # Actions (POST) are recorded as changes by the services they call.
            audit.record(actor=request.user, action=AuditEvent.Action.READ, obj=self.object, request=request)
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return f"Appointment request {self.object.reference}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("appointments_inbox"), "label": INBOX_TITLE},
            {"url": "", "label": self.object.reference},
        ]

    def detail_url(self) -> str:
        return reverse("appointments_request_detail", args=[self.object.pk])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.object
        now = timezone.now()
        calendar = selectors.business_calendar()
        forms = {
            "attempt_form": ContactAttemptForm(request_obj=obj),
            "assign_form": AssignForm(initial={"assignee": obj.assigned_to_id}),
            "end_form": EndForm(request_obj=obj),
            "reopen_form": ConfirmForm(),
            "acknowledge_form": ConfirmForm(),
            "patient_form": ConfirmForm(),
        }
        forms.update({name: form for name, form in kwargs.items() if name in forms})
        context.update(forms)
        context.update(
            req=obj,
            urgency_label=urgency_label(obj.urgency),
            is_urgent=obj.urgency in selectors.URGENT_KEYS,
            overdue=selectors.is_overdue(request=obj, now=now, calendar=calendar),
            deadline=selectors.first_contact_deadline(
                urgency=obj.urgency, submitted_at=obj.submitted_at, calendar=calendar
            ),
            first_contact_label=selectors.first_contact_label(obj.urgency),
            red_flags=selectors.red_flag_rows(request=obj),
            urgency_reasons=selectors.urgency_reason_labels(request=obj),
            preferred_times=list(obj.preferred_times.all()),
            attempts=list(obj.contact_attempts.all()),
            unreachable_min_attempts=services.UNREACHABLE_MIN_ATTEMPTS,
            age=age_on(obj.date_of_birth, calendar.local_date(now)),
            phone_display=format_phone_for_display(obj.phone) if obj.phone else "",
            phone_uri=phone_uri(obj.phone) if obj.phone else "",
            can_book=can_manage_schedule(self.request.user),
        )
        return context


class RequestActionView(RequestDetailView):
    """A POST from one of the detail page's forms.

    Invalid input re-renders the page (400) with the message next to the field; nothing is saved.
    """

    http_method_names = ["post"]
    form_name = ""
    success_message = ""

    def build_form(self, data):
        return ConfirmForm(data)

    def perform(self, form) -> str | None:
        """Do the write through a service; return the success message (or raise ValidationError)."""
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        form = self.build_form(request.POST)
        if form.is_valid():
            try:
                message = self.perform(form)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, message or self.success_message)
                return redirect(self.detail_url())
        messages.error(request, "Nothing was saved: please correct the form below.")
        self.object = selectors.request_for_detail(pk=self.object.pk)
        context = self.get_context_data(**{self.form_name: form})
        context["focus_form"] = self.form_name
        return self.render_to_response(context, status=400)


class LogAttemptView(RequestActionView):
    form_name = "attempt_form"

    def build_form(self, data):
        return ContactAttemptForm(data, request_obj=self.object)

    def perform(self, form):
        services.log_contact_attempt(
            request=self.object,
            by=self.request.user,
            method=form.cleaned_data["method"],
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            at=form.cleaned_data["at"],
        )
        return "Contact attempt logged."


class AssignView(RequestActionView):
    form_name = "assign_form"

    def build_form(self, data):
        return AssignForm(data)

    def perform(self, form):
        assignee = form.cleaned_data["assignee"]
        services.assign_request(request=self.object, by=self.request.user, assignee=assignee)
        return f"Assigned to {display_name(assignee)}." if assignee else "Request unassigned."


class EndView(RequestActionView):
    form_name = "end_form"

    def build_form(self, data):
        return EndForm(data, request_obj=self.object)

    def perform(self, form):
        reason = form.cleaned_data["reason"]
        ended = services.end_request(request=self.object, by=self.request.user, reason=reason)
        return f"Request ended: {ended.get_end_reason_display()}."


class ReopenView(RequestActionView):
    form_name = "reopen_form"

    def perform(self, form):
        was_spam = self.object.is_spam
        if self.object.status != AppointmentRequest.Status.ENDED:
            if not was_spam:
                raise ValidationError("This request is still open.")
            # An urgent request kept open as “possible spam”: the desk says it is real.
            services.reopen_request(request=self.object, by=self.request.user)
            return "Marked as not spam."
        services.reopen_request(request=self.object, by=self.request.user)
        return "Request recovered from spam and reopened." if was_spam else "Request reopened."


class AcknowledgeView(RequestActionView):
    form_name = "acknowledge_form"

    def perform(self, form):
        if self.object.urgency not in selectors.URGENT_KEYS:
            raise ValidationError("Only emergency and urgent-today requests need acknowledging.")
        if self.object.urgent_acknowledged_at:
            by = self.object.urgent_acknowledged_by
            return f"Already acknowledged{f' by {display_name(by)}' if by else ''}."
        services.acknowledge_urgent(request=self.object, by=self.request.user)
        return "Urgent request acknowledged."


class CreatePatientView(RequestActionView):
    form_name = "patient_form"

    def perform(self, form):
        patient, created = create_or_match_patient_from_request(request=self.object, by=self.request.user)
        if created:
            return f"Created patient: {patient} (record #{patient.pk})."
        return f"Matched existing patient: {patient} (record #{patient.pk})."

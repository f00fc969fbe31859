"""Back office: book a treatment plan (form → preview of every visit → confirm) and the waitlist (list + add).

Front desk only (``scheduling.add_treatmentplan`` / ``scheduling.change_waitlistentry``; superusers): everyone else
gets a real 403 before anything is looked up. Every page that shows a patient is recorded in the audit log (a read,
references only); writes go through ``plans`` and ``waitlist``, which audit them.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical.models import Patient

from . import plans, waitlist
from .models import AppointmentType, Location, Practitioner, TreatmentPlan, WaitlistEntry

PLAN_PERMISSION = "scheduling.add_treatmentplan"
WAITLIST_PERMISSION = "scheduling.change_waitlistentry"
PHASE_ROWS = 3
DATE_FORMAT = "%m/%d/%Y"
TIME_FORMATS = ["%H:%M", "%I:%M %p", "%I:%M%p", "%I %p"]
SKIP = "skip"
AS_PROPOSED = "proposed"


def can_book_plans(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(PLAN_PERMISSION))


def can_work_waitlist(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(WAITLIST_PERMISSION))


class _Permission:
    def has_permission(self, user) -> bool:
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission(request.user):
            return permission_denied(request, PermissionDenied())
        return super().dispatch(request, *args, **kwargs)


# --- forms ------------------------------------------------------------------------------------------------------


class PatientNumberField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(
            label="Patient record #",
            min_value=1,
            help_text="The number on the patient's page (Patients → the patient).",
            error_messages={"invalid": "Enter the patient's record number, e.g. 42."},
            **kwargs,
        )

    def clean(self, value):
        number = super().clean(value)
        try:
            return Patient.objects.get(pk=number)
        except Patient.DoesNotExist:
            raise ValidationError("No patient has this record number.") from None


class PlanForm(forms.Form):
    patient = PatientNumberField()
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.filter(is_active=True))
    appointment_type = forms.ModelChoiceField(queryset=AppointmentType.objects.all(), label="Type")
    location = forms.ModelChoiceField(queryset=Location.objects.all())
    first_date = forms.DateField(
        label="First visit (MM/DD/YYYY)",
        input_formats=[DATE_FORMAT],
        error_messages={"invalid": "Enter the date as MM/DD/YYYY, e.g. 06/03/2030."},
    )
    first_time = forms.TimeField(
        label="Time (clinic's local time)",
        input_formats=TIME_FORMATS,
        help_text="e.g. 10:00 or 2:30 PM. Every visit keeps this time, also across a daylight-saving change.",
        error_messages={"invalid": "Enter the time as e.g. 10:00 or 2:30 PM."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, PHASE_ROWS + 1):
            required = n == 1
            self.fields[f"phase{n}_every"] = forms.IntegerField(
                label=f"Phase {n}: every",
                min_value=1,
                max_value=12,
                required=required,
                initial=1 if n < 3 else None,
            )
            self.fields[f"phase{n}_unit"] = forms.ChoiceField(
                label=f"Phase {n}: unit",
                choices=[(plans.WEEKS, "week(s)"), (plans.MONTHS, "month(s)")],
                initial=plans.WEEKS if n == 1 else plans.MONTHS,
            )
            self.fields[f"phase{n}_count"] = forms.IntegerField(
                label=f"Phase {n}: number of visits",
                min_value=1,
                max_value=plans.MAX_OCCURRENCES,
                required=required,
                initial={1: 6, 2: 3}.get(n),
            )
        for name, field in self.fields.items():
            # The ids of Wagtail's formatted field: "-helptext"; its errors "_error" (our formatted_field.html).
            described = [f"id_{name}-helptext"] if field.help_text else []
            if self.is_bound and name in self.errors:
                described.append(f"id_{name}_error")
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)

    def phase_rows(self):
        return [
            (self[f"phase{n}_every"], self[f"phase{n}_unit"], self[f"phase{n}_count"])
            for n in range(1, PHASE_ROWS + 1)
        ]

    def clean(self):
        data = super().clean()
        rows = [
            (data.get(f"phase{n}_every"), data.get(f"phase{n}_unit"), data.get(f"phase{n}_count"))
            for n in range(1, PHASE_ROWS + 1)
        ]
        for n, (every, _unit, count) in enumerate(rows, start=1):
            if (every is None) != (count is None) and f"phase{n}_count" not in self.errors:
                self.add_error(f"phase{n}_count", "Give both “every” and the number of visits, or neither.")
        if not self.errors:
            try:
                data["pattern"] = plans.parse_pattern(rows)
            except ValidationError as exc:
                self.add_error("phase1_count", exc)
        location, practitioner, appointment_type = (
            data.get("location"),
            data.get("practitioner"),
            data.get("appointment_type"),
        )
        if (
            practitioner
            and appointment_type
            and not appointment_type.practitioners.filter(pk=practitioner.pk).exists()
        ):
            self.add_error("appointment_type", "This practitioner does not offer this type.")
        if location and data.get("first_date") and data.get("first_time"):
            from .services import local_start

            try:
                data["first_start"] = local_start(location, data["first_date"], data["first_time"])
            except ValidationError as exc:
                self.add_error("first_time", exc)
        return data


class WaitlistForm(forms.Form):
    patient = PatientNumberField()
    appointment_type = forms.ModelChoiceField(queryset=AppointmentType.objects.all(), label="Type")
    location = forms.ModelChoiceField(queryset=Location.objects.all())
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.filter(is_active=True), required=False, empty_label="Any practitioner"
    )
    earliest = forms.DateField(
        label="From (MM/DD/YYYY)",
        input_formats=[DATE_FORMAT],
        error_messages={"invalid": "Enter the date as MM/DD/YYYY."},
    )
    latest = forms.DateField(
        label="Until (MM/DD/YYYY)",
        input_formats=[DATE_FORMAT],
        error_messages={"invalid": "Enter the date as MM/DD/YYYY."},
    )

    def clean(self):
        data = super().clean()
        if data.get("earliest") and data.get("latest") and data["latest"] < data["earliest"]:
            self.add_error("latest", "The last day cannot be before the first.")
        return data


# --- treatment plans ----------------------------------------------------------------------------------------------


class PlanNewView(_Permission, WagtailAdminTemplateMixin, TemplateView):
    """GET: the form. POST "preview": every visit checked. POST "confirm": book the chosen times, all or none."""

    template_name = "scheduling/admin/plan_form.html"
    page_title = "Book a treatment plan"
    header_icon = "date"
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return can_book_plans(user)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get(self, request, *args, **kwargs):
        initial = {}
        patient = None
        number = request.GET.get("patient", "")
        if number.isdigit():
            patient = Patient.objects.filter(pk=int(number)).first()
            if patient is not None:
                initial["patient"] = patient.pk
                audit.record(
                    actor=request.user,
                    action=AuditEvent.Action.READ,
                    obj=patient,
                    detail="treatment plan form",
                    request=request,
                )
        return self.render_to_response(self.get_context_data(form=PlanForm(initial=initial), patient=patient))

    def post(self, request, *args, **kwargs):
        form = PlanForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Nothing was booked: please correct the form below.")
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        patient = data["patient"]
        proposal = plans.propose_series(
            patient=patient,
            practitioner=data["practitioner"],
            location=data["location"],
            appointment_type=data["appointment_type"],
            first_start=data["first_start"],
            pattern=data["pattern"],
        )
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.READ,
            obj=patient,
            detail=f"treatment plan preview: {len(proposal)} visits",
            request=request,
        )
        if request.POST.get("action") != "confirm":
            return self.render_preview(form, proposal)
        chosen, errors = self.apply_choices(proposal)
        if errors:
            messages.error(
                request, "Nothing was booked: choose a time (or “leave out”) for each visit marked below."
            )
            return self.render_preview(form, proposal, errors=errors, status=400)
        if not chosen:
            messages.error(request, "Nothing was booked: every visit was left out.")
            return self.render_preview(form, proposal, status=400)
        result = plans.book_series(
            patient=patient,
            practitioner=data["practitioner"],
            location=data["location"],
            appointment_type=data["appointment_type"],
            pattern=data["pattern"],
            occurrences=chosen,
            by=request.user,
        )
        if not result.booked:
            messages.error(
                request, f"Nothing was booked: {result.problem} Here is the schedule as it is now."
            )
            return self.render_preview(form, result.proposal, status=409)
        messages.success(request, f"Treatment plan booked: {len(result.appointments)} visits.")
        return redirect("scheduling_plan_detail", pk=result.plan.pk)

    def apply_choices(self, proposal):
        """The occurrences with the desk's radio choices applied, and per-visit errors."""
        chosen, errors = [], {}
        for o in proposal:
            value = self.request.POST.get(f"visit-{o.index}", "")
            if value == SKIP:
                continue
            if value == AS_PROPOSED and o.is_free:
                chosen.append(o)
                continue
            match = next((a for a in o.alternatives if a.key == value), None)
            if match is None:
                errors[o.index] = "Choose one of the times offered, or leave this visit out."
                continue
            chosen.append(o.choose(match))
        return chosen, errors

    def render_preview(self, form, proposal, *, errors=None, status=200):
        errors = errors or {}
        rows = [
            {
                "occurrence": o,
                "error": errors.get(o.index, ""),
                "selected": self.request.POST.get(f"visit-{o.index}", AS_PROPOSED if o.is_free else ""),
            }
            for o in proposal
        ]
        context = self.get_context_data(
            form=form,
            patient=form.cleaned_data["patient"],
            rows=rows,
            preview=True,
            conflicts=sum(1 for o in proposal if not o.is_free),
            zone=form.cleaned_data["location"].time_zone,
            pattern_label=plans.pattern_label(form.cleaned_data["pattern"]),
        )
        return self.render_to_response(context, status=status)


class PlanDetailView(_Permission, WagtailAdminTemplateMixin, TemplateView):
    template_name = "scheduling/admin/plan_detail.html"
    header_icon = "date"
    http_method_names = ["get"]

    def has_permission(self, user):
        return can_book_plans(user)

    def get(self, request, *args, **kwargs):
        try:
            self.object = TreatmentPlan.objects.select_related(
                "patient", "practitioner", "location", "appointment_type"
            ).get(pk=kwargs["pk"])
        except TreatmentPlan.DoesNotExist:
            raise Http404("No such treatment plan") from None
        audit.record(actor=request.user, action=AuditEvent.Action.READ, obj=self.object, request=request)
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return f"Treatment plan #{self.object.pk}"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            plan=self.object,
            appointments=list(
                self.object.appointments.select_related("practitioner", "room").order_by("start")
            ),
            zone=self.object.location.time_zone,
        )
        return context


# --- the waitlist -------------------------------------------------------------------------------------------------


class WaitlistView(_Permission, WagtailAdminTemplateMixin, TemplateView):
    """The open entries (waiting and offered), first come first, and a form to add someone."""

    template_name = "scheduling/admin/waitlist.html"
    page_title = "Waitlist"
    header_icon = "time"
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return can_work_waitlist(user)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = list(
            WaitlistEntry.objects.filter(
                status__in=(WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED)
            )
            .select_related("patient", "appointment_type", "location", "practitioner", "offered_practitioner")
            .order_by("created_at", "pk")[:200]
        )
        ids = ",".join(str(r.pk) for r in rows)
        audit.record(
            actor=self.request.user,
            action=AuditEvent.Action.LIST,
            object_type=WaitlistEntry._meta.label_lower,
            detail=f"waitlist: {len(rows)} open entries; ids {ids[:400] or 'none'}",
            request=self.request,
        )
        context.update(rows=rows, form=kwargs.get("form") or WaitlistForm())
        return context

    def post(self, request, *args, **kwargs):
        form = WaitlistForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = waitlist.join_waitlist(
                    patient=data["patient"],
                    appointment_type=data["appointment_type"],
                    location=data["location"],
                    practitioner=data["practitioner"],
                    earliest=data["earliest"],
                    latest=data["latest"],
                    by=request.user,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
            else:
                messages.success(request, f"Added to the waitlist (entry #{entry.pk}).")
                return redirect("scheduling_waitlist")
        messages.error(request, "Nobody was added: please correct the form below.")
        return self.render_to_response(self.get_context_data(form=form), status=400)

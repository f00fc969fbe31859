"""Patients in the back office: the list, a patient's page, their data export and its erasure on request.

- The list and the page: `clinical.view_patient` (front desk, clinicians). Recorded as "list" and "read".
- Export (JSON, FHIR): `clinical.export_patient` (front desk). Recorded as "export" by the service.
- Erasure: `clinical.erase_patient` (administrators). The confirmation page shows the patient's name only to users
  who may see patients; the others (administrators) know whom they are erasing from the patient's request, type the
  last name, and see the record number only. Recorded as "erase" by the service.
Everyone else gets 403 — a real 403 answer, not Wagtail's "permission denied" redirect to the dashboard (which
is what raising PermissionDenied inside the admin gives). Reads come from clinical.selectors, writes go through
clinical.services.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views import View
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments.selectors import can_work_requests
from acuclinic.appointments.triage import age_on
from acuclinic.core.validators import format_phone_for_display
from acuclinic.scheduling.selectors import can_manage_schedule

from . import selectors, services
from .admin_forms import EraseForm, MergeForm, NewPatientForm, PatientForm, PatientSearchForm
from .chart import chart_for_view
from .models import Patient

PAGE_SIZE = 50
LIST_TITLE = "Patients"


class PermissionRequiredMixin:
    """Answer 403 unless `has_permission(user)`; checked before anything else, so nobody else learns whether a
    record number exists."""

    def has_permission(self, user) -> bool:
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission(request.user):
            return permission_denied(request, PermissionDenied())
        return super().dispatch(request, *args, **kwargs)


def _patient_or_404(pk: int, user) -> Patient:
    """404 for a record that does not exist and for one that is not the user's to see (a clinician's)."""
    try:
        return selectors.patient_for_detail(pk=pk, user=user)
    except Patient.DoesNotExist:
        raise Http404("No such patient") from None


def _patient_for_erasure_or_404(pk: int) -> Patient:
    try:
        return selectors.patient_for_erasure(pk=pk)
    except Patient.DoesNotExist:
        raise Http404("No such patient") from None


def _ids(rows) -> str:
    text = ",".join(str(row.pk) for row in rows)
    return text if len(text) <= 400 else text[:400].rsplit(",", 1)[0] + ",…"


class PatientListView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "clinical/admin/patient_list.html"
    page_title = LIST_TITLE
    header_icon = "user"
    http_method_names = ["get"]

    def has_permission(self, user):
        return selectors.can_view_patients(user)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": LIST_TITLE}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = PatientSearchForm(self.request.GET)
        query = form.query()
        page = Paginator(selectors.search_patients(user=self.request.user, query=query), PAGE_SIZE).get_page(
            self.request.GET.get("p")
        )
        rows = list(page.object_list)
        # Which records were shown, never the search words (a name).
        audit.record(
            actor=self.request.user,
            action=AuditEvent.Action.LIST,
            object_type=Patient._meta.label_lower,
            detail=(
                f"patients page {page.number}: {len(rows)} of {page.paginator.count}"
                f"{', searched by name' if query else ''}; ids {_ids(rows) or 'none'}"
            ),
            request=self.request,
        )
        querystring = urlencode({"q": query}) if query else ""
        context.update(
            search_form=form,
            query=query,
            page_obj=page,
            rows=rows,
            querystring=querystring,
            can_add=selectors.can_add_patient(self.request.user),
        )
        return context


class PatientDetailView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "clinical/admin/patient_detail.html"
    header_icon = "user"
    http_method_names = ["get"]

    def has_permission(self, user):
        return selectors.can_view_patients(user)

    def get(self, request, *args, **kwargs):
        self.object = _patient_or_404(kwargs["pk"], request.user)
        audit.record(actor=request.user, action=AuditEvent.Action.READ, obj=self.object, request=request)
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return f"Patient record #{self.object.pk}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("clinical_patient_list"), "label": LIST_TITLE},
            {"url": "", "label": str(self.object)},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        patient = self.object
        user = self.request.user
        upcoming, past = selectors.patient_appointments(patient=patient, user=user)
        requests = selectors.patient_appointment_requests(patient=patient)
        for req in requests:
            req.insurance_differs = bool(
                req.insurance_carrier.strip()
                and patient.insurance_carrier
                and (
                    not selectors.same_text(req.insurance_carrier, patient.insurance_carrier)
                    or not selectors.same_text(req.insurance_member_id, patient.insurance_member_id)
                )
            )
        can_merge = selectors.can_merge_patients(user)
        context.update(
            patient=patient,
            age=age_on(patient.date_of_birth, timezone.localdate()),
            phone_display=format_phone_for_display(patient.phone) if patient.phone else "",
            appointment_requests=requests,
            upcoming=upcoming,
            past=past,
            duplicates=selectors.duplicates_of(patient=patient) if can_merge else [],
            can_work_requests=can_work_requests(user),
            can_book=can_manage_schedule(user),
            can_edit=selectors.can_edit_patient(user),
            can_merge=can_merge,
            can_export=selectors.can_export_patient(user),
            can_erase=selectors.can_erase_patient(user),
            chart=chart_for_view(self.request, patient=patient, on=timezone.localdate()),
        )
        return context


def _field_names(fields) -> str:
    return ", ".join(fields)


class PatientEditView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    """The front desk edits the details; every save is audited with the names of the fields changed."""

    template_name = "clinical/admin/patient_edit.html"
    header_icon = "edit"
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return selectors.can_view_patients(user) and selectors.can_edit_patient(user)

    def get_page_title(self):
        return f"Edit patient record #{self.object.pk}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("clinical_patient_list"), "label": LIST_TITLE},
            {"url": reverse("clinical_patient_detail", args=[self.object.pk]), "label": str(self.object)},
            {"url": "", "label": "Edit"},
        ]

    def get(self, request, *args, **kwargs):
        self.object = _patient_or_404(kwargs["pk"], request.user)
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.READ,
            obj=self.object,
            detail="edit form",
            request=request,
        )
        return self.render_to_response(self.get_context_data(form=PatientForm(instance=self.object)))

    def post(self, request, *args, **kwargs):
        self.object = _patient_or_404(kwargs["pk"], request.user)
        form = PatientForm(request.POST, instance=self.object)
        if form.is_valid():
            try:
                changed = services.update_patient(
                    actor=request.user, patient=self.object, data=form.cleaned_data, request=request
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if changed:
                    messages.success(request, f"Saved: {_field_names(form[n].label for n in changed)}.")
                else:
                    messages.info(request, "Nothing was changed.")
                return redirect("clinical_patient_detail", self.object.pk)
        messages.error(request, "Nothing was saved: please correct the form below.")
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(patient=self.object)
        return context


class PatientAddView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    """Add a patient for a phone call or a walk-in. The likely duplicates (same name and birth date; same phone or
    e-mail first) are shown before anything is saved: the desk opens one, or confirms a new record."""

    template_name = "clinical/admin/patient_add.html"
    page_title = "Add a patient"
    header_icon = "user"
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return selectors.can_add_patient(user)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("clinical_patient_list"), "label": LIST_TITLE},
            {"url": "", "label": "Add a patient"},
        ]

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=NewPatientForm(), duplicates=[]))

    def post(self, request, *args, **kwargs):
        form = NewPatientForm(request.POST)
        duplicates = []
        if form.is_valid():
            data = form.cleaned_data
            duplicates = selectors.likely_duplicates(
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                phone=data["phone"],
                email=data["email"],
            )
            if duplicates:
                # The desk saw these records (references only in the log).
                audit.record(
                    actor=request.user,
                    action=AuditEvent.Action.LIST,
                    object_type=Patient._meta.label_lower,
                    detail=f"likely duplicates shown before adding a patient; ids {_ids(duplicates)}",
                    request=request,
                )
            if duplicates and not data.get("confirm_new"):
                messages.warning(
                    request,
                    f"{len(duplicates)} existing record{'s' if len(duplicates) != 1 else ''} may be this person. "
                    "Open one, or confirm below that this is somebody new.",
                )
                return self.render_to_response(
                    self.get_context_data(form=form, duplicates=duplicates), status=200
                )
            try:
                patient = services.create_patient(actor=request.user, data=data, request=request)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Patient record #{patient.pk} created.")
                return redirect("clinical_patient_detail", patient.pk)
        messages.error(request, "Nothing was saved: please correct the form below.")
        return self.render_to_response(self.get_context_data(form=form, duplicates=duplicates), status=400)


class PatientMergeView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    """Merge a duplicate record into this one (the front desk): everything moves here, the duplicate goes."""

    template_name = "clinical/admin/patient_merge.html"
    header_icon = "group"
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return selectors.can_merge_patients(user)

    def get_page_title(self):
        return f"Merge a duplicate into record #{self.object.pk}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("clinical_patient_list"), "label": LIST_TITLE},
            {"url": reverse("clinical_patient_detail", args=[self.object.pk]), "label": str(self.object)},
            {"url": "", "label": "Merge"},
        ]

    def get(self, request, *args, **kwargs):
        self.object = _patient_or_404(kwargs["pk"], request.user)
        initial = {}
        if request.GET.get("duplicate", "").isdigit():
            initial["duplicate"] = int(request.GET["duplicate"])
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.READ,
            obj=self.object,
            detail="merge form",
            request=request,
        )
        return self.render_to_response(
            self.get_context_data(form=MergeForm(keep=self.object, initial=initial))
        )

    def post(self, request, *args, **kwargs):
        self.object = _patient_or_404(kwargs["pk"], request.user)
        form = MergeForm(request.POST, keep=self.object)
        if form.is_valid():
            try:
                merge = services.merge_patients(
                    actor=request.user, keep=self.object, duplicate=form.duplicate_patient, request=request
                )
            except Patient.DoesNotExist:
                raise Http404("No such patient") from None
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    f"Record #{merge.removed_id} merged into #{merge.kept_id}: {len(merge.appointment_ids)} "
                    f"appointment(s), {len(merge.request_ids)} request(s), {len(merge.waitlist_ids)} waitlist "
                    f"entr{'y' if len(merge.waitlist_ids) == 1 else 'ies'} and {len(merge.plan_ids)} plan(s) moved.",
                )
                return redirect("clinical_patient_detail", merge.kept_id)
        messages.error(request, "Nothing was merged: please correct the form below.")
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(patient=self.object, duplicates=selectors.duplicates_of(patient=self.object))
        return context


class PatientExportView(PermissionRequiredMixin, View):
    """A download of the patient's data; `fmt` is "json" or "fhir"."""

    http_method_names = ["get"]
    fmt = "json"

    FORMATS = {
        "json": (services.export_patient_json, "application/json", "json"),
        "fhir": (services.export_patient_fhir, "application/fhir+json", "fhir.json"),
    }

    def has_permission(self, user):
        return selectors.can_export_patient(user)

    def get(self, request, pk):
        patient = _patient_or_404(pk, request.user)
        export, content_type, extension = self.FORMATS[self.fmt]
        data = export(actor=request.user, patient=patient, request=request)
        response = HttpResponse(
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
            content_type=f"{content_type}; charset=utf-8",
        )
        filename = f"patient-{patient.pk}-{timezone.localdate():%Y-%m-%d}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class PatientEraseView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "clinical/admin/patient_erase.html"
    header_icon = "bin"
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return selectors.can_erase_patient(user)

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = None
        self.shows_patient = selectors.can_view_patients(request.user)

    def get(self, request, *args, **kwargs):
        self.object = _patient_for_erasure_or_404(kwargs["pk"])
        self.shows_patient = selectors.may_see_patient(request.user, self.object)
        if self.shows_patient:
            audit.record(
                actor=request.user,
                action=AuditEvent.Action.READ,
                obj=self.object,
                detail="erasure confirmation page",
                request=request,
            )
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return f"Erase patient record #{self.object.pk}"

    def get_breadcrumbs_items(self):
        items = [*self.breadcrumbs_items]
        if self.shows_patient:
            items += [
                {"url": reverse("clinical_patient_list"), "label": LIST_TITLE},
                {"url": reverse("clinical_patient_detail", args=[self.object.pk]), "label": str(self.object)},
            ]
        return [*items, {"url": "", "label": "Erase on request"}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            patient=self.object,
            shows_patient=self.shows_patient,
            request_count=len(selectors.patient_appointment_requests(patient=self.object)),
            appointment_count=self.object.appointments.count(),
            course=selectors.clinical_course_for_export(patient=self.object),
            form=kwargs.get("form") or EraseForm(patient=self.object),
        )
        return context

    def post(self, request, *args, **kwargs):
        self.object = _patient_for_erasure_or_404(kwargs["pk"])
        self.shows_patient = selectors.may_see_patient(request.user, self.object)
        form = EraseForm(request.POST, patient=self.object)
        if form.is_valid():
            try:
                erasure = services.erase_patient(
                    actor=request.user,
                    patient=self.object,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except Patient.DoesNotExist:
                raise Http404("No such patient") from None
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                count = len(erasure.appointment_request_ids)
                messages.success(
                    request,
                    f"Patient record #{erasure.patient_id} and {count} appointment request{'s' if count != 1 else ''}"
                    " erased. The audit log keeps the record numbers and the reason.",
                )
                return redirect("clinical_patient_list" if self.shows_patient else "wagtailadmin_home")
        messages.error(request, "Nothing was erased: please correct the form below.")
        return self.render_to_response(self.get_context_data(form=form), status=400)

"""“Questionnaires & consent” in the back office: the instruments, each version readable and downloadable as a FHIR
Questionnaire; switching one on or off; the consent text (each edit a new version); adding an instrument the clinic
holds a licence for, and a new version of its definition.

Who: administrators (and superusers) manage (`clinical.change_instrument`, adding: `clinical.add_instrument`);
clinicians read (`clinical.view_instrument`); everyone else gets 403. No patient data is shown on these pages.
Writes go through instruments.services and consent.services, which record them in the audit log.
"""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..admin_views import PermissionRequiredMixin
from ..consent import services as consent_services
from . import services
from .admin_forms import ConsentTextForm, InstrumentAddForm, NewVersionForm, SwitchForm
from .fhir import questionnaire_resource, validate_questionnaire
from .models import Instrument, InstrumentVersion
from .outline import outline

LIST_TITLE = "Questionnaires & consent"
VIEW_PERMISSION = "clinical.view_instrument"
CHANGE_PERMISSION = "clinical.change_instrument"
ADD_PERMISSION = "clinical.add_instrument"


def _has(user, perm: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(perm))


def can_view_instruments(user) -> bool:
    return _has(user, VIEW_PERMISSION) or _has(user, CHANGE_PERMISSION)


def can_manage_instruments(user) -> bool:
    return _has(user, CHANGE_PERMISSION)


def can_add_instruments(user) -> bool:
    return _has(user, ADD_PERMISSION) and _has(user, CHANGE_PERMISSION)


def may_upload_version(instrument: Instrument) -> bool:
    return not instrument.builtin and instrument.kind != Instrument.Kind.CONSENT


class _Base(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    header_icon = "form"
    http_method_names = ["get"]

    def has_permission(self, user):
        return can_view_instruments(user)

    def crumbs(self, *items):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("clinical_instrument_list"), "label": LIST_TITLE},
            *items,
        ]


class _InstrumentMixin:
    """Loads the instrument named by the URL's key (after the permission check: 403 comes first)."""

    def dispatch(self, request, *args, **kwargs):
        if self.has_permission(request.user):
            self.instrument = Instrument.objects.filter(key=kwargs["key"]).first()
            if self.instrument is None:
                raise Http404("No such instrument")
        return super().dispatch(request, *args, **kwargs)

    def detail_url(self):
        return reverse("clinical_instrument_detail", args=[self.instrument.key])

    def instrument_crumbs(self, label):
        return self.crumbs(
            {"url": self.detail_url(), "label": self.instrument.title}, {"url": "", "label": label}
        )


class InstrumentListView(_Base):
    template_name = "clinical/admin/instruments/list.html"
    page_title = LIST_TITLE

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": LIST_TITLE}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = []
        for instrument in Instrument.objects.prefetch_related("versions").order_by("kind", "title"):
            versions = sorted(instrument.versions.all(), key=lambda v: v.version)
            rows.append({"instrument": instrument, "current": versions[-1] if versions else None})
        context.update(rows=rows, can_add=can_add_instruments(self.request.user))
        return context


class InstrumentDetailView(_InstrumentMixin, _Base):
    template_name = "clinical/admin/instruments/detail.html"

    def get_page_title(self):
        return self.instrument.title

    def get_breadcrumbs_items(self):
        return self.crumbs({"url": "", "label": self.instrument.title})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        versions = list(self.instrument.versions.select_related("created_by").order_by("-version"))
        current = versions[0] if versions else None
        manage = can_manage_instruments(self.request.user)
        context.update(
            instrument=self.instrument,
            versions=versions,
            current=current,
            steps=outline(current.definition) if current else [],
            can_manage=manage,
            can_switch=not (self.instrument.active and self.instrument.kind == Instrument.Kind.CONSENT),
            can_edit_text=manage and self.instrument.kind == Instrument.Kind.CONSENT,
            can_upload=manage and may_upload_version(self.instrument),
        )
        return context


class InstrumentFhirView(_InstrumentMixin, _Base):
    """One version as application/fhir+json, checked with fhir.resources R4B before it leaves."""

    def get(self, request, *args, **kwargs):
        version = InstrumentVersion.objects.filter(
            instrument=self.instrument, version=kwargs["version"]
        ).first()
        if version is None:
            raise Http404("No such version")
        version.instrument = self.instrument
        data = questionnaire_resource(version)
        validate_questionnaire(data)
        response = HttpResponse(
            json.dumps(data, indent=1, ensure_ascii=False),
            content_type="application/fhir+json; charset=utf-8",
        )
        filename = f"Questionnaire-{self.instrument.key}-v{version.version}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class _ManageMixin:
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return can_manage_instruments(user)


class InstrumentSwitchView(_ManageMixin, _InstrumentMixin, _Base):
    """Switch on (after the licence note, read and confirmed) or off."""

    template_name = "clinical/admin/instruments/switch.html"

    def get_page_title(self):
        return f"Switch {'off' if self.instrument.active else 'on'}: {self.instrument.title}"

    def get_breadcrumbs_items(self):
        return self.instrument_crumbs("Switch off" if self.instrument.active else "Switch on")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = kwargs.get("form") or SwitchForm(
            instrument=self.instrument, initial={"active": "off" if self.instrument.active else "on"}
        )
        context.update(
            instrument=self.instrument,
            form=form,
            switching_on=not self.instrument.active,
            stays_on=self.instrument.active and self.instrument.kind == Instrument.Kind.CONSENT,
            stays_on_reason=services.CONSENT_STAYS_ON,
        )
        return context

    def post(self, request, *args, **kwargs):
        form = SwitchForm(request.POST, instrument=self.instrument)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        active = form.cleaned_data["active"]
        services.set_active(instrument=self.instrument, active=active, by=request.user, request=request)
        messages.success(request, f"{self.instrument.title} is switched {'on' if active else 'off'}.")
        return redirect(self.detail_url())


class ConsentTextView(_ManageMixin, _InstrumentMixin, _Base):
    template_name = "clinical/admin/instruments/consent_text.html"
    header_icon = "edit"

    def dispatch(self, request, *args, **kwargs):
        if (
            self.has_permission(request.user)
            and not Instrument.objects.filter(key=kwargs["key"], kind=Instrument.Kind.CONSENT).exists()
        ):
            raise Http404("Only a consent form has a text to edit")
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return f"Edit the text: {self.instrument.title}"

    def get_breadcrumbs_items(self):
        return self.instrument_crumbs("Edit the text")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        versions = list(
            self.instrument.versions.select_related("created_by")
            .annotate(signed_count=Count("consents"))
            .order_by("-version")
        )
        current = versions[0] if versions else None
        form = kwargs.get("form") or ConsentTextForm(initial={"text": current.text if current else ""})
        context.update(instrument=self.instrument, form=form, versions=versions, current=current)
        return context

    def post(self, request, *args, **kwargs):
        form = ConsentTextForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        current = self.instrument.current
        version = consent_services.new_text_version(
            instrument=self.instrument, text=form.cleaned_data["text"], by=request.user
        )
        if current is not None and version.pk == current.pk:
            messages.info(request, "The text is unchanged: no new version was made.")
        else:
            messages.success(
                request,
                f"Saved as version {version.version}. Consents signed before keep the version they signed.",
            )
        return redirect(self.detail_url())


class InstrumentAddView(_Base):
    template_name = "clinical/admin/instruments/add.html"
    page_title = "Add an instrument"
    header_icon = "plus"
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return can_add_instruments(user)

    def get_breadcrumbs_items(self):
        return self.crumbs({"url": "", "label": self.page_title})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or InstrumentAddForm()
        return context

    def post(self, request, *args, **kwargs):
        form = InstrumentAddForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                instrument = services.add_instrument(
                    key=data["key"],
                    title=data["title"],
                    kind=data["kind"],
                    licence_note=data["licence_note"],
                    source=data["source"],
                    definition=data["definition"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as error:
                _errors_onto(form, error, default_field="questionnaire_json")
            else:
                messages.success(
                    request,
                    f"{instrument.title} is added as version 1, switched off. Check its questions below, then "
                    "switch it on.",
                )
                return redirect("clinical_instrument_detail", instrument.key)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class NewVersionView(_ManageMixin, _InstrumentMixin, _Base):
    template_name = "clinical/admin/instruments/new_version.html"
    header_icon = "upload"

    def dispatch(self, request, *args, **kwargs):
        if self.has_permission(request.user):
            instrument = Instrument.objects.filter(key=kwargs["key"]).first()
            if instrument is not None and not may_upload_version(instrument):
                raise Http404("A built-in instrument's definition changes with a release of Acuclinic")
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return f"New version: {self.instrument.title}"

    def get_breadcrumbs_items(self):
        return self.instrument_crumbs("New version")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(instrument=self.instrument, form=kwargs.get("form") or NewVersionForm())
        context["current"] = self.instrument.current
        return context

    def post(self, request, *args, **kwargs):
        form = NewVersionForm(request.POST, request.FILES)
        if form.is_valid():
            current = self.instrument.current
            try:
                version = services.new_definition_version(
                    instrument=self.instrument,
                    definition=form.cleaned_data["definition"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as error:
                _errors_onto(form, error, default_field="questionnaire_json")
            else:
                if current is not None and version.pk == current.pk:
                    messages.info(
                        request, "This definition is the current version's: no new version was made."
                    )
                else:
                    messages.success(request, f"Saved as version {version.version}.")
                return redirect(self.detail_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)


def _errors_onto(form, error: ValidationError, *, default_field: str) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else default_field, errors)
    else:
        form.add_error(default_field, error.messages)

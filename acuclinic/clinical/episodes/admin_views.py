"""The clinician confirms the episode's diagnosis (ICD-10-CM M54.50 / M54.51 / M54.59) from the chart header.

One POST: `clinical.change_clinical_record` (clinicians, superusers) and a patient the user may see (a clinician's
own); anyone else gets 403 before anything is read, and someone else's patient a 404. The include
`clinical/admin/_diagnosis_form.html` shows the diagnosis and, to those who may confirm it, the form; build its
context with `diagnosis_context()`. The write is `episodes.services.confirm_diagnosis` (audited).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import selectors as clinical_selectors
from ..models import Patient
from . import services
from .models import Episode
from .selectors import open_episode_of


class DiagnosisForm(forms.Form):
    prefix = "diagnosis"

    code = forms.ChoiceField(
        label="Diagnosis (ICD-10-CM)",
        choices=[("", "Choose a code"), *Episode.Diagnosis.choices],
        error_messages={
            "required": "Choose the diagnosis code.",
            "invalid_choice": "Choose one of the three low back pain codes.",
        },
    )


def diagnosis_context(*, user, patient: Patient, episode: Episode | None = None, next_url: str = "") -> dict:
    """What the include needs: the episode (the open one by default), and the form for those who may confirm."""
    episode = episode if episode is not None else open_episode_of(patient=patient)
    form = None
    if clinical_selectors.can_change_clinical_records(user):
        form = DiagnosisForm(initial={"code": episode.diagnosis if episode else ""})
    return {
        "diagnosis_patient": patient,
        "diagnosis_episode": episode,
        "diagnosis_form": form,
        "diagnosis_next": next_url,
    }


class ConfirmDiagnosisView(WagtailAdminTemplateMixin, TemplateView):
    """POST only. Confirms the code on the patient's open episode (opened now if the patient has none yet)."""

    template_name = "clinical/admin/diagnosis_confirm.html"
    page_title = "Confirm the diagnosis"
    header_icon = "doc-full"
    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        if not clinical_selectors.can_change_clinical_records(request.user):
            return permission_denied(request, PermissionDenied())
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, pk):
        try:
            patient = clinical_selectors.patient_for_detail(pk=pk, user=request.user)
        except Patient.DoesNotExist:
            raise Http404("No such patient") from None
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("clinical_patient_detail", args=[patient.pk])
        form = DiagnosisForm(request.POST)
        if form.is_valid():
            try:
                episode = services.open_episode(patient=patient)
                services.confirm_diagnosis(
                    episode=episode, code=form.cleaned_data["code"], by=request.user, request=request
                )
            except PermissionDenied:
                return permission_denied(request, PermissionDenied())
            except ValidationError as exc:
                form.add_error("code", exc.message_dict.get("code", exc.messages))
            else:
                messages.success(request, "Diagnosis confirmed.")
                return redirect(next_url)
        context = self.get_context_data(
            **diagnosis_context(user=request.user, patient=patient, next_url=next_url)
        )
        context["diagnosis_form"] = form
        return self.render_to_response(context, status=400)

"""The intake in the back office: the clinician reads every answer; the desk acknowledges an urgent intake."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from acuclinic.appointments.selectors import can_work_requests

from .. import chart
from ..instruments.models import QuestionnaireResponse
from ..models import Patient
from ..safety.admin_views import back_to
from ..selectors import patients_visible_to
from . import selectors, services


class IntakeAnswersView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "clinical/admin/intake_answers.html"
    header_icon = "form"
    http_method_names = ["get"]

    def dispatch(self, request, *args, **kwargs):
        if not chart.can_see_charts(request.user):
            return permission_denied(request, PermissionDenied())
        self.patient = patients_visible_to(request.user).filter(pk=kwargs["pk"]).first()
        if self.patient is None:
            raise Http404("No such patient")
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return f"Intake answers: {self.patient}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("clinical_patient_list"), "label": "Patients"},
            {"url": reverse("clinical_patient_detail", args=[self.patient.pk]), "label": str(self.patient)},
            {"url": "", "label": "Intake answers"},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        header = chart.chart_for_view(self.request, patient=self.patient, on=timezone.localdate())
        intake = header.intake
        context.update(
            chart=header,
            patient=self.patient,
            intake=intake,
            sections=selectors.answered_sections(intake) if intake else [],
        )
        return context


@require_POST
def acknowledge_urgent_intake(request, pk: int):
    """The desk has seen an intake's emergency or urgent answers and is looking after the patient."""
    if not can_work_requests(request.user):
        raise PermissionDenied
    response = QuestionnaireResponse.objects.filter(pk=pk).first()
    if response is None or not Patient.objects.filter(pk=response.patient_id).exists():
        raise Http404("No such intake")
    services.acknowledge_urgent(response=response, by=request.user)
    messages.success(request, "Urgent intake acknowledged.")
    fallback = (
        reverse("scheduling_appointment_detail", args=[response.appointment_id])
        if response.appointment_id
        else reverse("clinical_patient_detail", args=[response.patient_id])
    )
    return redirect(back_to(request, fallback))

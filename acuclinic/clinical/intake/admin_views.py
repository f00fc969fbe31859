"""The intake in the back office.

- The desk's card on the appointment page (status, and why none is needed) and "Fill in at the desk on this
  device", which prepares the visit's intake and opens the patient's own link on this device. Handing the device to
  the patient signs the desk out first, so that the patient holds a public intake page and never a signed-in back
  office (another patient is one click away there). The sign-out is audited like any other.
- The clinician reads every answer (with the chart header); the desk acknowledges an intake's urgent answers.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.decorators.http import require_POST
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments.selectors import can_work_requests
from acuclinic.core.timefmt import short_date
from acuclinic.scheduling import selectors as scheduling_selectors
from acuclinic.scheduling.models import Appointment

from .. import chart
from ..instruments import questionnaire as q
from ..instruments.models import QuestionnaireResponse
from ..instruments.selectors import INTAKE_KEY, current_version
from ..models import Patient
from ..safety.admin_views import back_to
from ..selectors import patients_visible_to
from . import selectors, services

HAND_OVER = "hand_over"


@dataclass(frozen=True)
class IntakeCard:
    status: str
    reason: str  # why there is no intake to fill in, when there is none
    can_fill_at_desk: bool
    appointment_pk: int


def _not_needed_reason(appointment) -> str:
    patient = appointment.patient
    if selectors.needs_intake(patient=patient, appointment=appointment):
        return ""
    treated = Appointment.objects.filter(patient=patient, status__in=scheduling_selectors.RETURNING_STATUSES)
    if treated.exclude(pk=appointment.pk).exists():
        return "Not needed: the patient has been treated here before (a visit arrived or completed)."
    return "Not needed: the patient completed an intake in their current course of care."


def intake_card(*, appointment, user) -> IntakeCard:
    """What the appointment page's intake card says (status only, never an answer)."""
    response = selectors.intake_for_appointment(appointment=appointment)
    reason = ""
    if response is None:
        status = "Not sent"
        reason = _not_needed_reason(appointment)
        if not reason and current_version(key=INTAKE_KEY) is None:
            reason = "The intake questionnaire is switched off (Questionnaires & consent)."
    elif response.status == QuestionnaireResponse.Status.COMPLETED:
        done = timezone.localtime(response.completed_at, appointment.location.zone)
        where = " at the desk" if response.source == QuestionnaireResponse.Source.DESK else ""
        status = f"Completed{where} on {short_date(done)}"
    else:
        total = len(q.steps(response.version.definition)) + 1  # the consent is the last step
        status = (
            "Sent, not started"
            if response.step == 0
            else f"In progress: step {min(response.step + 1, total)} of {total}"
        )
    may_fill = (
        scheduling_selectors.can_manage_schedule(user)
        and scheduling_selectors.movable(appointment)
        and not reason
        and (response is None or response.status != QuestionnaireResponse.Status.COMPLETED)
    )
    return IntakeCard(status=status, reason=reason, can_fill_at_desk=may_fill, appointment_pk=appointment.pk)


class IntakeAtDeskView(View):
    """POST only (the front desk): the visit's intake on this device, after signing the desk out."""

    http_method_names = ["post"]

    def post(self, request, pk):
        if not scheduling_selectors.can_manage_schedule(request.user):
            return permission_denied(request, PermissionDenied())
        try:
            appointment = scheduling_selectors.appointment_for_detail(pk=pk, user=request.user)
        except Appointment.DoesNotExist:
            raise Http404("No such appointment") from None
        back = redirect("scheduling_appointment_detail", pk=appointment.pk)
        if request.POST.get(HAND_OVER) != "1":
            messages.error(
                request, "Nothing was opened: use the button “Fill in at the desk on this device”."
            )
            return back
        if not scheduling_selectors.movable(appointment):
            messages.error(request, "This appointment is no longer open: no intake was opened.")
            return back
        response = selectors.intake_for_appointment(appointment=appointment) or services.prepare_intake(
            appointment=appointment, source=QuestionnaireResponse.Source.DESK
        )
        if response is None:
            reason = _not_needed_reason(appointment) or (
                "The intake questionnaire is switched off (Questionnaires & consent)."
            )
            messages.error(request, f"No intake was opened. {reason}")
            return back
        if response.status == QuestionnaireResponse.Status.COMPLETED:
            messages.info(request, "The patient has completed the intake already.")
            return back
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.READ,
            obj=response,
            detail=f"intake opened at the desk for appointment #{appointment.pk}",
            request=request,
        )
        link = selectors.intake_link(response)
        logout(request)
        return redirect(link)


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

"""The intake at the front desk: the card on the appointment page (status, and why none is needed) and “Fill in at
the desk on this device”, which prepares the visit's intake and opens the patient's own link on this device.

Handing the device to the patient signs the desk out first, so that the patient holds a public intake page and
never a signed-in back office (another patient is one click away there). The sign-out is audited like any other.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View
from django.views.defaults import permission_denied

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.core.timefmt import short_date
from acuclinic.scheduling import selectors as scheduling_selectors
from acuclinic.scheduling.models import Appointment

from ..instruments import questionnaire as q
from ..instruments.models import QuestionnaireResponse
from ..instruments.selectors import INTAKE_KEY, current_version
from . import selectors, services

HAND_OVER = "hand_over"


@dataclass(frozen=True)
class IntakeCard:
    status: str
    reason: str  # why there is no intake to fill in, when there is none
    can_fill_at_desk: bool
    appointment_pk: int


def _not_needed_reason(patient) -> str:
    if scheduling_selectors.is_returning_patient(patient):
        return "Not needed: the patient has been treated here before (a visit arrived or completed)."
    if not selectors.needs_intake(patient=patient):
        return "Not needed: the patient completed an intake in their current course of care."
    return ""


def intake_card(*, appointment, user) -> IntakeCard:
    """What the appointment page's intake card says (status only, never an answer)."""
    response = selectors.intake_for_appointment(appointment=appointment)
    reason = ""
    if response is None:
        status = "Not sent"
        reason = _not_needed_reason(appointment.patient)
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
            reason = _not_needed_reason(appointment.patient) or (
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

"""The clinician acknowledges a safety flag before treating (who and when, audited)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ..chart import can_see_charts
from ..selectors import may_see_patient
from . import services
from .models import SafetyFlag


def back_to(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@require_POST
def acknowledge_flag(request, pk: int):
    if not can_see_charts(request.user):
        raise PermissionDenied
    flag = SafetyFlag.objects.select_related("patient").filter(pk=pk, cleared_at__isnull=True).first()
    if flag is None or not may_see_patient(request.user, flag.patient):
        raise Http404("No such flag")
    services.acknowledge(flag=flag, by=request.user)
    messages.success(request, f"Acknowledged: {flag.finding}.")
    from django.urls import reverse

    return redirect(back_to(request, reverse("clinical_patient_detail", args=[flag.patient_id])))

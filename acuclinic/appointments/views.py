import uuid

from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from acuclinic.accounts.patient_links import InvalidLink, Purpose, make_token, read_token
from acuclinic.core import site_lookup
from acuclinic.core.models import ClinicSettings
from acuclinic.core.selectors import phones_down_alert

from .forms import AppointmentRequestForm, form_stamp, request_fields_from
from .models import AppointmentRequest
from .services import over_rate_limit, submit_appointment_request


def confirmation_token(appointment_request) -> str:
    return make_token(purpose=Purpose.APPOINTMENT_CONFIRMATION, object_id=appointment_request.pk)


def clinic_for(request) -> ClinicSettings:
    """The clinic's settings, read once (and kept per process: core/site_lookup.py); the page's
    ``settings.core.ClinicSettings`` is the same object."""
    return site_lookup.clinic_for(request)


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


@never_cache
@require_http_methods(["GET", "POST"])
def request_appointment(request):
    clinic = clinic_for(request)
    handoff = None
    if request.method == "POST":
        form = AppointmentRequestForm(request.POST, clinic=clinic)
        if form.is_valid():
            spam_reason = form.spam_reason()
            if not spam_reason and over_rate_limit(ip=client_ip(request)):
                spam_reason = "rate limit"
            submission = submit_appointment_request(
                fields=request_fields_from(form),
                red_flag_answers=form.red_flag_answers(),
                preferred_times=form.preferred_times(),
                today=form.today,
                token=form.cleaned_data.get("token") or "",
                spam_reason=spam_reason,
            )
            # Redirect after POST: a refresh never sends twice; the same token finds the same request.
            return redirect("appointment_received", token=confirmation_token(submission.request))
        # Keep the same token so a corrected resubmission is still one request.
        status = 400
    else:
        # Sent here from online booking ("Ask us to book it"): what they chose and typed there, from the session.
        handoff = request.session.pop(BOOKING_HANDOFF_KEY, None)
        if not handoff:
            page = blank_form_page(request, clinic)
            if page is not None:
                return page
        form = AppointmentRequestForm(
            clinic=clinic,
            initial={"token": uuid.uuid4().hex, "started": form_stamp(), **initial_from_booking(handoff)},
        )
        status = 200
    if request.method == "POST" and not request.POST.get("started"):
        form.data = form.data.copy()
        form.data["started"] = form_stamp()
    context = {"form": form, "clinic": clinic}
    if handoff:
        context["from_booking"] = handoff
    return render(request, "appointments/request_form.html", context, status=status)


# --- the blank form: rendered once, the per-request tokens put in --------------------------------------------------
# A visitor's blank form differs from the next one's only by its CSRF token, one-time token and signed start stamp.
# The page is rendered once with placeholders for them and kept per process under everything else it shows: the
# page cache's generation (clinic settings, site; core/page_cache.py), the alerts showing now and the practitioners
# to choose from (one query, as the form itself). Staff (the Wagtail user bar) and a hand-off from online booking
# are rendered as before. ``SITE_LOOKUP_KEEP = False`` (tests) keeps nothing.
# Placeholders, not secrets.
_SENTINELS = {  # nosec B105
    "token": "__acu_form_token__",
    "started": "__acu_form_started__",
    "csrf": "__acu_csrf_token__",
}
_blank_pages: dict = {}


def forget_blank_form() -> None:
    _blank_pages.clear()


def blank_form_page(request, clinic):
    from django.conf import settings
    from django.http import HttpResponse
    from django.middleware.csrf import get_token
    from django.template.loader import render_to_string

    from acuclinic.core import page_cache
    from acuclinic.core.selectors import active_service_alerts

    if not getattr(settings, "SITE_LOOKUP_KEEP", True) or not request.user.is_anonymous:
        return None
    try:
        generation = page_cache.current_generation()
    except page_cache.GenerationUnavailable:
        return None
    choices = AppointmentRequestForm.base_fields["preferred_practitioner"].choices  # what the form offers
    practitioners = tuple((str(value), label) for value, label in choices)
    key = (
        generation,
        request.get_host(),
        tuple(alert.pk for alert in active_service_alerts()),
        practitioners,
    )
    html = _blank_pages.get(key)
    if html is None:
        initial = {"token": _SENTINELS["token"], "started": _SENTINELS["started"]}
        form = AppointmentRequestForm(clinic=clinic, initial=initial)
        html = render_to_string(
            "appointments/request_form.html",
            {"form": form, "clinic": clinic, "csrf_token": _SENTINELS["csrf"]},
            request=request,
        )
        _blank_pages.clear()  # one blank form is all there is
        _blank_pages[key] = html
    html = (
        html.replace(_SENTINELS["token"], uuid.uuid4().hex, 1)
        .replace(_SENTINELS["started"], form_stamp(), 1)
        .replace(_SENTINELS["csrf"], get_token(request), 1)
    )
    return HttpResponse(html)


BOOKING_HANDOFF_KEY = "booking_handoff"  # set by scheduling.booking_views (the online booking's way out)


def initial_from_booking(handoff) -> dict:
    """The request form's initial values from the online booking's choices: nothing about health."""
    if not isinstance(handoff, dict):
        return {}
    initial = {
        name: str(handoff[name])
        for name in ("first_name", "last_name", "date_of_birth", "email", "phone")
        if handoff.get(name)
    }
    if handoff.get("patient_status") in ("new", "returning"):
        initial["patient_status"] = handoff["patient_status"]
    if handoff.get("practitioner"):
        initial["preferred_practitioner"] = handoff["practitioner"]
    if handoff.get("date"):
        initial["preferred_date_1"] = handoff["date"]
        initial["preferred_time_1"] = handoff.get("time_of_day") or "any"
    if handoff.get("visit"):
        wanted = f"I would like to book: {handoff['visit']}"
        if handoff.get("when"):
            wanted += f", {handoff['when']}"
        if handoff.get("practitioner_name"):
            wanted += f", with {handoff['practitioner_name']}"
        initial["message"] = wanted + "."
    return initial


def form_after_csrf_failure(request):
    """A stale or blocked CSRF cookie must not lose what the patient typed: show it again, ready to resend."""
    form = AppointmentRequestForm(request.POST, clinic=clinic_for(request))
    form.is_valid()  # shows any other problem next to its field at the same time
    context = {"form": form, "clinic": clinic_for(request), "resend_notice": True}
    return render(request, "appointments/request_form.html", context, status=403)


@never_cache
def appointment_received(request, token: str):
    try:
        pk = read_token(purpose=Purpose.APPOINTMENT_CONFIRMATION, token=token)
    except InvalidLink:
        return render(request, "appointments/received_expired.html", status=404)
    appointment_request = get_object_or_404(AppointmentRequest, pk=pk)
    clinic = clinic_for(request)
    phones_down = phones_down_alert()
    return render(
        request,
        "appointments/received.html",
        {"req": appointment_request, "clinic": clinic, "phones_down": phones_down},
    )

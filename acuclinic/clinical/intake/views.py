"""The patient's intake, phone-first: one step per page, each saved as it is answered, then the consent.

Reached only through a signed, expiring, single-purpose link (Purpose.QUESTIONNAIRE); the URL holds that token and
a step number, never an answer. Each step is a POST that saves and redirects (a refresh or a double submit changes
nothing); a step with errors is shown again with what was typed and the message next to the field.
"""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from acuclinic.accounts.audit import client_ip
from acuclinic.accounts.patient_links import InvalidLink, Purpose, read_token

from ..consent import selectors as consent_selectors
from ..consent import services as consent_services
from ..instruments import questionnaire as q
from ..instruments.forms import StepForm
from ..instruments.models import QuestionnaireResponse
from ..instruments.selectors import CONSENT_KEY, current_version
from . import services


def _response_for(token: str) -> QuestionnaireResponse:
    try:
        pk = read_token(purpose=Purpose.QUESTIONNAIRE, token=token)
    except InvalidLink:
        raise Http404("This link no longer works.") from None
    response = (
        QuestionnaireResponse.objects.select_related("patient", "version", "appointment__location")
        .filter(pk=pk)
        .first()
    )
    if response is None:
        raise Http404("This link no longer works.")
    return response


def _today(response) -> date:
    appointment = response.appointment
    if appointment is not None:
        return timezone.now().astimezone(appointment.location.zone).date()
    return timezone.localdate()


class ConsentForm(forms.Form):
    name = forms.CharField(
        label="Your full name",
        max_length=200,
        error_messages={"required": "Please type your full name."},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    signed_date = forms.DateField(
        label="Today's date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%m/%d/%Y"],
        error_messages={"required": "Please enter today's date.", "invalid": "Please enter today's date."},
    )
    agree = forms.BooleanField(
        label="I have read this and I agree to be treated with acupuncture.",
        error_messages={"required": "Please tick \u201cI agree\u201d to sign the consent."},
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_signed_date(self):
        value = self.cleaned_data["signed_date"]
        if abs((value - self.today).days) > 1:  # a day's slack either side for time zones
            raise ValidationError(f"Please enter today's date ({self.today:%m/%d/%Y}).")
        return value


def _context(response, token, **extra):
    step_list = q.steps(response.version.definition)
    return {
        "response": response,
        "token": token,
        "steps": step_list,
        "total": len(step_list) + 1,  # the consent is the last step
        "urgency": response.urgency,
        **extra,
    }


@never_cache
@require_http_methods(["GET"])
def start(request, token):
    response = _response_for(token)
    if response.status == QuestionnaireResponse.Status.COMPLETED:
        return redirect("intake_done", token=token)
    step_count = len(q.steps(response.version.definition))
    if response.step >= step_count:
        return redirect("intake_consent", token=token)
    return redirect("intake_step", token=token, number=response.step + 1)


@never_cache
@require_http_methods(["GET", "POST"])
def step(request, token, number: int):
    response = _response_for(token)
    if response.status == QuestionnaireResponse.Status.COMPLETED:
        return redirect("intake_done", token=token)
    step_list = q.steps(response.version.definition)
    index = number - 1
    if index < 0 or index >= len(step_list):
        raise Http404("No such step.")
    if index > response.step:  # no skipping ahead: the first unanswered step
        return redirect("intake_step", token=token, number=response.step + 1)
    today = _today(response)
    form_kwargs = {
        "step": step_list[index],
        "answers": response.answers,
        "today": today,
        "born": response.patient.date_of_birth,
    }
    if request.method == "POST":
        form = StepForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                services.save_step(response=response, index=index, answers=form.stored_answers(), today=today)
            except services.IntakeClosed:
                return redirect("intake_done", token=token)
            if request.POST.get("then") == "later":
                return redirect(reverse("intake_saved", kwargs={"token": token}))
            if index + 1 < len(step_list):
                return redirect("intake_step", token=token, number=number + 1)
            return redirect("intake_consent", token=token)
    else:
        form = StepForm(**form_kwargs)
    return render(
        request,
        "clinical/intake/step.html",
        _context(response, token, form=form, number=number, step=step_list[index], today=today),
    )


@never_cache
@require_http_methods(["GET"])
def saved(request, token):
    response = _response_for(token)
    return render(request, "clinical/intake/saved.html", _context(response, token))


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request, token):
    response = _response_for(token)
    if response.status == QuestionnaireResponse.Status.COMPLETED:
        return redirect("intake_done", token=token)
    step_list = q.steps(response.version.definition)
    if response.step < len(step_list):
        return redirect("intake_step", token=token, number=response.step + 1)
    version = current_version(key=CONSENT_KEY)
    today = _today(response)
    form = ConsentForm(request.POST or None, today=today, initial={"signed_date": today})
    missing = []
    if request.method == "POST" and form.is_valid():
        try:
            services.complete(
                response=response,
                consent_version=version,
                signed_name=form.cleaned_data["name"],
                signed_date=form.cleaned_data["signed_date"],
                agreed=form.cleaned_data["agree"],
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            missing = exc.messages
        else:
            return redirect("intake_done", token=token)
    return render(
        request,
        "clinical/intake/consent.html",
        _context(response, token, form=form, version=version, number=len(step_list) + 1, missing=missing),
    )


@never_cache
@require_http_methods(["GET"])
def done(request, token):
    response = _response_for(token)
    if response.status != QuestionnaireResponse.Status.COMPLETED:
        return redirect("intake_start", token=token)
    status = consent_selectors.consent_status(patient=response.patient)
    return render(
        request,
        "clinical/intake/done.html",
        _context(response, token, consent=status, withdrawn=request.GET.get("withdrawn") == "1"),
    )


@never_cache
@require_POST
def withdraw(request, token):
    response = _response_for(token)
    consent_services.withdraw(patient=response.patient, ip_address=client_ip(request))
    return redirect(reverse("intake_done", kwargs={"token": token}) + "?withdrawn=1")

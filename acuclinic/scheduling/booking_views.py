"""Online booking for patients without an account: type → practitioner or first available → day → time →
details → confirmed, and the signed link in the confirmation to see, cancel or move the booking.

Every step before the details is a plain GET with the choices so far in the query string, so the back button,
a refresh or a shared link all work and nothing is held for anyone until they confirm. The booking itself goes
through ``services.book_appointment`` (the one write path, with the database's no-overlap guarantee); a time
taken in the meantime comes back as "that time was just taken" with the next free times, and what the patient
typed is kept.
"""

import logging
from collections import OrderedDict
from datetime import date, datetime, timedelta
from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from wagtail.models import Site

from acuclinic.accounts.patient_links import InvalidLink, Purpose, make_token, read_token
from acuclinic.appointments.services import over_rate_limit
from acuclinic.appointments.views import BOOKING_HANDOFF_KEY, client_ip, clinic_for
from acuclinic.clinical import services as clinical_services
from acuclinic.core import instants
from acuclinic.core.timefmt import clock, long_date

from . import availability, services
from .booking_forms import BookingDetailsForm, CancelBookingForm
from .models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Location,
    Practitioner,
    SchedulingSettings,
)
from .selectors import is_returning_patient

logger = logging.getLogger(__name__)

DAYS_SHOWN = 14  # days with free times listed per page of the day step
WHO = ("new", "returning")


def manage_token(appointment: Appointment) -> str:
    return make_token(purpose=Purpose.MANAGE_BOOKING, object_id=appointment.pk)


def scheduling_settings(request) -> SchedulingSettings:
    site = Site.find_for_request(request) or Site.objects.filter(is_default_site=True).first()
    return SchedulingSettings.for_site(site)


# --- choices carried in the query string ---------------------------------------------------------------------


class Choice:
    """What the patient has chosen so far, read from the query string; anything unknown is dropped, not a 500, and
    a date or time that is not one (or out of range) answers 400 with a message (core/instants.py)."""

    def __init__(self, params):
        self.location = _get(
            Location.objects.filter(rooms__is_active=True).distinct(), params.get("location")
        )
        if self.location is None:
            locations = list(Location.objects.filter(rooms__is_active=True).distinct()[:2])
            self.location = locations[0] if len(locations) == 1 else None
        self.appointment_type = _get(online_types(), params.get("type"))
        slug = params.get("practitioner", "")
        self.any_practitioner = slug == "any"
        self.practitioner = None
        if slug and not self.any_practitioner:
            # From a profile's "Book with …" the practitioner may come before the visit type.
            offering = (
                self.appointment_type.practitioners
                if self.appointment_type is not None
                else Practitioner.objects.filter(appointment_types__isnull=False).distinct()
            )
            self.practitioner = offering.filter(is_active=True, slug=slug).first()
        self.day = _parse_day(params.get("day"))
        self.start = _parse_instant(params.get("start"))
        # Who the visit is for, asked first: "new" (first visit here) or "returning" (treated here before).
        self.who = params.get("who") if params.get("who") in WHO else None

    @property
    def is_new(self) -> bool:
        return self.who == "new"

    @property
    def type_closed_to_them(self) -> bool:
        """A new patient chose a visit that only patients treated here before may book online."""
        return (
            self.is_new
            and self.appointment_type is not None
            and not self.appointment_type.new_patients_may_book_online
        )

    @property
    def practitioner_param(self) -> str:
        return "any" if self.any_practitioner else (self.practitioner.slug if self.practitioner else "")

    def query(self, **extra) -> str:
        from urllib.parse import urlencode

        params = OrderedDict()
        if self.location:
            params["location"] = self.location.pk
        if self.appointment_type:
            params["type"] = self.appointment_type.pk
        if self.practitioner_param:
            params["practitioner"] = self.practitioner_param
        if self.who:
            params["who"] = self.who
        params.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(params)


def online_types():
    return (
        AppointmentType.objects.filter(practitioners__is_active=True)
        .distinct()
        .order_by("duration_minutes", "name")
    )


def who_for(appointment_type: AppointmentType) -> str:
    """Who may book the visit online, in plain words: from the type's setting, so it is always true."""
    if appointment_type.new_patients_may_book_online:
        return "For new patients and returning patients"
    return "For patients who have been treated here before"


def phones_down_alert():
    """The active service alert that says our phones are not working (and gives an e-mail address), or None."""
    from acuclinic.core.selectors import active_service_alerts

    return next((a for a in active_service_alerts() if a.phones_down and a.contact_email), None)


def _get(queryset, value):
    try:
        return queryset.filter(pk=int(value)).first() if value else None
    except (TypeError, ValueError):
        return None


def _parse_day(value, name: str = "day") -> date | None:
    """None when not sent; a date in range, or BadParameter (a 400 with a message), when sent."""
    try:
        return instants.optional_day(value)
    except instants.InvalidInstant as error:
        raise BadParameter(name, error.message) from None


def _parse_instant(value, name: str = "start") -> datetime | None:
    try:
        return instants.optional_instant(value)
    except instants.InvalidInstant as error:
        raise BadParameter(name, error.message) from None


class BadParameter(Exception):
    """A date or time in the query string or form that is not valid: answered 400 with a message."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name, self.message = name, message


def answers_bad_parameters(view):
    """A crafted date or instant answers 400 with a message and a way back, never a 500 (nor silence)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except BadParameter as error:
            token = kwargs.get("token")
            back = reverse("booking_move", args=[token]) if token else reverse("booking_start")
            context = {"clinic": clinic_for(request), "field": error.name, "message": error.message}
            return render(
                request, "scheduling/book/bad_instant.html", {**context, "back_url": back}, status=400
            )

    return wrapper


# --- the first steps, kept per process -----------------------------------------------------------------------
# Up to the visit type and practitioner, a step's page depends only on its query string, the clinic's set-up
# (locations, rooms, practitioners, visit types: each change replaces the page cache's generation, apps.py),
# the clinic settings (same) and the alerts showing. Such a page is rendered once per process, with a placeholder
# for the CSRF token where it has a form, and kept under all of these (anonymous visitors only: staff get the
# Wagtail user bar). ``SITE_LOOKUP_KEEP = False`` (tests) keeps nothing.
_CSRF_SENTINEL = "__acu_csrf_token__"
KEPT_STEPS_MAX = 200
_kept_steps: dict = {}


def forget_kept_steps() -> None:
    _kept_steps.clear()


def _step_key(request):
    from django.conf import settings

    from acuclinic.core import page_cache
    from acuclinic.core.selectors import active_service_alerts

    if not getattr(settings, "SITE_LOOKUP_KEEP", True) or not request.user.is_anonymous:
        return None
    try:
        generation = page_cache.current_generation()
    except page_cache.GenerationUnavailable:
        return None
    alerts = tuple(alert.pk for alert in active_service_alerts())
    return (generation, request.get_host(), alerts, request.get_full_path())


def _respond(request, html: str, status: int = 200) -> HttpResponse:
    from django.middleware.csrf import get_token

    if _CSRF_SENTINEL in html:
        html = html.replace(_CSRF_SENTINEL, get_token(request))
    return HttpResponse(html, status=status)


def _kept_step(request):
    """(the kept page as a response, or None; the key to keep it under, or None)."""
    key = _step_key(request)
    html = _kept_steps.get(key) if key is not None else None
    return (_respond(request, html) if html is not None else None), key


def _render_step(request, key, template: str, context: dict) -> HttpResponse:
    if key is None:
        return render(request, template, context)
    html = render_to_string(template, {**context, "csrf_token": _CSRF_SENTINEL}, request=request)
    if len(_kept_steps) >= KEPT_STEPS_MAX:  # query strings are the visitor's: the space is bounded
        _kept_steps.clear()
    _kept_steps[key] = html
    return _respond(request, html)


# --- the steps -------------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET"])
@answers_bad_parameters
def book(request):
    clinic = clinic_for(request)
    kept, key = _kept_step(request)
    if kept is not None:
        return kept
    choice = Choice(request.GET)
    context = {"clinic": clinic, "choice": choice}
    if choice.location is None:
        context["locations"] = Location.objects.filter(rooms__is_active=True).distinct()
        return _render_step(request, key, "scheduling/book/location.html", context)
    if choice.appointment_type is None and choice.who is None:
        # The first question: it decides which visits can be booked online, before anything is chosen.
        return _render_step(request, key, "scheduling/book/who.html", context)
    if choice.appointment_type is None or choice.type_closed_to_them:
        types = online_types()
        if choice.practitioner is not None:
            types = types.filter(practitioners=choice.practitioner)
        types = list(types)
        for appointment_type in types:
            appointment_type.who_for = who_for(appointment_type)
        if choice.is_new:
            context["closed_types"] = [t for t in types if not t.new_patients_may_book_online]
            types = [t for t in types if t.new_patients_may_book_online]
        context["types"] = types
        context["refused_type"] = choice.appointment_type if choice.type_closed_to_them else None
        context["refused_types"] = [choice.appointment_type] if choice.type_closed_to_them else []
        context["phones_down"] = phones_down_alert()
        return _render_step(request, key, "scheduling/book/type.html", context)
    if choice.practitioner is None and not choice.any_practitioner:
        context["practitioners"] = choice.appointment_type.practitioners.filter(is_active=True).order_by(
            "name"
        )
        return _render_step(request, key, "scheduling/book/practitioner.html", context)

    zone = choice.location.zone
    today = timezone.localtime(timezone.now(), zone).date()
    if choice.day is None:
        start = _parse_day(request.GET.get("from"), "from") or today
        start = max(start, today)
        slots = availability.free_slots(
            appointment_type=choice.appointment_type,
            location=choice.location,
            practitioner=choice.practitioner,
            day_from=start,
            day_to=start + timedelta(days=choice.appointment_type.horizon_days),
            days_with_slots=DAYS_SHOWN + 1,  # one more: where "later dates" starts
        )
        days = OrderedDict()
        for slot in slots:
            day = slot.start.astimezone(zone).date()
            if day not in days and len(days) == DAYS_SHOWN:
                context["more_from"] = day.isoformat()
                break
            days.setdefault(day, set()).add(slot.start)
        context["days"] = [(day, len(starts)) for day, starts in days.items()]
        return render(request, "scheduling/book/day.html", context)

    slots = availability.free_slots(
        appointment_type=choice.appointment_type,
        location=choice.location,
        practitioner=choice.practitioner,
        day_from=choice.day,
        day_to=choice.day,
    )
    context["times"] = _distinct_starts(slots, zone)
    return render(request, "scheduling/book/time.html", context)


def _distinct_starts(slots, zone):
    """One entry per start time (first available: any practitioner free then), in local time."""
    seen = OrderedDict()
    for slot in slots:
        seen.setdefault(slot.start, slot.start.astimezone(zone))
    return [{"start": start.isoformat(), "local": local} for start, local in seen.items()]


@never_cache
@require_http_methods(["GET", "POST"])
@answers_bad_parameters
def details(request):
    clinic = clinic_for(request)
    key = None
    if request.method == "GET":
        kept, key = _kept_step(request)
        if kept is not None:
            return kept
    choice = Choice(request.GET if request.method == "GET" else request.POST)
    if (
        request.method == "POST"
        and request.POST.get("handoff")
        and choice.location
        and choice.appointment_type
    ):
        # "Ask us to book it": the request form, with what they chose (and typed) carried over in the session.
        _hand_off(request, choice)
        return redirect("request_appointment")
    if choice.location is None or choice.appointment_type is None or choice.start is None:
        return redirect(f"{reverse('booking_start')}?{choice.query()}")
    if choice.practitioner is None and not choice.any_practitioner:
        return redirect(f"{reverse('booking_start')}?{choice.query()}")
    if choice.type_closed_to_them:
        return redirect(f"{reverse('booking_start')}?{choice.query()}")
    today = timezone.localtime(timezone.now(), choice.location.zone).date()
    context = {
        "clinic": clinic,
        "choice": choice,
        "local_start": choice.start.astimezone(choice.location.zone),
        "phones_down": phones_down_alert(),
    }
    if request.method == "GET":
        context["form"] = BookingDetailsForm(today=today)
        return _render_step(request, key, "scheduling/book/details.html", context)

    if request.POST.get("as_new") and choice.appointment_type.new_patients_may_book_online:
        choice.who = "new"  # "Book as a new patient" after a returning claim found no record
    form = BookingDetailsForm(request.POST, today=today)
    context["form"] = form
    if not form.is_valid():
        return render(request, "scheduling/book/details.html", context, status=400)
    if over_rate_limit(ip=client_ip(request)):
        form.add_error(None, "Too many bookings from this connection. Please call us to book.")
        return render(request, "scheduling/book/details.html", context, status=429)
    refusal = _eligibility(choice=choice, data=form.cleaned_data)
    if refusal is not None:
        form.add_identity_error(refusal)
        context["no_match"] = True
        context["may_book_as_new"] = choice.appointment_type.new_patients_may_book_online
        return render(request, "scheduling/book/details.html", context, status=400)
    try:
        appointment = _book(choice=choice, data=form.cleaned_data)
    except services.SlotTaken as taken:
        context["taken"] = [
            {"start": start.isoformat(), "local": start.astimezone(choice.location.zone)}
            for start in taken.next_free
        ]
        return render(request, "scheduling/book/details.html", context, status=409)
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        context["not_bookable"] = True
        return render(request, "scheduling/book/details.html", context, status=400)
    messages.success(request, "Your appointment is booked.")
    return redirect("booking_manage", token=manage_token(appointment))


def _eligibility(*, choice: Choice, data) -> str | None:
    """Why the details do not fit who they said they are (shown next to the name and birth date), or None.

    "Treated here before" must match a record (names, birth date, phone or e-mail, as the booking itself
    matches) — and, for a visit only returning patients may book online, one with a visit that took place
    (``selectors.is_returning_patient``). Nothing is created or changed here."""
    if choice.who != "returning":
        return None
    patient = clinical_services.find_matching_patient(
        first_name=data["first_name"],
        last_name=data["last_name"],
        date_of_birth=data["date_of_birth"],
        phone=data["phone"],
        email=data["email"],
    )
    if patient is None:
        return (
            "We could not find your record with these details. Check your name and date of birth as we have them, "
            "and the e-mail address or phone number you gave us."
        )
    if not choice.appointment_type.new_patients_may_book_online and not is_returning_patient(patient):
        return (
            "We found your record, but no visit of yours has taken place yet. "
            f"{choice.appointment_type.name} can be booked online after your first visit."
        )
    return None


def _hand_off(request, choice: Choice) -> None:
    """Keep the choices (and any details typed) in the session for the request form: never in a URL."""
    form = BookingDetailsForm(request.POST, today=timezone.localdate())
    form.is_valid()  # only what is valid is carried over; the request form asks again for the rest
    typed = {
        name: value
        for name, value in form.cleaned_data.items()
        if value and name in ("first_name", "last_name", "email", "phone")
    }
    born = form.cleaned_data.get("date_of_birth")
    if born:
        typed["date_of_birth"] = born.strftime("%m/%d/%Y")
    handoff = {
        **typed,
        "visit": choice.appointment_type.name,
        "patient_status": choice.who or "",
        "practitioner": choice.practitioner.pk if choice.practitioner else None,
        "practitioner_name": str(choice.practitioner.name) if choice.practitioner else "",
    }
    if choice.start is not None:
        local = choice.start.astimezone(choice.location.zone)
        handoff["date"] = local.strftime("%m/%d/%Y")
        handoff["time_of_day"] = (
            "morning" if local.hour < 12 else "afternoon" if local.hour < 17 else "evening"
        )
        handoff["when"] = f"{long_date(local)} at {clock(local)}"
    request.session[BOOKING_HANDOFF_KEY] = handoff


def _book(*, choice: Choice, data) -> Appointment:
    """Find or create the patient and book the chosen time, all or nothing."""
    slot = _free_slot_at(choice)
    with transaction.atomic():
        patient = clinical_services.find_or_create_patient(
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            email=data["email"],
            phone=data["phone"],
            by=None,
            source="online booking",
        )
        if slot is None:
            # Not free (any more): let the booking service say so, with the next free times.
            practitioner = (
                choice.practitioner or choice.appointment_type.practitioners.filter(is_active=True).first()
            )
            room = choice.location.rooms.filter(is_active=True).first()
        else:
            practitioner = Practitioner.objects.get(pk=slot.practitioner_id)
            room = choice.location.rooms.get(pk=slot.room_id)
        return services.book_appointment(
            patient=patient,
            practitioner=practitioner,
            room=room,
            appointment_type=choice.appointment_type,
            start=choice.start,
            online=True,
        )


def _free_slot_at(choice: Choice):
    zone = choice.location.zone
    day = choice.start.astimezone(zone).date()
    for slot in availability.free_slots(
        appointment_type=choice.appointment_type,
        location=choice.location,
        practitioner=choice.practitioner,
        day_from=day,
        day_to=day,
    ):
        if slot.start == choice.start:
            return slot
    return None


# --- the patient's link ----------------------------------------------------------------------------------------


def _appointment_for(token: str) -> Appointment:
    try:
        pk = read_token(purpose=Purpose.MANAGE_BOOKING, token=token)
    except InvalidLink:
        raise Http404("This link no longer works.") from None
    appointment = (
        Appointment.objects.select_related("practitioner", "location", "appointment_type", "patient")
        .filter(pk=pk)
        .first()
    )
    if appointment is None:
        raise Http404("This link no longer works.")
    return appointment


def _changeable(request, appointment: Appointment) -> tuple[bool, timedelta]:
    cutoff = timedelta(hours=scheduling_settings(request).online_change_cutoff_hours)
    open_ = appointment.status in (AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED)
    return open_ and timezone.now() < appointment.start - cutoff, cutoff


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request, token, *, earlier_form=None, status=200):
    from .waitlist import EarlierSlotForm

    appointment = _appointment_for(token)
    clinic = clinic_for(request)
    changeable, cutoff = _changeable(request, appointment)
    form = CancelBookingForm(request.POST if earlier_form is None and request.method == "POST" else None)
    if request.method == "POST" and earlier_form is None:
        if not changeable:
            status = 409
        elif form.is_valid():
            services.cancel_appointment(
                appointment=appointment, by=None, reason=f"Patient online: {form.reason_text()}", online=True
            )
            messages.success(request, "Your appointment is cancelled. We have sent you an e-mail to confirm.")
            return redirect("booking_manage", token=token)
        else:
            status = 400
    context = {
        "clinic": clinic,
        "appointment": appointment,
        "local_start": appointment.start.astimezone(appointment.location.zone),
        "local_end": appointment.end.astimezone(appointment.location.zone),
        "token": token,
        "changeable": changeable,
        "cutoff_hours": int(cutoff.total_seconds() // 3600),
        "cancel_form": form,
        "earlier_form": earlier_form
        or EarlierSlotForm(
            appointment=appointment,
            initial={
                "earliest": timezone.localtime(timezone.now(), appointment.location.zone).strftime("%m/%d/%Y")
            },
        ),
        "waiting": appointment.waitlist_entries.filter(status__in=["waiting", "offered"]).exists(),
        "cancelled": appointment.status == AppointmentStatus.CANCELLED,
        **_intake_context(appointment),
    }
    return render(request, "scheduling/book/manage.html", context, status=status)


def _intake_context(appointment: Appointment) -> dict:
    """The first visit's questionnaire on the booking's page: a fresh link while it is to be filled in."""
    from acuclinic.clinical.intake.selectors import intake_for_appointment, intake_link

    response = intake_for_appointment(appointment=appointment)
    if response is None:
        return {}
    if response.status == "completed":
        return {"intake_done": True}
    return {"intake_url": intake_link(response), "intake_started": bool(response.answers)}


@never_cache
@require_http_methods(["GET"])
def manage_calendar(request, token):
    """The booking as an .ics file, for "Add to my calendar"."""
    from .ics import appointment_ics

    appointment = _appointment_for(token)
    body = appointment_ics(
        appointment, cancelled=appointment.status == AppointmentStatus.CANCELLED, download=True
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="acupuncture-appointment.ics"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@answers_bad_parameters
def move(request, token):
    """Choose a new day and time for the same visit with the same practitioner, until the cut-off."""
    appointment = _appointment_for(token)
    clinic = clinic_for(request)
    changeable, cutoff = _changeable(request, appointment)
    if not changeable:
        return redirect("booking_manage", token=token)
    location, zone = appointment.location, appointment.location.zone
    context = {
        "clinic": clinic,
        "appointment": appointment,
        "token": token,
        "local_start": appointment.start.astimezone(zone),
    }
    status = 200
    if request.method == "POST":
        start = _parse_instant(request.POST.get("start"))
        if start is None:
            return redirect("booking_move", token=token)
        slot = next(
            (
                s
                for s in availability.free_slots(
                    appointment_type=appointment.appointment_type,
                    location=location,
                    practitioner=appointment.practitioner,
                    day_from=start.astimezone(zone).date(),
                    day_to=start.astimezone(zone).date(),
                    patient=appointment.patient,
                    moving=appointment,
                )
                if s.start == start
            ),
            None,
        )
        try:
            services.reschedule_appointment(
                appointment=appointment,
                start=start,
                room=location.rooms.get(pk=slot.room_id) if slot else appointment.room,
                by=None,
                online=True,
            )
        except services.SlotTaken as taken:
            context["taken"] = [
                {"start": s.isoformat(), "local": s.astimezone(zone)} for s in taken.next_free
            ]
            status = 409
        except ValidationError as error:
            context["errors"] = error.messages
            status = 400
        else:
            messages.success(
                request, "Your appointment has been moved. We have sent you an e-mail with the new time."
            )
            return redirect("booking_manage", token=token)
    day = _parse_day(request.GET.get("day"))
    today = timezone.localtime(timezone.now(), zone).date()
    search = {
        "appointment_type": appointment.appointment_type,
        "location": location,
        "practitioner": appointment.practitioner,
        "patient": appointment.patient,
        "moving": appointment,
    }
    if day is None:
        days = OrderedDict()
        for slot in availability.free_slots(
            day_from=today, day_to=today + timedelta(days=appointment.appointment_type.horizon_days), **search
        ):
            local_day = slot.start.astimezone(zone).date()
            if local_day not in days and len(days) == DAYS_SHOWN:
                break
            days[local_day] = days.get(local_day, 0) + 1
        context["days"] = list(days.items())
    else:
        context["day"] = day
        context["times"] = _distinct_starts(availability.free_slots(day_from=day, day_to=day, **search), zone)
    return render(request, "scheduling/book/move.html", context, status=status)


@never_cache
@require_http_methods(["POST"])
def ask_for_earlier(request, token):
    """Join the waitlist for an earlier time; the booking stays as it is until an offer is accepted."""
    from .waitlist import EarlierSlotForm, request_earlier_slot

    appointment = _appointment_for(token)
    changeable, _ = _changeable(request, appointment)
    if not changeable:
        return redirect("booking_manage", token=token)
    form = EarlierSlotForm(request.POST, appointment=appointment)
    if form.is_valid():
        try:
            request_earlier_slot(appointment=appointment, **form.cleaned_data)
        except ValidationError as error:
            for message in error.messages:
                form.add_error("earliest", message)
        else:
            messages.success(
                request, "You are on the waitlist. If an earlier time frees up, we will e-mail you."
            )
            return redirect("booking_manage", token=token)
    return manage(request, token, earlier_form=form, status=400)

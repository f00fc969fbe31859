"""No health details in application logs, error pages, e-mails, texts or URLs (issues 4 and 11).

A unique mark goes into every free-text and identifying field of every form (public request form, API, helpful
vote, the front desk's inbox, create patient; online booking and every step of the intake questionnaire and its
consent), with logging at DEBUG everywhere (SQL included). The output of the real handlers of settings.LOGGING,
every e-mail sent (notifications from the worker, 500 reports to ADMINS), every text message, every Location header
and every error page is then searched for the mark.
"""

import copy
import io
import json
import logging
import re
import secrets
import time
from datetime import date, timedelta
from datetime import time as datetime_time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail, signing
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.test import Client
from django.utils import timezone
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter
from django_tasks_db.models import DBTaskResult

from acuclinic.appointments import triage
from acuclinic.appointments.forms import FORM_STAMP_SALT
from acuclinic.appointments.models import AppointmentRequest
from acuclinic.core.logging_filters import HealthDataExceptionReporter, HealthDataFilter
from tests.scheduling.conftest import make_clinic

pytestmark = pytest.mark.django_db

FORM = "/request-appointment/"
API = "/api/v1/appointment-requests"
INBOX = "/admin/appointment-requests/"
NOTIFICATION_TASK = "acuclinic.appointments.tasks.send_request_notification"
APPOINTMENT_TASK = "acuclinic.scheduling.tasks.send_appointment_notification"
# Loggers that settings.LOGGING configures, turned down to DEBUG for the test (with SQL logging on).
LOGGERS = ("", "django", "django.request", "django.db.backends", "django.server")


class Mark:
    """Unique marks: one for text fields, one e-mail address, one phone number."""

    def __init__(self):
        self.text = "ZQXMARK" + secrets.token_hex(4).upper()
        self.email = f"{self.text.lower()}@example.org"
        # Not 0142 (the demo clinic's own number, on every page and e-mail) nor 0199/0100 (other tests, docs).
        self.phone_typed = f"(212) 555-01{secrets.choice([n for n in range(1, 99) if n != 42]):02d}"
        self.phone = "+1212" + re.sub(r"\D", "", self.phone_typed)[3:]

    def found_in(self, text: str) -> list[str]:
        lowered = text.lower()
        return [m for m in (self.text.lower(), self.phone) if m in lowered]


@pytest.fixture
def mark():
    return Mark()


@pytest.fixture
def logs():
    """The formatted output of the real handlers of settings.LOGGING, with every configured logger at DEBUG."""
    handlers = {
        handler
        for name in LOGGERS
        for handler in logging.getLogger(name).handlers
        if handler.name in django_settings.LOGGING["handlers"]
    }
    assert {h.name for h in handlers} == set(django_settings.LOGGING["handlers"])
    buffer = io.StringIO()
    streams = {h: h.setStream(buffer) for h in handlers if isinstance(h, logging.StreamHandler)}
    assert streams, "no stream handler found in LOGGING"
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    debug_cursor, connection.force_debug_cursor = (
        connection.force_debug_cursor,
        True,
    )  # log every SQL statement
    try:
        yield buffer
    finally:
        connection.force_debug_cursor = debug_cursor
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for handler, stream in streams.items():
            handler.setStream(stream)


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Operations", "ops@acuclinic.example")]


@pytest.fixture
def run_worker(monkeypatch, django_capture_on_commit_callbacks):
    """`manage.py db_worker --batch` inside the test's transaction (as in tests/appointments)."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run():
        # Search-index tasks queued by loading the demo pages are not what this test is about.
        DBTaskResult.objects.exclude(task_path__in=[NOTIFICATION_TASK, APPOINTMENT_TASK]).delete()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("db_worker", "--batch", "--no-reload", "--interval", "0", "--no-startup-delay")

    return run


class Responses:
    """Every response of the test, to search their Location headers and error pages."""

    def __init__(self):
        self.all = []

    def __call__(self, response):
        self.all.append(response)
        return response


def next_open_day(days_ahead=3):
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() == 6:  # the demo clinic is closed on Sundays
        day += timedelta(days=1)
    return day


def form_post(mark: Mark, *, emergency: bool) -> dict:
    data = {
        "first_name": mark.text,
        "last_name": mark.text,
        "date_of_birth": "04/27/1961",
        "phone": mark.phone_typed,
        "email": mark.email,
        "contact_method": "email",
        "patient_status": "new",
        "reason": "other",
        "reason_detail": f"{mark.text} pain in the hip",
        "pain_duration": "chronic",
        "preferred_date_1": next_open_day().strftime("%m/%d/%Y"),
        "preferred_time_1": "morning",
        "insurance_carrier": mark.text,
        "insurance_member_id": mark.text,
        "has_medicare": "no",
        "message": f"{mark.text} numbness since Tuesday",
        "consent_to_contact": "on",
        "wants_email_acknowledgement": "on",
        "token": "tok-" + secrets.token_hex(8),
        "started": signing.dumps(f"{time.time() - 60:.3f}", salt=FORM_STAMP_SALT),
        "website": "",
    }
    for question in triage.QUESTIONS:
        data[f"flag_{question.key}"] = (
            "yes" if emergency and question.level == triage.Urgency.EMERGENCY else "no"
        )
    return data


def api_body(mark: Mark) -> dict:
    return {
        "first_name": mark.text,
        "last_name": mark.text,
        "date_of_birth": "04/27/1961",
        "phone": mark.phone_typed,
        "email": mark.email,
        "contact_method": "email",
        "patient_status": "returning",
        "reason": "other",
        "reason_detail": f"{mark.text} sciatica",
        "pain_duration": "chronic",
        "preferred_dates": [{"date": next_open_day().strftime("%m/%d/%Y"), "time_of_day": "afternoon"}],
        "insurance_carrier": mark.text,
        "insurance_member_id": mark.text,
        "has_medicare": True,
        "message": f"{mark.text} had cancer in 2019",
        "consent_to_contact": True,
        "wants_email_acknowledgement": True,
        "red_flags": {q.key: q.key == "fever" for q in triage.QUESTIONS},
    }


def front_desk_client():
    user = get_user_model().objects.create_user(
        "frida", "frida@acuclinic.example", "a-long-test-password", first_name="Frida", last_name="Desk"
    )
    user.groups.add(Group.objects.get(name="Front desk"))
    client = Client()
    client.force_login(user)  # password and second factor, in tests (tests/conftest.py)
    return client, user


def mail_text(message) -> str:
    """Everything of an e-mail a mail server or mailbox keeps, except the To of a mail sent to the patient."""
    parts = [message.subject, message.body, message.from_email, *message.cc, *message.bcc, *message.reply_to]
    parts += [f"{k}: {v}" for k, v in message.extra_headers.items()]
    parts += [str(content) for content, _type in getattr(message, "alternatives", [])]
    parts += [str(attachment) for attachment in message.attachments]
    mime = message.message()
    del mime["To"]
    parts.append(mime.as_string())
    parts += [str(part.get_payload(decode=True) or b"", "utf-8", "replace") for part in mime.walk()]
    # The patient's own invitation names the address it is sent to as ATTENDEE (RFC 5546 §3.2.2): the To again,
    # nothing more. Folded calendar lines are unfolded first, so a mark split across two lines is still found.
    text = re.sub(r"\r?\n[ \t]", "", "\n".join(parts))
    for address in message.to:
        text = re.sub(re.escape(f"mailto:{address}"), "mailto:<the recipient>", text, flags=re.IGNORECASE)
    return text


def assert_no_mark(mark: Mark, *, log: str, responses: Responses, error_pages=()):
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines, "nothing was logged: the capture does not work"
    for line in lines:
        json.loads(line)  # every line is still one JSON object
        assert not mark.found_in(line), line
    assert mail.outbox, "no e-mail was sent"
    for message in mail.outbox:
        assert not mark.found_in(mail_text(message)), mail_text(message)
    for response in responses.all:
        location = response.get("Location", "")
        assert not mark.found_in(location), location
    for response in error_pages:
        body = response.content.decode()
        assert not mark.found_in(body), (response.status_code, body)


# --- the tests --------------------------------------------------------------------------------------------------


def test_every_handler_in_logging_filters_health_data(settings):
    assert settings.DEFAULT_EXCEPTION_REPORTER_FILTER.endswith("HealthDataExceptionReporterFilter")
    assert settings.DEFAULT_EXCEPTION_REPORTER.endswith("HealthDataExceptionReporter")
    for name, config in settings.LOGGING["handlers"].items():
        assert "no_health_data" in config.get("filters", []), name
    found = [h for logger in LOGGERS for h in logging.getLogger(logger).handlers if h.name]
    assert found and all(any(isinstance(f, HealthDataFilter) for f in h.filters) for h in found)


def test_marked_data_through_every_form_never_reaches_logs_mail_or_urls(
    demo, mark, logs, admins, run_worker, django_capture_on_commit_callbacks
):
    responses = Responses()
    patient = Client()

    # The public form: a routine request, an emergency, an invalid one, one after a CSRF failure.
    with django_capture_on_commit_callbacks(execute=True):
        routine = responses(patient.post(FORM, form_post(mark, emergency=False)))
        emergency = responses(patient.post(FORM, form_post(mark, emergency=True)))
    assert routine.status_code == emergency.status_code == 302
    received = responses(patient.get(emergency["Location"]))
    assert received.status_code == 200 and "Call 911" in received.content.decode()
    invalid = form_post(mark, emergency=False) | {"date_of_birth": f"{mark.text}", "phone": mark.text}
    assert responses(patient.post(FORM, invalid)).status_code == 400
    strict = Client(enforce_csrf_checks=True)
    assert responses(strict.post(FORM, form_post(mark, emergency=False))).status_code == 403
    requests = list(AppointmentRequest.objects.order_by("pk"))
    assert [r.urgency for r in requests] == ["routine", "emergency"]
    assert requests[0].message.startswith(mark.text)

    # The API: a valid request (urgent today) and an invalid one.
    with django_capture_on_commit_callbacks(execute=True):
        created = responses(patient.post(API, api_body(mark), content_type="application/json"))
    assert created.status_code == 201, created.content
    bad = api_body(mark) | {"date_of_birth": "13/45/1961", "phone": mark.text}
    assert responses(patient.post(API, bad, content_type="application/json")).status_code == 422

    # Search (a GET form) and a page that does not exist, with the mark in the query string.
    assert responses(patient.get("/search/", {"q": f"{mark.text} sciatica"})).status_code == 200
    not_found = responses(patient.get("/no-such-page/", {"condition": mark.text}))
    assert not_found.status_code == 404

    # "Was this helpful?" with a note, as a form and as JSON.
    vote_url = f"/articles/{demo.pk}/helpful/"
    vote = responses(patient.post(vote_url, {"helpful": "no", "missing": f"{mark.text} my diagnosis"}))
    assert vote.status_code == 302
    vote = responses(
        patient.post(vote_url, {"helpful": "no", "missing": mark.text}, HTTP_ACCEPT="application/json")
    )
    assert vote.status_code == 200

    # The front desk: every form of a request's page, with marked notes; an anonymous post is turned away.
    front_desk, user = front_desk_client()
    target = requests[1]
    page = f"{INBOX}{target.pk}/"
    assert responses(front_desk.get(INBOX, {"urgency": mark.text, "status": mark.text})).status_code == 200
    assert responses(front_desk.get(page)).status_code == 200
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    attempt = {"attempt-at": now, "attempt-method": "phone", "attempt-outcome": "voicemail"}
    for data in (
        attempt | {"attempt-note": f"{mark.text} said her leg is numb"},
        attempt | {"attempt-note": mark.text, "attempt-at": mark.text},  # invalid: 400
        attempt | {"attempt-note": mark.text, "attempt-outcome": "reached"},
    ):
        assert responses(front_desk.post(f"{page}contact-attempts/", data)).status_code in (302, 400)
    assert target.contact_attempts.count() == 2
    for action, data in (
        ("assign", {"assign-assignee": user.pk}),
        ("acknowledge", {}),
        ("patient", {}),
        ("end", {"end-reason": "booked"}),
        ("reopen", {}),
        ("end", {"end-reason": mark.text}),  # invalid: 400
    ):
        response = responses(front_desk.post(f"{page}{action}/", data))
        assert response.status_code in (302, 400), (action, response.status_code)
    target.refresh_from_db()
    assert target.patient is not None and target.patient.first_name == mark.text
    anonymous = responses(Client().post(f"{page}contact-attempts/", attempt | {"attempt-note": mark.text}))
    assert anonymous.status_code in (302, 403)

    # The worker sends the e-mails: to the clinic and to the patient, for each request.
    run_worker()
    sent_to = sorted(to for message in mail.outbox for to in message.to)
    assert sent_to.count(mark.email) == 3  # the patient's copy of each reference goes to the address given
    assert len(mail.outbox) == 6

    # The schedule: book from the routine request (a refused try with a marked time first), open the appointment,
    # a refused move with marked input, a cancellation whose reason carries the mark.
    clinic = make_clinic(working_hours=True)  # the desk books within working hours (or with a reason)
    book_url = f"/admin/schedule/book/from-request/{requests[0].pk}/"
    assert responses(front_desk.get(book_url)).status_code == 200
    booking = {
        "book-appointment_type": clinic.follow_up.pk,
        "book-practitioner": clinic.practitioner.pk,
        "book-location": clinic.location.pk,
        "book-room": "",
        "book-date": "06/03/2030",
        "book-time": "10:00",
    }
    assert responses(front_desk.post(book_url, booking | {"book-time": mark.text})).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        booked = responses(front_desk.post(book_url, booking))
    assert booked.status_code == 302
    appointment_page = booked["Location"]
    assert responses(front_desk.get(appointment_page)).status_code == 200
    move = {"move-date": mark.text, "move-time": mark.text, "move-practitioner": clinic.practitioner.pk}
    assert responses(front_desk.post(f"{appointment_page}move/", move)).status_code == 400
    cancel = {"cancel-reason": f"{mark.text} flare-up"}
    with django_capture_on_commit_callbacks(execute=True):
        assert responses(front_desk.post(f"{appointment_page}cancel/", cancel)).status_code == 302

    log = logs.getvalue()
    assert "appointment request stored" in log and "request notification sent" in log
    assert "SQL statement" in log and "Not Found" in log and "Forbidden (CSRF" in log
    assert_no_mark(mark, log=log, responses=responses, error_pages=[not_found])


@pytest.mark.parametrize("where", ["form", "api", "inbox", "intake"])
def test_a_server_error_with_marked_post_data_leaks_nothing(
    where, demo, mark, logs, admins, monkeypatch, django_capture_on_commit_callbacks
):
    """A 500 while handling marked data: the error page, the log line and the e-mail to ADMINS stay clean.

    The exception quotes the data the way PostgreSQL's unique-violation does ("DETAIL: Key (…)=(…)"). A handler
    without the filter, and Django's own 500 report, would have shown the mark: the second half proves it.
    """

    def fail(**kwargs):
        fields = kwargs.get("fields") or {"note": kwargs.get("note", "")}
        answers = kwargs.get("answers") or {}
        value = fields.get("email") or fields.get("note") or answers.get("tried.other")
        raise IntegrityError(
            f"duplicate key value violates unique constraint\nDETAIL: Key (x)=({value}) exists."
        )

    responses = Responses()
    client = Client(raise_request_exception=False)
    if where == "inbox":
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(FORM, form_post(mark, emergency=False))
        target = AppointmentRequest.objects.get()
        client.force_login(front_desk_client()[1])
    # Keep the django.request record as it was before any handler (and its filter) saw it: the control below.
    unfiltered = _Stash()
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(unfiltered)
    try:
        if where == "form":
            monkeypatch.setattr("acuclinic.appointments.views.submit_appointment_request", fail)
            response = responses(client.post(f"{FORM}?ref={mark.text}", form_post(mark, emergency=False)))
        elif where == "api":
            monkeypatch.setattr("acuclinic.api.api.submit_appointment_request", fail)
            response = responses(client.post(API, api_body(mark), content_type="application/json"))
        elif where == "intake":
            from acuclinic.clinical.intake import selectors as intake_selectors
            from acuclinic.clinical.intake.services import prepare_intake
            from acuclinic.clinical.models import Patient, QuestionnaireResponse
            from tests.factories import make_booking

            someone = Patient.objects.create(
                first_name="Ivy", last_name="Intake", date_of_birth=date(1970, 1, 1)
            )
            intake = prepare_intake(appointment=make_booking(someone))
            QuestionnaireResponse.objects.filter(pk=intake.pk).update(step=3)  # up to "What you have tried"
            monkeypatch.setattr("acuclinic.clinical.intake.services.save_step", fail)
            tried = intake_steps(mark, today=timezone.localdate())[3]
            step = f"/intake/{intake_selectors.token_for(intake)}/step/4/?ref={mark.text}"
            response = responses(client.post(step, tried))
        else:
            monkeypatch.setattr("acuclinic.appointments.services.log_contact_attempt", fail)
            now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
            data = {"attempt-at": now, "attempt-method": "phone", "attempt-outcome": "reached"}
            response = responses(
                client.post(f"{INBOX}{target.pk}/contact-attempts/", data | {"attempt-note": mark.text})
            )
    finally:
        request_logger.removeHandler(unfiltered)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()

    reports = [m for m in mail.outbox if "ops@acuclinic.example" in m.to]
    assert len(reports) == 1 and "IntegrityError" in reports[0].body  # the report is still useful
    log = logs.getvalue()
    assert "Internal Server Error" in log and "IntegrityError" in log
    assert_no_mark(mark, log=log, responses=responses, error_pages=[response])

    # The control: the same record through an unfiltered JSON handler, and Django's default 500 report.
    [record] = [r for r in unfiltered.records if r.levelno >= logging.ERROR]
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    assert mark.found_in(console.formatter.format(record)), "an unfiltered handler would have logged the mark"
    default_report = ExceptionReporter(record.request, *record.exc_info, is_email=True)
    default_report.filter = SafeExceptionReporterFilter()
    assert mark.found_in(default_report.get_traceback_text()), "Django's default report shows the data"
    ours = HealthDataExceptionReporter(record.request, *record.exc_info, is_email=True)
    assert not mark.found_in(ours.get_traceback_text())
    assert not mark.found_in(ours.get_traceback_html())


def intake_steps(mark: Mark, *, today) -> list[dict]:
    """The intake's six steps as the patient posts them, every free-text answer marked."""
    no_red_flags = {f"redflag__{q.key}": "no" for q in triage.QUESTIONS}
    return [
        {
            "pain__where": ["low-middle"],
            "pain__onset": (today - timedelta(weeks=20)).isoformat(),
            "pain__start": "gradual",
            "pain__legs": "thigh",
            "pain__back_surgery": "no",
        },
        {"pain__now": "6", "pain__average": "5"},
        no_red_flags,
        {
            "tried__treatments": ["medicines"],
            "tried__other": f"{mark.text} cupping twice",
            "tried__helped": f"{mark.text} heat helped",
        },
        {
            "health__conditions": ["lymphoedema"],
            "health__lymphoedema_limb": f"{mark.text} left arm",
            "health__medications": f"Zzleakmed 5 mg {mark.text}",
            "health__blood_thinners": "yes",
            "health__pregnant": "not-applicable",
            "health__pacemaker": "yes",
            "health__implants": f"{mark.text} spinal cord stimulator",
            "health__needle_fear": "nervous",
        },
        {"coverage__medicare": "no", "coverage__carrier": mark.text, "coverage__member_id": mark.text},
    ]


def test_marked_intake_answers_never_reach_logs_mail_texts_or_urls(
    demo, mark, logs, run_worker, settings, django_capture_on_commit_callbacks
):
    """A new patient books a first visit online, opens the intake link from the confirmation e-mail, answers every
    step with marked words (a mistake, a pause, a double submit on the way), signs the consent with a marked name
    and withdraws it; the desk reads and exports the record, the clinician's reminders go out by e-mail and text."""
    from wagtail.models import Site

    from acuclinic.clinical.models import ConsentRecord, Patient, QuestionnaireResponse
    from acuclinic.scheduling import sms
    from acuclinic.scheduling.models import SchedulingSettings
    from acuclinic.scheduling.reminders import send_due_reminders
    from acuclinic.scheduling.services import local_start

    settings.SMS_BACKEND = "acuclinic.scheduling.sms.LocmemBackend"
    sms.outbox.clear()
    config = SchedulingSettings.for_site(Site.objects.get(is_default_site=True))
    config.sms_reminders = True
    config.save()
    clinic = make_clinic(working_hours=True)
    responses = Responses()
    patient = Client()

    # Booked online as a new patient: the names, address and phone are marked too.
    start = local_start(clinic.location, next_open_day(), datetime_time(10))
    details = {
        "location": clinic.location.pk,
        "type": clinic.first_visit.pk,
        "practitioner": "any",
        "start": start.isoformat(),
        "first_name": mark.text,
        "last_name": mark.text,
        "date_of_birth": "04/27/1961",
        "email": mark.email,
        "phone": mark.phone_typed,
    }
    with django_capture_on_commit_callbacks(execute=True):
        booked = responses(patient.post("/book/details/", details))
    assert booked.status_code == 302, booked.content.decode()[:3000]
    run_worker()
    [confirmation] = [m for m in mail.outbox if mark.email in m.to]
    [link] = re.findall(r"https?://[^\s]+/intake/[^\s/]+/", confirmation.body)
    path = "/" + link.split("/", 3)[3]

    # The intake, step by step, through its public pages.
    first = responses(patient.get(path))
    assert first.status_code == 302 and first["Location"].endswith("/step/1/")
    intake = QuestionnaireResponse.objects.get()
    today = timezone.localtime(timezone.now(), clinic.location.zone).date()
    steps = intake_steps(mark, today=today)
    future = steps[0] | {"pain__onset": (today + timedelta(days=30)).isoformat()}
    mistake = responses(patient.post(f"{path}step/1/", future))
    assert mistake.status_code == 200 and "This date is in the future" in mistake.content.decode()
    for number, answers in enumerate(steps, start=1):
        if number == 4:  # a pause: "save and finish later", then back through the link
            paused = responses(patient.post(f"{path}step/{number}/", answers | {"then": "later"}))
            assert paused.status_code == 302 and responses(patient.get(paused["Location"])).status_code == 200
            assert responses(patient.get(path))["Location"].endswith("/step/5/")
            continue
        saved = responses(patient.post(f"{path}step/{number}/", answers))
        assert saved.status_code == 302, (number, saved.content.decode()[:3000])
    responses(patient.post(f"{path}step/6/", steps[5]))  # a double submit
    signed = {"name": f"{mark.text} Signer", "signed_date": today.isoformat(), "agree": "on"}
    assert responses(patient.post(f"{path}consent/", signed | {"agree": ""})).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        done = responses(patient.post(f"{path}consent/", signed))
    assert done.status_code == 302
    assert responses(patient.get(done["Location"])).status_code == 200
    intake.refresh_from_db()
    assert intake.status == "completed" and "Zzleakmed" in intake.answers["health.medications"]
    assert ConsentRecord.objects.get().signed_name.startswith(mark.text)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawn = responses(patient.post(f"{path}withdraw/"))
    assert withdrawn.status_code == 302

    # The desk reads the record and exports it; the clinician confirms the diagnosis.
    record = Patient.objects.get(last_name=mark.text)
    front_desk, _user = front_desk_client()
    assert responses(front_desk.get(f"/admin/patients/{record.pk}/")).status_code == 200
    assert responses(front_desk.get(f"/admin/patients/{record.pk}/export.json")).status_code == 200
    assert responses(front_desk.get(f"/admin/patients/{record.pk}/export.fhir.json")).status_code == 200
    clinician = get_user_model().objects.create_user("cleo", "cleo@acuclinic.example", "a-long-test-password")
    clinician.groups.add(Group.objects.get(name="Clinicians"))
    appointment = record.appointments.get()
    appointment.practitioner.user = clinician
    appointment.practitioner.save()
    doctor = Client()
    doctor.force_login(clinician)
    assert responses(doctor.get(f"/admin/patients/{record.pk}/")).status_code == 200
    confirmed = responses(
        doctor.post(f"/admin/patients/{record.pk}/diagnosis/", {"diagnosis-code": "M54.50"})
    )
    assert confirmed.status_code == 302

    # Whatever else the worker has to send, and the reminders by e-mail and text.
    run_worker()
    assert send_due_reminders(now=appointment.start - timedelta(hours=47)) == 2
    assert sms.outbox, "no text message was sent"

    log = logs.getvalue()
    assert "SQL statement" in log and "patient exported" in log
    assert_no_mark(mark, log=log, responses=responses)
    everything = log + "".join(mail_text(m) for m in mail.outbox) + "".join(t.body for t in sms.outbox)
    everything += "".join(r.get("Location", "") for r in responses.all)
    for words in (
        "Zzleakmed",
        "cupping twice",
        "spinal cord stimulator",
        "left arm",
        "heat helped",
        "Signer",
    ):
        assert words not in everything, words
    for text in sms.outbox:
        assert not mark.found_in(text.body), text.body
    sms.outbox.clear()


class _Stash(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(copy.copy(record))

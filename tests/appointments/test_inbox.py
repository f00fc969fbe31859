"""The front desk's inbox in the back office: who sees it, the list, a request's page, CSV, banner."""

import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acuclinic.appointments import selectors, services, triage
from acuclinic.appointments.models import AppointmentRequest, ContactAttempt
from acuclinic.appointments.selectors import BusinessCalendar
from acuclinic.appointments.tasks import inbox_url
from acuclinic.clinical.models import Patient
from acuclinic.clinical.services import create_or_match_patient_from_request
from acuclinic.scheduling.models import Practitioner
from tests.factories import make_user

pytestmark = pytest.mark.django_db

INBOX = "/admin/appointment-requests/"
EXPORT = "/admin/appointment-requests/export.csv"
PUBLIC_FORM = "/request-appointment/"
OVERDUE = "Not contacted within 1 business day"
BANNER = "data-urgent-banner"


# --- helpers ----------------------------------------------------------------------------------------------


@pytest.fixture
def frontdesk(demo):
    return make_user("frida", "Front desk", first_name="Frida", last_name="Desk")


@pytest.fixture
def fd_client(frontdesk):
    client = Client()
    client.force_login(frontdesk)
    return client


def submit(
    *,
    first_name="Maria",
    last_name="Lopez",
    date_of_birth=date(1961, 4, 27),
    phone="+12125550199",
    email="maria@example.org",
    flags=(),
    practitioner=None,
    preferred_times=(),
    submitted_at=None,
    spam_reason="",
    **extra,
) -> AppointmentRequest:
    fields = {
        "first_name": first_name,
        "last_name": last_name,
        "date_of_birth": date_of_birth,
        "phone": phone,
        "email": email,
        "contact_method": "phone",
        "patient_status": "new",
        "reason": "lower_back",
        "reason_detail": "",
        "pain_duration": "chronic",
        "preferred_practitioner": practitioner,
        "insurance_carrier": "",
        "insurance_member_id": "",
        "has_medicare": False,
        "message": "",
        "consent_to_contact": True,
        "wants_email_acknowledgement": False,
        **extra,
    }
    request = services.submit_appointment_request(
        fields=fields,
        red_flag_answers={q.key: q.key in flags for q in triage.QUESTIONS},
        preferred_times=list(preferred_times),
        today=timezone.localdate(),
        spam_reason=spam_reason,
    ).request
    if submitted_at:
        AppointmentRequest.objects.filter(pk=request.pk).update(submitted_at=submitted_at)
        request.refresh_from_db()
    return request


def detail(request) -> str:
    return f"{INBOX}{request.pk}/"


def listed(client, **params) -> list[str]:
    """References in the list, in the order shown."""
    response = client.get(INBOX, params)
    assert response.status_code == 200
    return re.findall(r'data-reference="([A-Z0-9-]+)"', response.content.decode())


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# --- who sees it ------------------------------------------------------------------------------------------


def test_front_desk_sees_menu_item_and_list(fd_client):
    submit()
    home = fd_client.get("/admin/").content.decode()
    assert INBOX in home  # the sidebar's menu item
    assert fd_client.get(INBOX).status_code == 200


def test_administrator_sees_the_inbox(demo, admin_client):
    request = submit()
    assert INBOX in admin_client.get("/admin/").content.decode()
    assert admin_client.get(INBOX).status_code == 200
    assert admin_client.get(detail(request)).status_code == 200


@pytest.mark.parametrize("group", ["Editors", "Moderators", "Medical reviewers"])
def test_editors_and_reviewers_neither_see_nor_open_requests(demo, client, group):
    user = make_user("someone", group)
    client.force_login(user)
    request = submit(flags=("bladder_bowel",))
    home = client.get("/admin/")
    assert home.status_code == 200
    assert INBOX not in home.content.decode()  # no menu item
    assert BANNER not in home.content.decode()  # no urgent banner
    for url in (INBOX, EXPORT, detail(request)):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"] == "/admin/"
        assert request.reference not in response.content.decode()
    for action in ("contact-attempts", "assign", "end", "reopen", "acknowledge", "patient"):
        response = client.post(f"{detail(request)}{action}/", {"end-reason": "spam"})
        assert response.status_code in (302, 403), action
    request.refresh_from_db()
    assert request.status == "new" and request.urgent_acknowledged_at is None and request.patient is None
    assert not ContactAttempt.objects.exists()


def test_anonymous_is_sent_to_sign_in(demo, client):
    request = submit()
    for url in (INBOX, EXPORT, detail(request)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_notification_link_is_the_detail_page(fd_client):
    request = submit()
    assert inbox_url(request).endswith(detail(request))
    assert reverse("appointments_request_detail", args=[request.pk]) == detail(request)
    assert fd_client.get(detail(request)).status_code == 200


def test_unknown_request_is_404(fd_client):
    assert fd_client.get(f"{INBOX}999999/").status_code == 404


def test_actions_need_csrf(frontdesk):
    request = submit()
    client = Client(enforce_csrf_checks=True)
    client.force_login(frontdesk)
    response = client.post(f"{detail(request)}end/", {"end-reason": "declined"})
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "new"
    assert 'name="csrfmiddlewaretoken"' in client.get(detail(request)).content.decode()


# --- the list ---------------------------------------------------------------------------------------------


def test_urgent_first_then_oldest(fd_client):
    now = timezone.now()
    old_routine = submit(submitted_at=now - timedelta(days=2))
    new_routine = submit(submitted_at=now - timedelta(hours=1))
    soon = submit(flags=("cancer_history",), submitted_at=now - timedelta(hours=2))
    emergency = submit(flags=("bladder_bowel",), submitted_at=now - timedelta(minutes=5))
    urgent_today = submit(flags=("fever",), submitted_at=now - timedelta(minutes=1))
    assert listed(fd_client) == [
        emergency.reference,
        urgent_today.reference,
        soon.reference,
        old_routine.reference,
        new_routine.reference,
    ]


def test_status_filter_defaults_to_open_requests(fd_client, frontdesk):
    new = submit()
    contacting = submit()
    services.log_contact_attempt(request=contacting, by=frontdesk, method="phone", outcome="voicemail")
    ended = submit()
    services.end_request(request=ended, by=frontdesk, reason="declined")
    assert set(listed(fd_client)) == {new.reference, contacting.reference}
    assert listed(fd_client, status="new") == [new.reference]
    assert listed(fd_client, status="contacting") == [contacting.reference]
    assert listed(fd_client, status="ended") == [ended.reference]
    assert set(listed(fd_client, status="all")) == {new.reference, contacting.reference, ended.reference}


def test_urgency_filter(fd_client):
    routine = submit()
    emergency = submit(flags=("saddle_numbness",))
    soon = submit(flags=("weight_loss",))
    assert listed(fd_client, urgency="emergency") == [emergency.reference]
    assert listed(fd_client, urgency="soon") == [soon.reference]
    assert listed(fd_client, urgency="routine") == [routine.reference]


def test_age_filter(fd_client):
    now = timezone.now()
    fresh = submit()
    two_days = submit(submitted_at=now - timedelta(days=2))
    ten_days = submit(submitted_at=now - timedelta(days=10))
    assert listed(fd_client, age="today") == [fresh.reference]
    older_than_business_day = listed(fd_client, age="over_1_business_day")
    assert ten_days.reference in older_than_business_day and fresh.reference not in older_than_business_day
    assert listed(fd_client, age="over_3_days") == [ten_days.reference]
    assert two_days.reference in listed(fd_client)


def test_practitioner_filter(fd_client):
    casey = Practitioner.objects.get(name="Casey Example")
    morgan = Practitioner.objects.get(name="Morgan Sample")
    with_casey = submit(practitioner=casey)
    with_morgan = submit(practitioner=morgan)
    no_preference = submit()
    assert listed(fd_client, practitioner=casey.pk) == [with_casey.reference]
    assert listed(fd_client, practitioner=morgan.pk) == [with_morgan.reference]
    assert listed(fd_client, practitioner="none") == [no_preference.reference]


def test_assignee_filter(fd_client, frontdesk):
    colleague = make_user("colin", "Front desk")
    mine = submit()
    services.assign_request(request=mine, by=frontdesk, assignee=frontdesk)
    theirs = submit()
    services.assign_request(request=theirs, by=frontdesk, assignee=colleague)
    nobodys = submit()
    assert listed(fd_client, assignee="me") == [mine.reference]
    assert listed(fd_client, assignee=colleague.pk) == [theirs.reference]
    assert listed(fd_client, assignee="none") == [nobodys.reference]


def test_unknown_filter_values_get_a_message_not_a_500(fd_client):
    request = submit()
    response = fd_client.get(INBOX, {"status": "bogus", "urgency": "'; drop table", "practitioner": "999999"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert request.reference in html  # the invalid filters are ignored
    assert fd_client.get(INBOX, {"p": "not-a-page"}).status_code == 200


def test_not_contacted_within_one_business_day_is_highlighted(fd_client, frontdesk):
    now = timezone.now()
    waiting = submit(submitted_at=now - timedelta(days=5))
    called = submit(submitted_at=now - timedelta(days=5))
    services.log_contact_attempt(request=called, by=frontdesk, method="phone", outcome="no_answer")
    fresh = submit()
    html = fd_client.get(INBOX).content.decode()
    rows = {ref: cls for cls, ref in re.findall(r'<tr class="([^"]*)" data-reference="([A-Z0-9-]+)"', html)}
    assert rows[waiting.reference] == "acu-overdue"
    assert rows[called.reference] == "" and rows[fresh.reference] == ""
    assert html.count(OVERDUE) == 1
    assert OVERDUE in fd_client.get(detail(waiting)).content.decode()
    assert OVERDUE not in fd_client.get(detail(fresh)).content.decode()


def test_list_is_a_fixed_number_of_queries(fd_client, frontdesk):
    casey = Practitioner.objects.get(name="Casey Example")
    tomorrow = timezone.localdate() + timedelta(days=1)

    def add(count):
        for i in range(count):
            request = submit(
                first_name=f"Patient{i}",
                practitioner=casey,
                preferred_times=[(tomorrow, "morning"), (tomorrow + timedelta(days=1), "any")],
                flags=("fever",) if i % 3 == 0 else (),
            )
            services.assign_request(request=request, by=frontdesk, assignee=frontdesk)
            services.log_contact_attempt(request=request, by=frontdesk, method="phone", outcome="voicemail")

    def count_queries() -> int:
        fd_client.get(INBOX)  # warm caches (site settings, menu) first
        with CaptureQueriesContext(connection) as captured:
            response = fd_client.get(INBOX)
        assert response.status_code == 200
        return len(captured)

    add(3)
    with_3 = count_queries()
    add(27)
    assert len(listed(fd_client)) == 30
    assert count_queries() == with_3


# --- business days ----------------------------------------------------------------------------------------

NY = ZoneInfo("America/New_York")
MON_TO_SAT = BusinessCalendar(open_weekdays=frozenset(range(6)), zone=NY)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (ny(2026, 11, 23, 10, 0), ny(2026, 11, 24, 10, 0)),  # Monday → Tuesday, same time
        (ny(2026, 11, 28, 15, 0), ny(2026, 11, 30, 15, 0)),  # Saturday → Monday (closed on Sunday)
        (ny(2026, 11, 29, 15, 0), ny(2026, 12, 1, 0, 0)),  # Sunday → the end of Monday
    ],
)
def test_business_deadline(submitted, due):
    assert MON_TO_SAT.deadline(submitted) == due


def test_overdue_cutoff_is_the_inverse_of_the_deadline():
    start = ny(2026, 11, 20, 0, 0)  # a Friday; three weeks of hours, both sides of a weekend
    moments = [start + timedelta(hours=h, minutes=17) for h in range(0, 24 * 21, 5)]
    for now in moments[30:]:
        cutoff = MON_TO_SAT.overdue_cutoff(now)
        for submitted in moments:
            if submitted <= now:
                assert (MON_TO_SAT.deadline(submitted) < now) == (submitted < cutoff), (submitted, now)


def test_is_overdue_uses_attempts_and_status(frontdesk):
    monday_morning = ny(2026, 11, 23, 9, 0)
    request = submit(submitted_at=monday_morning)
    request.attempt_count = 0
    assert not selectors.is_overdue(request=request, now=ny(2026, 11, 24, 8, 59), calendar=MON_TO_SAT)
    assert selectors.is_overdue(request=request, now=ny(2026, 11, 24, 9, 1), calendar=MON_TO_SAT)
    request.attempt_count = 1
    assert not selectors.is_overdue(request=request, now=ny(2026, 11, 30, 9, 0), calendar=MON_TO_SAT)
    del request.attempt_count
    services.end_request(request=request, by=frontdesk, reason="declined")
    request.refresh_from_db()
    assert not selectors.is_overdue(request=request, now=ny(2026, 11, 30, 9, 0), calendar=MON_TO_SAT)


# --- one request: the whole workflow ----------------------------------------------------------------------


def test_whole_workflow_new_contacting_ended(fd_client, frontdesk, valid_post):
    response = fd_client.post(
        PUBLIC_FORM,
        valid_post(flag_fever="yes", message="Pain since the summer", reason="other", reason_detail="Hip"),
    )
    assert response.status_code == 302
    request = AppointmentRequest.objects.get()
    page = fd_client.get(detail(request)).content.decode()
    assert request.reference in page and "Maria" in page and "Lopez" in page
    assert "(212) 555-0199" in page and "maria@example.org" in page
    assert "Pain since the summer" in page and "Hip" in page
    fever = triage.QUESTIONS_BY_KEY["fever"].question
    assert fever in page  # red-flag answers with the question as the patient read it
    assert page.count(fever) == 2  # in the reasons for the urgency and in the answers table
    assert "Urgent — medical care today" in page
    assert request.preferred_times.get().date.strftime("%B") in page
    assert "Nobody has contacted the patient yet." in page

    at = timezone.localtime().replace(second=0, microsecond=0)
    response = fd_client.post(
        f"{detail(request)}contact-attempts/",
        {
            "attempt-at": at.strftime("%Y-%m-%dT%H:%M"),
            "attempt-method": "phone",
            "attempt-outcome": "voicemail",
            "attempt-note": "Left a message",
        },
        follow=True,
    )
    assert response.status_code == 200 and "Contact attempt logged." in response.content.decode()
    request.refresh_from_db()
    assert request.status == "contacting"
    attempt = request.contact_attempts.get()
    assert attempt.by == frontdesk and attempt.outcome == "voicemail" and attempt.at == at
    assert "Left a message" in response.content.decode() and "Frida Desk" in response.content.decode()

    response = fd_client.post(f"{detail(request)}end/", {"end-reason": "booked"}, follow=True)
    assert "Request ended: Booked." in response.content.decode()
    request.refresh_from_db()
    assert request.status == "ended" and request.end_reason == "booked" and request.ended_at
    assert request.reference not in listed(fd_client)
    assert listed(fd_client, status="ended") == [request.reference]

    # Ending twice (a stale tab) is refused with a message, not a 500.
    response = fd_client.post(f"{detail(request)}end/", {"end-reason": "declined"})
    assert response.status_code == 400
    assert "already ended" in response.content.decode()

    fd_client.post(f"{detail(request)}reopen/")
    request.refresh_from_db()
    assert request.status == "contacting" and request.end_reason == ""


def test_unreachable_needs_three_attempts(fd_client, frontdesk):
    request = submit()
    for _ in range(2):
        services.log_contact_attempt(request=request, by=frontdesk, method="phone", outcome="no_answer")
    response = fd_client.post(f"{detail(request)}end/", {"end-reason": "unreachable"})
    assert response.status_code == 400
    html = response.content.decode()
    field = re.search(r'data-field-wrapper.*?id="id_end-reason"', html, re.S)
    assert field is not None
    assert "Log at least 3 contact attempts before ending a request as unreachable (2 so far)." in html
    request.refresh_from_db()
    assert request.status == "contacting"
    with pytest.raises(ValidationError):
        services.end_request(request=request, by=frontdesk, reason="unreachable")

    services.log_contact_attempt(request=request, by=frontdesk, method="text", outcome="sent")
    response = fd_client.post(f"{detail(request)}end/", {"end-reason": "unreachable"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "ended" and request.end_reason == "unreachable"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"attempt-at": "yesterday-ish", "attempt-method": "phone", "attempt-outcome": "reached"},
            "Enter a valid",
        ),
        (
            {"attempt-at": "", "attempt-method": "phone", "attempt-outcome": "reached"},
            "This field is required.",
        ),
        (
            {"attempt-at": "2999-01-01T10:00", "attempt-method": "phone", "attempt-outcome": "reached"},
            "future",
        ),
        (
            {"attempt-at": "2000-01-01T10:00", "attempt-method": "phone", "attempt-outcome": "reached"},
            "before",
        ),
        (
            {"attempt-at": "", "attempt-method": "pigeon", "attempt-outcome": "reached"},
            "Select a valid choice",
        ),
        ({"attempt-method": "phone", "attempt-outcome": "reached", "attempt-note": "x" * 301}, "at most 300"),
    ],
)
def test_invalid_contact_attempt_gets_a_message_next_to_the_field(fd_client, data, message):
    request = submit()
    response = fd_client.post(f"{detail(request)}contact-attempts/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "error-message" in html
    assert not ContactAttempt.objects.exists()


def test_invalid_end_reason_and_missing_reason(fd_client):
    request = submit()
    assert fd_client.post(f"{detail(request)}end/", {"end-reason": "bored"}).status_code == 400
    assert fd_client.post(f"{detail(request)}end/", {}).status_code == 400
    request.refresh_from_db()
    assert request.status == "new"


def test_assignment(fd_client, frontdesk):
    colleague = make_user("colin", "Front desk", first_name="Colin", last_name="Lee")
    editor = make_user("eddie", "Editors")
    request = submit()
    page = fd_client.get(detail(request)).content.decode()
    assert "Colin Lee" in page and "eddie" not in page  # only front-desk staff are offered

    response = fd_client.post(f"{detail(request)}assign/", {"assign-assignee": colleague.pk}, follow=True)
    assert "Assigned to Colin Lee." in response.content.decode()
    request.refresh_from_db()
    assert request.assigned_to == colleague

    response = fd_client.post(f"{detail(request)}assign/", {"assign-assignee": editor.pk})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    with pytest.raises(ValidationError):
        services.assign_request(request=request, by=frontdesk, assignee=editor)
    request.refresh_from_db()
    assert request.assigned_to == colleague

    fd_client.post(f"{detail(request)}assign/", {"assign-assignee": ""})
    request.refresh_from_db()
    assert request.assigned_to is None


def test_spam_is_hidden_and_can_be_recovered(fd_client, valid_post):
    fd_client.post(PUBLIC_FORM, valid_post(website="http://spam.example"))  # the honeypot
    request = AppointmentRequest.objects.get()
    assert request.is_spam and request.status == "ended"
    assert request.reference not in listed(fd_client)
    assert request.reference not in listed(fd_client, status="all")
    assert request.reference not in listed(fd_client, status="ended")
    assert listed(fd_client, status="spam") == [request.reference]
    page = fd_client.get(detail(request)).content.decode()
    assert "Flagged as spam" in page and "Not spam: reopen" in page

    response = fd_client.post(f"{detail(request)}reopen/", follow=True)
    assert "Request recovered from spam and reopened." in response.content.decode()
    request.refresh_from_db()
    assert not request.is_spam and request.status == "new" and request.end_reason == ""
    assert listed(fd_client) == [request.reference]
    assert listed(fd_client, status="spam") == []


# --- CSV --------------------------------------------------------------------------------------------------


def test_csv_has_the_list_without_the_message_or_health_answers(fd_client, frontdesk):
    casey = Practitioner.objects.get(name="Casey Example")
    request = submit(
        practitioner=casey,
        flags=("fever",),
        message="My back hurts since the accident",
        reason="other",
        reason_detail="Hip and knee",
    )
    services.assign_request(request=request, by=frontdesk, assignee=frontdesk)
    services.log_contact_attempt(request=request, by=frontdesk, method="phone", outcome="voicemail")
    ended = submit(first_name="Ended")
    services.end_request(request=ended, by=frontdesk, reason="declined")

    response = fd_client.get(EXPORT)
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == [
        "Reference",
        "Submitted",
        "Urgency",
        "Status",
        "End reason",
        "First name",
        "Last name",
        "Phone",
        "E-mail",
        "Contact method",
        "Patient status",
        "Pain duration",
        "Preferred practitioner",
        "Assigned to",
        "Contact attempts",
    ]
    assert len(rows) == 2  # the filter (open requests by default) applies
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Reference"] == request.reference
    assert row["Urgency"] == "Urgent — medical care today"
    assert row["Status"] == "Contacting" and row["End reason"] == ""
    assert row["First name"] == "Maria" and row["Last name"] == "Lopez"
    assert row["Phone"] == "(212) 555-0199" and row["E-mail"] == "maria@example.org"
    assert row["Contact method"] == "Phone call" and row["Patient status"] == "New patient"
    assert row["Pain duration"] == "More than 3 months"
    assert row["Preferred practitioner"] == "Casey Example"
    assert row["Assigned to"] == "Frida Desk" and row["Contact attempts"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row["Submitted"])
    everything = "\n".join(",".join(r) for r in rows)
    for secret in ("accident", "Hip and knee", "fever", triage.QUESTIONS_BY_KEY["fever"].question):
        assert secret not in everything

    ended_rows = csv_rows(fd_client.get(EXPORT, {"status": "ended"}))
    assert [r[0] for r in ended_rows[1:]] == [ended.reference]
    assert ended_rows[1][3:5] == ["Ended", "Declined"]


def test_csv_guards_against_formula_injection(fd_client):
    submit(first_name='=HYPERLINK("http://evil.example","x")', last_name="+cmd|' /C calc'!A0")
    submit(first_name="@SUM(1+1)", last_name="-2+3", email="plain@example.org")
    rows = csv_rows(fd_client.get(EXPORT))
    names = {(r[5], r[6]) for r in rows[1:]}
    assert ('\'=HYPERLINK("http://evil.example","x")', "'+cmd|' /C calc'!A0") in names
    assert ("'@SUM(1+1)", "'-2+3") in names
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


# --- patients ---------------------------------------------------------------------------------------------


def test_returning_patient_is_matched_not_duplicated(fd_client, frontdesk):
    existing = Patient.objects.create(
        first_name="MARIA", last_name="lopez", date_of_birth=date(1961, 4, 27), phone="+12125550199"
    )
    request = submit(email="another@example.org", patient_status="returning")
    response = fd_client.post(f"{detail(request)}patient/", follow=True)
    html = response.content.decode()
    assert "Matched existing patient" in html
    assert f"record #{existing.pk}" in html
    request.refresh_from_db()
    assert request.patient == existing
    assert Patient.objects.count() == 1
    # Pressing again (a second tab) links nothing new.
    assert create_or_match_patient_from_request(request=request, by=frontdesk) == (existing, False)


def test_matching_by_email_when_the_phone_changed(frontdesk):
    existing = Patient.objects.create(
        first_name="Maria", last_name="Lopez", date_of_birth=date(1961, 4, 27), email="Maria@Example.org"
    )
    request = submit(phone="+12125550100", email="maria@example.org")
    assert create_or_match_patient_from_request(request=request, by=frontdesk) == (existing, False)


def test_a_different_date_of_birth_creates_a_new_patient(fd_client, frontdesk):
    Patient.objects.create(
        first_name="Maria", last_name="Lopez", date_of_birth=date(1961, 4, 27), phone="+12125550199"
    )
    request = submit(date_of_birth=date(1990, 4, 27))
    response = fd_client.post(f"{detail(request)}patient/", follow=True)
    assert "Created patient" in response.content.decode()
    request.refresh_from_db()
    assert Patient.objects.count() == 2
    created = request.patient
    assert created.date_of_birth == date(1990, 4, 27) and created.created_by == frontdesk
    assert created.phone == "+12125550199" and created.email == "maria@example.org"


def test_same_name_and_birthday_but_no_shared_contact_is_a_new_patient(frontdesk):
    Patient.objects.create(
        first_name="Maria", last_name="Lopez", date_of_birth=date(1961, 4, 27), phone="+13105550111"
    )
    request = submit(phone="+12125550199", email="")
    patient, created = create_or_match_patient_from_request(request=request, by=frontdesk)
    assert created and Patient.objects.count() == 2


def test_no_patient_from_spam(fd_client):
    request = submit(spam_reason="honeypot")
    response = fd_client.post(f"{detail(request)}patient/")
    assert response.status_code == 400 and "marked as spam" in response.content.decode()
    assert not Patient.objects.exists()


# --- the urgent banner ------------------------------------------------------------------------------------


def test_urgent_banner_on_every_page_until_acknowledged(demo, fd_client, frontdesk, valid_post, client):
    routine = submit()
    assert BANNER not in fd_client.get("/admin/").content.decode()
    fd_client.post(PUBLIC_FORM, valid_post(flag_leg_weakness="yes", token="tok-emergency"))
    emergency = AppointmentRequest.objects.get(submission_token="tok-emergency")
    assert emergency.urgency == "emergency"

    for page in ("/admin/", "/admin/account/", detail(routine), INBOX):
        response = fd_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert BANNER in html, page
        banner = html.split(BANNER, 1)[1].split("</section>", 1)[0]
        assert emergency.reference in banner and detail(emergency) in banner

    # Editors never see it.
    editor = make_user("eddie", "Editors")
    client.force_login(editor)
    assert BANNER not in client.get("/admin/").content.decode()

    response = fd_client.post(f"{detail(emergency)}acknowledge/", follow=True)
    html = response.content.decode()
    assert "Urgent request acknowledged." in html and "Acknowledged" in html and "Frida Desk" in html
    emergency.refresh_from_db()
    assert emergency.urgent_acknowledged_by == frontdesk and emergency.urgent_acknowledged_at
    assert BANNER not in fd_client.get("/admin/").content.decode()
    assert BANNER not in fd_client.get("/admin/account/").content.decode()


@pytest.mark.parametrize("flags, urgency", [(("bladder_bowel",), "emergency"), (("fever",), "urgent_today")])
def test_emergency_or_urgent_flagged_as_spam_is_never_hidden(fd_client, frontdesk, flags, urgency):
    """Filled in under 3 s (or any spam signal) but triaged emergency/urgent: shown, marked “possible spam”."""
    request = submit(flags=flags, spam_reason="too fast")
    assert request.urgency == urgency and request.is_spam
    assert request.status == "new"  # open, not ended as spam
    assert listed(fd_client) == [request.reference]  # the default inbox
    assert listed(fd_client, status="all") == [request.reference]
    assert listed(fd_client, status="spam") == [request.reference]  # still findable under Spam
    inbox = fd_client.get(INBOX).content.decode()
    assert "Possible spam" in inbox.split(f'data-reference="{request.reference}"', 1)[1].split("</tr>", 1)[0]
    home = fd_client.get("/admin/").content.decode()
    banner = home.split(BANNER, 1)[1].split("</section>", 1)[0]
    assert request.reference in banner and "possible spam" in banner
    page = fd_client.get(detail(request)).content.decode()
    assert "Possible spam" in page and "Not spam" in page
    # The desk says it is a real patient: the flag goes, the request stays open and in the banner.
    response = fd_client.post(f"{detail(request)}reopen/", follow=True)
    assert response.status_code == 200
    request.refresh_from_db()
    assert not request.is_spam and request.status == "new"
    banner = fd_client.get("/admin/").content.decode().split(BANNER, 1)[1].split("</section>", 1)[0]
    assert request.reference in banner and "possible spam" not in banner
    # Ending it deliberately as spam takes it out of the banner and the open list.
    request2 = submit(flags=flags, spam_reason="honeypot", phone="+12125550100")
    services.end_request(request=request2, by=frontdesk, reason="spam")
    assert request2.reference not in listed(fd_client)
    assert request2.reference not in fd_client.get("/admin/").content.decode().split(BANNER, 1)[1]


def test_routine_spam_stays_hidden(fd_client):
    request = submit(spam_reason="too fast")
    assert request.is_spam and request.status == "ended"
    assert listed(fd_client) == [] and listed(fd_client, status="all") == []
    assert BANNER not in fd_client.get("/admin/").content.decode()


def test_acknowledging_a_routine_request_is_refused(fd_client):
    request = submit()
    response = fd_client.post(f"{detail(request)}acknowledge/")
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.urgent_acknowledged_at is None

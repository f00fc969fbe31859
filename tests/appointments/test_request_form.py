import re

import pytest
from django.core import mail

from acuclinic.appointments import triage
from acuclinic.appointments.models import AppointmentRequest, RequestNotification
from acuclinic.appointments.triage import Urgency
from acuclinic.core.models import ServiceAlert

pytestmark = pytest.mark.django_db
URL = "/request-appointment/"


def test_form_renders_with_token_stamp_and_labels(demo, client):
    html = client.get(URL).content.decode()
    assert 'name="token"' in html and 'name="started"' in html
    assert 'placeholder="MM/DD/YYYY"' in html
    for question in triage.QUESTIONS:
        assert question.question.replace("'", "&#x27;") in html


def test_mistyped_date_gets_a_message_next_to_the_field_and_nothing_is_lost(demo, client, valid_post):
    data = valid_post(date_of_birth="02/30/1980", message="Pain since the summer")
    response = client.post(URL, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "02/30/1980 is not a real date." in html
    field = re.search(
        r'<div class="field field--error" id="field-date_of_birth">(.*?)</div>', html, re.S
    ).group(1)
    assert "02/30/1980 is not a real date." in field
    assert (
        'aria-invalid="true"' in field
        and 'aria-describedby="id_date_of_birth-hint id_date_of_birth-error"' in field
    )
    # What the patient typed is still there.
    assert 'value="Maria"' in html and 'value="02/30/1980"' in html and "Pain since the summer" in html
    assert not AppointmentRequest.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1961-04-27", "Enter the date as MM/DD/YYYY"),
        ("13/01/1961", "13/01/1961 is not a real date."),
        ("01/01/2999", "Your date of birth must be in the past."),
        ("01/01/1850", "older than 120"),
        ("", "Enter your date of birth"),
    ],
)
def test_date_of_birth_errors(demo, client, valid_post, value, message):
    response = client.post(URL, valid_post(date_of_birth=value))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_preferred_dates_must_be_future_and_open_days(demo, client, valid_post):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
    response = client.post(
        URL, valid_post(preferred_date_1="01/02/2020", preferred_date_2=sunday.strftime("%m/%d/%Y"))
    )
    html = response.content.decode()
    assert "01/02/2020 has passed" in html
    assert "We are closed on Sundays" in html


def test_phone_is_validated_and_normalised(demo, client, valid_post):
    response = client.post(URL, valid_post(phone="12345"))
    assert (
        "is not a valid phone number" in response.content.decode()
        or "not a phone number" in response.content.decode()
    )
    client.post(URL, valid_post(phone="212.555.0199"))
    assert AppointmentRequest.objects.get().phone == "+12125550199"


def test_email_contact_needs_an_address(demo, client, valid_post):
    response = client.post(URL, valid_post(contact_method="email", email=""))
    assert "Enter your e-mail address, or choose another way" in response.content.decode()


def test_consent_is_required(demo, client, valid_post):
    data = valid_post()
    del data["consent_to_contact"]
    response = client.post(URL, data)
    assert "Please agree that we may contact you" in response.content.decode()


def test_routine_request_is_saved_then_confirmed_with_reference(demo, client, valid_post):
    response = client.post(URL, valid_post())
    assert response.status_code == 302
    request = AppointmentRequest.objects.get()
    assert request.urgency == "routine" and request.pain_duration == "chronic"
    assert request.preferred_times.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Request received" in page
    assert request.reference in page
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", request.reference)
    assert "usually within one business day" in page and "phone call" in page
    assert "If this is a medical emergency, call 911" in page
    assert "Monday to Friday: 8 am to 6 pm" in page


def test_emergency_answer_leads_with_911_and_is_saved_urgent(demo, client, valid_post):
    response = client.post(URL, valid_post(flag_bladder_bowel="yes"))
    request = AppointmentRequest.objects.get()
    assert request.urgency == Urgency.EMERGENCY.key and request.urgency_reasons == ["bladder_bowel"]
    page = client.get(response["Location"]).content.decode()
    main = page.split('<main id="main" tabindex="-1">', 1)[1]
    first_heading = re.search(r"<h1[^>]*>(.*?)</h1>", main, re.S).group(1)
    assert first_heading == "Call 911 or go to the nearest emergency department now"
    assert main.index("Call 911 or go to the nearest emergency department now") < main.index(
        request.reference
    )


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"fever": "yes"}, "urgent_today"),
        ({"cancer_history": "yes"}, "soon"),
        ({"night_pain": "yes", "saddle_numbness": "yes"}, "emergency"),
        ({}, "routine"),
    ],
)
def test_triage_levels(demo, client, valid_post, answers, expected):
    client.post(URL, valid_post(**{f"flag_{k}": v for k, v in answers.items()}))
    assert AppointmentRequest.objects.get().urgency == expected


def test_new_pain_over_fifty_is_see_a_doctor_soon():
    from datetime import date

    result = triage.evaluate(
        answers={}, date_of_birth=date(1960, 1, 1), pain_is_new=True, today=date(2026, 11, 23)
    )
    assert result.urgency == Urgency.SOON and result.reasons == ("age",)
    chronic = triage.evaluate(
        answers={}, date_of_birth=date(1960, 1, 1), pain_is_new=False, today=date(2026, 11, 23)
    )
    assert chronic.urgency == Urgency.ROUTINE


def test_every_rule_has_a_source():
    assert all(q.source and q.question.endswith("?") for q in triage.QUESTIONS)
    levels = {q.level for q in triage.QUESTIONS}
    assert {Urgency.EMERGENCY, Urgency.URGENT_TODAY, Urgency.SOON} <= levels


def test_unanswered_safety_question_is_an_error(demo, client, valid_post):
    data = valid_post()
    del data["flag_fever"]
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "Please answer yes or no." in response.content.decode()


def test_refresh_or_double_click_never_makes_two_requests(demo, client, valid_post):
    data = valid_post()
    first = client.post(URL, data)
    second = client.post(URL, data)
    assert AppointmentRequest.objects.count() == 1
    assert first["Location"].split("/")[-2] and client.get(second["Location"]).status_code == 200
    assert AppointmentRequest.objects.get().reference in client.get(second["Location"]).content.decode()


def test_confirmation_link_cannot_be_forged(demo, client):
    assert client.get("/request-appointment/received/1/").status_code == 404


def test_honeypot_and_too_fast_submissions_are_stored_as_spam(demo, client, valid_post):
    client.post(URL, valid_post(website="http://spam.example"))
    import time

    from django.core import signing

    from acuclinic.appointments.forms import FORM_STAMP_SALT

    client.post(URL, valid_post(started=signing.dumps(f"{time.time():.3f}", salt=FORM_STAMP_SALT)))
    reasons = sorted(AppointmentRequest.objects.values_list("spam_reason", flat=True))
    assert reasons == ["filled too fast", "honeypot"]
    assert all(
        r.is_spam and r.status == "ended" and r.end_reason == "spam" for r in AppointmentRequest.objects.all()
    )
    assert not RequestNotification.objects.exists()


def test_rate_limit_stores_excess_as_spam(demo, client, valid_post):
    for _ in range(12):
        client.post(URL, valid_post())
    assert AppointmentRequest.objects.count() == 12
    assert AppointmentRequest.objects.filter(spam_reason="rate limit").count() == 2


def test_confirmation_gives_email_while_phones_are_down(demo, client, valid_post):
    ServiceAlert.objects.create(
        message="Our phones are down because of a carrier outage.",
        contact_by="email",
        contact_email="desk@clinic.example",
        phones_down=True,
    )
    response = client.post(URL, valid_post())
    page = client.get(response["Location"]).content.decode()
    assert "Our phones are not working at the moment" in page
    assert 'href="mailto:desk@clinic.example"' in page


def test_notifications_are_queued_after_commit_and_carry_no_health_details(
    demo, client, valid_post, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            URL,
            valid_post(
                flag_saddle_numbness="yes",
                message="QZXMARK numbness since Tuesday",
                wants_email_acknowledgement="on",
            ),
        )
    request = AppointmentRequest.objects.get()
    assert set(request.notifications.values_list("kind", flat=True)) == {"clinic", "patient_ack"}
    from acuclinic.appointments.tasks import send_request_notification

    for notification in request.notifications.all():
        send_request_notification.call(notification.pk)  # what the worker runs
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        text = message.subject + message.body
        assert request.reference in text
        for secret in (
            "QZXMARK",
            "numbness",
            "saddle",
            "Lopez",
            "1961",
            "lower back",
            "Acme",
            "emergency now",
        ):
            assert secret.lower() not in text.lower(), secret


def test_a_csrf_failure_gives_the_form_back_filled_in(demo, valid_post):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(URL, valid_post(message="Still here after the error"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Please press “Send my request” again" in html
    assert 'value="Maria"' in html and "Still here after the error" in html
    assert not AppointmentRequest.objects.exists()
    # The page set a fresh CSRF cookie and token: sending again works.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    again = strict.post(
        URL, {**valid_post(message="Still here after the error"), "csrfmiddlewaretoken": token}
    )
    assert again.status_code == 302
    assert AppointmentRequest.objects.count() == 1

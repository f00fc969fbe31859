"""The intake through the patient's link: prepared at booking, saved step by step, resumed, signed, flagged."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from acuclinic.appointments import triage
from acuclinic.clinical.intake import selectors as intake_selectors
from acuclinic.clinical.intake.services import prepare_intake
from acuclinic.clinical.models import ConsentRecord, Patient, SafetyFlag
from tests.factories import make_booking

pytestmark = pytest.mark.django_db

TODAY = date.today()  # the steps validate against the location's today; answers are relative to it

STEPS = {
    1: {
        "pain__where": ["low-middle"],
        "pain__onset": (TODAY - timedelta(weeks=20)).isoformat(),
        "pain__start": "gradual",
        "pain__legs": "thigh",
        "pain__back_surgery": "no",
    },
    2: {"pain__now": "6", "pain__average": "5"},
    3: {f"redflag__{question.key}": "no" for question in triage.QUESTIONS},
    4: {"tried__treatments": ["medicines", "physio"], "tried__other": "", "tried__helped": ""},
    5: {
        "health__conditions": [],
        "health__medications": "Apixaban 5 mg twice a day",
        "health__blood_thinners": "yes",
        "health__pregnant": "not-applicable",
        "health__pacemaker": "yes",
        "health__implants": "",
        "health__needle_fear": "nervous",
    },
    6: {"coverage__medicare": "yes", "coverage__carrier": "", "coverage__member_id": ""},
}


@pytest.fixture
def intake():
    patient = Patient.objects.create(
        first_name="Nia", last_name="Newcomer", date_of_birth=date(1958, 3, 2), email="nia@example.org"
    )
    appointment = make_booking(patient)
    response = prepare_intake(appointment=appointment)
    assert response is not None
    return response


def url(response, name="intake_start", **kwargs):
    return reverse(name, kwargs={"token": intake_selectors.token_for(response), **kwargs})


def test_a_returning_patient_gets_no_intake(db):
    patient = Patient.objects.create(first_name="Ray", last_name="Returning", date_of_birth=date(1960, 1, 1))
    make_booking(patient, status="completed")
    assert prepare_intake(appointment=make_booking(patient)) is None


def test_prepare_is_idempotent(intake):
    assert prepare_intake(appointment=intake.appointment).pk == intake.pk


def test_walk_every_step_resume_and_sign(client, intake):
    response = client.get(url(intake))
    assert response.status_code == 302 and response["Location"].endswith("/step/1/")
    # A mistake: an onset date in the future is refused next to the field, with what was typed kept.
    future = (TODAY + timedelta(days=30)).isoformat()
    page = client.post(url(intake, "intake_step", number=1), {**STEPS[1], "pain__onset": future})
    assert page.status_code == 200
    html = page.content.decode()
    assert "This date is in the future" in html and f'value="{future}"' in html
    for number in range(1, 4):
        assert client.post(url(intake, "intake_step", number=number), STEPS[number]).status_code == 302
    # Closing the tab and coming back through the link resumes at step 4, answers kept.
    assert client.get(url(intake))["Location"].endswith("/step/4/")
    step1 = client.get(url(intake, "intake_step", number=1)).content.decode()
    assert STEPS[1]["pain__onset"] in step1
    for number in range(4, 7):
        assert client.post(url(intake, "intake_step", number=number), STEPS[number]).status_code == 302
    # A double submit of a step changes nothing.
    client.post(url(intake, "intake_step", number=6), STEPS[6])
    consent = url(intake, "intake_consent")
    signed = {"name": "Nia Newcomer", "signed_date": TODAY.isoformat(), "agree": "on"}
    assert client.post(consent, {**signed, "agree": ""}).status_code == 200  # not ticked: refused, kept
    assert client.post(consent, signed).status_code == 302
    assert client.post(consent, signed).status_code == 302  # double submit: one consent
    intake.refresh_from_db()
    assert intake.status == "completed"
    assert ConsentRecord.objects.filter(patient=intake.patient).count() == 1
    rules = set(SafetyFlag.objects.filter(patient=intake.patient).values_list("rule", flat=True))
    assert rules == {"anticoagulant", "pacemaker"}
    intake.patient.refresh_from_db()
    assert intake.patient.has_medicare is True
    assert intake.episode.onset_date == date.fromisoformat(STEPS[1]["pain__onset"])
    # Withdrawn through the same link.
    assert client.post(url(intake, "intake_withdraw")).status_code == 302
    assert not ConsentRecord.objects.filter(patient=intake.patient, withdrawn_at__isnull=True).exists()


def test_an_emergency_answer_shows_911_at_once(client, intake):
    client.post(url(intake, "intake_step", number=1), STEPS[1])
    client.post(url(intake, "intake_step", number=2), STEPS[2])
    client.post(url(intake, "intake_step", number=3), {**STEPS[3], "redflag__saddle_numbness": "yes"})
    page = client.get(url(intake, "intake_step", number=4)).content.decode()
    assert "Call 911 or go to the nearest emergency department now" in page
    intake.refresh_from_db()
    assert intake.urgency == "emergency"
    assert intake in intake_selectors.unacknowledged_urgent_intakes()


def test_a_tampered_link_is_404(client):
    assert client.get("/intake/not-a-token/").status_code == 404


@pytest.mark.parametrize(
    ("number", "field", "value", "message"),
    [
        (1, "pain__onset", "9999-12-31", "This date is in the future"),
        (1, "pain__onset", "0001-01-01", "before you were born"),
        (1, "pain__onset", "2026-02-30", "Please enter a date"),
        (1, "pain__onset", "25:00", "Please enter a date"),
        (1, "pain__start", "<script>", "Please choose one of the answers shown"),
        (2, "pain__now", "11", "Please choose a number from 0 to 10"),
        (2, "pain__now", "-1", "Please choose a number from 0 to 10"),
        (3, "redflag__fever", "maybe", "Please answer yes or no"),
        (4, "tried__other", "x" * 5000, "at most 300 characters"),
    ],
)
def test_hostile_answers_get_a_message_next_to_the_field(client, intake, number, field, value, message):
    for earlier in range(1, number):
        client.post(url(intake, "intake_step", number=earlier), STEPS[earlier])
    page = client.post(url(intake, "intake_step", number=number), {**STEPS[number], field: value})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="field-{field}"' in html and message in html
    intake.refresh_from_db()
    assert intake.step == number - 1  # nothing of the bad step was stored


def test_a_step_beyond_the_last_answered_goes_back_to_it(client, intake):
    assert client.get(url(intake, "intake_step", number=5))["Location"].endswith("/step/1/")
    assert client.get(url(intake, "intake_step", number=99)).status_code == 404
    assert client.get(url(intake, "intake_consent"))["Location"].endswith("/step/1/")

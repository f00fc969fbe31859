"""Questionnaires & consent in the back office, and the intake filled in at the desk on a tablet."""

import json
from datetime import date
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B.questionnaire import Questionnaire

from acuclinic.accounts.models import AuditEvent
from acuclinic.accounts.roles import ADMINISTRATORS, CLINICIANS, EDITORS, FRONT_DESK
from acuclinic.clinical.consent import services as consent_services
from acuclinic.clinical.instruments.fhir import MAX_BYTES, canonical_url
from acuclinic.clinical.instruments.models import Instrument, InstrumentVersion
from acuclinic.clinical.instruments.selectors import current_version
from acuclinic.clinical.intake import selectors as intake_selectors
from acuclinic.clinical.intake.services import prepare_intake
from acuclinic.clinical.models import Patient
from tests.factories import make_booking, make_user

pytestmark = pytest.mark.django_db

LIST = reverse("clinical_instrument_list")
ADD = reverse("clinical_instrument_add")


def detail(key):
    return reverse("clinical_instrument_detail", args=[key])


def fhir(key, version=1):
    return reverse("clinical_instrument_fhir", args=[key, version])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client():
    return client_for(make_user("instruments-admin", ADMINISTRATORS))


def roland_morris(items=3) -> dict:
    """A Roland-Morris-like questionnaire (yes/no statements), shortened."""
    statements = [
        "I stay at home most of the time because of my back.",
        "I change position frequently to try and get my back comfortable.",
        "I walk more slowly than usual because of my back.",
        "Because of my back I am not doing any of the jobs that I usually do around the house.",
    ]
    return {
        "resourceType": "Questionnaire",
        "name": "RolandMorris",
        "title": "Roland-Morris Disability Questionnaire",
        "status": "active",
        "code": [{"system": "http://loinc.org", "code": "72535-8"}],
        "item": [
            {"linkId": f"rmdq.{n}", "type": "boolean", "required": True, "text": text}
            for n, text in enumerate(statements[:items], start=1)
        ]
        + [
            {
                "linkId": "rmdq.note",
                "type": "text",
                "text": "Anything else about your back this week?",
                "enableWhen": [{"question": "rmdq.1", "operator": "=", "answerBoolean": True}],
            }
        ],
    }


def add_data(definition, **overrides):
    return {
        "title": "Roland-Morris Disability Questionnaire",
        "key": "rmdq",
        "kind": "outcome",
        "licence_note": "Licensed to the clinic by the copyright holder, 2026.",
        "source": "Roland M, Morris R. Spine 1983;8:141.",
        "questionnaire_json": definition if isinstance(definition, str) else json.dumps(definition),
        **overrides,
    }


# --- who may open what ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "read", "manage"),
    [
        (ADMINISTRATORS, True, True),
        (CLINICIANS, True, False),
        (FRONT_DESK, False, False),
        (EDITORS, False, False),
    ],
)
def test_each_role(role, read, manage):
    client = client_for(make_user("someone", role))
    for url in (LIST, detail("peg"), fhir("peg")):
        assert (client.get(url).status_code == 200) is read, url
        assert (client.get(url).status_code == 403) is not read, url
    for url in (ADD, reverse("clinical_instrument_switch", args=["peg"])):
        assert client.get(url).status_code == (200 if manage else 403), url
    assert client.get(reverse("clinical_instrument_consent_text", args=["consent"])).status_code == (
        200 if manage else 403
    )
    page = client.get(detail("peg")).content.decode() if read else ""
    assert ("Switch on" in page) is manage


def test_the_menu_item_only_for_those_who_may_read():
    # The sidebar is rendered from JSON props: its items' URLs are in the page.
    assert LIST in client_for(make_user("a", ADMINISTRATORS)).get("/admin/").content.decode()
    assert LIST not in client_for(make_user("e", EDITORS)).get("/admin/").content.decode()


def test_the_list(admin_client):
    html = admin_client.get(LIST).content.decode()
    for title in ("Intake questionnaire (low back pain)", "Consent to acupuncture", "PEG: pain, enjoyment"):
        assert title in html
    peg = html[html.index('data-instrument="peg"') :]
    peg = peg[: peg.index("</tr>")]
    assert "Off" in peg and "Version 1" in peg and "Licence terms not confirmed" in peg


def test_the_page_shows_the_items_in_words(admin_client):
    html = admin_client.get(detail("nrs")).content.decode()
    assert "Whole number, 0 to 10" in html and "Required" in html
    assert "Download version 1 as FHIR Questionnaire" in html
    intake = admin_client.get(detail("intake")).content.decode()
    assert "Asked when" in intake and "Step 1 of" in intake and "One choice" in intake


# --- FHIR ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["intake", "consent", "nrs", "peg"])
def test_fhir_export_is_a_valid_r4_questionnaire(admin_client, key):
    response = admin_client.get(fhir(key))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    Questionnaire.model_validate(data)
    assert data["url"] == canonical_url(key) and data["url"].endswith(f"/fhir/Questionnaire/{key}")
    assert data["version"] == "1"
    assert data["status"] == ("draft" if key == "peg" else "active")


def test_an_unknown_version_or_instrument_is_404(admin_client):
    assert admin_client.get(fhir("nrs", 9)).status_code == 404
    assert admin_client.get(detail("no-such-thing")).status_code == 404


# --- switching on and off ---------------------------------------------------------------------------------------


def test_peg_is_switched_on_only_after_its_licence_note(admin_client):
    url = reverse("clinical_instrument_switch", args=["peg"])
    page = admin_client.get(url).content.decode()
    assert "Licence note: read before switching on" in page and "Licence terms not confirmed" in page
    refused = admin_client.post(url, {"active": "on"})
    assert refused.status_code == 400 and "Tick this box" in refused.content.decode()
    assert not Instrument.objects.get(key="peg").active
    assert admin_client.post(url, {"active": "on", "licence_confirmed": "on"}).status_code == 302
    peg = Instrument.objects.get(key="peg")
    assert peg.active and current_version(key="peg") is not None
    assert AuditEvent.objects.filter(
        object_type="clinical.instrument", object_id=str(peg.pk), detail="peg switched on"
    ).exists()
    assert admin_client.post(url, {"active": "off"}).status_code == 302
    assert not Instrument.objects.get(key="peg").active
    assert AuditEvent.objects.filter(object_id=str(peg.pk), detail="peg switched off").exists()
    assert admin_client.post(url, {"active": "sideways"}).status_code == 400


def test_the_consent_form_stays_on(admin_client):
    url = reverse("clinical_instrument_switch", args=["consent"])
    assert "cannot be switched off" in admin_client.get(url).content.decode()
    refused = admin_client.post(url, {"active": "off"})
    assert refused.status_code == 400 and "cannot be switched off" in refused.content.decode()
    assert Instrument.objects.get(key="consent").active
    assert ">Switch off<" not in admin_client.get(detail("consent")).content.decode()


def test_with_the_intake_switched_off_the_desk_is_told_why(admin_client, new_patient_visit):
    admin_client.post(reverse("clinical_instrument_switch", args=["intake"]), {"active": "off"})
    desk = client_for(make_user("desk", FRONT_DESK))
    page = appointment_page(desk, new_patient_visit)
    assert "The intake questionnaire is switched off" in page and "Fill in at the desk" not in page


# --- the consent text ---------------------------------------------------------------------------------------------


def test_a_consent_edit_is_version_2_and_a_signed_consent_keeps_version_1(admin_client):
    consent = Instrument.objects.get(key="consent")
    v1 = consent.current
    patient = Patient.objects.create(first_name="Sia", last_name="Signed", date_of_birth=date(1970, 5, 6))
    record = consent_services.sign(
        patient=patient,
        version=v1,
        signed_name="Sia Signed",
        signed_date=date(2026, 1, 2),
        agreed=True,
        ip_address=None,
    )
    url = reverse("clinical_instrument_consent_text", args=["consent"])
    assert v1.text[:40] in admin_client.get(url).content.decode()
    new_text = v1.text + "\n\nWe also offer ear seeds; ask us."
    assert admin_client.post(url, {"text": new_text}).status_code == 302
    assert list(consent.versions.order_by("version").values_list("version", flat=True)) == [1, 2]
    assert current_version(key="consent").text.endswith("ask us.")
    record.refresh_from_db()
    assert record.version_id == v1.pk
    v1.refresh_from_db()
    assert "ear seeds" not in v1.text
    # The same text again: no version 3. An empty text: refused next to the field.
    admin_client.post(url, {"text": new_text})
    assert consent.versions.count() == 2
    empty = admin_client.post(url, {"text": "  "})
    assert empty.status_code == 400 and "The consent text cannot be empty." in empty.content.decode()
    history = admin_client.get(url).content.decode()
    assert "Version history" in history and "2 (current)" in history
    exported = json.loads(admin_client.get(fhir("consent", 2)).content)
    assert "ear seeds" in next(i["text"] for i in exported["item"] if i["linkId"] == "consent.text")


def test_only_a_consent_form_has_a_text_to_edit(admin_client):
    assert admin_client.get(reverse("clinical_instrument_consent_text", args=["nrs"])).status_code == 404


# --- adding an instrument the clinic holds a licence for ----------------------------------------------------------


def test_add_an_instrument_then_a_second_version(admin_client):
    response = admin_client.post(ADD, add_data(roland_morris()))
    assert response.status_code == 302 and response["Location"] == detail("rmdq")
    instrument = Instrument.objects.get(key="rmdq")
    assert (instrument.kind, instrument.active, instrument.builtin) == ("outcome", False, False)
    assert instrument.versions.get().version == 1
    assert AuditEvent.objects.filter(object_type="clinical.instrument", object_id=str(instrument.pk)).exists()
    assert AuditEvent.objects.filter(
        object_type="clinical.instrumentversion", detail="rmdq version 1"
    ).exists()
    page = admin_client.get(detail("rmdq")).content.decode()
    assert "I stay at home most of the time" in page and "Yes / no" in page
    assert "Asked when \u201cI stay at home most of the time because of my back.\u201d is yes" in page
    exported = json.loads(admin_client.get(fhir("rmdq")).content)
    Questionnaire.model_validate(exported)
    assert exported["status"] == "draft" and exported["copyright"].startswith("Licensed to the clinic")
    # Upload again (a file this time): version 2; the same definition again makes no version 3.
    new_version = reverse("clinical_instrument_new_version", args=["rmdq"])
    upload = SimpleUploadedFile("rmdq.json", json.dumps(roland_morris(4)).encode(), "application/json")
    assert admin_client.post(new_version, {"questionnaire_file": upload}).status_code == 302
    assert list(instrument.versions.order_by("version").values_list("version", flat=True)) == [1, 2]
    again = SimpleUploadedFile("rmdq.json", json.dumps(roland_morris(4)).encode(), "application/json")
    admin_client.post(new_version, {"questionnaire_file": again})
    assert instrument.versions.count() == 2
    assert json.loads(admin_client.get(fhir("rmdq", 2)).content)["version"] == "2"


def _deep():
    return "[" * 50_000 + "]" * 50_000


BAD_DEFINITIONS = {
    "invalid JSON": ("{'resourceType': 'Questionnaire'", "This is not valid JSON"),
    "not an object": ("[1, 2, 3]", "it must be an object"),
    "wrong resourceType": ('{"resourceType": "Patient", "status": "active"}', "FHIR Patient resource, not a"),
    "no resourceType": ('{"status": "active", "item": []}', '"resourceType" must be "Questionnaire"'),
    "missing items": (
        '{"resourceType": "Questionnaire", "status": "active"}',
        "The questionnaire has no items.",
    ),
    "not FHIR R4": (
        json.dumps({**roland_morris(), "status": "finished-ish", "item": [{"type": "boolean"}]}),
        "not a valid FHIR R4 Questionnaire",
    ),
    "unknown element": (
        json.dumps({**roland_morris(), "colour": "blue"}),
        "colour: Extra inputs are not permitted",
    ),
    "unsupported type": (
        json.dumps({**roland_morris(), "item": [{"linkId": "a", "type": "attachment", "text": "A photo"}]}),
        "is not supported",
    ),
    "duplicate linkId": (
        json.dumps(
            {
                **roland_morris(),
                "item": [{"linkId": "a", "type": "boolean"}, {"linkId": "a", "type": "boolean"}],
            }
        ),
        "is used twice",
    ),
    "enableWhen to nowhere": (
        json.dumps(
            {
                **roland_morris(),
                "item": [
                    {
                        "linkId": "a",
                        "type": "boolean",
                        "enableWhen": [{"question": "zz", "operator": "=", "answerBoolean": True}],
                    }
                ],
            }
        ),
        "enableWhen names an unknown question",
    ),
    "option without code": (
        json.dumps(
            {
                **roland_morris(),
                "item": [
                    {"linkId": "a", "type": "choice", "answerOption": [{"valueCoding": {"display": "x"}}]}
                ],
            }
        ),
        "an answer option has no code",
    ),
    "huge": (
        '{"resourceType": "Questionnaire", "x": "' + "a" * (MAX_BYTES + 10) + '"}',
        "may be at most 512 KB",
    ),
    "nested too deeply": (_deep(), "nested too deeply"),
    "empty": ("", "Paste the FHIR Questionnaire as JSON"),
}


@pytest.mark.parametrize("name", BAD_DEFINITIONS)
def test_a_bad_questionnaire_is_refused_next_to_the_field(admin_client, name):
    text, message = BAD_DEFINITIONS[name]
    response = admin_client.post(ADD, add_data(text))
    assert response.status_code == 400
    html = unescape(response.content.decode())
    # Next to the field: between the pasted JSON's label and the upload's.
    assert (
        message in html[html.index('for="id_questionnaire_json"') : html.index('for="id_questionnaire_file"')]
    )
    assert not Instrument.objects.filter(key="rmdq").exists()


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"licence_note": ""}, "Say who holds the rights"),
        ({"key": "peg"}, "An instrument with this key exists already."),
        ({"key": "Not a slug!"}, "Use only lower-case letters"),
        ({"kind": "consent"}, "Select a valid choice"),
        ({"title": ""}, "This field is required"),
    ],
)
def test_other_bad_fields(admin_client, overrides, field_message):
    response = admin_client.post(ADD, add_data(roland_morris(), **overrides))
    assert response.status_code == 400 and field_message in response.content.decode()
    assert not Instrument.objects.filter(title="Roland-Morris Disability Questionnaire").exists()


def test_bad_uploads(admin_client):
    binary = SimpleUploadedFile("rmdq.json", b"\xff\xfe\x00\x01garbage", "application/json")
    response = admin_client.post(ADD, {**add_data(""), "questionnaire_file": binary})
    assert response.status_code == 400 and "not a text file in UTF-8" in response.content.decode()
    big = SimpleUploadedFile("rmdq.json", b" " * (MAX_BYTES + 1), "application/json")
    response = admin_client.post(ADD, {**add_data(""), "questionnaire_file": big})
    assert response.status_code == 400 and "may be at most 512 KB" in response.content.decode()


def test_a_built_in_definition_is_not_uploaded_over(admin_client):
    assert admin_client.get(reverse("clinical_instrument_new_version", args=["intake"])).status_code == 404
    assert (
        admin_client.post(
            reverse("clinical_instrument_new_version", args=["nrs"]),
            {"questionnaire_json": json.dumps(roland_morris())},
        ).status_code
        == 404
    )
    assert InstrumentVersion.objects.filter(instrument__key="nrs").count() == 1


# --- the intake at the desk -----------------------------------------------------------------------------------


@pytest.fixture
def new_patient_visit():
    patient = Patient.objects.create(first_name="Nia", last_name="Newcomer", date_of_birth=date(1958, 3, 2))
    return make_booking(patient)


def appointment_page(client, appointment):
    return client.get(reverse("scheduling_appointment_detail", args=[appointment.pk])).content.decode()


def test_the_desk_fills_the_intake_in_on_this_device(new_patient_visit):
    desk = client_for(make_user("desk", FRONT_DESK))
    page = appointment_page(desk, new_patient_visit)
    assert (
        "Intake questionnaire" in page and "Not sent" in page and "Fill in at the desk on this device" in page
    )
    url = reverse("clinical_intake_at_desk", args=[new_patient_visit.pk])
    # Without the button's value nothing happens (and the desk stays signed in).
    assert desk.post(url)["Location"] == reverse("scheduling_appointment_detail", args=[new_patient_visit.pk])
    assert intake_selectors.intake_for_appointment(appointment=new_patient_visit) is None
    response = desk.post(url, {"hand_over": "1"})
    intake = intake_selectors.intake_for_appointment(appointment=new_patient_visit)
    assert intake is not None and intake.source == "desk"
    assert response.status_code == 302 and response["Location"] == intake_selectors.intake_link(intake)
    # The desk was signed out: the device now holds the patient's questionnaire, not the back office.
    assert desk.get(reverse("clinical_patient_list")).status_code == 302
    assert desk.get(response["Location"]).status_code == 302  # the link opens the first step
    assert AuditEvent.objects.filter(detail__startswith="intake opened at the desk").exists()


def test_the_card_shows_progress_and_a_clinician_has_no_button(new_patient_visit):
    intake = prepare_intake(appointment=new_patient_visit)
    desk = client_for(make_user("desk", FRONT_DESK))
    assert "Sent, not started" in appointment_page(desk, new_patient_visit)
    intake.step = 2
    intake.save()
    assert "In progress: step 3 of" in appointment_page(desk, new_patient_visit)
    clinician = make_user("clin", CLINICIANS)
    new_patient_visit.practitioner.user = clinician
    new_patient_visit.practitioner.save()
    page = appointment_page(client_for(clinician), new_patient_visit)
    assert "In progress: step 3 of" in page and "Fill in at the desk" not in page
    assert (
        client_for(clinician)
        .post(reverse("clinical_intake_at_desk", args=[new_patient_visit.pk]), {"hand_over": "1"})
        .status_code
        == 403
    )


def test_a_returning_patient_gets_the_reason_not_a_form():
    patient = Patient.objects.create(first_name="Ray", last_name="Returning", date_of_birth=date(1960, 1, 1))
    make_booking(patient, status="completed")
    visit = make_booking(patient)
    desk = client_for(make_user("desk", FRONT_DESK))
    page = appointment_page(desk, visit)
    assert "treated here before" in page and "Fill in at the desk" not in page
    response = desk.post(reverse("clinical_intake_at_desk", args=[visit.pk]), {"hand_over": "1"}, follow=True)
    assert (
        "No intake was opened. Not needed: the patient has been treated here before"
        in response.content.decode()
    )
    assert intake_selectors.intake_for_appointment(appointment=visit) is None


def test_a_body_over_the_request_limit_is_a_400_not_a_500(admin_client):
    huge = '{"resourceType": "Questionnaire", "x": "' + "a" * 3_000_000 + '"}'
    assert admin_client.post(ADD, add_data(huge)).status_code == 400
    assert not Instrument.objects.filter(key="rmdq").exists()


def test_the_permissions_are_on_the_groups_screen():
    from django.contrib.auth.models import Group

    root = client_for(make_user("root", is_superuser=True, is_staff=True))
    group = Group.objects.get(name=ADMINISTRATORS)
    page = root.get(reverse("wagtailusers_groups:edit", args=[group.pk]))
    assert page.status_code == 200 and "instrument" in page.content.decode().lower()

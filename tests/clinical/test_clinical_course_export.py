"""The clinical course in the patient's exports: the JSON (added keys, version 1) and the FHIR R4 bundle
(EpisodeOfCare, Condition, Questionnaire, QuestionnaireResponse, Consent, Flag), each resource validated with
fhir.resources' R4B models."""

import json

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle

from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical import exports, services
from acuclinic.clinical.models import ConsentRecord, Episode, SafetyFlag
from tests.factories import make_user

from .course_helpers import whole_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician(db):
    return make_user("cleo", "Clinicians", first_name="Cleo", last_name="Clinic")


@pytest.fixture
def frontdesk(db):
    return make_user("frida", "Front desk")


@pytest.fixture
def course(clinician):
    response, _appointment = whole_course(clinician=clinician)
    return response


def by_type(bundle: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry)
    return found


def test_json_export_carries_the_clinical_course(frontdesk, course, clinician):
    patient = course.patient
    data = services.export_patient_json(actor=frontdesk, patient=patient)
    assert data["version"] == 1  # added keys only: the format's own rule

    [episode] = data["episodes"]
    assert episode["id"] == course.episode_id and episode["complaint"] == "Low back pain"
    assert episode["status"] == {"code": "active", "display": "Open"}
    assert episode["diagnosis"] == {"code": "M54.51", "display": "M54.51 Vertebrogenic low back pain"}
    assert episode["diagnosis_confirmed"] is True
    # The clinician's practitioner name (the factory's), as on the patient's appointments.
    assert episode["diagnosis_confirmed_by"] == clinician.practitioner.name
    assert episode["onset_date"] == course.answers["pain.onset"]

    [response] = data["questionnaire_responses"]
    assert response["instrument"]["key"] == "intake" and response["version"] == 1
    assert response["status"] == {"code": "completed", "display": "Completed"}
    answers = {a["link_id"]: a for a in response["answers"]}
    assert answers["pain.where"]["value"] == ["low-middle", "buttock"]
    assert answers["pain.where"]["question"].startswith("Where is the pain?")
    assert answers["pain.where"]["display"] == "The middle of my lower back; A buttock"
    assert answers["health.pacemaker"]["value"] is True and answers["health.pacemaker"]["display"] == "Yes"
    assert answers["health.medications"]["value"] == "Apixaban 5 mg twice a day"
    assert answers["pain.now"]["value"] == 6
    assert list(answers)[:2] == ["pain.where", "pain.onset"]  # the questionnaire's order

    first, second = data["consents"]
    assert (first["version"], first["withdrawn"], second["version"], second["withdrawn"]) == (
        1,
        True,
        2,
        False,
    )
    assert first["signed_name"] == "Nia Newcomer" and first["ip_address"] == "203.0.113.9"
    assert first["intake_response"] == course.pk and first["withdrawn_at"] == second["signed_at"]
    assert second["text"].endswith("A second version.")

    flags = {f["rule"]: f for f in data["safety_flags"]}
    assert set(flags) == {"anticoagulant", "pacemaker"}
    assert flags["pacemaker"]["no_electro"] is True and flags["pacemaker"]["active"] is True
    assert flags["pacemaker"]["acknowledged"]["by"] == clinician.practitioner.name
    assert flags["anticoagulant"]["active"] is False and flags["anticoagulant"]["acknowledged"] is None
    assert flags["pacemaker"]["from_response"] == course.pk
    json.dumps(data)  # JSON-ready as it is

    [event] = AuditEvent.objects.filter(action="export", object_id=str(patient.pk))
    consents = ",".join(f"#{c.pk}" for c in ConsentRecord.objects.order_by("signed_at"))
    assert (
        f"; episodes #{course.episode_id}; responses #{course.pk}; consents {consents}; safety flags #"
        in (event.detail)
    )
    assert "Apixaban" not in event.detail and "M54" not in event.detail


def test_fhir_bundle_carries_the_clinical_course_and_every_resource_is_valid_r4b(
    frontdesk, course, clinician
):
    patient = course.patient
    data = services.export_patient_fhir(actor=frontdesk, patient=patient)
    bundle = Bundle.model_validate(data)
    for entry in bundle.entry:  # each resource parsed by its own R4B model
        assert entry.fullUrl.startswith("urn:uuid:")
    found = by_type(data)
    assert {t: len(e) for t, e in found.items()} == {
        "Patient": 1,
        "Coverage": 1,  # Medicare, from the intake
        "Appointment": 1,
        "EpisodeOfCare": 1,
        "Condition": 1,
        "Questionnaire": 3,  # intake v1, consent v1 and v2
        "QuestionnaireResponse": 3,  # the intake, and each signed consent form
        "Consent": 2,
        "Flag": 2,
    }
    patient_url = found["Patient"][0]["fullUrl"]
    base = exports.questionnaire_url("intake").removesuffix("/Questionnaire/intake")
    assert base == "https://acuclinic.example/fhir"  # settings.FHIR_CANONICAL_BASE's default

    [episode] = found["EpisodeOfCare"]
    [condition] = found["Condition"]
    assert (
        episode["resource"]["status"] == "active"
        and episode["resource"]["patient"]["reference"] == patient_url
    )
    assert episode["resource"]["diagnosis"][0]["condition"]["reference"] == condition["fullUrl"]
    resource = condition["resource"]
    assert resource["code"]["coding"] == [
        {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "code": "M54.51",
            "display": "Vertebrogenic low back pain",
        }
    ]
    assert resource["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert resource["clinicalStatus"]["coding"][0]["code"] == "active"
    assert resource["onsetDateTime"] == course.answers["pain.onset"]
    assert resource["asserter"]["display"] == clinician.practitioner.name

    questionnaires = {
        (e["resource"]["url"], e["resource"]["version"]): e["resource"] for e in found["Questionnaire"]
    }
    intake_url, consent_url = exports.questionnaire_url("intake"), exports.questionnaire_url("consent")
    assert set(questionnaires) == {(intake_url, "1"), (consent_url, "1"), (consent_url, "2")}
    assert questionnaires[(consent_url, "1")]["status"] == "retired"
    assert questionnaires[(consent_url, "2")]["status"] == "active"
    signed_text = ConsentRecord.objects.order_by("signed_at").first().version.text
    assert questionnaires[(consent_url, "1")]["item"][0]["text"] == signed_text  # exactly what was signed

    responses = {e["resource"]["id"]: e for e in found["QuestionnaireResponse"]}
    intake = responses[f"response-{course.pk}"]["resource"]
    assert intake["questionnaire"] == f"{intake_url}|1" and intake["status"] == "completed"
    assert intake["authored"] == course.completed_at.isoformat()
    items = {item["linkId"]: item for group in intake["item"] for item in group["item"]}
    assert [g["linkId"] for g in intake["item"]] == [
        "pain",
        "score",
        "warning",
        "tried",
        "health",
        "coverage",
    ]
    assert items["pain.where"]["answer"] == [
        {"valueCoding": {"code": "low-middle", "display": "The middle of my lower back"}},
        {"valueCoding": {"code": "buttock", "display": "A buttock"}},
    ]
    assert items["pain.onset"]["answer"] == [{"valueDate": course.answers["pain.onset"]}]
    assert items["pain.back_surgery"]["answer"] == [{"valueBoolean": False}]
    assert items["pain.now"]["answer"] == [{"valueInteger": 6}]
    assert items["health.implants"]["answer"] == [{"valueString": "Titanium knee"}]
    assert items["health.blood_thinners"]["answer"][0]["valueCoding"]["code"] == "yes"
    assert items["pain.now"]["text"].startswith("Your pain right now")

    consents = sorted(found["Consent"], key=lambda e: e["resource"]["dateTime"])
    old, new = (e["resource"] for e in consents)
    assert (old["status"], new["status"]) == ("inactive", "active")
    assert old["scope"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
        "code": "treatment",
        "display": "Treatment",
    }
    assert old["category"][0]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "59284-0",
        "display": "Consent Document",
    }
    assert old["policy"] == [{"uri": f"{consent_url}|1"}] and new["policy"] == [{"uri": f"{consent_url}|2"}]
    assert old["provision"]["period"]["end"] == new["dateTime"]
    form = next(
        e for e in found["QuestionnaireResponse"] if e["fullUrl"] == old["sourceReference"]["reference"]
    )
    signature = {item["linkId"]: item["answer"][0] for item in form["resource"]["item"]}
    assert signature["consent.name"] == {"valueString": "Nia Newcomer"}
    assert signature["consent.agree"] == {"valueBoolean": True}
    assert "valueDate" in signature["consent.date"]
    assert form["resource"]["questionnaire"] == f"{consent_url}|1"

    flags = {e["resource"]["code"]["text"]: e["resource"] for e in found["Flag"]}
    statuses = sorted(f["status"] for f in flags.values())
    assert statuses == ["active", "inactive"]
    for flag in flags.values():
        assert flag["category"][0]["coding"][0]["code"] == "clinical"
        assert flag["subject"]["reference"] == patient_url and "start" in flag["period"]
    inactive = next(f for f in flags.values() if f["status"] == "inactive")
    assert "end" in inactive["period"]

    # Deterministic: two exports give the same entries (but for the bundle's own id and time).
    again = services.export_patient_fhir(actor=frontdesk, patient=patient)
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in data["entry"]]
    assert [e["resource"] for e in again["entry"]] == [e["resource"] for e in data["entry"]]


def test_an_unconfirmed_diagnosis_is_provisional_and_a_closed_episode_inactive(frontdesk, course):
    Episode.objects.filter(pk=course.episode_id).update(
        diagnosis="", diagnosis_confirmed_at=None, diagnosis_confirmed_by=None, status="finished"
    )
    data = services.export_patient_fhir(actor=frontdesk, patient=course.patient)
    [condition] = by_type(data)["Condition"]
    resource = condition["resource"]
    assert resource["verificationStatus"]["coding"][0]["code"] == "provisional"
    assert resource["clinicalStatus"]["coding"][0]["code"] == "inactive"
    assert resource["code"] == {"text": "Low back pain"} and "asserter" not in resource
    # A code set but not yet confirmed by a clinician: coded, still provisional.
    Episode.objects.filter(pk=course.episode_id).update(diagnosis="M54.50")
    data = services.export_patient_fhir(actor=frontdesk, patient=course.patient)
    [condition] = by_type(data)["Condition"]
    assert condition["resource"]["code"]["coding"][0]["code"] == "M54.50"
    assert condition["resource"]["verificationStatus"]["coding"][0]["code"] == "provisional"
    assert by_type(data)["EpisodeOfCare"][0]["resource"]["status"] == "finished"


def test_an_intake_in_progress_is_exported_as_in_progress(frontdesk, db):
    from datetime import date

    from acuclinic.clinical.intake.services import prepare_intake, save_step
    from acuclinic.clinical.models import Patient
    from tests.factories import make_booking

    from .course_helpers import stored_steps

    patient = Patient.objects.create(first_name="Ivy", last_name="Inprogress", date_of_birth=date(1970, 5, 5))
    response = prepare_intake(appointment=make_booking(patient))
    save_step(response=response, index=0, answers=stored_steps(today=date.today())[0])
    data = services.export_patient_fhir(actor=frontdesk, patient=patient)
    [qr] = by_type(data)["QuestionnaireResponse"]
    assert qr["resource"]["status"] == "in-progress" and [g["linkId"] for g in qr["resource"]["item"]] == [
        "pain"
    ]
    assert "Consent" not in by_type(data) and "Flag" not in by_type(data)
    [json_response] = services.export_patient_json(actor=frontdesk, patient=patient)[
        "questionnaire_responses"
    ]
    assert json_response["status"]["code"] == "in-progress" and json_response["completed_at"] is None


def test_the_desk_downloads_the_bundle_with_the_course(frontdesk, course):
    client = Client()
    client.force_login(frontdesk)
    response = client.get(f"/admin/patients/{course.patient_id}/export.fhir.json")
    assert response.status_code == 200
    bundle = Bundle.model_validate(json.loads(response.content))
    kinds = {entry.resource.get_resource_type() for entry in bundle.entry}
    assert {
        "EpisodeOfCare",
        "Condition",
        "Questionnaire",
        "QuestionnaireResponse",
        "Consent",
        "Flag",
    } <= kinds
    assert SafetyFlag.objects.filter(patient=course.patient).count() == 2


def test_every_builtin_instrument_exports_as_a_valid_r4b_questionnaire(db):
    from fhir.resources.R4B.questionnaire import Questionnaire

    from acuclinic.clinical.models import InstrumentVersion

    versions = list(InstrumentVersion.objects.select_related("instrument"))
    assert {v.instrument.key for v in versions} >= {"intake", "consent", "nrs", "peg"}
    for version in versions:
        resource = exports._questionnaire_resource(version)
        parsed = Questionnaire.model_validate(resource)
        assert parsed.url == exports.questionnaire_url(version.instrument.key)
        assert parsed.version == str(version.version)
    peg = next(v for v in versions if v.instrument.key == "peg")
    assert "Licence terms not confirmed" in exports._questionnaire_resource(peg)["copyright"]


def test_answers_of_every_value_type_become_their_value_x(db):
    item = {"linkId": "x", "type": "choice", "answerOption": [{"valueInteger": 3}, {"valueString": "often"}]}
    assert exports._fhir_answers(item, ["3", "often"]) == [{"valueInteger": 3}, {"valueString": "often"}]
    assert exports._fhir_answers({"type": "open-choice", "answerOption": []}, "my own words") == [
        {"valueString": "my own words"}
    ]
    assert exports._fhir_answers({"type": "decimal"}, 1.5) == [{"valueDecimal": 1.5}]
    assert exports._fhir_answers({"type": "text"}, "long") == [{"valueString": "long"}]

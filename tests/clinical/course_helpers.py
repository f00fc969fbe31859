"""A patient with a whole clinical course, written through the services: an intake answered step by step and
completed with the consent, the flags it raised, the clinician's confirmed diagnosis and acknowledgement."""

from datetime import date, timedelta

from django.utils import timezone

from acuclinic.clinical.consent import services as consent_services
from acuclinic.clinical.episodes.services import confirm_diagnosis
from acuclinic.clinical.instruments.selectors import CONSENT_KEY, current_version
from acuclinic.clinical.intake import services as intake_services
from acuclinic.clinical.models import Patient, SafetyFlag
from acuclinic.clinical.safety import services as safety_services
from tests.factories import make_booking

RED_FLAGS = (
    "bladder_bowel",
    "saddle_numbness",
    "leg_weakness",
    "both_legs",
    "serious_injury",
    "fever",
    "infection_risk",
    "cancer_history",
    "weight_loss",
    "night_pain",
    "minor_injury_or_bone_risk",
)


def stored_steps(
    *, today: date, medications="Apixaban 5 mg twice a day", implants="Titanium knee", other="Yoga"
):
    """Each step's answers as the step form stores them (linkId -> value)."""
    return [
        {
            "pain.where": ["low-middle", "buttock"],
            "pain.onset": (today - timedelta(weeks=20)).isoformat(),
            "pain.start": "gradual",
            "pain.legs": "thigh",
            "pain.back_surgery": False,
        },
        {"pain.now": 6, "pain.average": 5},
        {f"redflag.{key}": False for key in RED_FLAGS},
        {"tried.treatments": ["medicines", "physio"], "tried.other": other, "tried.helped": "Heat helps"},
        {
            "health.medications": medications,
            "health.blood_thinners": "yes",
            "health.pregnant": "not-applicable",
            "health.pacemaker": True,
            "health.implants": implants,
            "health.needle_fear": "nervous",
        },
        {"coverage.medicare": True},
    ]


def completed_intake(*, patient=None, clinician=None, signed_name="Nia Newcomer", ip="203.0.113.9"):
    """(response, appointment): the patient's first visit with the clinician's practitioner, its intake answered
    and completed with the consent signed."""
    if patient is None:
        patient = Patient.objects.create(
            first_name="Nia", last_name="Newcomer", date_of_birth=date(1958, 3, 2), email="nia@example.org"
        )
    own = getattr(clinician, "practitioner", None) if clinician else None
    appointment = (
        make_booking(patient, practitioner=own) if own else make_booking(patient, practitioner_user=clinician)
    )
    response = intake_services.prepare_intake(appointment=appointment)
    assert response is not None
    today = timezone.localdate()
    for index, answers in enumerate(stored_steps(today=today)):
        intake_services.save_step(response=response, index=index, answers=answers, today=today)
    intake_services.complete(
        response=response,
        consent_version=current_version(key=CONSENT_KEY),
        signed_name=signed_name,
        signed_date=today,
        agreed=True,
        ip_address=ip,
    )
    response.refresh_from_db()
    return response, appointment


def whole_course(*, clinician):
    """A completed intake, the diagnosis confirmed and the pacemaker flag acknowledged by the clinician, the
    blood-thinner flag cleared by a later intake, and the consent re-signed on a new version of the text."""
    response, appointment = completed_intake(clinician=clinician)
    patient = response.patient
    confirm_diagnosis(episode=response.episode, code="M54.51", by=clinician)
    pacemaker = SafetyFlag.objects.get(patient=patient, rule="pacemaker")
    safety_services.acknowledge(flag=pacemaker, by=clinician)
    SafetyFlag.objects.filter(patient=patient, rule="anticoagulant").update(cleared_at=timezone.now())
    consent = current_version(key=CONSENT_KEY)
    version2 = consent_services.new_text_version(
        instrument=consent.instrument, text=consent.text + "\n\nA second version.", by=clinician
    )
    consent_services.sign(
        patient=patient,
        version=version2,
        signed_name="Nia Newcomer",
        signed_date=timezone.localdate(),
        agreed=True,
        ip_address="203.0.113.10",
    )
    return response, appointment

"""A completed intake built through the services, as the patient's link would build it."""

from datetime import date, timedelta

from acuclinic.appointments import triage
from acuclinic.clinical.instruments import questionnaire as q
from acuclinic.clinical.instruments.selectors import CONSENT_KEY, current_version
from acuclinic.clinical.intake import services

ANSWERS = {
    "pain.where": ["low-middle"],
    "pain.start": "gradual",
    "pain.legs": "thigh",
    "pain.back_surgery": False,
    "pain.now": 6,
    "pain.average": 5,
    **{f"redflag.{question.key}": False for question in triage.QUESTIONS},
    "tried.treatments": ["medicines"],
    "health.blood_thinners": "no",
    "health.pregnant": "not-applicable",
    "health.pacemaker": False,
    "health.needle_fear": "fine",
    "coverage.medicare": True,
}


def fill_intake(response, *, today=None, complete=True, **changes):
    """Save every step (onset 20 weeks before today unless given) and, with complete, sign the consent."""
    today = today or date.today()
    answers = {"pain.onset": (today - timedelta(weeks=20)).isoformat(), **ANSWERS}
    answers.update({key.replace("__", "."): value for key, value in changes.items()})
    for index, step in enumerate(q.steps(response.version.definition)):
        links = {item["linkId"] for item in q.answer_items(step["item"])}
        services.save_step(
            response=response,
            index=index,
            answers={k: v for k, v in answers.items() if k in links},
            today=today,
        )
    if complete:
        services.complete(
            response=response,
            consent_version=current_version(key=CONSENT_KEY),
            signed_name=f"{response.patient.first_name} {response.patient.last_name}",
            signed_date=today,
            agreed=True,
            ip_address="192.0.2.1",
        )
    response.refresh_from_db()
    return response

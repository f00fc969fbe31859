"""A merge of duplicate records keeps the duplicate's clinical course: deleting the duplicate would cascade to its
intake, consent, safety flags and episode, so they move to the kept record, one patient's rules still holding."""

from datetime import date

import pytest

from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical import services
from acuclinic.clinical.models import ConsentRecord, Episode, Patient, QuestionnaireResponse, SafetyFlag
from tests.factories import make_user

from .course_helpers import completed_intake

pytestmark = pytest.mark.django_db


def twin(**fields):
    return Patient.objects.create(
        first_name="Nia", last_name="Newcomer", date_of_birth=date(1958, 3, 2), **fields
    )


def test_the_duplicates_course_moves_to_the_kept_record(db):
    desk = make_user("frida", "Front desk")
    keep, duplicate = twin(), twin()
    response, _appointment = completed_intake(patient=duplicate)
    services.merge_patients(actor=desk, keep=keep, duplicate=duplicate)
    assert QuestionnaireResponse.objects.get(pk=response.pk).patient_id == keep.pk
    assert Episode.objects.get(pk=response.episode_id).patient_id == keep.pk
    assert ConsentRecord.objects.get(patient=keep).withdrawn_at is None
    assert set(SafetyFlag.objects.filter(patient=keep).values_list("rule", flat=True)) == {
        "anticoagulant",
        "pacemaker",
    }
    [event] = AuditEvent.objects.filter(
        action="change", object_type="clinical.patient", object_id=str(keep.pk)
    )
    assert f"responses #{response.pk}" in event.detail and "safety flags #" in event.detail


def test_both_with_a_course_one_open_episode_one_standing_consent_one_flag_per_rule(db):
    desk = make_user("frida", "Front desk")
    keep, duplicate = twin(), twin(email="nia@example.net")
    kept_response, _ = completed_intake(patient=keep)
    dup_response, _ = completed_intake(patient=duplicate)
    kept_flag = SafetyFlag.objects.get(patient=keep, rule="pacemaker")
    services.merge_patients(actor=desk, keep=keep, duplicate=duplicate)

    assert QuestionnaireResponse.objects.filter(patient=keep).count() == 2
    [open_episode] = Episode.objects.filter(patient=keep, status="active")
    assert open_episode.pk == kept_response.episode_id
    closed = Episode.objects.get(pk=dup_response.episode_id)
    assert closed.patient_id == keep.pk and closed.status == "finished" and closed.closed_at is not None
    consents = ConsentRecord.objects.filter(patient=keep).order_by("signed_at", "pk")
    assert [c.withdrawn_at is None for c in consents] == [False, True]  # the newest signature stands
    active = SafetyFlag.objects.filter(patient=keep, cleared_at__isnull=True)
    assert sorted(f.rule for f in active) == ["anticoagulant", "pacemaker"]
    assert kept_flag in active
    assert SafetyFlag.objects.filter(patient=keep).count() == 4  # nothing deleted

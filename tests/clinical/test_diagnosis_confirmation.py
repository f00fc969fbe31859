"""The clinician confirms the low back pain code (ICD-10-CM M54.50 / M54.51 / M54.59): their own patients only,
audited without the code; the front desk, another clinician and everyone else cannot."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical.episodes.services import confirm_diagnosis, open_episode
from acuclinic.clinical.models import Episode, Patient
from tests.factories import make_booking, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician(db):
    return make_user("cleo", "Clinicians", first_name="Cleo", last_name="Clinic")


@pytest.fixture
def patient(clinician):
    patient = Patient.objects.create(first_name="Nia", last_name="Newcomer", date_of_birth=date(1958, 3, 2))
    make_booking(patient, practitioner_user=clinician)
    return patient


@pytest.fixture
def episode(patient):
    return open_episode(patient=patient)


def url(patient) -> str:
    return f"/admin/patients/{patient.pk}/diagnosis/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def changes(episode):
    return list(
        AuditEvent.objects.filter(action="change", object_type="clinical.episode", object_id=str(episode.pk))
        .order_by("seq")
        .values_list("actor_username", "detail")
    )


def test_the_clinician_confirms_then_changes_the_code_each_audited_without_it(clinician, episode):
    confirmed = confirm_diagnosis(episode=episode, code="M54.50", by=clinician)
    assert (confirmed.diagnosis, confirmed.diagnosis_confirmed_by) == ("M54.50", clinician)
    assert confirmed.diagnosis_confirmed_at is not None
    confirm_diagnosis(episode=episode, code="M54.50", by=clinician)  # the same again: nothing new
    confirm_diagnosis(episode=episode, code="M54.59", by=clinician)
    episode.refresh_from_db()
    assert episode.diagnosis == "M54.59"
    assert changes(episode) == [("cleo", "diagnosis confirmed"), ("cleo", "diagnosis changed and confirmed")]
    assert not AuditEvent.objects.filter(detail__contains="M54").exists()


def test_a_code_outside_the_three_is_refused(clinician, episode):
    for code in ("M54.5", "M54.3", "", "<script>"):
        with pytest.raises(ValidationError) as error:
            confirm_diagnosis(episode=episode, code=code, by=clinician)
        assert "code" in error.value.message_dict
    episode.refresh_from_db()
    assert episode.diagnosis == "" and not changes(episode)


@pytest.mark.parametrize(
    "role", ["Front desk", "Administrators", "Editors", "Medical reviewers", "other clinician"]
)
def test_nobody_but_the_patients_clinician_may_confirm(role, episode):
    user = make_user("x", "Clinicians" if role == "other clinician" else role)
    if role == "other clinician":
        make_booking(
            Patient.objects.create(first_name="O", last_name="Other", date_of_birth=date(1970, 1, 1)),
            practitioner_user=user,
        )
    with pytest.raises(PermissionDenied):
        confirm_diagnosis(episode=episode, code="M54.50", by=user)
    episode.refresh_from_db()
    assert episode.diagnosis == "" and not changes(episode)


def test_a_superuser_may(admin_user, episode):
    confirm_diagnosis(episode=episode, code="M54.51", by=admin_user)
    episode.refresh_from_db()
    assert episode.diagnosis == "M54.51"


# --- the view ------------------------------------------------------------------------------------------------


def test_the_clinician_sees_the_form_on_the_patient_page_and_confirms(clinician, patient):
    client = client_for(clinician)
    page = client.get(f"/admin/patients/{patient.pk}/").content.decode()
    assert f'action="{url(patient)}"' in page and "M54.51 Vertebrogenic low back pain" in page
    assert "Not yet confirmed by a clinician" in page
    response = client.post(url(patient), {"diagnosis-code": "M54.51"})
    assert response.status_code == 302 and response["Location"] == f"/admin/patients/{patient.pk}/"
    episode = Episode.objects.get(patient=patient, status="active")  # opened for the confirmation
    assert episode.diagnosis == "M54.51" and episode.diagnosis_confirmed_by == clinician
    [(actor, detail)] = changes(episode)
    assert actor == "cleo" and detail == "diagnosis confirmed"
    page = client.get(response["Location"]).content.decode()
    assert "Diagnosis confirmed." in page and "confirmed" in page and "by Cleo Clinic" in page


def test_a_bad_code_is_explained_next_to_the_field(clinician, patient):
    response = client_for(clinician).post(
        url(patient), {"diagnosis-code": "M54.5", "next": "https://evil.example/"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_diagnosis-code-error"' in html and "Choose one of the three low back pain codes." in html
    assert "evil.example" not in html  # a next address elsewhere is dropped
    assert not Episode.objects.filter(patient=patient, diagnosis__gt="").exists()


def test_next_leads_back_to_the_screen_it_came_from(clinician, patient):
    response = client_for(clinician).post(
        url(patient), {"diagnosis-code": "M54.59", "next": "/admin/schedule/"}
    )
    assert response["Location"] == "/admin/schedule/"
    response = client_for(clinician).post(
        url(patient), {"diagnosis-code": "M54.59", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/admin/patients/{patient.pk}/"


def test_the_desk_does_not_see_the_form_and_gets_403(patient):
    desk = make_user("frida", "Front desk")
    client = client_for(desk)
    page = client.get(f"/admin/patients/{patient.pk}/").content.decode()
    assert url(patient) not in page and "Diagnosis" not in page
    assert client.post(url(patient), {"diagnosis-code": "M54.50"}).status_code == 403
    assert not Episode.objects.filter(patient=patient).exists()


def test_another_clinicians_patient_is_404_and_anonymous_signs_in(patient):
    other = make_user("otis", "Clinicians")
    assert client_for(other).post(url(patient), {"diagnosis-code": "M54.50"}).status_code == 404
    anonymous = Client().post(url(patient), {"diagnosis-code": "M54.50"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert not Episode.objects.filter(patient=patient).exists()


def test_get_is_not_allowed_and_csrf_is_needed(clinician, patient):
    assert client_for(clinician).get(url(patient)).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(clinician)
    assert strict.post(url(patient), {"diagnosis-code": "M54.50"}).status_code == 403
    assert not Episode.objects.filter(patient=patient).exists()

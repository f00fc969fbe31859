"""Clinicians see only their own patients (issue 4): those with an appointment, in any status, with the
practitioner linked to their account. The front desk sees everyone; a clinician without a practitioner, nobody."""

from datetime import date

import pytest
from django.test import Client

from acuclinic.accounts.models import AuditEvent
from acuclinic.clinical import selectors
from acuclinic.clinical.models import Patient
from tests.factories import make_booking, make_user

pytestmark = pytest.mark.django_db

LIST = "/admin/patients/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(demo):
    alma = Patient.objects.create(first_name="Alma", last_name="Aardvark", date_of_birth=date(1950, 1, 1))
    bert = Patient.objects.create(first_name="Bert", last_name="Bittern", date_of_birth=date(1960, 2, 2))
    cora = Patient.objects.create(first_name="Cora", last_name="Coot", date_of_birth=date(1970, 3, 3))
    clin_a = make_user("clin-a", "Clinicians")
    clin_b = make_user("clin-b", "Clinicians")
    booking_a = make_booking(alma, practitioner_user=clin_a)
    # A cancelled appointment still makes the patient theirs (the history is clinical context).
    make_booking(cora, practitioner=booking_a.practitioner, status="cancelled")
    make_booking(bert, practitioner_user=clin_b)
    return {"alma": alma, "bert": bert, "cora": cora, "a": clin_a, "b": clin_b}


def test_a_clinician_cannot_open_another_clinicians_patient(people):
    client = client_for(people["a"])
    assert client.get(f"{LIST}{people['alma'].pk}/").status_code == 200
    assert client.get(f"{LIST}{people['cora'].pk}/").status_code == 200
    response = client.get(f"{LIST}{people['bert'].pk}/")
    assert response.status_code == 404
    assert "Bittern" not in response.content.decode()
    # No read of Bert's record is recorded, because none happened.
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.READ, object_type="clinical.patient", object_id=str(people["bert"].pk)
    ).exists()


def test_the_list_and_its_search_hide_other_clinicians_patients(people):
    html = client_for(people["a"]).get(LIST).content.decode()
    assert "Aardvark" in html and "Coot" in html
    assert "Bittern" not in html
    html = client_for(people["a"]).get(LIST, {"q": "Bittern"}).content.decode()
    assert f'data-patient="{people["bert"].pk}"' not in html and "No patient matches" in html
    html = client_for(people["b"]).get(LIST).content.decode()
    assert "Bittern" in html and "Aardvark" not in html and "Coot" not in html


def test_a_clinician_without_a_linked_practitioner_sees_nobody(people):
    loner = make_user("clin-c", "Clinicians")
    client = client_for(loner)
    html = client.get(LIST).content.decode()
    assert "Aardvark" not in html and "Bittern" not in html
    assert client.get(f"{LIST}{people['alma'].pk}/").status_code == 404
    assert list(selectors.patients_visible_to(loner)) == []


def test_the_front_desk_still_sees_everyone(people):
    desk = make_user("desk-scope", "Front desk")
    client = client_for(desk)
    html = client.get(LIST).content.decode()
    assert all(name in html for name in ("Aardvark", "Bittern", "Coot"))
    for key in ("alma", "bert", "cora"):
        assert client.get(f"{LIST}{people[key].pk}/").status_code == 200
    assert selectors.patients_visible_to(desk).count() == Patient.objects.count()


def test_a_clinician_who_is_also_front_desk_sees_everyone(people):
    people["a"].groups.add(*make_user("tmp", "Front desk").groups.all())
    assert client_for(people["a"]).get(f"{LIST}{people['bert'].pk}/").status_code == 200

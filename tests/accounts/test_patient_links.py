"""Links sent to patients are signed, expiring and good for one purpose only."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from acuclinic.accounts.patient_links import MAX_AGE, InvalidLink, Purpose, make_token, read_token


def test_a_token_reads_back_its_record():
    token = make_token(purpose=Purpose.MANAGE_BOOKING, object_id=42)
    assert read_token(purpose=Purpose.MANAGE_BOOKING, token=token) == 42


def test_a_token_is_good_for_its_own_purpose_only():
    token = make_token(purpose=Purpose.APPOINTMENT_CONFIRMATION, object_id=42)
    for other in set(Purpose) - {Purpose.APPOINTMENT_CONFIRMATION}:
        with pytest.raises(InvalidLink):
            read_token(purpose=other, token=token)


def test_a_changed_token_is_refused():
    token = make_token(purpose=Purpose.MANAGE_BOOKING, object_id=42)
    value, _, rest = token.partition(":")
    forged = make_token(purpose=Purpose.MANAGE_BOOKING, object_id=43).partition(":")[0] + ":" + rest
    with pytest.raises(InvalidLink):
        read_token(purpose=Purpose.MANAGE_BOOKING, token=forged)
    with pytest.raises(InvalidLink):
        read_token(purpose=Purpose.MANAGE_BOOKING, token="42")


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_token_expires(purpose):
    start = timezone.now()
    with freeze_time(start):
        token = make_token(purpose=purpose, object_id=7)
    with freeze_time(start + MAX_AGE[purpose] - timedelta(minutes=1)):
        assert read_token(purpose=purpose, token=token) == 7
    with freeze_time(start + MAX_AGE[purpose] + timedelta(minutes=1)), pytest.raises(InvalidLink):
        read_token(purpose=purpose, token=token)


@pytest.mark.django_db
def test_the_confirmation_page_is_not_reachable_by_record_id(client):
    for guess in ("1", "2", "MQ", "1:abc"):
        response = client.get(f"/request-appointment/received/{guess}/")
        assert response.status_code == 404

"""The replica router and pinning without a replica (the default, and `make test`): nothing changes — every read
and write on the one database, no pin cookie, no header. With the cluster's real replica: tests/cluster/."""

import time
from types import SimpleNamespace

import pytest

from acuclinic.core import replica


def test_without_a_replica_everything_reads_from_the_one_database():
    router = replica.ReplicaRouter()
    assert not replica.replica_configured()
    with replica.reading_from_replica():
        assert router.db_for_read(object) is None  # = default
    assert router.db_for_write(object) == "default"
    assert router.allow_migrate("default", "core") and not router.allow_migrate("replica", "core")


def test_a_pin_holds_until_its_time():
    now = time.time()
    request = SimpleNamespace(COOKIES={replica.PIN_COOKIE: f"{now + 5:.3f}"})
    assert replica.pinned(request, now=now)
    assert not replica.pinned(request, now=now + 6)
    assert not replica.pinned(SimpleNamespace(COOKIES={replica.PIN_COOKIE: "not a time"}))
    assert not replica.pinned(SimpleNamespace(COOKIES={}))


@pytest.mark.django_db
def test_no_pin_cookie_and_no_replica_header_without_a_replica(client, demo):
    response = client.get("/practitioners/")
    assert response.status_code == 200 and "X-Acuclinic-Read-From" not in response
    response = client.post(f"/articles/{demo.pk}/helpful/", {"helpful": "yes"})
    assert replica.PIN_COOKIE not in response.cookies

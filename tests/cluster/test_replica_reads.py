"""Reads from the replica with real replication lag, against the running cluster of `make cluster`.

The replica's replay is paused (pg_wal_replay_pause()): it receives the primary's WAL (a synchronous commit still
returns) but applies none of it, so it lags for as long as the test wants. A visitor who has just sent a request
is pinned to the primary and finds it; another visitor, reading from the replica, does not — until replay
resumes. Skipped, with the reason, when no cluster runs (`make cluster`); a few seconds when one does.
"""

import time

import psycopg
import pytest

from .site import Browser, cluster_env, request_form, unreachable_reason

ENV = cluster_env()
pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(bool(unreachable_reason(ENV)), reason=str(unreachable_reason(ENV))),
]


def sql(port, query, *params):
    with psycopg.connect(f"postgres://postgres@127.0.0.1:{port}/acuclinic", autocommit=True) as connection:
        return connection.execute(query, params).fetchall()


@pytest.fixture
def replay_paused():
    port = ENV.get("CLUSTER_REPLICA_PORT")
    if not port:
        pytest.skip("the cluster has no replica (it has failed over: `bin/cluster reset && make cluster`)")
    sql(port, "SELECT pg_wal_replay_pause()")
    try:
        for _ in range(50):
            if sql(port, "SELECT pg_get_wal_replay_pause_state()")[0][0] == "paused":
                break
            time.sleep(0.1)
        yield port
    finally:
        sql(port, "SELECT pg_wal_replay_resume()")


def test_a_visitor_reads_their_own_request_while_the_replica_lags(replay_paused):
    port = int(ENV["CLUSTER_PORT"])
    patient = Browser(port)
    form = request_form(patient, ENV["SECRET_KEY"], number=int(time.time()) % 100)
    status, headers, _ = patient.post("/request-appointment/", form)
    assert status == 302, "the request was not accepted"
    received = headers["location"]
    assert "acu_pin" in patient.cookies, "a write must pin the visitor to the primary"
    pk_exists = "SELECT count(*) FROM appointments_appointmentrequest WHERE submission_token = %s"
    assert sql(ENV["CLUSTER_PG_PORT"], pk_exists, form["token"])[0][0] == 1
    assert sql(replay_paused, pk_exists, form["token"])[0][0] == 0, "the replica should lag (replay paused)"

    # The patient, pinned: their confirmation, read from the primary, whichever app process answers.
    for _ in range(3):
        status, headers, page = patient.get(received)
        assert status == 200 and "x-acuclinic-read-from" not in headers
        assert form["token"] not in page  # (the page shows the reference, never the form's token)

    # Someone else with the same link reads from the lagging replica: not there yet.
    stranger = Browser(port)
    status, headers, _ = stranger.get(received)
    assert headers.get("x-acuclinic-read-from") == "replica"
    assert status == 404

    # Once the replica replays, it has the request too.
    sql(replay_paused, "SELECT pg_wal_replay_resume()")
    deadline = time.monotonic() + 10
    while sql(replay_paused, pk_exists, form["token"])[0][0] == 0:
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)
    status, headers, _ = stranger.get(received)
    assert status == 200 and headers.get("x-acuclinic-read-from") == "replica"


def test_the_pin_runs_out(replay_paused):
    patient = Browser(int(ENV["CLUSTER_PORT"]))
    patient.cookies["acu_pin"] = f"{time.time() - 1:.3f}"  # a pin whose time has passed
    _, headers, _ = patient.get("/practitioners/")
    assert headers.get("x-acuclinic-read-from") == "replica"
    patient.cookies["acu_pin"] = f"{time.time() + 30:.3f}"
    _, headers, _ = patient.get("/practitioners/")
    assert "x-acuclinic-read-from" not in headers

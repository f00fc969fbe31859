"""Failover, once for real: the primary dies while patients send requests; the replica is promoted and the site
comes back on it with every committed booking and request.

Destructive (the cluster ends with the former replica as its only database), so it runs only when asked:
`ACUCLINIC_FAILOVER_TEST=1 .venv/bin/pytest tests/cluster/test_z_failover.py` against a running `make cluster`
(`bin/cluster reset && make cluster` gives a fresh pair afterwards). About half a minute.
"""

import os
import subprocess
import threading
import time
from collections import Counter

import psycopg
import pytest

from .site import PROJECT_DIR, Browser, cluster_env, request_form, unreachable_reason

ENV = cluster_env()
REASON = unreachable_reason(ENV)
if not REASON and not ENV.get("CLUSTER_REPLICA_PORT"):
    REASON = "the cluster has no replica left to promote (`bin/cluster reset && make cluster`)"
if not REASON and os.environ.get("ACUCLINIC_FAILOVER_TEST") != "1":
    REASON = "destructive: set ACUCLINIC_FAILOVER_TEST=1 to promote the cluster's replica"
pytestmark = [pytest.mark.cluster, pytest.mark.skipif(bool(REASON), reason=str(REASON))]


def rows(port):
    with psycopg.connect(f"postgres://postgres@127.0.0.1:{port}/acuclinic", connect_timeout=5) as connection:
        requests = {
            r[0] for r in connection.execute("SELECT submission_token FROM appointments_appointmentrequest")
        }
        bookings = set(
            connection.execute("SELECT id, start, practitioner_id FROM scheduling_appointment").fetchall()
        )
    return requests, bookings


def test_promoting_the_replica_loses_no_committed_request_or_booking():
    port = int(ENV["CLUSTER_PORT"])
    accepted: list[str] = []
    refused = []
    stop = threading.Event()

    def patients():
        number = 0
        while not stop.is_set():
            number += 1
            browser = Browser(port)
            try:
                form = request_form(browser, ENV["SECRET_KEY"], number)
                status, _, _ = browser.post("/request-appointment/", form, timeout=10)
            except (OSError, AssertionError) as exc:
                refused.append(type(exc).__name__)
                time.sleep(0.2)
                continue
            if status == 302:
                accepted.append(form["token"])  # the confirmation comes after the commit
            else:
                refused.append(status)
                time.sleep(0.2)

    sender = threading.Thread(target=patients, daemon=True)
    sender.start()
    time.sleep(3)
    before_requests, before_bookings = rows(ENV["CLUSTER_PG_PORT"])
    accepted_before = len(accepted)
    assert accepted_before > 0, f"no request accepted before the failover: {refused[:5]}"

    result = subprocess.run(
        [str(PROJECT_DIR / "bin" / "cluster"), "failover"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    time.sleep(3)  # requests go on against the promoted primary
    stop.set()
    sender.join(timeout=30)

    after_requests, after_bookings = rows(ENV["CLUSTER_REPLICA_PORT"])
    assert set(accepted) <= after_requests, "a request the site had confirmed is missing after the failover"
    assert before_requests <= after_requests
    assert before_bookings <= after_bookings, "a booking committed before the failover is missing"
    assert len(accepted) > accepted_before, "the site took no request after the failover"
    with psycopg.connect(
        f"postgres://postgres@127.0.0.1:{ENV['CLUSTER_REPLICA_PORT']}/acuclinic"
    ) as connection:
        assert connection.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
    print(
        f"accepted {len(accepted)} requests ({accepted_before} before the failover); "
        f"refused while it failed over: {dict(Counter(map(str, refused)))}"
    )

"""Benchmark: the clinic's busiest day (bench/locust_clinic.py, locust headless) against one app process and
against the cluster of three behind haproxy, in the same run, then the outcome checks.

    make bench-cluster        # = bin/cluster start && .venv/bin/python bench/cluster_load.py
    .venv/bin/python bench/cluster_load.py [--users 32] [--seconds 30] [--rounds 2]

Needs the running cluster of `make cluster` (var/cluster/env). "One process" is one more gunicorn (same
settings, same databases, Redis and workers, the same number of gunicorn workers as each of the cluster's three)
on the balancer's port + 9, started and stopped here; "cluster" is haproxy in front of the three. The rounds
alternate (one, cluster, one, cluster …) so that both see the same machine. For each it prints req/s and
p50/p95/p99 per kind of request, then the ratio cluster / one process of the totals.

Afterwards, against the primary: every accepted booking and request is stored exactly once; no practitioner,
room or patient holds two overlapping appointments; once the workers have drained the queue, every e-mail row
(outbox) of the run is sent, and the mail written in the run is one message per sent row and reminder. Exits 1
when a check fails. The machine's cores are shared by locust, haproxy, the app processes, PostgreSQL ×2, Redis
and the workers: on a 2-core machine three processes cannot be faster than one by much — the figures say how the
topology behaves, not how fast a real cluster of machines is.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.cluster.site import CLUSTER_DIR, cluster_env, unreachable_reason  # noqa: E402

PYTHON = str(PROJECT_DIR / ".venv" / "bin" / "python")

SETUP_SCRIPT = """
import json
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from acuclinic.content.models import ArticlePage
from acuclinic.scheduling.models import AppointmentType, Location
from django.conf import settings

User = get_user_model()
user, _ = User.objects.get_or_create(username="bench-desk", defaults={"email": "bench-desk@example.org"})
user.set_unusable_password(); user.is_staff = True; user.save()
user.groups.add(Group.objects.get(name="Front desk"))
device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
    user=user, name="bench", confirmed=True)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session[DEVICE_ID_SESSION_KEY] = device.persistent_id
session.set_expiry(3 * 3600)
session.create()
location = Location.objects.filter(rooms__is_active=True).distinct().order_by("pk").first()
kind = AppointmentType.objects.filter(new_patients_may_book_online=True).order_by("pk").first()
print("RESULT " + json.dumps({
    "articles": [page.url for page in ArticlePage.objects.live()],
    "location": location.pk, "type": kind.pk, "desk_session": session.session_key,
    "secret_key": settings.SECRET_KEY,
}))
"""

SNAPSHOT_SCRIPT = """
import json
from acuclinic.appointments.models import AppointmentRequest, RequestNotification
from acuclinic.scheduling.models import Appointment, AppointmentNotification, SentReminder
print("RESULT " + json.dumps({
    "request": AppointmentRequest.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    "appointment": Appointment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    "request_notification": RequestNotification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    "appointment_notification":
        AppointmentNotification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    "reminder": SentReminder.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
}))
"""

CHECK_SCRIPT = """
import json, time
from collections import Counter
from django.db import connection
from acuclinic.accounts.patient_links import InvalidLink, Purpose, read_token
from acuclinic.appointments.models import AppointmentRequest, RequestNotification
from acuclinic.scheduling.models import Appointment, AppointmentNotification, SentReminder

before = json.load(open(BEFORE))
accepted = [json.loads(line) for line in open(RESULTS)]
bookings = [a for a in accepted if a["kind"] == "booking"]
requests = [a for a in accepted if a["kind"] == "request"]
booking_pks = []
for b in bookings:
    try:
        booking_pks.append(read_token(purpose=Purpose.MANAGE_BOOKING, token=b["manage"]))
    except InvalidLink:
        booking_pks.append(None)
new_online = Appointment.objects.filter(pk__gt=before["appointment"], booked_online=True)
stored_bookings = set(new_online.values_list("pk", flat=True))
tokens = Counter(r["token"] for r in requests)
stored_requests = Counter(AppointmentRequest.objects.filter(pk__gt=before["request"]).values_list(
    "submission_token", flat=True))
with connection.cursor() as cursor:
    overlaps = {}
    for column in ("practitioner_id", "room_id", "patient_id"):
        cursor.execute(f'''
            SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b
              ON a.{column} = b.{column} AND a.id < b.id
             AND a.status <> 'cancelled' AND b.status <> 'cancelled'
             AND a."start" < b."end" AND b."start" < a."end"''')
        overlaps[column] = cursor.fetchone()[0]

def unsent():
    return (RequestNotification.objects.filter(pk__gt=before["request_notification"], sent_at__isnull=True).count()
            + AppointmentNotification.objects.filter(
                pk__gt=before["appointment_notification"], sent_at__isnull=True).count())

deadline = time.monotonic() + DRAIN_SECONDS
while unsent() and time.monotonic() < deadline:
    time.sleep(1)
delivered = (RequestNotification.objects.filter(pk__gt=before["request_notification"], sent_at__isnull=False,
                                                last_error="").count()
             + AppointmentNotification.objects.filter(pk__gt=before["appointment_notification"],
                                                      sent_at__isnull=False, last_error="").count())
attempts = Counter(
    list(RequestNotification.objects.filter(pk__gt=before["request_notification"]).values_list("attempts", flat=True))
    + list(AppointmentNotification.objects.filter(pk__gt=before["appointment_notification"]).values_list(
        "attempts", flat=True)))
reminders = SentReminder.objects.filter(pk__gt=before["reminder"], sending_until__isnull=True).count()
print("RESULT " + json.dumps({
    "bookings_accepted": len(bookings), "bookings_bad_link": booking_pks.count(None),
    "bookings_missing": len({pk for pk in booking_pks if pk} - stored_bookings),
    "bookings_stored": len(stored_bookings), "bookings_duplicate_links": len(booking_pks) - len(set(booking_pks)),
    "requests_accepted": len(requests), "requests_stored": sum(stored_requests.values()),
    "requests_missing": sum(1 for t in tokens if stored_requests[t] == 0),
    "requests_stored_twice": sum(1 for t, n in stored_requests.items() if n > 1),
    "overlaps": overlaps, "unsent": unsent(), "delivered": delivered, "reminders": reminders,
    "attempts": dict(attempts),
}))
"""


def manage_json(env: dict, script: str, **constants) -> dict:
    prefix = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", prefix + script],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"manage.py shell failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def mail_messages() -> int:
    folder = CLUSTER_DIR / "mail"
    if not folder.exists():
        return 0
    return sum(p.read_text(errors="replace").count("\nMessage-ID: ") for p in folder.iterdir() if p.is_file())


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer")


def run_locust(host: str, *, users: int, seconds: int, setup_path: str, results_path: str, csv_prefix: str):
    command = [
        str(PROJECT_DIR / ".venv" / "bin" / "locust"),
        "-f",
        str(PROJECT_DIR / "bench" / "locust_clinic.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 4)),
        "--run-time",
        f"{seconds}s",
        "--host",
        host,
        "--csv",
        csv_prefix,
        "--only-summary",
        "--loglevel",
        "ERROR",
        "--stop-timeout",
        "10",
    ]
    env = {**os.environ, "BENCH_SETUP": setup_path, "BENCH_RESULTS": results_path}
    subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=seconds + 120)
    with open(f"{csv_prefix}_stats.csv") as stats:
        return list(csv.DictReader(stats))


def print_stats(label: str, rows: list[dict]) -> dict:
    print(f"\n{label}")
    print(f"  {'kind':28} {'requests':>8} {'fail':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    total = {}
    for row in rows:
        line = (
            f"  {row['Name']:28} {row['Request Count']:>8} {row['Failure Count']:>5} "
            f"{float(row['Requests/s']):7.1f} {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
        )
        print(line)
        if row["Name"] == "Aggregated":
            total = row
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=32, help="simulated visitors at once (default 32)")
    parser.add_argument("--seconds", type=int, default=30, help="length of each run (default 30)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each topology (default 2)")
    parser.add_argument("--drain-seconds", type=int, default=120, help="wait for the outbox (default 120)")
    args = parser.parse_args()
    if not 1 <= args.users <= 500 or not 5 <= args.seconds <= 600 or not 1 <= args.rounds <= 5:
        parser.error("--users 1..500, --seconds 5..600, --rounds 1..5")
    env = cluster_env()
    reason = unreachable_reason(env)
    if reason:
        print(reason)
        return 2
    port = int(env["CLUSTER_PORT"])
    single_port = port + 9
    print(
        f"{args.users} visitors, {args.seconds} s per run, {args.rounds} rounds; TASKS_BACKEND={env['TASKS_BACKEND']};"
        f" replica: {'yes' if env.get('DATABASE_REPLICA_URL') else 'no'}; {os.cpu_count()} CPU cores shared by all",
        flush=True,
    )
    setup = manage_json(env, SETUP_SCRIPT)
    before = manage_json(env, SNAPSHOT_SCRIPT)
    mail_before = mail_messages()
    workdir = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    setup_path, results_path = workdir / "setup.json", workdir / "accepted.jsonl"
    setup_path.write_text(json.dumps(setup))
    results_path.write_text("")
    before_path = workdir / "before.json"
    before_path.write_text(json.dumps(before))

    workers = os.environ.get("CLUSTER_APP_WORKERS", "2")
    single = subprocess.Popen(
        [
            str(PROJECT_DIR / ".venv" / "bin" / "gunicorn"),
            "acuclinic.wsgi",
            "--bind",
            f"127.0.0.1:{single_port}",
            "--workers",
            workers,
            "--control-socket",
            str(workdir / "single.ctl"),
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    totals: dict[str, list[dict]] = {"one process": [], "cluster": []}
    try:
        wait_for(f"http://127.0.0.1:{single_port}/health/")
        # Warm every gunicorn worker up (imports, templates, connections) before anything is measured.
        query = f"location={setup['location']}&type={setup['type']}&practitioner=any&who=new"
        for target in (single_port, port + 1, port + 2, port + 3):
            for path in [*setup["articles"], f"/book/?{query}", "/request-appointment/"] * 3:
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(f"http://127.0.0.1:{target}{path}", timeout=60).read()  # noqa: S310
        for round_number in range(1, args.rounds + 1):
            for label, host in (
                ("one process", f"http://127.0.0.1:{single_port}"),
                ("cluster", f"http://127.0.0.1:{port}"),
            ):
                rows = run_locust(
                    host,
                    users=args.users,
                    seconds=args.seconds,
                    setup_path=str(setup_path),
                    results_path=str(results_path),
                    csv_prefix=str(workdir / f"{label.replace(' ', '-')}-{round_number}"),
                )
                total = print_stats(f"{label}, round {round_number} ({host})", rows)
                totals[label].append(total)
    finally:
        single.send_signal(signal.SIGTERM)
        single.wait(timeout=30)

    print("\nSide by side (all kinds together)")
    for label, runs in totals.items():
        cells = "   ".join(
            f"{float(t['Requests/s']):6.1f} req/s p50 {t['50%']} p95 {t['95%']} p99 {t['99%']} ms"
            for t in runs
        )
        print(f"  {label:12} {cells}")
    one = sum(float(t["Requests/s"]) for t in totals["one process"]) / len(totals["one process"])
    three = sum(float(t["Requests/s"]) for t in totals["cluster"]) / len(totals["cluster"])
    print(f"  ratio cluster / one process: {three / one:.2f} (req/s, mean of the rounds)")

    print(
        f"\nChecks (waiting up to {args.drain_seconds} s for the workers to send the run's e-mails) …",
        flush=True,
    )
    check = manage_json(
        env,
        CHECK_SCRIPT,
        BEFORE=str(before_path),
        RESULTS=str(results_path),
        DRAIN_SECONDS=args.drain_seconds,
    )
    written = mail_messages() - mail_before
    failures = []
    print(
        f"  bookings: {check['bookings_accepted']} accepted, {check['bookings_stored']} stored online, "
        f"{check['bookings_missing']} missing, {check['bookings_duplicate_links']} confirmed twice"
    )
    if check["bookings_missing"] or check["bookings_bad_link"] or check["bookings_duplicate_links"]:
        failures.append("an accepted booking is missing or was confirmed twice")
    if check["bookings_stored"] != check["bookings_accepted"]:
        failures.append("bookings stored != bookings accepted")
    print(
        f"  requests: {check['requests_accepted']} accepted, {check['requests_stored']} stored, "
        f"{check['requests_missing']} missing, {check['requests_stored_twice']} stored twice"
    )
    if check["requests_missing"] or check["requests_stored_twice"]:
        failures.append("an accepted request is missing or stored twice")
    if check["requests_stored"] != check["requests_accepted"]:
        failures.append("requests stored != requests accepted")
    print(f"  overlapping appointments (practitioner, room, patient): {check['overlaps']}")
    if any(check["overlaps"].values()):
        failures.append("double booking")
    print(
        f"  e-mails: {check['delivered']} outbox rows sent, {check['unsent']} unsent, {check['reminders']} "
        f"reminders; {written} messages written (attempts per row: {check['attempts']})"
    )
    if check["unsent"]:
        failures.append("outbox rows left unsent")
    if written != check["delivered"] + check["reminders"]:
        failures.append("messages written != rows sent: an e-mail went twice or not at all")
    print("FAILED: " + "; ".join(failures) if failures else "All checks passed.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

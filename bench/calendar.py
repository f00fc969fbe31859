"""Benchmark: the front desk's day calendar (/admin/schedule/, ``scheduling.admin_views.CalendarView``).

    .venv/bin/python bench/calendar.py [--runs 50] [--practitioners 10] [--appointments 60]
                                       [--postgres-url postgres://postgres@127.0.0.1:5432/acuclinic_bench_calendar]
                                       [--only sqlite|postgres] [--strict]

For each database (SQLite: a file in a temporary directory; PostgreSQL: the database named in --postgres-url,
created fresh and dropped afterwards; skipped with a note when the server is not reachable) it migrates a
throwaway database and fills one location (America/New_York, open 8:00 AM – 6:00 PM) with --practitioners
practitioners, each with a room, weekly hours (some 8–6, some 9–5 with a lunch break), one of them with a part
day off, and --appointments visits today spread over them (30- and 60-minute, in every status: confirmed,
pending, arrived, completed, no-show, plus a few cancelled ones that the calendar hides).

Then, signed in as the front desk, it requests the day calendar (every practitioner side by side, with the
actions and the free-time links) through Django's test client — the whole request: middleware, the view, the
template — --runs times after one warm-up, and prints the wall-clock p50/p95/max in milliseconds, the server's
CPU time per request (``time.process_time``: the database's own CPU is in this process for SQLite, not for
PostgreSQL), and the SQL queries per request, also for one practitioner with one visit (they must be the same:
no query per practitioner or visit). The goal is p95 < 150 ms; it exits 1 when the query count grows, and also
when the goal is missed with --strict.
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's `calendar`: its folder must not come first on the path, or every
# `import calendar` (e-mail, Django, Wagtail) would find this file.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

# The database helpers of the slot search's benchmark, loaded by path (bench/ is not a package).
_spec = importlib.util.spec_from_file_location("bench_slot_search", Path(_HERE) / "slot_search.py")
_slot_search = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_slot_search)
_admin_url, drop_pg_database, percentile = (
    _slot_search._admin_url,
    _slot_search.drop_pg_database,
    _slot_search.percentile,
)
pg_reachable, recreate_pg_database = _slot_search.pg_reachable, _slot_search.recreate_pg_database

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/acuclinic_bench_calendar"
GOAL_MS = 150.0
STATUSES = ["confirmed"] * 5 + ["pending", "arrived", "completed", "no_show", "confirmed"]


def set_up_clinic(practitioners: int, appointments: int):
    """One location, the practitioners with rooms and hours, and the visits today; returns (location, day)."""
    from datetime import date, datetime, time, timedelta

    from django.utils import timezone

    from acuclinic.clinical.models import Patient
    from acuclinic.scheduling.models import (
        Appointment,
        AppointmentType,
        AvailabilityException,
        Licence,
        Location,
        Practitioner,
        Room,
        WorkingHours,
    )

    location = Location.objects.create(
        name=f"Bench clinic {practitioners}", state="NY", time_zone="America/New_York"
    )
    zone = location.zone
    today = timezone.now().astimezone(zone).date()
    follow_up, _ = AppointmentType.objects.get_or_create(
        name="Follow-up treatment", defaults={"duration_minutes": 30, "buffer_after_minutes": 10}
    )
    first_visit, _ = AppointmentType.objects.get_or_create(
        name="First visit with intake", defaults={"duration_minutes": 60, "buffer_after_minutes": 15}
    )
    staff, rooms = [], []
    for n in range(practitioners):
        p = Practitioner.objects.create(name=f"Practitioner {practitioners}-{n:02d}", credentials="L.Ac.")
        p.locations.add(location)
        staff.append(p)
        rooms.append(Room.objects.create(location=location, name=f"Room {n + 1}"))
        Licence.objects.create(
            practitioner=p, state="NY", number=f"B{practitioners}-{n}", expires_on=today + timedelta(days=700)
        )
        shifts = [(time(8), time(18))] if n % 2 else [(time(9), time(12, 30)), (time(13, 30), time(17))]
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=p, location=location, weekday=d, starts_at=s, ends_at=e)
            for d in range(7)
            for s, e in shifts
        )
        if n == 3:
            AvailabilityException.objects.create(
                practitioner=p, kind="time_off", date=today, starts_at=time(15), ends_at=time(17)
            )
    rows = []
    for k in range(appointments):
        p_index, slot = k % practitioners, k // practitioners
        kind = first_visit if k % 4 == 0 else follow_up
        start = datetime.combine(today, time(9), tzinfo=zone) + timedelta(minutes=75 * slot)
        patient = Patient.objects.create(
            first_name=f"Bench{practitioners}x{k}", last_name="Patient", date_of_birth=date(1980, 1, 1)
        )
        status = STATUSES[k % len(STATUSES)]
        fields = {
            "patient": patient,
            "practitioner": staff[p_index],
            "room": rooms[p_index],
            "location": location,
            "appointment_type": kind,
            "start": start,
            "end": start + kind.duration,
            "blocked_until": start + kind.duration + kind.buffer_after,
        }
        rows.append(Appointment(status=status, **fields))
        if k % 15 == 0:  # a cancelled visit the calendar skips (it holds no time)
            rows.append(Appointment(status="cancelled", cancellation_reason="bench", **fields))
    Appointment.objects.bulk_create(rows)
    return location, today


def measure(args) -> int:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from acuclinic.accounts.roles import ensure_roles

    user = get_user_model().objects.create_user("bench-desk", "desk@acuclinic.example", "bench-password-0123")
    ensure_roles()
    user.groups.add(Group.objects.get(name="Front desk"))
    client = Client()
    client.force_login(user)
    # A complete sign-in: the session has passed two-step sign-in with an authenticator (as tests/conftest.py).
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="Bench authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    small, _ = set_up_clinic(1, 1)
    location, today = set_up_clinic(args.practitioners, args.appointments)
    gc.collect()
    gc.freeze()  # as in production (acuclinic/wsgi.py)

    def request(where):
        response = client.get("/admin/schedule/", {"date": f"{today:%m/%d/%Y}", "location": where.pk})
        assert response.status_code == 200, response.status_code
        return response.content

    body = request(location)  # warm-up: templates, content types, settings
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(request, location)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    shown = body.count(b'class="acu-appt ')
    wall, cpu = [], []
    for _ in range(args.runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        request(location)
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    request(small)
    with CaptureQueriesContext(connection) as one:
        request(small)
    with CaptureQueriesContext(connection) as many:
        request(location)
    p95 = percentile(wall, 95)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"database: {connection.vendor}; day calendar, {args.practitioners} practitioners side by side, "
        f"{shown} visits shown ({len(body) // 1024} KiB of HTML); {args.runs} requests\n"
        f"  wall: p50 {percentile(wall, 50):.1f} ms, p95 {p95:.1f} ms, max {max(wall):.1f} ms\n"
        f"  server CPU per request: p50 {percentile(cpu, 50):.1f} ms, p95 {percentile(cpu, 95):.1f} ms\n"
        f"  queries per request: {len(many)} (1 practitioner, 1 visit: {len(one)})\n"
        f"goal p95 < {GOAL_MS:.0f} ms: {'met' if p95 < GOAL_MS else 'MISSED'} "
        f"(load average {load}, {os.cpu_count()} cores)"
    )
    if len(one) != len(many):
        print("FAILED: the query count grows with the practitioners and visits")
        return 1
    return 1 if args.strict and p95 >= GOAL_MS else 0


def run_backend(args) -> int:
    """In a child process: one database per process, as Django's settings are read once."""
    var_dir = Path(tempfile.mkdtemp(prefix="acuclinic-bench-calendar-"))
    try:
        os.environ["ACUCLINIC_VAR_DIR"] = str(var_dir)
        os.environ["DJANGO_SETTINGS_MODULE"] = "acuclinic.settings.test"
        os.environ.pop("DATABASE_URL", None)
        if args.only == "postgres":
            recreate_pg_database(args.postgres_url)
            os.environ["DATABASE_URL"] = args.postgres_url
        import logging

        import django
        from django.core.management import call_command

        django.setup()
        logging.getLogger("acuclinic").setLevel(logging.WARNING)
        call_command("migrate", verbosity=0)
        return measure(args)
    finally:
        if args.only == "postgres":
            from django.db import connections

            connections.close_all()
            drop_pg_database(args.postgres_url)
        shutil.rmtree(var_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--practitioners", type=int, default=10)
    parser.add_argument("--appointments", type=int, default=60)
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--strict", action="store_true", help="exit 1 when the p95 goal is missed")
    args = parser.parse_args()
    if (
        args.runs < 1
        or not 2 <= args.practitioners <= 30
        or not 1 <= args.appointments <= 8 * args.practitioners
    ):
        parser.error("need --runs ≥ 1, 2–30 practitioners and at most 8 appointments each")
    if args.only:
        return run_backend(args)
    status = 0
    for backend in ("sqlite", "postgres"):
        if backend == "postgres" and not pg_reachable(args.postgres_url):
            print(f"PostgreSQL not reachable at {_admin_url(args.postgres_url)}: skipped")
            continue
        print(f"--- {backend}", flush=True)
        child = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--only", backend], check=False)
        status = status or child.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())

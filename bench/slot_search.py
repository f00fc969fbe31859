"""Benchmark: the slot search (``acuclinic.scheduling.availability.free_slots``) the public booking pages call.

    .venv/bin/python bench/slot_search.py [--runs 50] [--practitioners 20] [--days 60] [--rooms 4]
                                          [--postgres-url postgres://postgres@127.0.0.1:5432/acuclinic_bench_slots]
                                          [--only sqlite|postgres] [--strict]

For each database (SQLite: a file in a temporary directory with the production options; PostgreSQL: the database
named in --postgres-url, created fresh and dropped afterwards; skipped with a note when the server is not
reachable) it migrates a throwaway database and fills one location (America/New_York) with realistic data,
seeded so that every run sees the same clinic:

* --practitioners practitioners, each working 4–5 days a week (Monday–Saturday) in one of four shift patterns
  (mornings, afternoons, a day with a lunch break, long days), a few whole and part days off (some at every
  location), a few extra hours, one licence that expires during the range; --rooms rooms;
* a one-day holiday closure and a two-day closure;
* follow-ups (30 min + 10 min buffer) and first visits (60 min + 15 min buffer; offered by most practitioners);
* bookings (confirmed and pending, a few cancelled) until about 40% of the slots that the search offered on the
  empty clinic are no longer offered.

Then it times, --runs times each after one warm-up call, what the patient's pages call:

1. "first available" (no practitioner), follow-up, the next --days days (everything free in the horizon);
   and as the day step asks for it: the first 15 days with a free slot (it lists 14, the 15th starts "Later days");
2. one practitioner, follow-up, one week (the week view; practitioner and week vary between runs);
3. one practitioner, first visit, the next --days days;

and prints p50/p95/max in milliseconds, the slots found, and the SQL queries per call, for 1 day and for --days
days (they must be the same: no query per day). The goal is p95 < 100 ms on both databases; it exits 1 when the
query count grows with the days, and also when the goal is missed with --strict. The service level is measured
(no HTTP); the database and this process share the machine's cores.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/acuclinic_bench_slots"
GOAL_MS = 100.0
BOOKED_SHARE = 0.40


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def _admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate_pg_database(url: str) -> None:
    import psycopg

    name = _database_name(url)
    with psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_pg_database(url: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_database_name(url)}" WITH (FORCE)')


def pg_reachable(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(_admin_url(url), connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


# --- the clinic ---------------------------------------------------------------------------------------------------
SHIFTS = [
    [(8, 0, 14, 0)],  # mornings
    [(12, 0, 19, 0)],  # afternoons
    [(9, 0, 12, 30), (13, 30, 17, 0)],  # a day with a lunch break
    [(8, 30, 18, 30)],  # long days
]


def set_up_clinic(args, rng: random.Random):
    from datetime import date, time, timedelta

    from acuclinic.clinical.models import Patient
    from acuclinic.scheduling.models import (
        AppointmentType,
        AvailabilityException,
        Closure,
        Licence,
        Location,
        Practitioner,
        Room,
        WorkingHours,
    )

    today = date.today()
    location = Location.objects.create(
        name="Bench clinic", state="NY", time_zone="America/New_York", opens_at=time(8), closes_at=time(19)
    )
    elsewhere = Location.objects.create(name="Bench uptown", state="NY", time_zone="America/New_York")
    rooms = [Room.objects.create(location=location, name=f"Room {n + 1}") for n in range(args.rooms)]
    follow_up = AppointmentType.objects.create(
        name="Follow-up treatment",
        duration_minutes=30,
        buffer_after_minutes=10,
        new_patients_may_book_online=True,
    )
    first_visit = AppointmentType.objects.create(
        name="First visit with intake",
        duration_minutes=60,
        buffer_after_minutes=15,
        new_patients_may_book_online=True,
    )
    practitioners = []
    hours, exceptions = [], []
    for n in range(args.practitioners):
        p = Practitioner.objects.create(name=f"Practitioner {n:02d}", credentials="L.Ac.")
        practitioners.append(p)
        # One licence runs out in the middle of the range; the rest are valid well past it.
        expires = today + timedelta(days=args.days // 2) if n == 3 else today + timedelta(days=700)
        Licence.objects.create(practitioner=p, state="NY", number=f"BENCH-{n:03d}", expires_on=expires)
        follow_up.practitioners.add(p)
        if n % 5:
            first_visit.practitioners.add(p)
        shift = SHIFTS[n % len(SHIFTS)]
        for weekday in sorted(rng.sample(range(6), rng.choice((4, 5)))):
            for h1, m1, h2, m2 in shift:
                hours.append(
                    WorkingHours(
                        practitioner=p,
                        location=location,
                        weekday=weekday,
                        starts_at=time(h1, m1),
                        ends_at=time(h2, m2),
                    )
                )
        for _ in range(2):  # whole days off, some "anywhere"
            exceptions.append(
                AvailabilityException(
                    practitioner=p,
                    kind=AvailabilityException.Kind.TIME_OFF,
                    date=today + timedelta(days=rng.randrange(args.days)),
                    location=rng.choice((None, location)),
                )
            )
        for _ in range(3):  # part days off
            exceptions.append(
                AvailabilityException(
                    practitioner=p,
                    kind=AvailabilityException.Kind.TIME_OFF,
                    date=today + timedelta(days=rng.randrange(args.days)),
                    starts_at=time(rng.choice((10, 13, 15))),
                    ends_at=time(rng.choice((16, 17))),
                )
            )
        exceptions.append(
            AvailabilityException(
                practitioner=p,
                kind=AvailabilityException.Kind.EXTRA_HOURS,
                date=today + timedelta(days=rng.randrange(args.days)),
                location=rng.choice((location, elsewhere)),
                starts_at=time(8),
                ends_at=time(12),
            )
        )
    WorkingHours.objects.bulk_create(hours)
    AvailabilityException.objects.bulk_create(exceptions)
    Closure.objects.create(
        location=location,
        starts_on=today + timedelta(days=20),
        ends_on=today + timedelta(days=20),
        reason="Holiday",
    )
    Closure.objects.create(
        location=location,
        starts_on=today + timedelta(days=41),
        ends_on=today + timedelta(days=42),
        reason="Staff training",
    )
    book_share(args, rng, location, rooms, practitioners, (follow_up, first_visit), Patient)
    return location, practitioners, follow_up, first_visit


def book_share(args, rng, location, rooms, practitioners, types, Patient):  # noqa: N803 - a model class
    """Book random offered slots, in batches, until about 40% of the slots offered on the empty clinic are gone.

    Choices are checked in memory (practitioner and room free for the held range) and inserted in bulk; after
    each batch the search counts what is still offered.
    """
    from datetime import date, timedelta

    from django.utils import timezone

    from acuclinic.scheduling.availability import free_slots
    from acuclinic.scheduling.models import Appointment, AppointmentStatus

    today = date.today()
    now = timezone.now()

    def offered():
        return free_slots(
            appointment_type=types[0],
            location=location,
            day_from=today,
            day_to=today + timedelta(days=args.days - 1),
            now=now,
            online=False,
        )

    candidates = offered()
    before = remaining = len(candidates)
    rng.shuffle(candidates)
    held: dict[tuple[str, int], list] = {}

    def free(key, start, until):
        return all(until <= s or e <= start for s, e in held.get(key, ()))

    booked, n = 0, 0
    batch = max(10, before // 200)
    while remaining > (1 - BOOKED_SHARE) * before and candidates:
        appointments = []
        while candidates and len(appointments) < batch:
            slot = candidates.pop()
            kind = types[1] if rng.random() < 0.25 and slot.practitioner_id % 5 else types[0]
            start, end = slot.start, slot.start + kind.duration
            until = end + kind.buffer_after
            if not free(("p", slot.practitioner_id), start, until):
                continue
            room = next((r for r in rooms if free(("r", r.pk), start, until)), None)
            if room is None:
                continue
            held.setdefault(("p", slot.practitioner_id), []).append((start, until))
            held.setdefault(("r", room.pk), []).append((start, until))
            patient = Patient.objects.create(
                first_name=f"Bench{n}", last_name="Patient", date_of_birth=date(1980, 1, 1)
            )
            n += 1
            status = AppointmentStatus.PENDING if rng.random() < 0.1 else AppointmentStatus.CONFIRMED
            appointments.append(
                Appointment(
                    patient=patient,
                    practitioner_id=slot.practitioner_id,
                    room=room,
                    location=location,
                    appointment_type=kind,
                    start=start,
                    end=end,
                    blocked_until=until,
                    status=status,
                )
            )
            if rng.random() < 0.05:  # now and then a cancelled one, which holds nothing but is a row to skip
                appointments.append(
                    Appointment(
                        patient=patient,
                        practitioner_id=slot.practitioner_id,
                        room=room,
                        location=location,
                        appointment_type=kind,
                        start=start,
                        end=end,
                        blocked_until=until,
                        status=AppointmentStatus.CANCELLED,
                        cancellation_reason="bench",
                    )
                )
        Appointment.objects.bulk_create(appointments)
        booked += len(appointments)
        remaining = len(offered())
    print(
        f"clinic: {len(practitioners)} practitioners, {len(rooms)} rooms, {args.days} days; "
        f"{booked} appointments (some cancelled); follow-up slots offered: {before} on the empty clinic, "
        f"{remaining} now ({100 * (before - remaining) / max(before, 1):.0f}% booked away)",
        flush=True,
    )


# --- the measurements ---------------------------------------------------------------------------------------------
def measure(args) -> int:
    from datetime import date, timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from acuclinic.scheduling.availability import free_slots

    rng = random.Random(20261123)
    location, practitioners, follow_up, first_visit = set_up_clinic(args, rng)
    # As in production (acuclinic/wsgi.py): what is loaded at start-up is frozen out of the garbage collector's
    # full collections, which otherwise add 200+ ms to an unlucky call.
    import gc

    gc.collect()
    gc.freeze()
    today = date.today()
    last = today + timedelta(days=args.days - 1)
    offering_first = [p for p in practitioners if first_visit.practitioners.filter(pk=p.pk).exists()]

    def first_available(n, days=args.days, start=today):
        return free_slots(
            appointment_type=follow_up,
            location=location,
            day_from=start,
            day_to=start + timedelta(days=days - 1),
            now=timezone.now(),
        )

    def one_week(n, days=7, start=None):
        start = start or today + timedelta(days=(n * 7) % max(args.days - days, 1))
        return free_slots(
            appointment_type=follow_up,
            location=location,
            day_from=start,
            day_to=start + timedelta(days=days - 1),
            practitioner=practitioners[n % len(practitioners)],
            now=timezone.now(),
        )

    def one_practitioner(n, days=args.days, start=today):
        return free_slots(
            appointment_type=first_visit,
            location=location,
            day_from=start,
            day_to=start + timedelta(days=days - 1),
            practitioner=offering_first[n % len(offering_first)],
            now=timezone.now(),
        )

    def day_list(n, days=args.days, start=today):
        return free_slots(
            appointment_type=follow_up,
            location=location,
            day_from=start,
            day_to=start + timedelta(days=days - 1),
            now=timezone.now(),
            days_with_slots=15,  # as the day step (booking_views.DAYS_SHOWN + 1)
        )

    scenarios = [
        (f"first available, follow-up, {args.days} days", first_available),
        ("the day step: first available, first 15 days with free times", day_list),
        ("one practitioner, follow-up, 7 days", one_week),
        (f"one practitioner, first visit, {args.days} days", one_practitioner),
    ]
    print(f"database: {connection.vendor}; {args.runs} runs each; range {today} – {last} (America/New_York)")
    ok_queries, ok_goal = True, True
    for label, call in scenarios:
        call(0)  # warm-up: connection, query plans, zoneinfo cache
        timings, cpu, found = [], [], []
        for n in range(args.runs):
            began, began_cpu = time.perf_counter(), time.thread_time()
            slots = call(n)
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.thread_time() - began_cpu) * 1000)
            found.append(len(slots))
            del slots  # as after a request: the result does not outlive the page that showed it
        # One day a week ahead: today itself may lie wholly inside the minimum notice, and a search that can
        # offer nothing returns before its first query.
        with CaptureQueriesContext(connection) as one_day:
            call(0, days=1, start=today + timedelta(days=7))
        with CaptureQueriesContext(connection) as many_days:
            call(0)
        p95 = percentile(timings, 95)
        ok_queries &= len(one_day) == len(many_days)
        ok_goal &= p95 < GOAL_MS
        print(
            f"  {label}: p50 {percentile(timings, 50):.1f} ms, p95 {p95:.1f} ms, max {max(timings):.1f} ms "
            f"(this process's CPU: p50 {percentile(cpu, 50):.1f}, p95 {percentile(cpu, 95):.1f} ms); "
            f"slots found {min(found)}–{max(found)}; queries per call {len(many_days)} (1 day: {len(one_day)})"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"goal p95 < {GOAL_MS:.0f} ms: {'met' if ok_goal else 'MISSED'} (load average {load}, {os.cpu_count()} cores)"
    )
    if not ok_queries:
        print("FAILED: the query count grows with the number of days")
        return 1
    return 1 if args.strict and not ok_goal else 0


def run_backend(args) -> int:
    """In a child process: one database per process, as Django's settings are read once."""
    var_dir = Path(tempfile.mkdtemp(prefix="acuclinic-bench-slots-"))
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
    parser.add_argument("--practitioners", type=int, default=20)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--rooms", type=int, default=4)
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--strict", action="store_true", help="exit 1 when the p95 goal is missed")
    args = parser.parse_args()
    if args.runs < 1 or args.days < 7 or args.practitioners < 5 or not 1 <= args.rooms <= 20:
        parser.error("need --runs ≥ 1, --days ≥ 7, --practitioners ≥ 5 and 1–20 rooms")
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

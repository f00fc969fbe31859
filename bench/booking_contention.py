"""Benchmark: many people booking the same few slots at once, through the booking service.

    .venv/bin/python bench/booking_contention.py [--attempts 200] [--slots 20] [--concurrency 40]
                                                 [--database-url postgres://postgres@127.0.0.1:5432/postgres]

It makes a throwaway database (SQLite: a file in a temporary directory, with the production options: WAL,
BEGIN IMMEDIATE, busy timeout; PostgreSQL: a fresh database ``acuclinic_bench_<random>`` on the given server,
dropped afterwards), migrates it, and sets up one location with --slots / 4 practitioners, each with a room of
their own, working 9:00–17:00 Monday to Saturday, and four contested 30-minute slots (10:00, 10:30, 11:00, 11:30
local, a week ahead). A refused attempt is offered the next free times, as a patient would be. Then --attempts
patients (all different) each try to book one slot, spread evenly over the slots, through
``acuclinic.scheduling.services.book_appointment``.

--concurrency threads, each with its own database connection, are released together by a barrier and work
through the attempts. It prints the bookings made (counted in the database afterwards; it must equal --slots),
how many attempts were told "taken", attempts/s and p50/p95/p99 latency of one attempt (a refused attempt
includes the search for the next free slots). It exits 1 when the count is wrong or an attempt failed otherwise.

The service level is measured (no HTTP); client and database share the machine's cores.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import queue
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def create_pg_database(server_url: str) -> tuple[str, str]:
    import psycopg

    name = f"acuclinic_bench_{secrets.token_hex(4)}"
    parts = urlsplit(server_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, urlunsplit(parts._replace(path=f"/{name}"))


def drop_pg_database(server_url: str, name: str) -> None:
    import psycopg

    admin_url = urlunsplit(urlsplit(server_url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_up_clinic(slots: int, attempts: int):
    from datetime import date, time, timedelta

    from acuclinic.clinical.models import Patient
    from acuclinic.scheduling.models import (
        AppointmentType,
        Licence,
        Location,
        Practitioner,
        Room,
        WorkingHours,
    )
    from acuclinic.scheduling.services import local_start

    location = Location.objects.create(name="Bench clinic", state="NY", time_zone="America/New_York")
    appointment_type = AppointmentType.objects.create(name="Bench follow-up", duration_minutes=30)
    day = date.today() + timedelta(days=7)
    times = [time(10, 0), time(10, 30), time(11, 0), time(11, 30)]
    targets = []  # (practitioner pk, room pk, start)
    for n in range(math.ceil(slots / len(times))):
        practitioner = Practitioner.objects.create(name=f"Bench practitioner {n}")
        Licence.objects.create(
            practitioner=practitioner, state="NY", number=f"B-{n}", expires_on=day + timedelta(30)
        )
        appointment_type.practitioners.add(practitioner)
        # Working hours as in a clinic, so every refused attempt is offered real next free times (the search a
        # patient who lost the race waits for).
        WorkingHours.objects.bulk_create(
            WorkingHours(
                practitioner=practitioner, location=location, weekday=d, starts_at=time(9), ends_at=time(17)
            )
            for d in range(6)
        )
        room = Room.objects.create(location=location, name=f"Room {n}")
        targets += [(practitioner.pk, room.pk, local_start(location, day, at)) for at in times]
    targets = targets[:slots]
    patients = Patient.objects.bulk_create(
        Patient(first_name=f"Bench{n}", last_name="Patient", date_of_birth=date(1980, 1, 1))
        for n in range(attempts)
    )
    if not patients[0].pk:  # backends that do not return ids from bulk_create
        patients = list(
            Patient.objects.filter(last_name="Patient", first_name__startswith="Bench").order_by("pk")
        )
    work = [(patients[i].pk, *targets[i % slots]) for i in range(attempts)]
    return appointment_type.pk, work


def run(args) -> int:
    from django.db import connection

    from acuclinic.clinical.models import Patient
    from acuclinic.scheduling.models import Appointment, AppointmentType, Practitioner, Room
    from acuclinic.scheduling.services import SlotTaken, book_appointment

    type_pk, work = set_up_clinic(args.slots, args.attempts)
    connection.close()
    todo: queue.Queue = queue.Queue()
    for item in work:
        todo.put(item)
    barrier = threading.Barrier(args.concurrency + 1)
    results, lock = [], threading.Lock()

    def worker():
        try:
            appointment_type = AppointmentType.objects.get(pk=type_pk)
            rooms = {room.pk: room for room in Room.objects.select_related("location")}
            practitioners = {p.pk: p for p in Practitioner.objects.all()}
            barrier.wait(timeout=120)
            while True:
                try:
                    patient_pk, practitioner_pk, room_pk, start = todo.get_nowait()
                except queue.Empty:
                    return
                patient = Patient(pk=patient_pk)
                began = time.perf_counter()
                try:
                    book_appointment(
                        patient=patient,
                        practitioner=practitioners[practitioner_pk],
                        room=rooms[room_pk],
                        appointment_type=appointment_type,
                        start=start,
                    )
                    outcome = "booked"
                except SlotTaken as exc:
                    outcome = "taken" if exc.next_free else "taken, no next free times"
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    outcome = f"error: {type(exc).__name__}: {exc}"
                with lock:
                    results.append((outcome, time.perf_counter() - began))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began

    outcomes = Counter(outcome for outcome, _ in results)
    latencies_ms = [seconds * 1000 for _, seconds in results]
    stored = Appointment.objects.holding().count()
    connection.close()
    print(
        f"database: {connection.vendor}, {args.attempts} attempts over {args.slots} slots, {args.concurrency} threads"
    )
    print(f"bookings made: {stored} (expected {args.slots}); told 'taken': {outcomes['taken']}")
    errors = {k: v for k, v in outcomes.items() if k not in ("booked", "taken")}
    for message, count in errors.items():
        print(f"  {count} × {message}")
    print(f"attempts/s: {len(results) / elapsed:.0f} ({len(results)} in {elapsed:.2f} s)")
    print(
        f"latency ms: p50 {percentile(latencies_ms, 50):.1f}, p95 {percentile(latencies_ms, 95):.1f}, "
        f"p99 {percentile(latencies_ms, 99):.1f}, max {max(latencies_ms):.1f}"
    )
    ok = stored == args.slots == outcomes["booked"] and not errors and len(results) == args.attempts
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument(
        "--concurrency", type=int, default=40, help="threads, each with its own DB connection"
    )
    parser.add_argument("--database-url", help="postgres://… server to create a throwaway database on")
    args = parser.parse_args()
    if args.slots > args.attempts:
        parser.error("--slots must not exceed --attempts")

    var_dir = Path(tempfile.mkdtemp(prefix="acuclinic-bench-"))
    pg_name = None
    try:
        os.environ["ACUCLINIC_VAR_DIR"] = str(var_dir)
        os.environ["DJANGO_SETTINGS_MODULE"] = "acuclinic.settings.test"
        os.environ.pop("DATABASE_URL", None)
        if args.database_url:
            pg_name, os.environ["DATABASE_URL"] = create_pg_database(args.database_url)
        import django
        from django.core.management import call_command

        django.setup()
        logging.getLogger("acuclinic").setLevel(logging.WARNING)  # one INFO line per attempt otherwise
        print("migrating a fresh database…", flush=True)
        call_command("migrate", verbosity=0)
        return run(args)
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            drop_pg_database(args.database_url, pg_name)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

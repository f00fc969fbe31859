"""Fifty people press "book" for the same slot at the same moment: exactly one gets it.

Each attempt runs in its own thread with its own database connection; a barrier releases them together. On
PostgreSQL they use the test database. pytest-django's SQLite test database is in memory (shared cache), where
connections neither wait for each other's locks nor behave like the production file database, so the test copies
the migrated database to a file (SQLite's backup API) and points every thread's connection at it, with the same
options as production (WAL, BEGIN IMMEDIATE, a busy timeout).
"""

import sqlite3
import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections

from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Appointment, AppointmentType, Practitioner, Room
from acuclinic.scheduling.services import SlotTaken, book_appointment

from .conftest import make_clinic

ATTEMPTS = 50


def file_database_for_threads(tmp_path):
    """On in-memory SQLite: a file copy of the test database for the threads; otherwise None (use the test DB)."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        return None
    path = tmp_path / "race.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    return str(path)


def use_database(file_db) -> None:
    """In a new thread, before its first query: its own connection goes to the file copy, if there is one."""
    if file_db is not None:
        connections["default"].settings_dict = {**connections["default"].settings_dict, "NAME": file_db}


def start_thread(file_db, outcome: dict, name: str, work) -> threading.Thread:
    """Run ``work()`` in a thread with its own connection; its result (or exception) lands in ``outcome[name]``."""

    def run():
        try:
            use_database(file_db)
            outcome[name] = work()
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def count_holding(file_db) -> int:
    if file_db is None:
        return Appointment.objects.holding().count()
    with sqlite3.connect(file_db) as db:
        return db.execute(
            "SELECT count(*) FROM scheduling_appointment WHERE status <> 'cancelled'"
        ).fetchone()[0]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_attempts_at_one_slot_give_exactly_one_booking(tmp_path):
    clinic = make_clinic(patients=ATTEMPTS, working_hours=True)
    start = clinic.at(10)
    file_db = file_database_for_threads(tmp_path)
    barrier = threading.Barrier(ATTEMPTS)
    outcomes, lock = [], threading.Lock()

    def attempt(patient_pk):
        try:
            if file_db is not None:  # this thread's own, not yet opened, connection
                connections["default"].settings_dict = {
                    **connections["default"].settings_dict,
                    "NAME": file_db,
                }
            # Everyone loads their own objects, then they all go at once.
            patient = Patient.objects.get(pk=patient_pk)
            practitioner = Practitioner.objects.get(pk=clinic.practitioner.pk)
            room = Room.objects.select_related("location").get(pk=clinic.room.pk)
            appointment_type = AppointmentType.objects.get(pk=clinic.follow_up.pk)
            barrier.wait(timeout=60)
            began = time.perf_counter()
            try:
                book_appointment(
                    patient=patient,
                    practitioner=practitioner,
                    room=room,
                    appointment_type=appointment_type,
                    start=start,
                )
                outcome = ("booked", None)
            except SlotTaken as exc:
                outcome = ("taken", exc)
            with lock:
                outcomes.append((*outcome, time.perf_counter() - began))
        except Exception as exc:  # noqa: BLE001 - reported below
            with lock:
                outcomes.append(("error", exc, 0.0))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p.pk,)) for p in clinic.patients[:ATTEMPTS]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    errors = [exc for kind, exc, _ in outcomes if kind == "error"]
    assert errors == []
    assert Counter(kind for kind, _, _ in outcomes) == {"booked": 1, "taken": ATTEMPTS - 1}
    assert count_holding(file_db) == 1
    for kind, exc, _ in outcomes:
        if kind == "taken":
            # Both are taken. The service checks the practitioner first; on PostgreSQL a loser that passed the
            # check meets whichever exclusion constraint the database tests first.
            assert exc.conflict in ("practitioner", "room")
            assert exc.next_free and all(s > start for s in exc.next_free)

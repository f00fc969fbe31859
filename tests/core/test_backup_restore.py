"""Backup and restore the way an administrator does it: `manage.py` commands against a running site.

The site is a LiveSite (tests/livesite.py): production settings, gunicorn serving, on a throwaway SQLite database
or, when DATABASE_URL is a postgres:// URL, a throwaway PostgreSQL database on that server. Data is written and
read through `manage.py shell` in the site's environment, so this module never touches pytest-django's test
database and makes no ORM call in the pytest process.

Each test: patient data (appointment requests through the services the form uses, a patient, audit records) →
backup_database → wipe → restore_database → every model's row count and the specific rows as before, and
`verify_audit_log` intact. Scheduling bookings are covered by the per-model counts when they come.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.livesite import PROJECT_DIR, LiveSite


def _database_params():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return [pytest.param(url, id="postgresql")]
    return [pytest.param(None, id="sqlite")]


@pytest.fixture(scope="module", params=_database_params())
def site(request):
    with LiveSite(request.param, workers=2) as live:
        yield live


# --- scripts run with `manage.py shell -c` in the site's environment ------------------------------------------
COMMON = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

def front_desk_user(username):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": username + "@acuclinic.example"}
    )
    if created:
        user.set_password("a-long-test-password")
        user.save()
        user.groups.add(Group.objects.get(name="Front desk"))
    return user

def open_day(start, days_ahead=3):
    day = start + timedelta(days=days_ahead)
    while day.weekday() == 6:  # the demo clinic is closed on Sundays
        day += timedelta(days=1)
    return day
"""

# Appointment requests the way the public form stores them (form validation, then the service), the front desk
# reading each (audited) and turning the first into a patient (audited as a change).
SEED = (
    COMMON
    + """
import time
from django.core import signing
from wagtail.models import Site
from acuclinic.accounts import audit
from acuclinic.appointments import services, triage
from acuclinic.appointments.forms import FORM_STAMP_SALT, AppointmentRequestForm, request_fields_from
from acuclinic.clinical import services as clinical
from acuclinic.core.models import ClinicSettings

clinic = ClinicSettings.for_site(Site.objects.get(is_default_site=True))
user = front_desk_user(USERNAME)
references = []
people = [("Maria", "Lopez", "04/27/1961"), ("Kenji", "Sato", "11/02/1978"), ("Zoë", "Ünal", "01/15/1990")]
for number, (first, last, born) in enumerate(people):
    data = {
        "first_name": first, "last_name": last, "date_of_birth": born,
        "phone": f"(212) 555-01{number:02d}", "email": f"patient{number}@example.org",
        "contact_method": "phone", "patient_status": "new", "reason": "lower_back", "reason_detail": "",
        "pain_duration": "chronic", "preferred_date_1": open_day(timezone.localdate()).strftime("%m/%d/%Y"),
        "preferred_time_1": "morning", "insurance_carrier": "Acme Health", "has_medicare": "no",
        "message": f"{USERNAME} message {number}", "consent_to_contact": "on",
        "token": f"{USERNAME}-{number}-{time.monotonic_ns()}",
        "started": signing.dumps(f"{time.time() - 60:.3f}", salt=FORM_STAMP_SALT), "website": "",
    }
    for question in triage.QUESTIONS:
        data[f"flag_{question.key}"] = "no"
    form = AppointmentRequestForm(data, clinic=clinic)
    assert form.is_valid(), form.errors.as_json()
    request = services.submit_appointment_request(
        fields=request_fields_from(form), red_flag_answers=form.red_flag_answers(),
        preferred_times=form.preferred_times(), today=form.today, token=data["token"],
    ).request
    audit.record(actor=user, action="read", obj=request)
    references.append(request.reference)
    if number == 0:
        patient, _created = clinical.create_or_match_patient_from_request(request=request, by=user)
print("SEEDED " + json.dumps({"references": references, "patient": patient.pk}))
"""
)

# Every model's row count, and the rows of patient data in full (Django's JSON serialisation, ordered by pk).
SNAPSHOT = """
import json
from django.apps import apps
from django.core import serializers

counts = {
    model._meta.label: model._base_manager.count()
    for model in apps.get_models()
    if model._meta.managed and not model._meta.proxy
}
rows = {}
for label in [
    "appointments.AppointmentRequest", "appointments.PreferredTime", "appointments.RequestNotification",
    "clinical.Patient", "accounts.AuditEvent", "auth.User",
]:
    model = apps.get_model(label)
    rows[label] = json.loads(serializers.serialize("json", model._base_manager.order_by("pk")))
print("RESULT " + json.dumps({"counts": counts, "rows": rows}, sort_keys=True))
"""

# The worst case short of losing the machine: every table gone (schema, rows, the audit log's triggers).
DROP_EVERYTHING = """
import json
from django.db import connection
with connection.cursor() as cursor:
    if connection.vendor == "postgresql":
        cursor.execute("DROP SCHEMA public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    else:
        cursor.execute("PRAGMA foreign_keys=OFF")
        # Virtual (full-text) tables first: dropping one drops its shadow tables with it.
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY sql NOT LIKE 'CREATE VIRTUAL%'")
        for (name,) in cursor.fetchall():
            if not name.startswith("sqlite_"):
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
print("RESULT " + json.dumps(connection.introspection.table_names()))
"""

# The append-only triggers came back with the restore: the database itself still refuses to rewrite history.
TRIGGER_REFUSES_UPDATE = """
import json
from django.db import connection, transaction
from django.db.utils import DatabaseError
try:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET detail = 'rewritten'")
    outcome = "updated"
except DatabaseError as exc:
    outcome = "refused: " + str(exc).splitlines()[0]
print("TRIGGER " + json.dumps(outcome))
"""

# Requests and their audit records, one transaction each, as fast as the database takes them, until told to stop.
WRITER = (
    COMMON
    + """
import pathlib
from datetime import date
from django.db import transaction
from acuclinic.accounts import audit
from acuclinic.appointments import services, triage

user = front_desk_user("backup-writer")
today = timezone.localdate()
stop = pathlib.Path(STOP_FILE)
written = 0
print("STARTED", flush=True)
while not stop.exists() and written < 20000:
    with transaction.atomic():
        request = services.submit_appointment_request(
            fields={
                "first_name": "Writer", "last_name": f"Number{written}", "date_of_birth": date(1970, 1, 1),
                "phone": "+12125550100", "email": "", "contact_method": "phone", "patient_status": "new",
                "reason": "lower_back", "reason_detail": "", "pain_duration": "chronic",
                "preferred_practitioner": None, "insurance_carrier": "", "insurance_member_id": "",
                "has_medicare": False, "message": "", "consent_to_contact": True,
                "wants_email_acknowledgement": False,
            },
            red_flag_answers={question.key: False for question in triage.QUESTIONS},
            preferred_times=[(open_day(today), "morning")],
            today=today,
            token=f"writer-{written}",
        ).request
        audit.record(actor=user, action="read", obj=request, detail="writer")
    written += 1
print("RESULT " + json.dumps({"written": written}), flush=True)
"""
)

# What a snapshot taken while WRITER ran must show: every request with its preferred time and its audit record,
# or neither (one transaction each).
WRITER_ROWS = """
import json
from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments.models import AppointmentRequest
requests = AppointmentRequest.objects.filter(submission_token__startswith="writer-")
print("RESULT " + json.dumps({
    "requests": sorted(str(pk) for pk in requests.values_list("pk", flat=True)),
    "without_preferred_time": requests.filter(preferred_times__isnull=True).count(),
    "audited": sorted(AuditEvent.objects.filter(detail="writer").values_list("object_id", flat=True)),
}))
"""


def shell(site: LiveSite, script: str, **names):
    """Run a script in the site's environment; returns the JSON it printed after RESULT."""
    return _printed(_run_shell(site, script, **names), "RESULT ")


def seed(site: LiveSite, username: str) -> tuple[dict, dict]:
    """SEED then SNAPSHOT in one process (a manage.py start-up costs seconds): (what was seeded, the snapshot)."""
    output = _run_shell(site, SEED + SNAPSHOT, USERNAME=username)
    return _printed(output, "SEEDED "), _printed(output, "RESULT ")


def _run_shell(site: LiveSite, script: str, **names) -> str:
    prelude = "".join(f"{name} = {value!r}\n" for name, value in names.items())
    return site.manage("shell", "-c", prelude + script).stdout


def _printed(output: str, prefix: str):
    line = [line for line in output.splitlines() if line.startswith(prefix)][-1]
    return json.loads(line.removeprefix(prefix))


def backup_files(site: LiveSite, output: Path) -> tuple[Path, Path]:
    result = site.manage("backup_database", "--output", str(output))
    media = Path(f"{output}.media.tar.gz")
    # The command says where the backup is and how big it is.
    assert f"Database backup: {output} ({output.stat().st_size} bytes" in result.stdout
    assert f"Media backup:    {media} ({media.stat().st_size} bytes" in result.stdout
    for path in (output, media):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} must be readable by its owner only"
    assert not [p for p in output.parent.iterdir() if p.name.endswith(".part")], "no temporary file left"
    return output, media


def restore(site: LiveSite, path: Path) -> subprocess.CompletedProcess:
    result = site.manage("restore_database", str(path), "--noinput")
    assert "Restored" in result.stdout
    assert "The database as it was before: " in result.stdout
    assert "migrate" not in result.stdout, result.stdout  # the backup is of this code's schema
    return result


def assert_audit_log_intact(site: LiveSite) -> str:
    verdict = site.manage("verify_audit_log", check=False)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "The audit log is intact" in verdict.stdout
    return verdict.stdout


def assert_site_answers(site: LiveSite) -> None:
    with urllib.request.urlopen(f"{site.url}/health/", timeout=10) as response:
        assert response.status == 200


def an_uploaded_image(site: LiveSite) -> Path:
    images = sorted((site.var_dir / "media" / "original_images").iterdir())
    assert images, "the demo content uploads images"
    return images[0]


# --- tests -----------------------------------------------------------------------------------------------------
def test_flush_then_restore_finds_every_request_patient_and_audit_record(site, tmp_path):
    seeded, before = seed(site, "backup-flush")
    assert {r["fields"]["reference"] for r in before["rows"]["appointments.AppointmentRequest"]} >= set(
        seeded["references"]
    )
    assert seeded["patient"] in {r["pk"] for r in before["rows"]["clinical.Patient"]}
    assert before["counts"]["accounts.AuditEvent"] >= 4  # three reads and the patient link
    image = an_uploaded_image(site)
    image_bytes = image.read_bytes()

    database, _media = backup_files(site, tmp_path / "backups" / "acuclinic.backup")

    site.manage("flush", "--noinput")  # every row of every table gone (TRUNCATE on PostgreSQL)
    image.unlink()  # and an uploaded image lost
    wiped = shell(site, SNAPSHOT)
    assert wiped["counts"]["appointments.AppointmentRequest"] == 0
    assert wiped["counts"]["accounts.AuditEvent"] == 0

    restore(site, database)

    assert shell(site, SNAPSHOT) == before  # every model's count, and every row of patient data as it was
    assert_audit_log_intact(site)
    assert image.read_bytes() == image_bytes
    assert_site_answers(site)


def test_restore_after_every_table_is_dropped_brings_back_data_and_the_audit_triggers(site, tmp_path):
    _seeded, before = seed(site, "backup-drop")
    database, _media = backup_files(site, tmp_path / "nightly.backup")

    assert shell(site, DROP_EVERYTHING) == []

    restore(site, database)

    output = _run_shell(site, SNAPSHOT + TRIGGER_REFUSES_UPDATE)
    assert _printed(output, "RESULT ") == before
    refused = _printed(output, "TRIGGER ")
    assert refused.startswith("refused:") and "append-only" in refused, refused
    assert_audit_log_intact(site)
    assert_site_answers(site)


def test_a_backup_taken_while_the_site_writes_is_a_consistent_snapshot(site, tmp_path):
    stop_file, writer_log = tmp_path / "stop", tmp_path / "writer.log"
    script = f"STOP_FILE = {str(stop_file)!r}\n" + WRITER
    # Its log goes to a file: a pipe nobody reads would fill up and stop the writer.
    with writer_log.open("w") as log:
        writer = subprocess.Popen(
            [sys.executable, str(PROJECT_DIR / "manage.py"), "shell", "-c", script],
            cwd=PROJECT_DIR,
            env=site.env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            for line in writer.stdout:  # the shell's own banner comes first
                if line.strip() == "STARTED":
                    break
            else:
                pytest.fail(f"the writer did not start:\n{writer_log.read_text()[-3000:]}")
            time.sleep(1)  # some rows in before the backup starts
            database, _media = backup_files(site, tmp_path / "during-writes.backup")
            time.sleep(0.5)  # and more after it
        finally:
            stop_file.touch()
            out, _ = writer.communicate(timeout=120)
    assert writer.returncode == 0, writer_log.read_text()[-3000:]
    written = _printed(out, "RESULT ")["written"]

    restore(site, database)

    snapshot = shell(site, WRITER_ROWS)
    assert 0 < len(snapshot["requests"]) < written, "the backup was taken while the writer ran"
    assert snapshot["audited"] == snapshot["requests"], "each request with its audit record, or neither"
    assert snapshot["without_preferred_time"] == 0
    assert_audit_log_intact(site)  # gapless and unbroken up to the last row the copy holds


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(site, tmp_path):
    before = shell(site, SNAPSHOT)
    not_a_backup = tmp_path / "holiday-photo.jpg"
    not_a_backup.write_bytes(b"\xff\xd8\xff\xe0 not a database")

    result = site.manage("restore_database", str(not_a_backup), "--noinput", check=False)

    assert result.returncode != 0
    assert "not a" in result.stderr, result.stderr
    assert shell(site, SNAPSHOT) == before  # audit records included


def test_backup_never_overwrites_an_earlier_backup_unless_asked(site, tmp_path):
    database, media = backup_files(site, tmp_path / "daily.backup")
    first = database.read_bytes()

    again = site.manage("backup_database", "--output", str(database), check=False)

    assert again.returncode != 0
    assert "exists" in again.stderr
    assert database.read_bytes() == first
    site.manage("backup_database", "--output", str(database), "--overwrite")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(media.stat().st_mode) == 0o600


def test_the_postgresql_password_reaches_pg_dump_and_pg_restore_in_their_environment_only(
    monkeypatch, tmp_path
):
    """No database needed: the commands that would run are recorded instead."""
    from acuclinic.core import backup

    class FakeConnection:
        vendor = "postgresql"
        settings_dict = {
            "NAME": "acuclinic",
            "USER": "clinic",
            "PASSWORD": "pw-not-for-argv",
            "HOST": "db.internal",
            "PORT": 5433,
            "OPTIONS": {"sslmode": "verify-full"},
        }

        def close(self):
            pass

    calls = []

    def fake_run(args, *, env, stdout=None, stderr=None, text=None, check=None):
        calls.append((args, env))
        if args[0] == "pg_dump":
            stdout.write(b"PGDMP fake archive")
        return subprocess.CompletedProcess(args, 0, stdout="", stderr="" if text else b"")

    monkeypatch.setattr(backup, "connections", {"default": FakeConnection()})
    monkeypatch.setattr(backup, "_pg_tool", lambda name: name)
    monkeypatch.setattr(backup, "_migration_notes", lambda using: [])
    monkeypatch.setattr(backup.subprocess, "run", fake_run)

    output = tmp_path / "clinic.dump"
    backup.backup(output, media=False)
    backup.restore(output, media=False, safety_backup=False)

    programs = [args[0] for args, _env in calls]
    assert programs == ["pg_dump", "pg_restore", "pg_restore", "pg_restore"]  # dump, check, check, restore
    for args, env in calls:
        assert not any("pw-not-for-argv" in arg for arg in args), args
        assert env["PGPASSWORD"] == "pw-not-for-argv"
        assert (env["PGHOST"], env["PGPORT"], env["PGUSER"]) == ("db.internal", "5433", "clinic")
        assert env["PGSSLMODE"] == "verify-full"
    restore_args = calls[-1][0]
    for flag in ("--clean", "--if-exists", "--no-owner", "--single-transaction", "--dbname=acuclinic"):
        assert flag in restore_args
    assert stat.S_IMODE(output.stat().st_mode) == 0o600

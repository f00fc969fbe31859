"""The audit log: every staff read/list/export/change of a request is recorded; records are append-only and
hash-chained so that `manage.py verify_audit_log` detects a changed, inserted or removed record."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from acuclinic.accounts import audit, roles
from acuclinic.accounts.models import AppendOnlyError, AuditEvent
from acuclinic.appointments import services
from tests.factories import make_appointment_request, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_obj(demo):
    return make_appointment_request()


@pytest.fixture
def frontdesk(demo):
    return make_user("frida", roles.FRONT_DESK)


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("seq"))


def test_front_desk_reads_lists_exports_and_changes_are_recorded_with_who_and_where(frontdesk, request_obj):
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(frontdesk)
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    client.get("/admin/appointment-requests/")
    client.get(f"/admin/appointment-requests/{request_obj.pk}/")
    client.get("/admin/appointment-requests/export.csv")
    response = client.post(
        f"/admin/appointment-requests/{request_obj.pk}/contact-attempts/",
        {
            "attempt-method": "phone",
            "attempt-outcome": "voicemail",
            "attempt-note": "NOTEMARK said call back",
            "attempt-at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    client.post(f"/admin/appointment-requests/{request_obj.pk}/patient/", {})

    recorded = events(seq__gt=start)
    assert [(e.action, e.object_type) for e in recorded] == [
        ("list", "appointments.appointmentrequest"),
        ("read", "appointments.appointmentrequest"),
        ("export", "appointments.appointmentrequest"),
        ("change", "appointments.appointmentrequest"),  # contact attempt
        ("create", "clinical.patient"),
        ("change", "appointments.appointmentrequest"),  # linked to the patient
    ]
    assert all(e.actor_username == "frida" and e.actor_id == frontdesk.pk for e in recorded)
    assert all(e.ip_address == "203.0.113.9" for e in recorded)
    read = recorded[1]
    assert read.object_id == str(request_obj.pk)
    # References only: no name, no note, nothing the patient wrote.
    for e in recorded:
        assert "Pat" not in e.detail and "NOTEMARK" not in e.detail and "Example" not in e.detail


def test_a_change_that_rolls_back_leaves_no_record(frontdesk, request_obj):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.assign_request(request=request_obj, by=frontdesk, assignee=frontdesk)
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == before


def test_the_app_cannot_change_or_delete_a_record(frontdesk):
    event = audit.record(actor=frontdesk, action="read", object_type="clinical.patient", object_id=1)
    event.detail = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_the_database_refuses_updates_and_on_postgresql_deletes(frontdesk):
    event = audit.record(actor=frontdesk, action="read", object_type="clinical.patient", object_id=1)
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET detail = 'tampered' WHERE id = %s", [event.pk])  # noqa: S608
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.get(pk=event.pk).detail == ""


def _write_chain(user, n=5):
    return [
        audit.record(actor=user, action="read", object_type="clinical.patient", object_id=i) for i in range(n)
    ]


def _raw(sql, params):
    """Tamper the way someone with database access would: the triggers are dropped for the moment."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER accounts_auditevent_append_only")
        else:
            cursor.execute("DROP TRIGGER accounts_auditevent_no_update")
        cursor.execute(sql.format(table=table), params)


def test_verify_reports_an_intact_log(frontdesk, capsys):
    _write_chain(frontdesk)
    call_command("verify_audit_log")
    assert "intact" in capsys.readouterr().out


@pytest.mark.parametrize(
    "tamper",
    [
        ("changed", "UPDATE {table} SET object_id = '999' WHERE seq = %s"),
        ("removed", "DELETE FROM {table} WHERE seq = %s"),
    ],
    ids=["changed", "removed"],
)
def test_verify_detects_a_changed_or_removed_record(frontdesk, tamper):
    chain = _write_chain(frontdesk)
    what, sql = tamper
    _raw(sql, [chain[2].seq])
    with pytest.raises(CommandError, match="damaged"):
        call_command("verify_audit_log")


def test_verify_detects_an_inserted_record(frontdesk):
    chain = _write_chain(frontdesk)
    # A forged row in the middle: it cannot carry both the right predecessor and the successor's link.
    _raw(
        "UPDATE {table} SET seq = seq + 1000 WHERE seq > %s",
        [chain[1].seq],
    )
    forged = AuditEvent(
        seq=chain[1].seq + 1,
        at=chain[1].at,
        action="read",
        object_type="clinical.patient",
        object_id="42",
        prev_hash=chain[1].hash,
    )
    forged.hash = forged.compute_hash()
    forged.save()
    with pytest.raises(CommandError, match="damaged"):
        call_command("verify_audit_log")


def test_administrators_search_and_export_the_log_and_that_is_recorded(demo, frontdesk, request_obj):
    audit.record(actor=frontdesk, action="read", obj=request_obj)
    admin = make_user("ada", roles.ADMINISTRATORS)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/audit-log/", {"actor": "frida", "action": "read"})
    assert page.status_code == 200
    text = page.content.decode()
    assert f"appointments.appointmentrequest:{request_obj.pk}" in text

    export = client.get("/admin/audit-log/export.csv", {"actor": "frida"})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:5] == ["Seq", "When (UTC)", "User id", "Username", "Action"]
    assert all(row[3] == "frida" for row in rows[1:]) and len(rows) > 1
    mine = events(actor_username="ada")
    assert {e.action for e in mine} >= {"list", "export"}


def test_front_desk_cannot_open_the_audit_log(frontdesk):
    client = Client()
    client.force_login(frontdesk)
    assert client.get("/admin/audit-log/").status_code in (302, 403)
    assert client.get("/admin/audit-log/export.csv").status_code in (302, 403)


def test_the_log_pages_keep_the_search(demo, frontdesk, monkeypatch):
    from acuclinic.accounts import admin_views

    monkeypatch.setattr(admin_views, "PAGE_SIZE", 2)
    for i in range(5):
        audit.record(actor=frontdesk, action="read", object_type="clinical.patient", object_id=i)
    admin = make_user("ada", roles.ADMINISTRATORS)
    client = Client()
    client.force_login(admin)
    first = client.get("/admin/audit-log/", {"actor": "frida"}).content.decode()
    assert "Page 1 of 3" in first and 'href="?actor=frida&amp;p=2"' in first
    second = client.get("/admin/audit-log/", {"actor": "frida", "p": "2"}).content.decode()
    assert "Page 2 of 3" in second and 'href="?actor=frida&amp;p=1"' in second

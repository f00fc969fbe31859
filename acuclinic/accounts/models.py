"""The audit trail of staff access to patients' data (HIPAA §164.312(b) audit controls, (c)(1) integrity).

Rows are append-only: the model refuses updates and deletes, PostgreSQL refuses them with a trigger (see the
migration), and each row carries the SHA-256 of its predecessor's hash and its own content, so that
`manage.py verify_audit_log` finds a changed, inserted or removed row. Rows hold references (record type and id),
never health details: erasing a patient leaves the trail intact and meaningless to a reader without the record.
"""

import hashlib
import json

from django.db import models


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit log is append-only.")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        READ = "read", "Read"
        LIST = "list", "Listed"
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        EXPORT = "export", "Exported"
        ERASE = "erase", "Erased"
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGN_OUT = "sign_out", "Signed out"

    # A gapless sequence assigned under the chain lock; the primary key may skip values after a rollback.
    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(db_index=True, editable=False)
    # Plain values, not foreign keys: deleting a user must not rewrite (or be blocked by) the trail.
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True, editable=False)
    object_type = models.CharField(max_length=100, blank=True, db_index=True, editable=False)
    object_id = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # Which fields changed, how many rows were listed, the export format — never field values.
    detail = models.CharField(max_length=500, blank=True, editable=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        permissions = [("export_auditevent", "Can export the audit log")]

    def __str__(self):
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action} {self.object_ref}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")

    @property
    def object_ref(self) -> str:
        return ":".join(part for part in (self.object_type, self.object_id) if part)

    def canonical(self) -> bytes:
        """The bytes the hash covers: every field but the hash itself, in a fixed order and format."""
        return json.dumps(
            [
                self.seq,
                self.at.isoformat(timespec="microseconds"),
                self.actor_id,
                self.actor_username,
                self.action,
                self.object_type,
                self.object_id,
                self.detail,
                self.ip_address,
                self.prev_hash,
            ],
            separators=(",", ":"),
            ensure_ascii=True,
        ).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

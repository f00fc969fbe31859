"""Sign-ins, failed sign-ins and sign-outs go to the audit log (ASVS 7.2: authentication events are logged)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit
from .models import AuditEvent


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def audit_sign_in(sender, request, user, **kwargs):
    audit.record(actor=user, action=AuditEvent.Action.SIGN_IN, obj=user, request=request)


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def audit_sign_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(actor=user, action=AuditEvent.Action.SIGN_OUT, obj=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def audit_sign_in_failed(sender, credentials, request=None, **kwargs):
    # The username typed, truncated; never the password (Django has already masked it in `credentials`).
    username = str(credentials.get("username", ""))[:150]
    audit.record(
        actor=None, action=AuditEvent.Action.SIGN_IN_FAILED, detail=f"username {username!r}", request=request
    )

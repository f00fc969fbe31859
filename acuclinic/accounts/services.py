"""Writes to staff accounts' second factors. Every change is audited."""

from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit
from .models import AuditEvent

RECOVERY_CODE_COUNT = 10


def pending_totp_device(*, user) -> TOTPDevice:
    """The unconfirmed authenticator being set up (one per user), created on first visit to the setup page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def confirm_totp_device(*, request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a first code; returns fresh recovery codes, or None if the code is wrong."""
    if not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    codes = issue_recovery_codes(user=device.user)
    otp_login(request, device)
    audit.record(
        actor=device.user,
        action=AuditEvent.Action.CHANGE,
        obj=device.user,
        detail="two-factor set up",
        request=request,
    )
    return codes


@transaction.atomic
def issue_recovery_codes(*, user) -> list[str]:
    """Replace the user's recovery codes with new single-use ones; shown once, stored as issued by django-otp."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def seconds_until_next_try(*, user) -> int:
    """django-otp doubles the wait after each wrong code (ASVS 2.2.1); 0 when a code may be tried now."""
    from django.utils import timezone

    wait = 0
    for device in [*TOTPDevice.objects.filter(user=user), *StaticDevice.objects.filter(user=user)]:
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            wait = max(wait, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)
    return wait


def verify_second_factor(*, request, token: str) -> bool:
    """Accept a code from the authenticator or an unused recovery code (which is then used up)."""
    user = request.user
    for device in [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user),
    ]:
        if device.verify_token(token):
            otp_login(request, device)
            return True
    return False

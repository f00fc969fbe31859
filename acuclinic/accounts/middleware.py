"""Two-factor sign-in is required for every role that can see patient data (HIPAA §164.312(d), ASVS 2.7/2.8)."""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from .roles import sees_patient_data

# The staff areas; the public site never needs a second factor (patients have no accounts).
PROTECTED_PREFIXES = ("/admin/",)


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("wagtailadmin_login"),
        reverse("wagtailadmin_logout"),
        # The translations of Wagtail's scripts, loaded by the two-step pages' shell: no data.
        reverse("wagtailadmin_javascript_catalog"),
        "/account/",
        settings.STATIC_URL,
    )


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self.needs_second_factor(request):
            target = (
                "accounts:two_factor_verify"
                if has_confirmed_device(request.user)
                else "accounts:two_factor_setup"
            )
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def needs_second_factor(request) -> bool:
        path = request.path
        if not path.startswith(PROTECTED_PREFIXES) or path.startswith(_exempt_paths()):
            return False
        user = request.user
        return user.is_authenticated and not user.is_verified() and sees_patient_data(user)


def has_confirmed_device(user) -> bool:
    from django_otp import devices_for_user

    return any(True for _ in devices_for_user(user, confirmed=True))

import base64
import io
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from . import services
from .forms import TokenForm
from .middleware import has_confirmed_device


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/admin/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/admin/"


def _grouped(secret: str) -> str:
    """The key in groups of four, easier to type from the screen (authenticator apps ignore the spaces)."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def _wrong_code_message(user, hint: str) -> str:
    wait = services.seconds_until_next_try(user=user)
    message = f"That code is not right{',' if hint.startswith('or') else '.'} {hint}"
    if wait:
        return f"{message} After several wrong codes, wait {wait} second{'s' if wait != 1 else ''} before the next try."
    return f"{message} Try the newest code."


@login_required
def two_factor_setup(request):
    if has_confirmed_device(request.user):
        return redirect(f"{reverse('accounts:two_factor_verify')}?{urlencode({'next': _next_url(request)})}")
    device = services.pending_totp_device(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.confirm_totp_device(request=request, device=device, token=form.cleaned_data["token"])
        if codes is not None:
            return render(
                request, "accounts/recovery_codes.html", {"codes": codes, "next": _next_url(request)}
            )
        form.add_error(
            "token", "That code is not right. Check the time on your phone and try the newest code."
        )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "next": _next_url(request),
            "qr_svg": _qr_svg(device.config_url),
            "secret": _grouped(base64.b32encode(device.bin_key).decode().rstrip("=")),
        },
    )


@login_required
def two_factor_verify(request):
    if not has_confirmed_device(request.user):
        return redirect(f"{reverse('accounts:two_factor_setup')}?{urlencode({'next': _next_url(request)})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.verify_second_factor(request=request, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error("token", _wrong_code_message(request.user, "or it was used already."))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)})

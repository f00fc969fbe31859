"""Security headers on every response: the Content Security Policy and ``Permissions-Policy``.

Content Security Policy (django-csp 4)
    ``PathCSPMiddleware`` is django-csp's ``CSPMiddleware`` with one addition: requests under the Wagtail admin
    (``CONTENT_SECURITY_POLICY_ADMIN_PATHS``, i.e. ``/admin/``) get ``CONTENT_SECURITY_POLICY_ADMIN`` instead of
    the public ``CONTENT_SECURITY_POLICY``. The public policy allows scripts from our own origin and inline
    ``<script>`` elements carrying the per-response nonce (``{{ request.csp_nonce }}``) — no ``'unsafe-inline'``.
    Wagtail 8's admin still writes inline scripts (date and time pickers, inline panels, the workflow
    dialog) and its modals evaluate the ``<script>`` of HTML fragments they load; these carry no nonce, so
    the admin policy allows ``'unsafe-inline'`` scripts, and nothing else beyond the public one: the
    admin is only reachable by signed-in staff and everything it loads still has to come from our origin.
    A view can still set its own policy with django-csp's decorators (``@csp_update``, ``@csp_replace``, …):
    they win over both.

    The middleware must sit *outside* the whole-page cache (``acuclinic.core.page_cache``): a page served
    from the cache then gets a policy of its own, and the nonce written into its HTML when it was rendered is
    not in that policy (the header only names the nonce of the request that rendered it). So a cached page
    must never depend on a nonce to run a script: public pages load their JavaScript from ``/static/``;
    the only nonced elements are JSON-LD data blocks, which browsers never execute anyway.

Permissions-Policy
    ``PermissionsPolicyMiddleware`` sets ``Permissions-Policy`` from the ``PERMISSIONS_POLICY`` setting (a
    dict of feature → list of allowed origins; an empty list switches the feature off for every origin,
    ``"self"`` allows our own). It leaves a header a view has set alone. No maintained library does just
    this (django-permissions-policy is not among our dependencies), and it is ten lines.
"""

from __future__ import annotations

from collections.abc import Mapping

from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import default_config
from django.conf import settings


class PathCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with the admin's separate policy for the admin paths."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only or parts.config is not None:
            return parts  # a view decorator chose its policy
        prefixes = tuple(getattr(settings, "CONTENT_SECURITY_POLICY_ADMIN_PATHS", ()))
        admin_policy = getattr(settings, "CONTENT_SECURITY_POLICY_ADMIN", None)
        if admin_policy and prefixes and request.path_info.startswith(prefixes):
            parts.config = default_config(admin_policy.get("DIRECTIVES", {}))
        return parts


def permissions_policy_header(policy: Mapping[str, list[str] | tuple[str, ...]]) -> str:
    """{"camera": [], "fullscreen": ["self"]} → 'camera=(), fullscreen=(self)'."""
    parts = []
    for feature, origins in policy.items():
        values = " ".join(origin if origin in ("self", "*") else f'"{origin}"' for origin in origins)
        parts.append(f"{feature}=({values})")
    return ", ".join(parts)


class PermissionsPolicyMiddleware:
    """Adds ``Permissions-Policy`` (from ``settings.PERMISSIONS_POLICY``) to every response."""

    header = "Permissions-Policy"

    def __init__(self, get_response):
        self.get_response = get_response
        self.value = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request):
        response = self.get_response(request)
        if self.value and self.header not in response:
            response[self.header] = self.value
        return response

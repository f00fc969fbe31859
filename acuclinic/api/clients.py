"""API clients (OAuth 2.0 client credentials, django-oauth-toolkit): registration, authentication, allowance, audit.

- ``register_client`` / ``deactivate_client``: the administrator's writes (audited). The secret is shown once.
- ``authenticate(request)``: the ``Authorization: Bearer`` token of a call under /api/fhir/ -> the client and the
  token's scopes, or ``NotAuthenticated``. No header: an anonymous call (public reads; bookings within the
  per-address allowance).
- ``actor(client)``: whom the audit log names for a client's writes: ``api-client:<name>``.
- ``ClientScopes`` and ``ClientValidator``: a client gets only the scopes the clinic gave it, and a switched-off
  client gets no token.
"""

import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent

from .models import SCOPES, ApiClient

READ_SCOPE = "slots.read"
WRITE_SCOPE = "appointments.write"


class NotAuthenticated(Exception):
    pass


@dataclass(frozen=True)
class ClientActor:
    """An API client as the audit log's actor: named, never a staff account (``pk`` None: no user id)."""

    name: str
    pk: None = None
    is_authenticated: bool = True

    def get_username(self) -> str:
        return f"api-client:{self.name}"[:150]


def actor(client: ApiClient | None):
    return ClientActor(client.name) if client is not None else None


# --- the administrator's writes ------------------------------------------------------------------------------------


def register_client(
    *, name: str, scopes: list[str], bookings_per_hour: int, by
) -> tuple[ApiClient, str, str]:
    """A new client: (client, client id, secret). The secret is stored hashed; this is the only time it is known."""
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {sorted(SCOPES)}")
    secret = generate_client_secret()
    with transaction.atomic():
        application = Application.objects.create(
            name=name,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
            skip_authorization=True,
        )
        client = ApiClient.objects.create(
            application=application,
            name=name,
            scopes=" ".join(sorted(set(scopes))),
            bookings_per_hour=bookings_per_hour,
        )
        audit.record(
            actor=by,
            action=AuditEvent.Action.CREATE,
            obj=client,
            detail=f"API client scopes={client.scopes} bookings_per_hour={bookings_per_hour}",
        )
    return client, application.client_id, secret


def deactivate_client(*, client: ApiClient, by) -> None:
    """Switch a client off: its tokens stop working at once and it gets no new one."""
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(is_active=False)
        AccessToken.objects.filter(application_id=client.application_id).delete()
        audit.record(actor=by, action=AuditEvent.Action.CHANGE, obj=client, detail="API client switched off")


# --- django-oauth-toolkit hooks --------------------------------------------------------------------------------------


def _client_of(application) -> ApiClient | None:
    if application is None:
        return None
    return ApiClient.objects.filter(application_id=application.pk, is_active=True).first()


class ClientScopes(SettingsScopes):
    """The scopes a client may have are those the clinic gave it (all of them by default)."""

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        client = _client_of(application)
        return client.scope_list if client else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


class ClientValidator(OAuth2Validator):
    """Only registered, switched-on API clients get tokens."""

    def authenticate_client(self, request, *args, **kwargs):
        return (
            super().authenticate_client(request, *args, **kwargs) and _client_of(request.client) is not None
        )


# --- calls under /api/fhir/ -------------------------------------------------------------------------------------------


def authenticate(request) -> tuple[ApiClient, set[str]]:
    from oauth2_provider.oauth2_backends import get_oauthlib_core

    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    token = getattr(oauth_request, "access_token", None) if valid else None
    client = _client_of(token.application) if token is not None else None
    if client is None:
        raise NotAuthenticated
    return client, set(token.scope.split()) & set(client.scope_list)


def over_allowance(client: ApiClient) -> bool:
    """The client's own booking allowance for this clock hour (shared by the processes through the cache)."""
    bucket = f"api-client:bookings:{client.pk}:{timezone.now():%Y%m%d%H}"
    cache.add(bucket, 0, 60 * 60)
    try:
        count = cache.incr(bucket)
    except ValueError:
        cache.set(bucket, 1, 60 * 60)
        count = 1
    return count > client.bookings_per_hour


_TOKEN_IN_PATH = re.compile(r"^(/api/fhir/Appointment/)[^/]+")


def audit_call(request, response, client: ApiClient) -> None:
    """Every call of a client, in the audit log under its name: method, path (a manage token replaced), status."""
    path = _TOKEN_IN_PATH.sub(r"\1{token}", request.path)
    audit.record(
        actor=actor(client),
        action=AuditEvent.Action.CREATE
        if request.method == "POST"
        else (AuditEvent.Action.READ if request.method in ("GET", "HEAD") else AuditEvent.Action.CHANGE),
        obj=client,
        detail=f"{request.method} {path} -> {response.status_code}",
        request=request,
    )

"""Under ``/api/fhir/`` every error is a FHIR OperationOutcome sent as ``application/fhir+json``.

The FHIR views answer their own errors that way; this middleware catches the rest, whatever produced them: Django's
404 for a path we do not serve, ninja's 405 for a method a path does not take (the ``Allow`` header is kept), a
400 for a bad Host, a server error (500; the exception is logged by Django as usual, never sent to the client).
"""

import json

from acuclinic.scheduling import fhir as mapping

FHIR_PREFIX = "/api/fhir/"
FHIR_JSON = "application/fhir+json"

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
}
MESSAGES = {
    400: "The request could not be read.",
    401: "Authentication is needed: send a bearer token (see /api/fhir/metadata).",
    403: "This client may not do that (see its scopes).",
    404: "Nothing here: see /api/fhir/metadata for what this server offers.",
    405: "This method is not allowed here: see the Allow header and /api/fhir/metadata.",
    406: "This server answers application/fhir+json only.",
    413: "The request is too large.",
    415: "Send application/fhir+json.",
    429: "Too many requests. Try again later.",
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def is_fhir(request) -> bool:
    return request.path.startswith(FHIR_PREFIX) or request.path == FHIR_PREFIX.rstrip("/")


def outcome_response(status: int, message: str | None = None, *, expression: str | None = None):
    from django.http import HttpResponse

    code = ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")
    if message is None:
        message = MESSAGES.get(
            status, "The server could not answer. Try again later." if status >= 500 else ""
        )
    body = mapping.operation_outcome(("error" if status < 500 else "fatal", code, message, expression))
    response = HttpResponse(json.dumps(body), content_type=FHIR_JSON, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _bearer_refused(status: int, error: str, message: str):
    response = outcome_response(status, message)
    response["WWW-Authenticate"] = f'Bearer realm="fhir", error="{error}"'
    return response


class FhirErrorsMiddleware:
    """Also the API clients' door: a call with ``Authorization: Bearer`` is the client's (``request.api_client``,
    its token's scopes in ``request.api_scopes``), checked for its scope — reads need ``slots.read``, writes
    ``appointments.write`` — and audited under its name whatever the answer. Without the header the call is
    anonymous (``request.api_client`` None)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_fhir(request):
            return self.get_response(request)
        from . import clients

        request.api_client, request.api_scopes = None, set()
        if "Authorization" in request.headers:
            try:
                request.api_client, request.api_scopes = clients.authenticate(request)
            except clients.NotAuthenticated:
                return _bearer_refused(
                    401, "invalid_token", "The access token is missing, expired or revoked."
                )
            read = request.method in ("GET", "HEAD", "OPTIONS")
            needed = clients.READ_SCOPE if read else clients.WRITE_SCOPE
            if needed not in request.api_scopes and request.path != "/api/fhir/metadata":
                response = _bearer_refused(403, "insufficient_scope", f"This needs the scope {needed}.")
                clients.audit_call(request, response, request.api_client)
                return response
        response = self._outcome(request, self.get_response(request))
        if request.api_client is not None:
            clients.audit_call(request, response, request.api_client)
        return response

    def _outcome(self, request, response):
        if response.status_code in (301, 308) and response.get("Location", "").split("?")[0].endswith(
            request.path + "/"
        ):
            return outcome_response(404)  # APPEND_SLASH would send a FHIR client to a page of the site
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(FHIR_JSON):
            replaced = outcome_response(response.status_code)
            for header in KEPT_HEADERS:
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response

import logging

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def health(request):
    """200 when the application can run a query on its database; 503 otherwise (for load balancers and monitors)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("health check: database unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def robots_txt(request):
    sitemap = request.build_absolute_uri("/sitemap.xml")
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /account/",
        "Disallow: /search/",
        f"Sitemap: {sitemap}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def minimal(request):
    """The smallest possible Django view: the yardstick the article-page benchmark is compared with."""
    return HttpResponse(b"ok", content_type="text/plain")


def csrf_failure(request, reason=""):
    """Django's CSRF page, except on the appointment form, which comes back filled in instead of losing the input."""
    from django.urls import reverse
    from django.views.csrf import csrf_failure as django_csrf_failure

    if request.method == "POST" and request.path == reverse("request_appointment"):
        from acuclinic.appointments.views import form_after_csrf_failure

        return form_after_csrf_failure(request)
    return django_csrf_failure(request, reason=reason)

"""Back-office views of the clinic-wide parts: "End now" for a service alert (administrators)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import services
from .models import ServiceAlert

CHANGE_PERMISSION = "core.change_servicealert"  # administrators (accounts.roles)
LIST_URL_NAME = "wagtailsnippets_core_servicealert:list"


class EndServiceAlertView(WagtailAdminTemplateMixin, TemplateView):
    """GET: "End this alert now?"; POST: it ends at once (ends_at = now), audited, back to the list."""

    template_name = "core/admin/end_service_alert.html"
    page_title = "End the alert now"
    header_icon = "warning"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        self.alert = get_object_or_404(ServiceAlert, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(LIST_URL_NAME), "label": "Service alerts"},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(alert=self.alert, list_url=reverse(LIST_URL_NAME), **kwargs)

    def post(self, request, *args, **kwargs):
        services.end_service_alert(alert=self.alert, by=request.user, request=request)
        messages.success(
            request, f"Alert ended: “{self.alert.message}” no longer shows anywhere on the site."
        )
        return redirect(LIST_URL_NAME)

"""The audit log in the back office: search, page through and export (administrators only).

Reading and exporting the log are themselves recorded: the log names which records staff opened.
"""

import csv

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import audit, selectors
from .forms import AuditFilterForm
from .models import AuditEvent

PAGE_SIZE = 100
TITLE = "Audit log"
CSV_COLUMNS = (
    "Seq",
    "When (UTC)",
    "User id",
    "Username",
    "Action",
    "Record type",
    "Record id",
    "Detail",
    "Address",
    "Hash",
)


def _querystring(data) -> str:
    return urlencode([(k, v) for k, v in data.items() if k != "p" and v])


class AuditLogView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "accounts/admin/audit_log.html"
    page_title = TITLE
    header_icon = "history"

    def dispatch(self, request, *args, **kwargs):
        if not selectors.can_read_audit_log(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": TITLE}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = AuditFilterForm(self.request.GET or None, object_types=selectors.object_types())
        page = Paginator(selectors.audit_events(**form.filters()), PAGE_SIZE).get_page(
            self.request.GET.get("p")
        )
        querystring = _querystring(self.request.GET)
        audit.record(
            actor=self.request.user,
            action=AuditEvent.Action.LIST,
            object_type=AuditEvent._meta.label_lower,
            detail="; ".join(filter(None, [f"audit log page {page.number}", querystring])),
            request=self.request,
        )
        context.update(
            filter_form=form,
            page_obj=page,
            querystring=querystring,
            can_export=selectors.can_export_audit_log(self.request.user),
            export_url=reverse("accounts_audit_log_export") + (f"?{querystring}" if querystring else ""),
        )
        return context


class _Echo:
    def write(self, value):
        return value


class AuditLogExportView(View):
    http_method_names = ["get"]

    def get(self, request):
        if not selectors.can_export_audit_log(request.user):
            raise PermissionDenied
        form = AuditFilterForm(request.GET or None, object_types=selectors.object_types())
        events = selectors.audit_events(**form.filters()).order_by("seq")
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            object_type=AuditEvent._meta.label_lower,
            detail="; ".join(filter(None, ["csv", _querystring(request.GET)])),
            request=request,
        )
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for e in events.iterator(chunk_size=1000):
                yield writer.writerow(
                    [
                        e.seq,
                        e.at.isoformat(),
                        e.actor_id or "",
                        e.actor_username,
                        e.action,
                        e.object_type,
                        e.object_id,
                        e.detail,
                        e.ip_address or "",
                        e.hash,
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-log-{timezone.now():%Y-%m-%d}.csv"'
        response["Cache-Control"] = "no-store"
        return response

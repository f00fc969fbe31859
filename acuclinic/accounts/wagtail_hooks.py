from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views, selectors


@hooks.register("register_admin_urls")
def register_audit_log_urls():
    return [
        path("audit-log/", admin_views.AuditLogView.as_view(), name="accounts_audit_log"),
        path(
            "audit-log/export.csv", admin_views.AuditLogExportView.as_view(), name="accounts_audit_log_export"
        ),
    ]


class AuditLogMenuItem(MenuItem):
    def is_shown(self, request):
        return selectors.can_read_audit_log(request.user)


@hooks.register("register_settings_menu_item")
def register_audit_log_menu_item():
    return AuditLogMenuItem("Audit log", reverse("accounts_audit_log"), icon_name="history", order=900)

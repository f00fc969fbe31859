"""The front desk's inbox in the Wagtail back office: URLs, menu item, permission and styles."""

from django.contrib.auth.models import Permission
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views
from .selectors import can_work_requests


@hooks.register("register_admin_urls")
def register_inbox_urls():
    # /admin/appointment-requests/<pk>/ is the address the clinic's e-mails link to (tasks.inbox_url).
    return [
        path("appointment-requests/", admin_views.InboxView.as_view(), name="appointments_inbox"),
        path(
            "appointment-requests/export.csv",
            admin_views.ExportView.as_view(),
            name="appointments_inbox_export",
        ),
        path(
            "appointment-requests/<int:pk>/",
            admin_views.RequestDetailView.as_view(),
            name="appointments_request_detail",
        ),
        path(
            "appointment-requests/<int:pk>/contact-attempts/",
            admin_views.LogAttemptView.as_view(),
            name="appointments_request_log_attempt",
        ),
        path(
            "appointment-requests/<int:pk>/assign/",
            admin_views.AssignView.as_view(),
            name="appointments_request_assign",
        ),
        path(
            "appointment-requests/<int:pk>/end/",
            admin_views.EndView.as_view(),
            name="appointments_request_end",
        ),
        path(
            "appointment-requests/<int:pk>/reopen/",
            admin_views.ReopenView.as_view(),
            name="appointments_request_reopen",
        ),
        path(
            "appointment-requests/<int:pk>/acknowledge/",
            admin_views.AcknowledgeView.as_view(),
            name="appointments_request_acknowledge",
        ),
        path(
            "appointment-requests/<int:pk>/patient/",
            admin_views.CreatePatientView.as_view(),
            name="appointments_request_patient",
        ),
    ]


class FrontDeskMenuItem(MenuItem):
    def is_shown(self, request):
        return can_work_requests(request.user)


@hooks.register("register_admin_menu_item")
def register_inbox_menu_item():
    return FrontDeskMenuItem(
        "Appointment requests",
        reverse("appointments_inbox"),
        name="appointment-requests",
        icon_name="mail",
        order=50,
    )


@hooks.register("register_permissions")
def register_front_desk_permission():
    # Lets an administrator grant “Can work appointment requests” to a group under Settings → Groups.
    return Permission.objects.filter(
        content_type__app_label="appointments", codename="work_appointmentrequest"
    )


@hooks.register("insert_global_admin_css")
def inbox_css():
    # A stylesheet file, not an inline <style>: Wagtail's user bar copies this onto public pages, whose
    # Content Security Policy allows styles from our origin only (acuclinic/core/security_headers.py).
    return format_html('<link rel="stylesheet" href="{}">', static("css/admin-inbox.css"))

"""The front desk's inbox in the Wagtail back office: URLs, menu item, permission and styles."""

from django.contrib.auth.models import Permission
from django.urls import path, reverse
from django.utils.safestring import mark_safe
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


# The banner (wagtailadmin/base.html override) and the inbox share these styles; Wagtail's colour tokens keep
# them readable in the dark theme too.
INBOX_CSS = """
.acu-urgent-banner{background:var(--w-color-critical-50,#fde9e9);
 border-bottom:3px solid var(--w-color-critical-200,#cd4444);
 color:var(--w-color-text-context,#262626);padding:.75rem 1.25rem .75rem 4rem;font-size:.95rem}
@media (min-width:50em){.acu-urgent-banner{padding-left:1.25rem}}
.acu-urgent-banner strong{color:var(--w-color-critical-200,#cd4444)}
.acu-urgent-banner ul{display:inline;margin:0;padding:0;list-style:none}
.acu-urgent-banner li{display:inline;margin-right:1rem}
.acu-urgent-banner a{font-weight:700;text-decoration:underline}
.acu-filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end;margin:1rem 0}
.acu-filters .w-field__wrapper{min-width:11rem;margin-bottom:.5rem}
.acu-filters .acu-filter-buttons{margin-bottom:1.25rem}
.acu-summary{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;
 margin:.5rem 0 1rem}
.acu-inbox td,.acu-inbox th{vertical-align:top;padding:.6rem .5rem}
.acu-inbox tr.acu-overdue td{background:var(--w-color-warning-50,#faecd5)}
.acu-inbox tr.acu-overdue td:first-child{box-shadow:inset 4px 0 0 var(--w-color-warning-100,#e9b04d)}
.acu-inbox .acu-name{display:block;font-weight:600}
.acu-flag{display:inline-block;margin-top:.25rem;font-size:.85rem;font-weight:700;
 color:var(--w-color-text-context,#262626)}
.acu-flag::before{content:"⚠ "}
.acu-urgency{display:inline-block;border-radius:.25rem;padding:.1rem .45rem;font-size:.8rem;
 font-weight:700;white-space:nowrap;
 border:1px solid currentColor}
.acu-urgency--emergency{background:var(--w-color-critical-200,#cd4444);color:#fff;
 border-color:transparent}
.acu-urgency--urgent_today{background:var(--w-color-critical-50,#fde9e9);
 color:var(--w-color-critical-200,#cd4444)}
.acu-urgency--soon{background:var(--w-color-warning-50,#faecd5);
 color:var(--w-color-text-context,#262626)}
.acu-urgency--routine{color:var(--w-color-text-meta,#5c5c5c)}
.acu-detail{display:grid;gap:1.5rem;grid-template-columns:minmax(0,3fr) minmax(18rem,2fr);
 margin-top:1rem}
@media (max-width:62em){.acu-detail{grid-template-columns:minmax(0,1fr)}}
.acu-card{border:1px solid var(--w-color-border-furniture,#e0e0e0);border-radius:.5rem;
 padding:1rem 1.25rem;margin-bottom:1.5rem}
.acu-card h2{font-size:1.15rem;margin:0 0 .75rem}
.acu-card--alert{border-color:var(--w-color-critical-200,#cd4444);border-width:2px}
.acu-facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0}
.acu-facts dt{font-weight:700}
.acu-facts dd{margin:0}
.acu-flags td,.acu-flags th{padding:.4rem .5rem;vertical-align:top;text-align:left}
.acu-flags tr.acu-yes td{background:var(--w-color-critical-50,#fde9e9);font-weight:600}
.acu-timeline{list-style:none;margin:0;padding:0}
.acu-timeline li{border-left:3px solid var(--w-color-border-furniture,#e0e0e0);
 padding:.25rem 0 .75rem 1rem}
.acu-actions form{margin-bottom:0}
.acu-actions .w-field__wrapper{margin-bottom:.75rem}
"""


@hooks.register("insert_global_admin_css")
def inbox_css():
    return mark_safe(f"<style>{INBOX_CSS}</style>")  # noqa: S308 - a constant, no user input

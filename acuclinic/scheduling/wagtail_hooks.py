"""Scheduling in the back office: the schedule's URLs and "Schedule" menu item (front desk and clinicians), and the
dashboard panel that warns of licences about to expire."""

from django.urls import path, reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from . import admin_views, selectors
from .selectors import can_view_schedule


@hooks.register("register_admin_urls")
def register_schedule_urls():
    return [
        path("schedule/", admin_views.CalendarView.as_view(), name="scheduling_calendar"),
        path("schedule/book/", admin_views.BookView.as_view(), name="scheduling_book"),
        path(
            "schedule/book/from-request/<int:pk>/",
            admin_views.BookFromRequestView.as_view(),
            name="scheduling_book_from_request",
        ),
        path(
            "schedule/appointments/<int:pk>/",
            admin_views.AppointmentDetailView.as_view(),
            name="scheduling_appointment_detail",
        ),
        path(
            "schedule/appointments/<int:pk>/move/",
            admin_views.MoveView.as_view(),
            name="scheduling_appointment_move",
        ),
        path(
            "schedule/appointments/<int:pk>/cancel/",
            admin_views.CancelView.as_view(),
            name="scheduling_appointment_cancel",
        ),
        path(
            "schedule/appointments/<int:pk>/arrived/",
            admin_views.ArrivedView.as_view(),
            name="scheduling_appointment_arrived",
        ),
        path(
            "schedule/appointments/<int:pk>/no-show/",
            admin_views.NoShowView.as_view(),
            name="scheduling_appointment_no_show",
        ),
    ]


class ScheduleMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_schedule(request.user)


@hooks.register("register_admin_menu_item")
def register_schedule_menu_item():
    return ScheduleMenuItem(
        "Schedule", reverse("scheduling_calendar"), name="schedule", icon_name="date", order=55
    )


class LicenceWarningsPanel(Component):
    """Licences that have expired or expire within 60 days: a practitioner without one cannot be booked there."""

    name = "licence_warnings"
    order = 50
    template_name = "scheduling/admin/licence_warnings_panel.html"

    def __init__(self, warnings):
        self.warnings = warnings

    def get_context_data(self, parent_context=None):
        return {"warnings": self.warnings, "within_days": selectors.LICENCE_WARNING_DAYS}


@hooks.register("construct_homepage_panels")
def add_licence_warnings_panel(request, panels):
    if not selectors.can_see_licence_warnings(request.user):
        return
    warnings = selectors.licence_warnings(today=timezone.localdate())
    if warnings:
        panels.append(LicenceWarningsPanel(warnings))

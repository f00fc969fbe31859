"""Scheduling in the Wagtail back office. Each feature registers its own URLs and menu items in its own section."""

from django.urls import path, reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from . import admin_views, feed_views, plan_views, selectors
from .selectors import can_view_schedule


# --- the schedule (front desk and clinicians) -------------------------------------------------------------------
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
            "schedule/appointments/<int:pk>/check-out/",
            admin_views.CheckOutView.as_view(),
            name="scheduling_appointment_check_out",
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


# --- treatment plans and the waitlist (front desk) ---------------------------------------------------------------
class _PlanMenuItem(MenuItem):
    def is_shown(self, request):
        return plan_views.can_book_plans(request.user)


class _WaitlistMenuItem(MenuItem):
    def is_shown(self, request):
        return plan_views.can_work_waitlist(request.user)


@hooks.register("register_admin_urls")
def register_plan_and_waitlist_urls():
    return [
        path("treatment-plans/new/", plan_views.PlanNewView.as_view(), name="scheduling_plan_new"),
        path("treatment-plans/<int:pk>/", plan_views.PlanDetailView.as_view(), name="scheduling_plan_detail"),
        path("waitlist/", plan_views.WaitlistView.as_view(), name="scheduling_waitlist"),
    ]


@hooks.register("register_admin_menu_item")
def register_plan_menu_item():
    return _PlanMenuItem(
        "Book a treatment plan",
        reverse("scheduling_plan_new"),
        name="treatment-plan",
        icon_name="date",
        order=56,
    )


@hooks.register("register_admin_menu_item")
def register_waitlist_menu_item():
    return _WaitlistMenuItem(
        "Waitlist", reverse("scheduling_waitlist"), name="waitlist", icon_name="time", order=57
    )


# --- licence expiry warnings (administrators, front desk) ---------------------------------------------------------


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


# --- Private calendar feeds (feed_views.py) ------------------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_calendar_feed_urls():
    return [
        path(
            "my-calendar-feed/", feed_views.MyCalendarFeedView.as_view(), name="scheduling_my_calendar_feed"
        ),
        path("calendar-feeds/", feed_views.CalendarFeedsView.as_view(), name="scheduling_calendar_feeds"),
        path(
            "calendar-feeds/<int:pk>/revoke/",
            feed_views.RevokeCalendarFeedView.as_view(),
            name="scheduling_calendar_feed_revoke",
        ),
    ]


class MyCalendarFeedMenuItem(MenuItem):
    def is_shown(self, request):
        return feed_views.is_clinician(request.user)


class CalendarFeedsMenuItem(MenuItem):
    def is_shown(self, request):
        return feed_views.can_revoke_any_feed(request.user)


@hooks.register("register_admin_menu_item")
def register_my_calendar_feed_menu_item():
    return MyCalendarFeedMenuItem(
        "My calendar feed",
        reverse("scheduling_my_calendar_feed"),
        name="my-calendar-feed",
        icon_name="date",
        order=70,
    )


@hooks.register("register_settings_menu_item")
def register_calendar_feeds_menu_item():
    return CalendarFeedsMenuItem(
        "Calendar feeds",
        reverse("scheduling_calendar_feeds"),
        name="calendar-feeds",
        icon_name="date",
        order=900,
    )


# --- Clinic set-up (setup_views.py): practitioners, hours, time off, closures, visit types, locations -----------
def _register_clinic_setup():
    from wagtail.snippets.models import register_snippet

    from .setup_views import ClinicSetupGroup

    register_snippet(ClinicSetupGroup)


_register_clinic_setup()

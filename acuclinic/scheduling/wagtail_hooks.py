"""Scheduling in the Wagtail back office. Each feature registers its own URLs and menu items in its own section."""

from django.urls import path, reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

# --- treatment plans and the waitlist (front desk) ---------------------------------------------------------------
from . import plan_views, selectors


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
        order=55,
    )


@hooks.register("register_admin_menu_item")
def register_waitlist_menu_item():
    return _WaitlistMenuItem(
        "Waitlist", reverse("scheduling_waitlist"), name="waitlist", icon_name="time", order=56
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

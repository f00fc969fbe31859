"""Scheduling in the Wagtail back office. Each feature registers its own URLs and menu items in its own section."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

# --- treatment plans and the waitlist (front desk) ---------------------------------------------------------------
from . import plan_views


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

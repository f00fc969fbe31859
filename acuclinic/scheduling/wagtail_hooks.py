"""Scheduling in the Wagtail back office: URLs and menu items. Each feature registers its own block below."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

# --- Private calendar feeds (feed_views.py) ------------------------------------------------------------------------
from . import feed_views


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

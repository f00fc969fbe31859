from django.urls import path

from . import booking_views

urlpatterns = [
    path("", booking_views.book, name="booking_start"),
    path("details/", booking_views.details, name="booking_details"),
    path("manage/<str:token>/", booking_views.manage, name="booking_manage"),
    path("manage/<str:token>/move/", booking_views.move, name="booking_move"),
    path("manage/<str:token>/calendar.ics", booking_views.manage_calendar, name="booking_calendar"),
]

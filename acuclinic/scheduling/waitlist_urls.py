from django.urls import path

from . import waitlist_views

urlpatterns = [
    path("offer/<str:token>/", waitlist_views.waitlist_offer, name="waitlist_offer"),
]

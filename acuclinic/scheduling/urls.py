from django.urls import path

from . import views

urlpatterns = [
    path("", views.practitioner_list, name="practitioner_list"),
    path("<slug:slug>/", views.practitioner_profile, name="practitioner_profile"),
]

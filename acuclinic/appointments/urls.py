from django.urls import path

from . import views

urlpatterns = [
    path("", views.request_appointment, name="request_appointment"),
    path("received/<str:token>/", views.appointment_received, name="appointment_received"),
]

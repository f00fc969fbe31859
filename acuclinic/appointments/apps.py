from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "acuclinic.appointments"
    label = "appointments"

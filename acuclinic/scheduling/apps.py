from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "acuclinic.scheduling"
    label = "scheduling"

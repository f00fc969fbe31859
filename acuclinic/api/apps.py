from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "acuclinic.api"
    label = "acuclinic_api"
    verbose_name = "JSON API"

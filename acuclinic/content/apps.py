from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "acuclinic.content"
    label = "content"
    verbose_name = "Patient education"

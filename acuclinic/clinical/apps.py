from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "acuclinic.clinical"
    label = "clinical"

from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "acuclinic.content"
    label = "content"
    verbose_name = "Patient education"

    def ready(self):
        from . import signals

        signals.connect()  # render on publish (content/rendering.py)

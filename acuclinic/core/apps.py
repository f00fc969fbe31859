from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "acuclinic.core"
    label = "core"
    verbose_name = "Clinic"

    def ready(self):
        # Cache invalidation must be connected in every process (worker, management commands), not only the web.
        from . import page_cache, signals  # noqa: F401

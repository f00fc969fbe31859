from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "acuclinic.core"
    label = "core"
    verbose_name = "Clinic"

    def ready(self):
        # Cache invalidation must be connected in every process (worker, management commands), not only the web.
        # rich_text: staff rich text is sanitised (nh3) on every save.
        from . import admin_sidebar, checks, page_cache, rich_text, signals  # noqa: F401

        admin_sidebar.install()  # the back-office sidebar kept per staff member for a minute

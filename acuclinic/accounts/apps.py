from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "acuclinic.accounts"
    label = "accounts"
    verbose_name = "Staff accounts, roles and the audit log"

    def ready(self):
        from . import signals  # noqa: F401

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views


@hooks.register("register_admin_urls")
def register_api_client_urls():
    return [
        path("api-clients/", admin_views.ApiClientsView.as_view(), name="api_clients"),
        path(
            "api-clients/<int:pk>/switch-off/",
            admin_views.DeactivateApiClientView.as_view(),
            name="api_client_deactivate",
        ),
    ]


class ApiClientsMenuItem(MenuItem):
    def is_shown(self, request):
        return admin_views.can_manage_clients(request.user)


@hooks.register("register_settings_menu_item")
def register_api_clients_menu_item():
    return ApiClientsMenuItem(
        "API clients", reverse("api_clients"), name="api-clients", icon_name="link", order=910
    )

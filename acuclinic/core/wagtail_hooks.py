from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import ServiceAlert


class ServiceAlertViewSet(SnippetViewSet):
    model = ServiceAlert
    icon = "warning"
    menu_label = "Service alerts"
    menu_order = 150
    add_to_admin_menu = True
    list_display = ["message", "severity", "contact_by", "starts_at", "ends_at"]
    list_filter = ["severity"]


register_snippet(ServiceAlertViewSet)

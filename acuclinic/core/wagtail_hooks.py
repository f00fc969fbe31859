from django.urls import path, reverse
from django.utils import timezone
from wagtail.admin.widgets import ListingButton
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from .admin_views import CHANGE_PERMISSION, EndServiceAlertView
from .models import ServiceAlert


class ServiceAlertIndexView(IndexView):
    def get_list_buttons(self, instance):
        buttons = super().get_list_buttons(instance)
        # "End now" on every alert still showing or yet to show: one click (and a confirmation) ends it at once.
        if (instance.ends_at is None or instance.ends_at > timezone.now()) and self.request.user.has_perm(
            CHANGE_PERMISSION
        ):
            url = reverse("wagtailsnippets_core_servicealert:end", args=[instance.pk])
            buttons.insert(0, ListingButton("End now", url=url, icon_name="cross", priority=5))
        return buttons


class ServiceAlertViewSet(SnippetViewSet):
    model = ServiceAlert
    icon = "warning"
    menu_label = "Service alerts"
    menu_order = 150
    add_to_admin_menu = True
    list_display = ["message", "severity", "contact_by", "starts_at", "ends_at"]
    list_filter = ["severity"]
    index_view_class = ServiceAlertIndexView

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("end/<str:pk>/", EndServiceAlertView.as_view(), name="end"),
        ]


register_snippet(ServiceAlertViewSet)

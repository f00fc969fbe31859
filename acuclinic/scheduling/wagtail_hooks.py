"""Scheduling in the back office: the dashboard panel that warns of licences about to expire."""

from django.utils import timezone
from wagtail import hooks
from wagtail.admin.ui.components import Component

from . import selectors


class LicenceWarningsPanel(Component):
    """Licences that have expired or expire within 60 days: a practitioner without one cannot be booked there."""

    name = "licence_warnings"
    order = 50
    template_name = "scheduling/admin/licence_warnings_panel.html"

    def __init__(self, warnings):
        self.warnings = warnings

    def get_context_data(self, parent_context=None):
        return {"warnings": self.warnings, "within_days": selectors.LICENCE_WARNING_DAYS}


@hooks.register("construct_homepage_panels")
def add_licence_warnings_panel(request, panels):
    if not selectors.can_see_licence_warnings(request.user):
        return
    warnings = selectors.licence_warnings(today=timezone.localdate())
    if warnings:
        panels.append(LicenceWarningsPanel(warnings))

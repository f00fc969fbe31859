"""The private calendar feed (public URL, the token is the key) and the back-office pages that manage feed links.

- ``/calendar/<token>.ics``: anyone holding a valid token; 404 otherwise (wrong, replaced or revoked). Audited as a
  read of the listed appointments by the practitioner's user, references only.
- *My calendar feed* (``/admin/my-calendar-feed/``): the Clinicians role; the page works on the practitioner linked
  to the signed-in user (``Practitioner.user``) and nobody else's. Creating a link shows it once.
- *Calendar feeds* (``/admin/calendar-feeds/``): administrators (``scheduling.change_practitioner``) see who has a
  feed and revoke any of them.
Everyone else gets a real 403 (see clinical.admin_views.PermissionRequiredMixin).
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.accounts.roles import CLINICIANS
from acuclinic.clinical.admin_views import PermissionRequiredMixin

from . import feed, ics
from .models import Practitioner
from .notifications import absolute_url

MAX_IDS_IN_AUDIT = 400


@require_GET
def calendar_feed(request, token: str):
    practitioner = feed.practitioner_for_token(token)
    if practitioner is None:
        raise Http404("No such calendar")
    appointments = list(feed.feed_appointments(practitioner=practitioner))
    body = ics.feed_ics(name=f"{practitioner.name} — appointments", appointments=appointments)
    ids = ",".join(str(a.pk) for a in appointments)
    if len(ids) > MAX_IDS_IN_AUDIT:
        ids = ids[:MAX_IDS_IN_AUDIT].rsplit(",", 1)[0] + ",…"
    audit.record(
        actor=practitioner.user,
        action=AuditEvent.Action.READ,
        obj=practitioner,
        detail=f"calendar feed: {len(appointments)} appointments; ids {ids or 'none'}",
        request=request,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response


def feed_url(token: str) -> str:
    return absolute_url(reverse("scheduling_calendar_feed", kwargs={"token": token}))


def is_clinician(user) -> bool:
    return user.is_active and (user.is_superuser or user.groups.filter(name=CLINICIANS).exists())


def can_revoke_any_feed(user) -> bool:
    return user.is_active and user.has_perm("scheduling.change_practitioner")


@method_decorator(never_cache, name="dispatch")
class MyCalendarFeedView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "scheduling/admin/my_calendar_feed.html"
    page_title = "My calendar feed"
    header_icon = "date"
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return is_clinician(user)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def practitioner(self) -> Practitioner | None:
        return Practitioner.objects.filter(user=self.request.user).first()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        practitioner = self.practitioner()
        context.update(
            practitioner=practitioner, has_feed=bool(practitioner and practitioner.feed_token_hash)
        )
        return context

    def post(self, request, *args, **kwargs):
        practitioner = self.practitioner()
        if practitioner is None:
            return redirect("scheduling_my_calendar_feed")
        if request.POST.get("action") == "revoke":
            if feed.revoke_feed_token(practitioner=practitioner, by=request.user):
                messages.success(
                    request, "Your calendar feed link is switched off. The old link no longer works."
                )
            return redirect("scheduling_my_calendar_feed")
        token = feed.create_feed_token(practitioner=practitioner, by=request.user)
        # Shown in this response only (never stored, never redirected to): a GET of the page cannot show it again.
        context = self.get_context_data(new_feed_url=feed_url(token))
        return self.render_to_response(context)


@method_decorator(never_cache, name="dispatch")
class CalendarFeedsView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "scheduling/admin/calendar_feeds.html"
    page_title = "Calendar feeds"
    header_icon = "date"
    http_method_names = ["get"]

    def has_permission(self, user):
        return can_revoke_any_feed(user)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["practitioners"] = list(feed.practitioners_with_feeds())
        return context


class RevokeCalendarFeedView(PermissionRequiredMixin, View):
    http_method_names = ["post"]

    def has_permission(self, user):
        return can_revoke_any_feed(user)

    def post(self, request, pk):
        practitioner = Practitioner.objects.filter(pk=pk).first()
        if practitioner is None:
            raise Http404("No such practitioner")
        if feed.revoke_feed_token(practitioner=practitioner, by=request.user):
            messages.success(request, f"The calendar feed of {practitioner.name} is switched off.")
        return redirect("scheduling_calendar_feeds")

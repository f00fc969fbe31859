"""Settings → API clients: an administrator registers the systems that use the FHIR API (OAuth 2.0 client
credentials), sees them, and switches one off. The secret is shown once, in the answer to the registration."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from acuclinic.clinical.admin_views import PermissionRequiredMixin
from acuclinic.scheduling.notifications import absolute_url

from . import clients
from .models import SCOPES, ApiClient


def can_manage_clients(user) -> bool:
    return user.is_active and user.has_perm("acuclinic_api.add_apiclient")


class ApiClientForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="Who this is, e.g. “Riverside referral portal”."
    )
    scopes = forms.MultipleChoiceField(
        label="May",
        choices=list(SCOPES.items()),
        widget=forms.CheckboxSelectMultiple,
        initial=list(SCOPES),
        error_messages={"required": "Choose at least one thing this client may do."},
    )
    bookings_per_hour = forms.IntegerField(
        label="Bookings per hour", min_value=1, max_value=100_000, initial=200, help_text="Its own allowance."
    )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if ApiClient.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A client with this name exists already.")
        return name


@method_decorator(never_cache, name="dispatch")
class ApiClientsView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "api/admin/api_clients.html"
    page_title = "API clients"
    header_icon = "link"
    http_method_names = ["get", "post"]

    def has_permission(self, user):
        return can_manage_clients(user)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ApiClientForm())
        context["clients"] = list(ApiClient.objects.select_related("application"))
        context["token_url"] = absolute_url("/oauth/token/")
        return context

    def post(self, request, *args, **kwargs):
        form = ApiClientForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        client, client_id, secret = clients.register_client(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            bookings_per_hour=form.cleaned_data["bookings_per_hour"],
            by=request.user,
        )
        # Shown in this answer only (stored hashed, never redirected to): a reload cannot show it again.
        context = self.get_context_data(new_client=client, client_id=client_id, client_secret=secret)
        return self.render_to_response(context)


class DeactivateApiClientView(PermissionRequiredMixin, View):
    http_method_names = ["post"]

    def has_permission(self, user):
        return can_manage_clients(user)

    def post(self, request, pk):
        client = ApiClient.objects.filter(pk=pk, is_active=True).first()
        if client is None:
            raise Http404("No such client")
        clients.deactivate_client(client=client, by=request.user)
        messages.success(request, f"{client.name} is switched off: its tokens no longer work.")
        return redirect("api_clients")

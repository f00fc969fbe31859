"""Patients in the Wagtail back office: URLs, the menu item and the permissions an administrator can grant."""

from django.contrib.auth.models import Permission
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views
from .selectors import can_view_patients


@hooks.register("register_admin_urls")
def register_patient_urls():
    return [
        path("patients/", admin_views.PatientListView.as_view(), name="clinical_patient_list"),
        path("patients/<int:pk>/", admin_views.PatientDetailView.as_view(), name="clinical_patient_detail"),
        path(
            "patients/<int:pk>/export.json",
            admin_views.PatientExportView.as_view(fmt="json"),
            name="clinical_patient_export_json",
        ),
        path(
            "patients/<int:pk>/export.fhir.json",
            admin_views.PatientExportView.as_view(fmt="fhir"),
            name="clinical_patient_export_fhir",
        ),
        path(
            "patients/<int:pk>/erase/", admin_views.PatientEraseView.as_view(), name="clinical_patient_erase"
        ),
    ]


class PatientsMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_patients(request.user)


@hooks.register("register_admin_menu_item")
def register_patients_menu_item():
    return PatientsMenuItem(
        "Patients", reverse("clinical_patient_list"), name="patients", icon_name="user", order=60
    )


@hooks.register("register_permissions")
def register_patient_permissions():
    # Shown under Settings → Groups; the roles table (accounts.roles) remains what `load_initial_data` applies.
    return Permission.objects.filter(
        content_type__app_label="clinical", codename__in=["view_patient", "export_patient", "erase_patient"]
    )

"""Patients in the Wagtail back office: URLs, the menu item and the permissions an administrator can grant."""

from django.contrib.auth.models import Permission
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views
from .episodes import admin_views as episode_admin_views
from .intake import admin_views as intake_admin_views
from .safety import admin_views as safety_admin_views
from .selectors import can_view_patients


@hooks.register("register_admin_urls")
def register_patient_urls():
    return [
        path("patients/", admin_views.PatientListView.as_view(), name="clinical_patient_list"),
        path("patients/new/", admin_views.PatientAddView.as_view(), name="clinical_patient_add"),
        path("patients/<int:pk>/", admin_views.PatientDetailView.as_view(), name="clinical_patient_detail"),
        path("patients/<int:pk>/edit/", admin_views.PatientEditView.as_view(), name="clinical_patient_edit"),
        path(
            "patients/<int:pk>/merge/", admin_views.PatientMergeView.as_view(), name="clinical_patient_merge"
        ),
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
        path(
            "patients/<int:pk>/intake/",
            intake_admin_views.IntakeAnswersView.as_view(),
            name="clinical_patient_intake",
        ),
        path(
            "safety-flags/<int:pk>/acknowledge/",
            safety_admin_views.acknowledge_flag,
            name="clinical_flag_acknowledge",
        ),
        path(
            "intakes/<int:pk>/acknowledge-urgent/",
            intake_admin_views.acknowledge_urgent_intake,
            name="clinical_intake_acknowledge_urgent",
        ),
        path(
            "patients/<int:pk>/diagnosis/",
            episode_admin_views.ConfirmDiagnosisView.as_view(),
            name="clinical_patient_diagnosis",
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
        content_type__app_label="clinical",
        codename__in=["view_patient", "add_patient", "change_patient", "export_patient", "erase_patient"],
    )


@hooks.register("insert_global_admin_css")
def record_css():
    return format_html('<link rel="stylesheet" href="{}">', static("css/admin-record.css"))


# --- Questionnaires & consent (instruments) and the intake at the desk ------------------------------------------


@hooks.register("register_admin_urls")
def register_instrument_urls():
    from .instruments import admin_views as views
    from .intake.admin_views import IntakeAtDeskView

    return [
        path("questionnaires/", views.InstrumentListView.as_view(), name="clinical_instrument_list"),
        path("questionnaires/new/", views.InstrumentAddView.as_view(), name="clinical_instrument_add"),
        path(
            "questionnaires/<slug:key>/",
            views.InstrumentDetailView.as_view(),
            name="clinical_instrument_detail",
        ),
        path(
            "questionnaires/<slug:key>/v<int:version>/questionnaire.fhir.json",
            views.InstrumentFhirView.as_view(),
            name="clinical_instrument_fhir",
        ),
        path(
            "questionnaires/<slug:key>/switch/",
            views.InstrumentSwitchView.as_view(),
            name="clinical_instrument_switch",
        ),
        path(
            "questionnaires/<slug:key>/text/",
            views.ConsentTextView.as_view(),
            name="clinical_instrument_consent_text",
        ),
        path(
            "questionnaires/<slug:key>/new-version/",
            views.NewVersionView.as_view(),
            name="clinical_instrument_new_version",
        ),
        path(
            "schedule/appointments/<int:pk>/intake-at-desk/",
            IntakeAtDeskView.as_view(),
            name="clinical_intake_at_desk",
        ),
    ]


class InstrumentsMenuItem(MenuItem):
    def is_shown(self, request):
        from .instruments.admin_views import can_view_instruments

        return can_view_instruments(request.user)


@hooks.register("register_admin_menu_item")
def register_instruments_menu_item():
    return InstrumentsMenuItem(
        "Questionnaires & consent",
        reverse("clinical_instrument_list"),
        name="questionnaires",
        icon_name="form",
        order=75,
    )


@hooks.register("register_permissions")
def register_instrument_permissions():
    # Settings → Groups: who may read Questionnaires & consent, add instruments and change them.
    return Permission.objects.filter(
        content_type__app_label="clinical",
        codename__in=["view_instrument", "add_instrument", "change_instrument"],
    )

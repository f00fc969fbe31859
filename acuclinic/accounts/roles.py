"""Staff roles: one table, in code, of what each group may do.

Least privilege (HIPAA §164.312(a)(1) access control; ASVS V4): each role gets exactly the permissions its work needs.
`ensure_roles()` makes the database match the table; `load_initial_data` (run by `make run` and by every deploy)
calls it, so a fresh database, a flushed test database and an upgraded one all end up with the same groups.
Which role may open which URL is the table in acuclinic/accounts/access.py, built on these roles.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.db import transaction

FRONT_DESK = "Front desk"
CLINICIANS = "Clinicians"
EDITORS = "Editors"
MODERATORS = "Moderators"  # Wagtail's own: editors who may also publish.
MEDICAL_REVIEWERS = "Medical reviewers"
ADMINISTRATORS = "Administrators"

WAGTAIL_MEDIA = [
    "wagtailimages.add_image",
    "wagtailimages.change_image",
    "wagtailimages.choose_image",
    "wagtaildocs.add_document",
    "wagtaildocs.change_document",
    "wagtaildocs.choose_document",
]


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    sees_patient_data: bool
    # "app_label.codename" model permissions.
    permissions: tuple[str, ...] = ()
    # Page permissions: {"root" or "articles": ["add_page", …]}.
    page_permissions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    collection_permissions: tuple[str, ...] = ()


ROLES: dict[str, Role] = {
    role.name: role
    for role in [
        Role(
            FRONT_DESK,
            "Works appointment requests, patients' contact details and the schedule.",
            sees_patient_data=True,
            permissions=(
                "wagtailadmin.access_admin",
                "appointments.work_appointmentrequest",
                "clinical.view_patient",
                "clinical.add_patient",
                "clinical.change_patient",
                "clinical.export_patient",
                # The schedule: bookings, series, the waitlist, and the hours/time off/closures they depend on
                # (Clinic set-up: practitioners read-only; weekly hours, time off / extra hours and closures).
                "scheduling.view_appointment",
                "scheduling.add_appointment",
                "scheduling.change_appointment",
                "scheduling.view_treatmentplan",
                "scheduling.add_treatmentplan",
                "scheduling.change_treatmentplan",
                "scheduling.view_waitlistentry",
                "scheduling.add_waitlistentry",
                "scheduling.change_waitlistentry",
                "scheduling.view_practitioner",
                "scheduling.view_workinghours",
                "scheduling.add_workinghours",
                "scheduling.change_workinghours",
                "scheduling.delete_workinghours",
                "scheduling.view_availabilityexception",
                "scheduling.add_availabilityexception",
                "scheduling.change_availabilityexception",
                "scheduling.delete_availabilityexception",
                "scheduling.view_closure",
                "scheduling.add_closure",
                "scheduling.change_closure",
                "scheduling.delete_closure",
            ),
        ),
        Role(
            CLINICIANS,
            "Acupuncturists: the front desk's view of patients plus their clinical records.",
            sees_patient_data=True,
            permissions=(
                "wagtailadmin.access_admin",
                "clinical.view_patient",
                "clinical.view_clinical_record",
                "clinical.change_clinical_record",
                "scheduling.view_appointment",  # their own day (scoped to the practitioner in the views)
                "clinical.view_instrument",  # Questionnaires & consent, read-only
            ),
        ),
        Role(
            EDITORS,
            "Writes and edits library content; no patient data, no publishing.",
            sees_patient_data=False,
            permissions=("wagtailadmin.access_admin",),
            page_permissions={"root": ("add_page", "change_page")},
            collection_permissions=tuple(WAGTAIL_MEDIA),
        ),
        Role(
            MODERATORS,
            "Editors who may also publish; no patient data.",
            sees_patient_data=False,
            permissions=("wagtailadmin.access_admin",),
            page_permissions={
                "root": ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
            },
            collection_permissions=tuple(WAGTAIL_MEDIA),
        ),
        Role(
            MEDICAL_REVIEWERS,
            "Approve the medical review of articles (not their own submission); no patient data. No publishing "
            "outside the workflow: an approval publishes (content.workflow_actions).",
            sees_patient_data=False,
            permissions=("wagtailadmin.access_admin",),
            page_permissions={"articles": ("change_page",)},
        ),
        Role(
            ADMINISTRATORS,
            "Clinic settings, service alerts, staff accounts and the audit log. Patient records only through the "
            "audit log's references, never their contents.",
            sees_patient_data=True,  # The audit log names patients (by record), so two-factor sign-in applies.
            permissions=(
                "wagtailadmin.access_admin",
                "accounts.view_auditevent",
                "accounts.export_auditevent",
                "clinical.erase_patient",
                # Questionnaires & consent: switch on/off, the consent text, instruments the clinic holds a licence for.
                "clinical.view_instrument",
                "clinical.add_instrument",
                "clinical.change_instrument",
                "core.change_clinicsettings",
                "scheduling.change_schedulingsettings",
                *(
                    f"scheduling.{verb}_{model}"
                    for model in (
                        "practitioner",
                        "licence",
                        "location",
                        "room",
                        "appointmenttype",
                        "workinghours",
                        "availabilityexception",
                        "closure",
                    )
                    for verb in ("view", "add", "change", "delete")
                ),
                "acuclinic_api.view_apiclient",
                "acuclinic_api.add_apiclient",
                "acuclinic_api.change_apiclient",
                "core.add_servicealert",
                "core.change_servicealert",
                "core.delete_servicealert",
                "auth.add_user",
                "auth.change_user",
                "auth.delete_user",
                "auth.view_user",
                "auth.add_group",
                "auth.change_group",
                "auth.view_group",
            ),
        ),
    ]
}


def permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def roles_of(user) -> list[Role]:
    names = set(user.groups.values_list("name", flat=True))
    return [role for name, role in ROLES.items() if name in names]


def sees_patient_data(user) -> bool:
    """Whether the user's roles reach patient data, which is what makes two-factor sign-in mandatory."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or any(role.sees_patient_data for role in roles_of(user))


@transaction.atomic
def ensure_roles(*, articles_index=None) -> dict[str, Group]:
    """Create or update every group so its permissions are exactly those of the table (extra ones are removed)."""
    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    root_page = Page.get_first_root_node()
    root_collection = Collection.get_first_root_node()
    groups = {}
    for role in ROLES.values():
        group, _ = Group.objects.get_or_create(name=role.name)
        group.permissions.set([permission(p) for p in role.permissions])
        wanted_pages = set()
        for where, codenames in role.page_permissions.items():
            page = root_page if where == "root" else articles_index
            if page is None:
                continue
            for codename in codenames:
                perm = Permission.objects.get(content_type__app_label="wagtailcore", codename=codename)
                GroupPagePermission.objects.get_or_create(group=group, page=page, permission=perm)
                wanted_pages.add((page.pk, perm.pk))
        if articles_index is not None or not role.page_permissions:
            for gpp in GroupPagePermission.objects.filter(group=group):
                if (gpp.page_id, gpp.permission_id) not in wanted_pages:
                    gpp.delete()
        if root_collection is not None:
            wanted = [permission(p) for p in role.collection_permissions]
            for perm in wanted:
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=root_collection, permission=perm
                )
            GroupCollectionPermission.objects.filter(group=group).exclude(permission__in=wanted).delete()
        groups[role.name] = group
    return groups

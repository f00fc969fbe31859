"""Walk every URL of the site as an anonymous visitor, a user of each role and a superuser, and check each answer
against the permission table in acuclinic/accounts/access.py."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from acuclinic.accounts import access, roles
from acuclinic.appointments.views import confirmation_token
from acuclinic.clinical.models import Patient
from acuclinic.scheduling.models import Practitioner
from tests.factories import make_appointment_request, make_booking

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
NO_ROLE = "staff without a role"
SUPERUSER = "superuser"
PRINCIPALS = [ANONYMOUS, NO_ROLE, *roles.ROLES, SUPERUSER]

POST_ONLY = {
    "helpful_vote",
    "acuclinic_api:create_appointment_request",
    "acuclinic_api:fhir_appointment_create",
    "appointments_request_log_attempt",
    "appointments_request_assign",
    "appointments_request_end",
    "appointments_request_reopen",
    "appointments_request_acknowledge",
    "appointments_request_patient",
    "scheduling_calendar_feed_revoke",
    "api_client_deactivate",
    "oauth_token",
    "oauth_revoke",
    "scheduling_appointment_move",
    "scheduling_appointment_cancel",
    "scheduling_appointment_arrived",
    "scheduling_appointment_no_show",
    "intake_withdraw",
    "clinical_flag_acknowledge",
    "clinical_intake_acknowledge_urgent",
    "clinical_patient_diagnosis",
    "clinical_intake_at_desk",
}
# Unnamed patterns: Wagtail's test 404 page and its catch-all, which answers 404 to everyone.
UNNAMED_ALLOWED = {"admin/test404/", "admin/^.*/$"}
# Wagtail admin URLs open to anyone on purpose: the icon sprite and the translations of its scripts (no data).
PUBLIC_WAGTAIL_ASSETS = {"wagtailadmin_sprite", "wagtailadmin_javascript_catalog"}


def all_patterns(patterns=None, prefix="", namespace=""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            yield from all_patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield prefix + str(p.pattern), name


def is_wagtail_internal(route: str, name: str) -> bool:
    return route.startswith("admin/") and name.split(":")[0].startswith(access.WAGTAIL_ADMIN_NAME_PREFIXES)


@pytest.fixture
def sample(demo):
    request = make_appointment_request("ZXCVBNM2")
    patient = Patient.objects.create(first_name="Pat", last_name="Example", date_of_birth=date(1970, 1, 2))
    # The clinician's own patient (make_client links the clinician to this appointment's practitioner), so that
    # the pages the table allows clinicians answer 200, not the 404 of someone else's patient.
    appointment = make_booking(patient)
    return {"request": request, "article": demo, "patient": patient, "appointment": appointment}


def url_for(name: str, sample) -> str:
    req, article = sample["request"], sample["article"]
    kwargs_by_name = {
        "appointment_received": {"token": confirmation_token(req)},
        "helpful_vote": {"article_id": article.pk},
        "content_article_feedback_notes": {"article_id": article.pk},
        "wagtailcore_authenticate_with_password": {"page_view_restriction_id": 999999, "page_id": article.pk},
        "wagtaildocs_authenticate_with_password": {"restriction_id": 999999},
        "wagtailsettings:edit": {"app_name": "core", "model_name": "clinicsettings"},
        "practitioner_profile": {"slug": Practitioner.objects.filter(is_active=True).first().slug},
        "acuclinic_api:fhir_schedule_read": {"schedule_id": "0-0"},
        "acuclinic_api:fhir_appointment_read": {"token": "not-a-token"},
        "acuclinic_api:fhir_appointment_patch": {"token": "not-a-token"},
        "acuclinic_api:fhir_appointment_update": {"token": "not-a-token"},
        "acuclinic_api:fhir_slot_read": {"slot_id": "0-0.0.20300101T0900"},
        "acuclinic_api:fhir_practitioner_read": {"practitioner_id": "0"},
        "acuclinic_api:fhir_location_read": {"location_id": "0"},
        "acuclinic_api:fhir_codesystem_read": {"resource_id": "appointment-type"},
        "acuclinic_api:fhir_structuredefinition_read": {"resource_id": "manage-token"},
        "api_client_deactivate": {"pk": 999999},
        "booking_manage": {"token": "not-a-token"},  # main's booking pages (not yet in this table's kwargs)
        "booking_calendar": {"token": "not-a-token"},
        "booking_move": {"token": "not-a-token"},
        "waitlist_offer": {"token": "not-a-valid-token"},
        "scheduling_plan_detail": {"pk": 999999},
        "scheduling_calendar_feed": {"token": "not-a-valid-token"},
        "scheduling_calendar_feed_revoke": {"pk": 999999},
        "booking_earlier": {"token": "not-a-token"},
        "clinical_instrument_detail": {"key": "consent"},
        "clinical_instrument_fhir": {"key": "consent", "version": 1},
        "clinical_instrument_switch": {"key": "consent"},
        "clinical_instrument_consent_text": {"key": "consent"},
        "clinical_instrument_new_version": {"key": "consent"},  # 404 for a built-in one: allowed, not denied
        "clinical_intake_at_desk": {"pk": sample["appointment"].pk},
        **{
            name: {"token": "not-a-token"}
            for name in ("intake_start", "intake_saved", "intake_consent", "intake_done", "intake_withdraw")
        },
        "intake_step": {"token": "not-a-token", "number": 1},
        "clinical_flag_acknowledge": {"pk": 999999},
        "clinical_intake_acknowledge_urgent": {"pk": 999999},
    }
    if name.startswith("appointments_request_"):
        return reverse(name, kwargs={"pk": req.pk})
    if name.startswith("scheduling_appointment_"):
        return reverse(name, kwargs={"pk": sample["appointment"].pk})
    if name == "scheduling_book_from_request":
        return reverse(name, kwargs={"pk": req.pk})
    if name.startswith("clinical_patient_") and name not in ("clinical_patient_list", "clinical_patient_add"):
        return reverse(name, kwargs={"pk": sample["patient"].pk})
    if name == "wagtail_serve":
        return "/"
    if name == "wagtaildocs_serve":
        return "/documents/999999/missing.pdf"
    if name == "media":
        return "/media/missing.png"
    return reverse(name, kwargs=kwargs_by_name.get(name))


def make_client(principal: str, sample=None) -> Client:
    client = Client()
    if principal == ANONYMOUS:
        return client
    User = get_user_model()
    username = principal.lower().replace(" ", "-")
    user = User.objects.create_user(username, f"{username}@acuclinic.example", "a-long-test-password")
    if principal == SUPERUSER:
        user.is_superuser = user.is_staff = True
        user.save()
    elif principal == NO_ROLE:
        user.is_staff = True
        user.save()
    else:
        user.groups.add(Group.objects.get(name=principal))
        if principal == roles.CLINICIANS and sample is not None:
            practitioner = sample["appointment"].practitioner
            practitioner.user = user
            practitioner.save()
    client.force_login(user)
    return client


def outcome(response) -> str:
    """'login', 'denied', 'two-factor' or 'allowed' (any other answer, 404 and 400 included)."""
    location = response.get("Location", "")
    if response.status_code in (301, 302):
        if "/login/" in location:
            return "login"
        if location.startswith("/account/two-factor/") and not response.request["PATH_INFO"].startswith(
            "/account/"
        ):
            return "two-factor"
        if location.rstrip("/") == reverse("wagtailadmin_home").rstrip("/") and response.request[
            "PATH_INFO"
        ] != (reverse("wagtailadmin_home")):
            return "denied"  # Wagtail's "Sorry, you do not have permission" redirect
    if response.status_code == 403:
        return "denied"
    return "allowed"


def expected(rule, principal: str) -> str:
    if principal == ANONYMOUS:
        return "allowed" if rule == access.PUBLIC else "login"
    ok = access.allowed(
        rule,
        role=principal if principal in roles.ROLES else None,
        signed_in=True,
        superuser=principal == SUPERUSER,
    )
    return "allowed" if ok else "denied"


def test_every_url_of_ours_is_in_the_permission_table():
    unclassified = [
        (route, name)
        for route, name in all_patterns()
        if not is_wagtail_internal(route, name) and name not in access.ROUTES and route not in UNNAMED_ALLOWED
    ]
    assert unclassified == [], "add these URLs to acuclinic/accounts/access.py ROUTES"


def test_the_table_names_only_urls_that_exist():
    names = {name for _route, name in all_patterns()}
    assert set(access.ROUTES) - names == set()
    assert set(access.WAGTAIL_CHECKS) - names == set()


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_every_route_answers_as_the_table_says(principal, sample):
    client = make_client(principal, sample)
    mismatches = []
    for name, rule in {**access.ROUTES, **access.WAGTAIL_CHECKS}.items():
        url = url_for(name, sample)
        response = client.post(url) if name in POST_ONLY else client.get(url)
        got, want = outcome(response), expected(rule, principal)
        if principal != ANONYMOUS and got == "login":
            got = "denied"  # Wagtail sends signed-in users without admin access back to its login page
        if got != want:
            mismatches.append(f"{name} {url}: {got} ({response.status_code}), table says {want}")
    assert mismatches == [], "\n".join(mismatches)


def test_no_wagtail_admin_url_is_open_to_anonymous_visitors(sample):
    client = Client()
    checked = 0
    for route, name in all_patterns():
        if not is_wagtail_internal(route, name) or not name:
            continue
        try:
            url = reverse(name)
        except Exception:  # noqa: S112 - patterns that need arguments: the table above covers those we use
            continue
        if (
            url.startswith(reverse("wagtailadmin_login"))
            or "password_reset" in name
            or name in PUBLIC_WAGTAIL_ASSETS
        ):
            continue
        response = client.get(url)
        assert outcome(response) == "login" or response.status_code == 405, (name, url, response.status_code)
        checked += 1
    assert checked > 50


def test_staff_without_a_role_reach_no_admin_page(sample):
    client = make_client(NO_ROLE)
    response = client.get(reverse("wagtailadmin_home"))
    assert outcome(response) in ("login", "denied")


def test_a_clinician_opens_their_own_patient_and_appointment(sample):
    client = make_client(roles.CLINICIANS, sample)
    for name in ("clinical_patient_detail", "scheduling_appointment_detail", "scheduling_calendar"):
        assert client.get(url_for(name, sample)).status_code == 200, name

"""Who may open which URL: the one permission table of the site (HIPAA §164.312(a)(1); ASVS V4.1–4.2).

Every named URL of ours is listed here with the roles allowed; tests/accounts/test_permission_table.py walks every
URL with an anonymous visitor, a user of each role and a superuser and checks each answer against this table —
and fails when a URL is added without being classified. The views enforce access themselves (permissions from
accounts.roles); this table is the specification they are tested against, not a second mechanism.

Wagtail's own admin URLs (pages, images, users, settings…) are under /admin/, closed to anonymous visitors, and
enforce Wagtail's permissions; WAGTAIL_CHECKS picks the ones whose answer matters for patient data and roles.
"""

from .roles import ADMINISTRATORS, CLINICIANS, EDITORS, FRONT_DESK, MEDICAL_REVIEWERS, MODERATORS

PUBLIC = "public"  # Anyone, no sign-in.
SIGNED_IN = "signed-in"  # Any signed-in user (the two-step sign-in pages themselves).

CONTENT_STAFF = frozenset({EDITORS, MODERATORS, MEDICAL_REVIEWERS})
ALL_STAFF = frozenset({FRONT_DESK, CLINICIANS, EDITORS, MODERATORS, MEDICAL_REVIEWERS, ADMINISTRATORS})

# URL name -> PUBLIC, SIGNED_IN, or the roles allowed (a superuser is always allowed).
ROUTES: dict[str, str | frozenset[str]] = {
    # The public site.
    "wagtail_serve": PUBLIC,
    "health": PUBLIC,
    "robots_txt": PUBLIC,
    "sitemap": PUBLIC,
    "search": PUBLIC,
    "request_appointment": PUBLIC,
    "appointment_received": PUBLIC,  # reachable only with a signed, expiring token
    "booking_start": PUBLIC,
    "booking_details": PUBLIC,
    "booking_manage": PUBLIC,  # signed, expiring token (Purpose.MANAGE_BOOKING)
    "booking_calendar": PUBLIC,  # the same token
    "booking_move": PUBLIC,  # the same token
    "booking_earlier": PUBLIC,  # the same token
    "waitlist_offer": PUBLIC,  # reachable only with a signed, expiring token
    # The intake questionnaire and consent: a signed, expiring token (Purpose.QUESTIONNAIRE), 404 without one.
    "intake_start": PUBLIC,
    "intake_step": PUBLIC,
    "intake_saved": PUBLIC,
    "intake_consent": PUBLIC,
    "intake_done": PUBLIC,
    "intake_withdraw": PUBLIC,
    "helpful_vote": PUBLIC,
    "practitioner_list": PUBLIC,
    "practitioner_profile": PUBLIC,
    "acuclinic_api:api-root": PUBLIC,
    "acuclinic_api:openapi-json": PUBLIC,
    "acuclinic_api:openapi-view": PUBLIC,
    "acuclinic_api:create_appointment_request": PUBLIC,
    # FHIR scheduling: public schedules and free slots; a booking is read back only with its manage token.
    "acuclinic_api:fhir_schedule_search": PUBLIC,
    "acuclinic_api:fhir_schedule_read": PUBLIC,
    "acuclinic_api:fhir_slot_search": PUBLIC,
    "acuclinic_api:fhir_appointment_create": PUBLIC,
    "acuclinic_api:fhir_appointment_read": PUBLIC,
    "acuclinic_api:fhir_appointment_patch": PUBLIC,  # cancels, with the manage token only
    "acuclinic_api:fhir_appointment_update": PUBLIC,  # the same
    "acuclinic_api:fhir_metadata": PUBLIC,
    "acuclinic_api:fhir_slot_read": PUBLIC,
    "acuclinic_api:fhir_practitioner_search": PUBLIC,  # public profile data only
    "acuclinic_api:fhir_practitioner_read": PUBLIC,
    "acuclinic_api:fhir_location_search": PUBLIC,
    "acuclinic_api:fhir_location_read": PUBLIC,
    "acuclinic_api:fhir_codesystem_search": PUBLIC,
    "acuclinic_api:fhir_codesystem_read": PUBLIC,
    "acuclinic_api:fhir_structuredefinition_search": PUBLIC,
    "acuclinic_api:fhir_structuredefinition_read": PUBLIC,
    "wagtaildocs_serve": PUBLIC,
    "wagtaildocs_authenticate_with_password": PUBLIC,
    "wagtailcore_authenticate_with_password": PUBLIC,
    "wagtailcore_login": PUBLIC,
    "media": PUBLIC,
    "scheduling_calendar_feed": PUBLIC,  # a practitioner's private feed: 404 without a valid token
    # Signing in.
    "accounts:two_factor_setup": SIGNED_IN,
    "accounts:two_factor_verify": SIGNED_IN,
    # The library's reports.
    "content_review_due": CONTENT_STAFF,
    "content_review_due_results": CONTENT_STAFF,
    "content_article_feedback": CONTENT_STAFF,
    "content_article_feedback_results": CONTENT_STAFF,
    "content_article_feedback_notes": CONTENT_STAFF,
    # Appointment requests: the front desk.
    "appointments_inbox": frozenset({FRONT_DESK}),
    "appointments_inbox_export": frozenset({FRONT_DESK}),
    "appointments_request_detail": frozenset({FRONT_DESK}),
    "appointments_request_log_attempt": frozenset({FRONT_DESK}),
    "appointments_request_assign": frozenset({FRONT_DESK}),
    "appointments_request_end": frozenset({FRONT_DESK}),
    "appointments_request_reopen": frozenset({FRONT_DESK}),
    "appointments_request_acknowledge": frozenset({FRONT_DESK}),
    "appointments_request_patient": frozenset({FRONT_DESK}),
    # Treatment plans and the waitlist: the front desk.
    "scheduling_plan_new": frozenset({FRONT_DESK}),
    "scheduling_plan_detail": frozenset({FRONT_DESK}),
    "scheduling_waitlist": frozenset({FRONT_DESK}),
    # Patients: the front desk and clinicians read; the front desk exports; administrators erase on request.
    "clinical_patient_list": frozenset({FRONT_DESK, CLINICIANS}),
    "clinical_patient_detail": frozenset({FRONT_DESK, CLINICIANS}),
    "clinical_patient_add": frozenset({FRONT_DESK}),  # a phone call or a walk-in
    "clinical_patient_edit": frozenset({FRONT_DESK}),  # clinicians read the details only
    "clinical_patient_merge": frozenset({FRONT_DESK}),  # duplicates: the desk sees both records in full
    "clinical_patient_export_json": frozenset({FRONT_DESK}),
    "clinical_patient_export_fhir": frozenset({FRONT_DESK}),
    "clinical_patient_erase": frozenset({ADMINISTRATORS}),
    # The clinical course: clinicians read the intake and acknowledge safety flags; the desk acknowledges an
    # intake's urgent warning signs (as it does a request's).
    "clinical_patient_intake": frozenset({CLINICIANS}),
    "clinical_flag_acknowledge": frozenset({CLINICIANS}),
    "clinical_intake_acknowledge_urgent": frozenset({FRONT_DESK}),
    "clinical_patient_diagnosis": frozenset({CLINICIANS}),  # POST: the clinician confirms the ICD-10-CM code
    # Private calendar feeds: a clinician manages their own link; administrators switch off anyone's.
    "scheduling_my_calendar_feed": frozenset({CLINICIANS}),
    "scheduling_calendar_feeds": frozenset({ADMINISTRATORS}),
    "scheduling_calendar_feed_revoke": frozenset({ADMINISTRATORS}),
    # API clients (OAuth client credentials): administrators register and switch them off; clients get tokens.
    "api_clients": frozenset({ADMINISTRATORS}),
    "api_client_deactivate": frozenset({ADMINISTRATORS}),
    "oauth_token": PUBLIC,  # client credentials in the request; POST only
    "oauth_revoke": PUBLIC,  # the same
    # The schedule: the front desk works it; clinicians see their own practitioner's calendar and appointments.
    "scheduling_calendar": frozenset({FRONT_DESK, CLINICIANS}),
    "scheduling_appointment_detail": frozenset({FRONT_DESK, CLINICIANS}),
    "scheduling_appointment_move": frozenset({FRONT_DESK}),
    "scheduling_appointment_cancel": frozenset({FRONT_DESK}),
    "scheduling_appointment_arrived": frozenset({FRONT_DESK}),
    "scheduling_appointment_no_show": frozenset({FRONT_DESK}),
    "scheduling_appointment_check_out": frozenset({FRONT_DESK, CLINICIANS}),  # clinicians: their own visits
    "scheduling_book": frozenset({FRONT_DESK}),
    "scheduling_book_from_request": frozenset({FRONT_DESK}),
    # The audit log: administrators.
    "accounts_audit_log": frozenset({ADMINISTRATORS}),
    "accounts_audit_log_export": frozenset({ADMINISTRATORS}),
    # Questionnaires & consent (clinical/instruments/admin_views.py): administrators manage, clinicians read.
    "clinical_instrument_list": frozenset({ADMINISTRATORS, CLINICIANS}),
    "clinical_instrument_detail": frozenset({ADMINISTRATORS, CLINICIANS}),
    "clinical_instrument_fhir": frozenset({ADMINISTRATORS, CLINICIANS}),
    "clinical_instrument_switch": frozenset({ADMINISTRATORS}),
    "clinical_instrument_consent_text": frozenset({ADMINISTRATORS}),
    "clinical_instrument_add": frozenset({ADMINISTRATORS}),
    "clinical_instrument_new_version": frozenset({ADMINISTRATORS}),
    # The intake: the desk opens the patient's link on a tablet (the link itself is public, above).
    "clinical_intake_at_desk": frozenset({FRONT_DESK}),
}

# Wagtail's own admin views whose answer per role matters.
WAGTAIL_CHECKS: dict[str, str | frozenset[str]] = {
    "wagtailadmin_home": ALL_STAFF,
    "wagtailadmin_explore_root": CONTENT_STAFF,
    "wagtailsettings:edit": frozenset({ADMINISTRATORS}),
    "wagtailsnippets_core_servicealert:list": frozenset({ADMINISTRATORS}),
    "wagtailusers_users:index": frozenset({ADMINISTRATORS}),
    "wagtailusers_groups:index": frozenset({ADMINISTRATORS}),
    # /admin/snippets/ lists the snippets a user may see: anyone with at least one.
    "wagtailsnippets:index": frozenset({FRONT_DESK, ADMINISTRATORS}),
    # Clinic set-up (scheduling/setup_views.py): administrators set the clinic up; the front desk reads the
    # practitioners and keeps weekly hours, time off / extra hours and closures up to date.
    **{
        f"wagtailsnippets_scheduling_{model}:{view}": frozenset({ADMINISTRATORS})
        for model in ("practitioner", "location", "appointmenttype")
        for view in ("list", "add")
    },
    "wagtailsnippets_scheduling_practitioner:list": frozenset({FRONT_DESK, ADMINISTRATORS}),
    **{
        f"wagtailsnippets_scheduling_{model}:{view}": frozenset({FRONT_DESK, ADMINISTRATORS})
        for model in ("workinghours", "availabilityexception", "closure")
        for view in ("list", "add")
    },
}

# Prefixes of URL names that belong to Wagtail's admin (closed to anonymous visitors; Wagtail's permissions).
WAGTAIL_ADMIN_NAME_PREFIXES = ("wagtail", "wagtailadmin", "wagtailsnippets", "wagtailimages", "wagtaildocs")


def allowed(rule, *, role: str | None, signed_in: bool, superuser: bool = False) -> bool:
    if rule == PUBLIC:
        return True
    if not signed_in:
        return False
    if superuser or rule == SIGNED_IN:
        return True
    return role in rule

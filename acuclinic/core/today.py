"""The staff home ("Today"), per role: what each person needs first thing in the morning.

- Front desk: today's appointments at every location (time, patient, practitioner, status, a link to the
  appointment page to mark arrived or check out), new and urgent appointment requests, waitlist offers out.
- Clinicians: their own practitioner's appointments today (scheduling.selectors.appointments_visible_to).
- Administrators: licences coming due (scheduling's existing panel) and medical reviews coming due.
- Editors, moderators, medical reviewers: medical reviews coming due.

Reads only; every list of patient data shown is written to the audit log (record ids, never names). Each section
is one query whatever the number of rows (select_related), so the page costs a constant number of queries.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.accounts.roles import ADMINISTRATORS, roles_of

MAX_ROWS = 50  # a clinic's day; the full lists are one click away (calendar, inbox, waitlist)
REVIEW_ROWS = 10


@dataclass(frozen=True)
class Today:
    """What the Today page shows for one user; empty tuples for the sections they do not get."""

    day: object
    appointments: tuple = ()  # the desk: every appointment today
    own_appointments: tuple = ()  # a clinician: their day
    has_practitioner: bool = True
    requests: tuple = ()  # new and urgent open requests
    offers: tuple = ()  # waitlist offers out
    reviews: tuple = ()  # articles due for medical review
    review_count: int = 0
    desk: bool = False
    clinician: bool = False
    sees_reviews: bool = False
    edits_pages: bool = False


def _day_bounds(day) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)


def _ids(rows) -> str:
    text = ",".join(str(row.pk) for row in rows)
    return text if len(text) <= 400 else text[:400].rsplit(",", 1)[0] + ",…"


def _audit_list(*, user, rows, object_type: str, what: str, request) -> None:
    if rows:
        audit.record(
            actor=user,
            action=AuditEvent.Action.LIST,
            object_type=object_type,
            detail=f"today page, {what}: {len(rows)}; ids {_ids(rows)}",
            request=request,
        )


def user_roles(user) -> set[str]:
    """The user's role names (one query, cached on the user object for the request)."""
    cached = getattr(user, "_acu_role_names", None)
    if cached is None:
        cached = {role.name for role in roles_of(user)} if user.is_authenticated else set()
        user._acu_role_names = cached
    return cached


def edits_pages(user) -> bool:
    """Roles that write or review library pages (and superusers) keep Wagtail's page search and summary."""
    from acuclinic.accounts.roles import ROLES

    if not (user and user.is_authenticated):
        return False
    return user.is_superuser or any(ROLES[name].page_permissions for name in user_roles(user))


def sees_reviews(user) -> bool:
    return bool(user and user.is_authenticated) and (
        user.is_superuser or edits_pages(user) or ADMINISTRATORS in user_roles(user)
    )


def today_for(*, user, request=None, now: datetime | None = None) -> Today:
    from acuclinic.appointments.models import AppointmentRequest
    from acuclinic.appointments.selectors import URGENT_KEYS, can_work_requests
    from acuclinic.content.selectors import articles_due_for_review
    from acuclinic.scheduling import selectors as scheduling
    from acuclinic.scheduling.models import Appointment, WaitlistEntry

    now = now or timezone.now()
    day = timezone.localdate(now)
    start, end = _day_bounds(day)
    fields: dict = {"day": day, "edits_pages": edits_pages(user)}

    related = ("patient", "practitioner", "appointment_type", "location", "room")
    if scheduling.can_manage_schedule(user):
        rows = tuple(
            Appointment.objects.filter(start__gte=start, start__lt=end)
            .select_related(*related)
            .order_by("start", "practitioner__name", "pk")[:MAX_ROWS]
        )
        _audit_list(
            user=user,
            rows=rows,
            object_type=Appointment._meta.label_lower,
            what="today's appointments",
            request=request,
        )
        fields.update(desk=True, appointments=rows)
    elif scheduling.can_view_schedule(user):
        practitioner = scheduling.own_practitioner(user)
        rows = ()
        if practitioner is not None:
            rows = tuple(
                scheduling.appointments_visible_to(user)
                .filter(start__gte=start, start__lt=end)
                .select_related(*related)
                .order_by("start", "pk")[:MAX_ROWS]
            )
            _audit_list(
                user=user,
                rows=rows,
                object_type=Appointment._meta.label_lower,
                what="my day",
                request=request,
            )
            from acuclinic.clinical.chart import safety_lines

            lines = safety_lines(patient_ids=[row.patient_id for row in rows])
            for row in rows:
                row.safety = lines[row.patient_id]
        fields.update(clinician=True, own_appointments=rows, has_practitioner=practitioner is not None)

    if can_work_requests(user):
        requests = tuple(
            AppointmentRequest.objects.exclude(status=AppointmentRequest.Status.ENDED)
            .filter(Q(urgency__in=URGENT_KEYS) | Q(status=AppointmentRequest.Status.NEW, is_spam=False))
            .select_related("preferred_practitioner")
            .order_by("-urgency_rank", "submitted_at", "pk")[:MAX_ROWS]
        )
        _audit_list(
            user=user,
            rows=requests,
            object_type=AppointmentRequest._meta.label_lower,
            what="new and urgent requests",
            request=request,
        )
        offers = tuple(
            WaitlistEntry.objects.filter(status=WaitlistEntry.Status.OFFERED)
            .select_related("patient", "offered_practitioner", "appointment_type", "location")
            .order_by("offer_expires_at", "pk")[:MAX_ROWS]
        )
        _audit_list(
            user=user,
            rows=offers,
            object_type=WaitlistEntry._meta.label_lower,
            what="waitlist offers out",
            request=request,
        )
        fields.update(requests=requests, offers=offers)

    if sees_reviews(user):
        due = list(articles_due_for_review(today=day)[: REVIEW_ROWS + 1])
        fields.update(sees_reviews=True, reviews=tuple(due[:REVIEW_ROWS]), review_count=len(due))
    return Today(**fields)

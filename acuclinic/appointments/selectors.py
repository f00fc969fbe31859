"""Reads for the front desk's inbox. Keyword-only functions; views never build these queries themselves."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, Q, QuerySet, Window
from django.utils import timezone

from .models import AppointmentRequest
from .triage import FIRST_CONTACT, NEW_PAIN_OLDER_THAN, NEW_PAIN_YOUNGER_THAN, URGENCY_LABELS, Urgency

WORK_PERMISSION = "appointments.work_appointmentrequest"

# Levels that put a request in the banner at the top of every front-desk page until someone acknowledges it.
URGENT_KEYS = (Urgency.EMERGENCY.key, Urgency.URGENT_TODAY.key)

# Spam is hidden from every view but "Spam", except emergency and urgent-today requests: those are never hidden,
# only marked “possible spam” (a false positive there could be a patient in danger).
SHOWN_DESPITE_SPAM = Q(is_spam=False) | Q(urgency__in=URGENT_KEYS)

# Inbox filter values.
STATUS_OPEN = "open"  # new or contacting: the default view
STATUS_ALL = "all"  # every status, spam still hidden
STATUS_SPAM = "spam"  # only what was flagged as spam, to recover false positives
STATUS_CHOICES = [
    (STATUS_OPEN, "Open (new or contacting)"),
    (AppointmentRequest.Status.NEW, "New"),
    (AppointmentRequest.Status.CONTACTING, "Contacting"),
    (AppointmentRequest.Status.ENDED, "Ended"),
    (STATUS_ALL, "All (spam hidden, except urgent)"),
    (STATUS_SPAM, "Spam"),
]
AGE_TODAY = "today"
AGE_OVER_1_BUSINESS_DAY = "over_1_business_day"
AGE_OVER_3_DAYS = "over_3_days"
AGE_CHOICES = [
    (AGE_TODAY, "Submitted today"),
    (AGE_OVER_1_BUSINESS_DAY, "Older than 1 business day"),
    (AGE_OVER_3_DAYS, "Older than 3 days"),
]
NONE = "none"  # “no preferred practitioner” / “unassigned”


def urgency_label(key: str) -> str:
    """“emergency” → “Emergency — told to call 911”."""
    try:
        return URGENCY_LABELS[Urgency[str(key).upper()]]
    except KeyError:
        return str(key)


def can_work_requests(user) -> bool:
    """Front desk (the permission, through a group or directly) and superusers."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(WORK_PERMISSION))


def front_desk_users() -> QuerySet:
    """Who a request can be assigned to: active users with the front-desk permission, and administrators."""
    User = get_user_model()
    app_label, codename = WORK_PERMISSION.split(".")
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission)
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


# --- business days ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessCalendar:
    """The clinic's open weekdays in its own time zone.

    “One business day” after a request is the same time on the clinic's next open day. A request that
    arrives on a closed day counts from the start of the next open day, so it is due by the end of that day.
    """

    open_weekdays: frozenset[int]
    zone: zoneinfo.ZoneInfo
    # The opening window on an open day (the locations' earliest opening and latest closing); None = midnight.
    opens: time = time.min
    closes: time | None = None
    closed_dates: frozenset[date] = frozenset()  # holidays: every location closed

    def is_open(self, day: date) -> bool:
        if day in self.closed_dates:
            return False
        # A clinic configured with no open day at all: count every day rather than loop forever.
        return not self.open_weekdays or day.weekday() in self.open_weekdays

    def opening(self, day: date) -> datetime:
        return self.at(day, self.opens)

    def closing(self, day: date) -> datetime:
        return self.at(day, self.closes) if self.closes else self.at(day + timedelta(days=1))

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` itself when the clinic is open then, else when it next opens."""
        local = moment.astimezone(self.zone)
        day = local.date()
        if self.is_open(day):
            if local < self.opening(day):
                return self.opening(day)
            if local < self.closing(day):
                return local
        return self.opening(self.next_open_day(day))

    def next_open_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_open(day):
            day += timedelta(days=1)
        return day

    def previous_open_day(self, day: date) -> date:
        day -= timedelta(days=1)
        while not self.is_open(day):
            day -= timedelta(days=1)
        return day

    def at(self, day: date, clock: time = time.min) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def start_of_today(self, now: datetime) -> datetime:
        return self.at(self.local_date(now))

    def deadline(self, submitted_at: datetime) -> datetime:
        """When a request submitted at this moment should have been contacted by."""
        local = submitted_at.astimezone(self.zone)
        day = local.date()
        if self.is_open(day):
            return self.at(self.next_open_day(day), local.time())
        return self.at(self.next_open_day(day) + timedelta(days=1))

    def overdue_cutoff(self, now: datetime) -> datetime:
        """Requests submitted before this moment have had more than one business day by `now`.

        The inverse of `deadline`: `deadline(s) < now` exactly when `s < overdue_cutoff(now)`.
        """
        local = now.astimezone(self.zone)
        today = local.date()
        if self.is_open(today):
            return self.at(self.previous_open_day(today), local.time())
        return self.at(self.previous_open_day(today))


def first_contact_deadline(*, urgency, submitted_at: datetime, calendar: BusinessCalendar) -> datetime:
    """When the desk must first contact the patient: the triage rule set's FIRST_CONTACT rule for the level, on the
    clinic's calendar (open days, opening window, holidays). In the clinic's time zone."""
    # A stored key; anything unknown (an old or blank row) counts as routine.
    level = (
        urgency
        if isinstance(urgency, Urgency)
        else Urgency.__members__.get(str(urgency).upper(), Urgency.ROUTINE)
    )
    rule = FIRST_CONTACT[level]
    if rule.within == "now":
        return submitted_at.astimezone(calendar.zone)
    if rule.within == "same_day":
        start = calendar.next_opening(submitted_at)
        if start == submitted_at.astimezone(calendar.zone):  # open now: by today's closing
            return calendar.closing(start.date())
        return start  # closed now: at the next opening
    return calendar.deadline(submitted_at)


def first_contact_label(urgency) -> str:
    """“within 1 business day”, “at once” … (“Not contacted <label>”)."""
    try:
        return FIRST_CONTACT[Urgency[str(urgency).upper()]].label
    except KeyError:
        return FIRST_CONTACT[Urgency.ROUTINE].label


def business_calendar(*, clinic=None) -> BusinessCalendar:
    """The clinic's open weekdays (Settings → Clinic), its opening window (the locations' earliest opening and latest
    closing) and its holidays (days every location is closed)."""
    from acuclinic.scheduling.models import Closure, Location

    clinic = clinic or clinic_settings()
    windows = list(Location.objects.values_list("pk", "opens_at", "closes_at"))
    opens, closes, closed = time.min, None, frozenset()
    if windows:
        opens = min(w[1] for w in windows)
        closes = max(w[2] for w in windows)
        since = timezone.now().astimezone(clinic.zone).date() - timedelta(days=90)
        closed_at: dict[date, set[int]] = {}
        for location_id, starts_on, ends_on in Closure.objects.filter(ends_on__gte=since).values_list(
            "location_id", "starts_on", "ends_on"
        ):
            day = max(starts_on, since)
            while day <= ends_on and day <= since + timedelta(days=730):
                closed_at.setdefault(day, set()).add(location_id)
                day += timedelta(days=1)
        everywhere = {w[0] for w in windows}
        closed = frozenset(day for day, where in closed_at.items() if where >= everywhere)
    return BusinessCalendar(
        open_weekdays=frozenset(clinic.open_weekdays),
        zone=clinic.zone,
        opens=opens,
        closes=closes,
        closed_dates=closed,
    )


def clinic_settings():
    from wagtail.models import Site

    from acuclinic.core.models import ClinicSettings

    site = Site.objects.filter(is_default_site=True).first()
    return ClinicSettings.for_site(site) if site else ClinicSettings()


def is_overdue(
    *, request: AppointmentRequest, now: datetime, calendar: BusinessCalendar | None = None
) -> bool:
    """Not contacted (no attempt logged) within one business day of submission, and still open."""
    if request.status == AppointmentRequest.Status.ENDED:
        return False
    if request.is_spam and request.urgency not in URGENT_KEYS:
        return False
    attempts = getattr(request, "attempt_count", None)
    if attempts is None:
        attempts = request.contact_attempts.count()
    if attempts:
        return False
    calendar = calendar or business_calendar()
    return (
        first_contact_deadline(urgency=request.urgency, submitted_at=request.submitted_at, calendar=calendar)
        < now
    )


# --- the inbox --------------------------------------------------------------------------------------------


def inbox_requests(
    *,
    status: str = STATUS_OPEN,
    urgency: str = "",
    age: str = "",
    practitioner: int | str | None = None,
    assignee: int | str | None = None,
    now: datetime | None = None,
    calendar: BusinessCalendar | None = None,
) -> QuerySet:
    """Requests for the list and the CSV: urgent first, then the oldest; spam only when asked for.

    `practitioner` and `assignee` take a primary key or NONE (“no preference” / “unassigned”). Each row
    carries `attempt_count`; practitioner, assignee, patient and preferred times are fetched with the list,
    so the number of queries does not grow with the number of rows.
    """
    qs = with_inbox_relations(AppointmentRequest.objects.all())
    if status == STATUS_SPAM:
        qs = qs.filter(is_spam=True)
    else:
        qs = qs.filter(SHOWN_DESPITE_SPAM)
        if status == STATUS_OPEN:
            qs = qs.exclude(status=AppointmentRequest.Status.ENDED)
        elif status in AppointmentRequest.Status.values:
            qs = qs.filter(status=status)
    if urgency:
        qs = qs.filter(urgency=urgency)
    if age:
        now = now or timezone.now()
        calendar = calendar or business_calendar()
        if age == AGE_TODAY:
            qs = qs.filter(submitted_at__gte=calendar.start_of_today(now))
        elif age == AGE_OVER_1_BUSINESS_DAY:
            qs = qs.filter(submitted_at__lt=calendar.overdue_cutoff(now))
        elif age == AGE_OVER_3_DAYS:
            qs = qs.filter(submitted_at__lt=now - timedelta(days=3))
    if practitioner == NONE:
        qs = qs.filter(preferred_practitioner__isnull=True)
    elif practitioner:
        qs = qs.filter(preferred_practitioner_id=practitioner)
    if assignee == NONE:
        qs = qs.filter(assigned_to__isnull=True)
    elif assignee:
        qs = qs.filter(assigned_to_id=assignee)
    return qs.prefetch_related("preferred_times").order_by("-urgency_rank", "submitted_at", "pk")


def with_inbox_relations(qs: QuerySet) -> QuerySet:
    return qs.select_related("preferred_practitioner", "assigned_to", "patient").annotate(
        attempt_count=Count("contact_attempts")
    )


def request_for_detail(*, pk: int) -> AppointmentRequest:
    """One request with everything its page shows; raises AppointmentRequest.DoesNotExist."""
    return (
        with_inbox_relations(AppointmentRequest.objects.all())
        .select_related("urgent_acknowledged_by", "patient__created_by")
        .prefetch_related("preferred_times", "contact_attempts__by")
        .get(pk=pk)
    )


def unacknowledged_urgent_requests() -> QuerySet:
    """Emergency and urgent-today requests nobody has acknowledged yet, possible spam included (marked so);
    not one the desk has ended as spam."""
    return (
        AppointmentRequest.objects.filter(urgency__in=URGENT_KEYS, urgent_acknowledged_at__isnull=True)
        .exclude(is_spam=True, status=AppointmentRequest.Status.ENDED)
        .only("pk", "reference", "urgency", "urgency_rank", "submitted_at", "is_spam")
        .annotate(total=Window(Count("pk")))  # how many in all, on every row: one query for the banner
        .order_by("-urgency_rank", "submitted_at", "pk")
    )


def red_flag_rows(*, request: AppointmentRequest) -> list[dict]:
    """Each question as the patient read it, with the answer and whether it raised the urgency."""
    from .triage import QUESTIONS

    reasons = set(request.urgency_reasons or [])
    rows = []
    for question in QUESTIONS:
        answer = (request.red_flag_answers or {}).get(question.key)
        rows.append(
            {
                "key": question.key,
                "question": question.question,
                "answer": "Yes" if answer is True else "No" if answer is False else "Not answered",
                "is_yes": answer is True,
                "level": URGENCY_LABELS[question.level],
                "raised_urgency": question.key in reasons,
            }
        )
    return rows


AGE_REASON_LABEL = (
    f"Age: new back pain in someone younger than {NEW_PAIN_YOUNGER_THAN} or older than {NEW_PAIN_OLDER_THAN}"
)


def urgency_reason_labels(*, request: AppointmentRequest) -> list[str]:
    from .triage import QUESTIONS_BY_KEY

    labels = []
    for key in request.urgency_reasons or []:
        if key == "age":
            labels.append(AGE_REASON_LABEL)
        elif key in QUESTIONS_BY_KEY:
            labels.append(QUESTIONS_BY_KEY[key].question)
        else:
            labels.append(key)
    return labels

"""The demo clinic on a Monday morning: fictional patients, last week's visits, today's schedule, next week's
bookings, a treatment plan, open appointment requests and a waitlist entry. Used by ``load_initial_data`` where
``settings.DEMO_CLINIC`` is on (``make run``), never in production.

Dates are relative to the day it is first loaded (the *anchor*, stored in ``core.DemoClinic``): a fresh install
never shows a stale demo, and once the marker row exists, running it again adds, moves and changes nothing.

* **Today** is the anchor day if the clinic is open that day, else the next open day (a Sunday or a holiday gives
  the next working day; no visit is ever put on a closed day).
* Today's visits (mornings and afternoons, spread over the three practitioners) have **statuses that follow the
  clock** at the first run, so nothing contradicts the calendar: a visit that ended more than 20 minutes ago is
  *completed* (checked out), one that has just ended, is under way or starts within 15 minutes is *arrived*, a
  later one is *confirmed*. Loaded during opening hours this is the Monday-morning mix; loaded before opening (or
  on a closed day) today's visits are all still to come; loaded after hours, today's visits are all done.
* Future visits are booked through the real services (``services.book_appointment``, ``plans.book_series``,
  ``waitlist.join_waitlist``, ``services.book_from_request``), so every rule and constraint holds. Visits already
  started cannot be booked (the desk needs an override for past times), so those rows are written directly, in
  the same transaction, inside the practitioners' hours and under the database's no-overlap constraints/triggers.
* **No e-mail for demo data.** Bookings are made before the patients' (``example.com``) addresses are recorded,
  so no confirmation for a booking nobody made is queued (``notifications.notify`` writes patient mail only for a
  patient with an address, and clinic mail only for online bookings, which the demo does not make); the requests'
  clinic-inbox notifications are removed in the same transaction. Later reminders for the demo's future visits go
  to ``example.com`` addresses, which are reserved and never delivered (RFC 2606).
* Urgency of the requests is computed by the triage rules from the answers (``appointments.services``).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.appointments import services as request_services
from acuclinic.appointments.models import AppointmentRequest, RequestNotification
from acuclinic.appointments.triage import QUESTIONS
from acuclinic.clinical.models import Patient
from acuclinic.core.models import DemoClinic
from acuclinic.core.timefmt import long_date

from . import plans, services, waitlist
from .availability import closed_days, within_availability
from .models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Location,
    Practitioner,
    Room,
    WorkingHours,
)

FIRST = "First visit with intake"
FOLLOW_UP = "Follow-up treatment"
ARRIVE_EARLY = timedelta(minutes=15)  # a patient this close to their time is in the waiting room
CHECK_OUT_LAG = timedelta(minutes=20)  # a visit that ended less long ago than this is not checked out yet


@dataclass(frozen=True)
class DemoPatient:
    key: str
    first_name: str
    last_name: str
    born: date
    phone_suffix: str  # +1 212 555-01xx: the range reserved for fiction
    address: str = ""
    insurance_carrier: str = ""
    insurance_member_id: str = ""
    has_medicare: bool = False

    @property
    def phone(self) -> str:
        return f"+1212555{self.phone_suffix}"

    @property
    def email(self) -> str:
        return f"{self.first_name.lower()}.{self.last_name.lower().replace(' ', '-')}@example.com"


# Fictional, like every demo person: the names say so, the numbers are 555-01xx, the addresses example.com.
PATIENTS = [
    DemoPatient(
        "peggy",
        "Margaret",
        "Examplewood",
        date(1944, 3, 14),
        "0111",
        "12 Sample Lane\nSpringfield, NY 10001",
        has_medicare=True,
    ),
    DemoPatient(
        "alex",
        "Alex",
        "Sampleton",
        date(1988, 7, 2),
        "0112",
        insurance_carrier="Example Health Plan",
        insurance_member_id="EHP-20417733",
    ),
    DemoPatient("jordan", "Jordan", "Fictional", date(1975, 11, 23), "0113"),
    DemoPatient(
        "taylor",
        "Taylor",
        "Testwell",
        date(1992, 5, 9),
        "0114",
        insurance_carrier="Sample Mutual",
        insurance_member_id="SM-5521907",
    ),
    DemoPatient(
        "robin",
        "Robin",
        "Mockridge",
        date(1969, 1, 30),
        "0115",
        "48 Placeholder Avenue\nSpringfield, NY 10002",
    ),
    DemoPatient("sam", "Sam", "Madeup", date(2001, 9, 17), "0116"),
    DemoPatient(
        "chris",
        "Chris",
        "Demoulin",
        date(1957, 6, 4),
        "0117",
        has_medicare=True,
        insurance_carrier="Example Medigap",
        insurance_member_id="EMG-3390012",
    ),
    DemoPatient(
        "pat",
        "Pat",
        "Specimen",
        date(1983, 2, 21),
        "0118",
        insurance_carrier="Example Health Plan",
        insurance_member_id="EHP-88120045",
    ),
    DemoPatient("lee", "Lee", "Dummyton", date(1979, 12, 8), "0119"),
    DemoPatient("jamie", "Jamie", "Notreal", date(1995, 4, 26), "0121"),
    DemoPatient(
        "quinn",
        "Quinn",
        "Pretendo",
        date(1964, 8, 13),
        "0122",
        insurance_carrier="Sample Mutual",
        insurance_member_id="SM-7734120",
    ),
]

# Practitioner (by name), room, visits: (time, type, patient key).
TODAY = [
    (
        "Casey Example",
        "Room 1",
        [
            ("09:00", FOLLOW_UP, "peggy"),
            ("10:30", FIRST, "jordan"),
            ("13:30", FOLLOW_UP, "alex"),
            ("16:00", FOLLOW_UP, "taylor"),
        ],
    ),
    (
        "Morgan Sample",
        "Room 2",
        [
            ("09:00", FIRST, "robin"),
            ("10:15", FOLLOW_UP, "sam"),
            ("11:00", FOLLOW_UP, "chris"),
            ("15:00", FOLLOW_UP, "quinn"),
        ],
    ),
    (
        "Riley Placeholder",
        "Room 3",
        [("09:30", FOLLOW_UP, "pat"), ("10:15", FIRST, "lee"), ("14:30", FOLLOW_UP, "jamie")],
    ),
]
# Last week: (n-th open day of the week before today, time, practitioner, type, patient, status).
LAST_WEEK = [
    (0, "09:00", "Casey Example", FIRST, "peggy", AppointmentStatus.COMPLETED),
    (0, "10:30", "Morgan Sample", FOLLOW_UP, "sam", AppointmentStatus.COMPLETED),
    (0, "11:00", "Riley Placeholder", FIRST, "pat", AppointmentStatus.COMPLETED),
    (1, "09:30", "Morgan Sample", FOLLOW_UP, "chris", AppointmentStatus.COMPLETED),
    (1, "11:00", "Casey Example", FIRST, "alex", AppointmentStatus.COMPLETED),
    (2, "10:00", "Riley Placeholder", FOLLOW_UP, "jamie", AppointmentStatus.COMPLETED),
    (2, "10:00", "Casey Example", FIRST, "taylor", AppointmentStatus.COMPLETED),
    (3, "09:00", "Morgan Sample", FOLLOW_UP, "quinn", AppointmentStatus.NO_SHOW),
    (4, "11:30", "Riley Placeholder", FOLLOW_UP, "quinn", AppointmentStatus.COMPLETED),
]
# Next week: (n-th open day from a week after today, time, practitioner, type, patient).
NEXT_WEEK = [
    (0, "09:00", "Casey Example", FOLLOW_UP, "peggy"),
    (0, "10:00", "Morgan Sample", FOLLOW_UP, "robin"),
    (1, "11:00", "Riley Placeholder", FOLLOW_UP, "lee"),
    (1, "09:30", "Casey Example", FOLLOW_UP, "jordan"),
    (2, "09:30", "Morgan Sample", FOLLOW_UP, "quinn"),
    (3, "12:00", "Morgan Sample", FOLLOW_UP, "sam"),  # Sam is on the waitlist for an earlier time
]
SERIES = (
    "alex",
    "Riley Placeholder",
    "16:00",
    [plans.Phase(plans.WEEKS, 1, 6)],
)  # weekly ×6, weekday afternoons
WAITLIST = ("sam", "Morgan Sample")
BOOKED_FROM_REQUEST = (2, "10:30", "Casey Example", FIRST)  # next week's open day, for the phoned-in request


# Intakes for today's first visits (builder.intakes): patient key, answers that differ, completed with consent?
DEMO_INTAKE_ANSWERS = {
    "pain.where": ["low-middle", "low-right"],
    "pain.start": "lifting",
    "pain.legs": "thigh",
    "pain.back_surgery": False,
    "pain.now": 6,
    "pain.average": 5,
    **{f"redflag.{question.key}": False for question in QUESTIONS},
    "tried.treatments": ["medicines", "physio"],
    "health.medications": "Ibuprofen when needed",
    "health.blood_thinners": "no",
    "health.pregnant": "not-applicable",
    "health.pacemaker": False,
    "health.needle_fear": "nervous",
    "coverage.medicare": False,
}
DEMO_INTAKES = [
    (
        "jordan",
        {
            "health.blood_thinners": "yes",
            "health.medications": "Apixaban 5 mg twice a day; metoprolol",
            "health.pacemaker": True,
            "pain.now": 7,
            "pain.average": 6,
        },
        True,
    ),
    ("robin", {"health.conditions": ["diabetes"], "pain.legs": "no", "pain.now": 4, "pain.average": 5}, True),
    ("lee", {"redflag.fever": True, "pain.start": "unknown"}, False),
]


def _answers(**yes) -> dict[str, bool]:
    return {question.key: question.key in yes for question in QUESTIONS}


# Appointment requests, as patients sent them: (name, submitted how long before now, state, fields, red flags).
REQUESTS = [
    {
        "key": "new",
        "before": timedelta(hours=14),
        "state": "new",
        "red_flags": _answers(),
        "fields": {
            "first_name": "Drew",
            "last_name": "Hypothetical",
            "date_of_birth": date(1990, 10, 5),
            "phone": "+12125550131",
            "email": "drew.hypothetical@example.com",
            "contact_method": "email",
            "patient_status": "new",
            "reason": "lower_back",
            "pain_duration": "chronic",
            "insurance_carrier": "Example Health Plan",
            "insurance_member_id": "EHP-10293847",
            "message": "Evenings or Saturday mornings suit me best.",
        },
    },
    {
        "key": "contacting",
        "before": timedelta(days=2, hours=3),
        "state": "contacting",
        "red_flags": _answers(),  # new pain at 60+ raises it to "see a doctor soon" (triage: age)
        "fields": {
            "first_name": "Avery",
            "last_name": "Imaginary",
            "date_of_birth": date(1961, 2, 11),
            "phone": "+12125550132",
            "email": "avery.imaginary@example.com",
            "contact_method": "phone",
            "patient_status": "new",
            "reason": "neck",
            "pain_duration": "acute",
            "has_medicare": True,
        },
    },
    {
        "key": "urgent",
        "before": timedelta(minutes=40),
        "state": "new",
        "red_flags": _answers(fever=True),  # fever with back pain: medical care today
        "fields": {
            "first_name": "Kim",
            "last_name": "Pretend",
            "date_of_birth": date(1986, 6, 19),
            "phone": "+12125550133",
            "email": "",
            "contact_method": "phone",
            "patient_status": "new",
            "reason": "lower_back",
            "pain_duration": "acute",
        },
    },
    {
        "key": "booked",
        "before": timedelta(days=3, hours=5),
        "state": "booked",
        "red_flags": _answers(),
        "fields": {
            "first_name": "Noel",
            "last_name": "Invented",
            "date_of_birth": date(1978, 3, 3),
            "phone": "+12125550134",
            "email": "",
            "contact_method": "phone",
            "patient_status": "new",
            "reason": "upper_mid_back",
            "pain_duration": "subacute",
            "insurance_carrier": "Sample Mutual",
            "insurance_member_id": "SM-4410982",
        },
    },
]


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def is_open(location: Location, day: date) -> bool:
    """Someone works at the location that weekday and it is not a closure day."""
    if closed_days(location, day, day):
        return False
    return WorkingHours.objects.filter(location=location, weekday=day.weekday()).exists()


def open_days(location: Location, first: date, count: int, *, limit: int = 21) -> list[date]:
    days, day = [], first
    while len(days) < count and day < first + timedelta(days=limit):
        if is_open(location, day):
            days.append(day)
        day += timedelta(days=1)
    return days


def demo_today(location: Location, anchor: date) -> date:
    return open_days(location, anchor, 1)[0]


class _Builder:
    def __init__(self, *, location: Location, now: datetime, today: date):
        self.location = location
        self.now = now
        self.today = today
        self.types = {t.name: t for t in AppointmentType.objects.filter(name__in=(FIRST, FOLLOW_UP))}
        self.practitioners = {p.name: p for p in Practitioner.objects.all()}
        self.rooms = {r.name: r for r in Room.objects.filter(location=location)}
        self.room_of = {name: self.rooms[room] for name, room, _visits in TODAY}
        self.patients: dict[str, Patient] = {}

    def start(self, day: date, at: str) -> datetime:
        return services.local_start(self.location, day, _clock(at))

    def patients_without_email(self):
        for item in PATIENTS:
            patient = Patient.objects.create(
                first_name=item.first_name,
                last_name=item.last_name,
                date_of_birth=item.born,
                phone=item.phone,
                address=item.address,
                insurance_carrier=item.insurance_carrier,
                insurance_member_id=item.insurance_member_id,
                has_medicare=item.has_medicare,
            )
            audit.record(actor=None, action=AuditEvent.Action.CREATE, obj=patient, detail="from demo data")
            self.patients[item.key] = patient

    def record_emails(self):
        for item in PATIENTS:
            Patient.objects.filter(pk=self.patients[item.key].pk).update(email=item.email)

    def visit(self, *, day: date, at: str, practitioner: str, type_name: str, patient: str, status=None):
        """One visit: booked through the service if it is still to come, written directly if it has started."""
        practitioner_obj = self.practitioners[practitioner]
        appointment_type = self.types[type_name]
        window = services.window_for(appointment_type, self.start(day, at))
        if not within_availability(
            practitioner=practitioner_obj, location=self.location, start=window.start, end=window.end
        ):
            return None  # e.g. an afternoon visit on a Saturday (mornings only): left out, not forced in
        room = self.room_of[practitioner]
        if window.start > self.now:
            appointment = services.book_appointment(
                patient=self.patients[patient],
                practitioner=practitioner_obj,
                room=room,
                appointment_type=appointment_type,
                start=window.start,
                now=self.now,
            )
            if window.start - self.now <= ARRIVE_EARLY:
                appointment = services.mark_arrived(appointment=appointment, by=None, now=self.now)
            return appointment
        if status is None:  # today's: the clock decides
            done = window.end <= self.now - CHECK_OUT_LAG
            status = AppointmentStatus.COMPLETED if done else AppointmentStatus.ARRIVED
        appointment = Appointment(
            patient=self.patients[patient],
            practitioner=practitioner_obj,
            room=room,
            location=self.location,
            appointment_type=appointment_type,
            start=window.start,
            end=window.end,
            blocked_until=window.blocked_until,
            status=status,
        )
        if status in (AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED):
            appointment.arrived_at = window.start - timedelta(minutes=6)
        if status == AppointmentStatus.COMPLETED:
            appointment.completed_at = min(window.end + timedelta(minutes=5), self.now)
        appointment.full_clean()
        appointment.save()
        audit.record(
            actor=None,
            action=AuditEvent.Action.CREATE,
            obj=appointment,
            detail=f"demo data: patient={appointment.patient_id} status={status}",
        )
        return appointment

    def last_week(self):
        days = open_days(self.location, self.today - timedelta(days=7), 5, limit=7)
        days = [d for d in days if d < self.today]
        for n, at, practitioner, type_name, patient, status in LAST_WEEK:
            if n < len(days):
                self.visit(
                    day=days[n],
                    at=at,
                    practitioner=practitioner,
                    type_name=type_name,
                    patient=patient,
                    status=status,
                )

    def today_schedule(self):
        for practitioner, _room, visits in TODAY:
            for at, type_name, patient in visits:
                self.visit(
                    day=self.today, at=at, practitioner=practitioner, type_name=type_name, patient=patient
                )

    def consents(self):
        """Patients treated before signed the consent at their first visit (on paper then, recorded here)."""
        from acuclinic.clinical.consent import services as consent_services
        from acuclinic.clinical.instruments.selectors import CONSENT_KEY, current_version

        version = current_version(key=CONSENT_KEY)
        if version is None:
            return
        first_visits = (
            Appointment.objects.filter(patient__in=self.patients.values(), status=AppointmentStatus.COMPLETED)
            .select_related("patient")
            .order_by("start")
        )
        signed = set()
        for visit in first_visits:
            if visit.patient_id in signed:
                continue
            signed.add(visit.patient_id)
            person = visit.patient
            consent_services.sign(
                patient=person,
                version=version,
                signed_name=f"{person.first_name} {person.last_name}",
                signed_date=visit.start.astimezone(self.location.zone).date(),
                agreed=True,
                ip_address=None,
                now=visit.start - timedelta(minutes=10),
            )

    def intakes(self):
        """Today's first visits as a Monday morning finds them: Jordan's intake is complete with two safety flags
        for Casey to acknowledge, Robin's complete, Lee's half done with an urgent warning sign for the desk."""
        from acuclinic.clinical.instruments.models import QuestionnaireResponse
        from acuclinic.clinical.instruments.selectors import CONSENT_KEY, INTAKE_KEY, current_version
        from acuclinic.clinical.intake import services as intake_services

        version = current_version(key=INTAKE_KEY)
        if version is None:
            return
        for key, changes, complete in DEMO_INTAKES:
            appointment = (
                Appointment.objects.filter(
                    patient=self.patients[key], start__date__gte=self.today - timedelta(days=1)
                )
                .order_by("start")
                .first()
            )
            if appointment is None:
                continue
            response, _ = QuestionnaireResponse.objects.get_or_create(
                appointment=appointment,
                instrument=version.instrument,
                defaults={"patient": appointment.patient, "version": version},
            )
            if response.episode_id is None:
                from acuclinic.clinical.episodes.services import open_episode

                response.episode = open_episode(patient=appointment.patient)
                response.save(update_fields=["episode"])
            answers = {
                **DEMO_INTAKE_ANSWERS,
                "pain.onset": (self.today - timedelta(weeks=26)).isoformat(),
                "coverage.medicare": appointment.patient.has_medicare,
                **changes,
            }
            steps = version.definition["item"]
            for index, step in enumerate(steps[: len(steps) if complete else 3]):
                links = {item["linkId"] for item in step["item"]}
                intake_services.save_step(
                    response=response,
                    index=index,
                    answers={link: value for link, value in answers.items() if link in links},
                    today=self.today,
                )
            if complete:
                person = appointment.patient
                intake_services.complete(
                    response=response,
                    consent_version=current_version(key=CONSENT_KEY),
                    signed_name=f"{person.first_name} {person.last_name}",
                    signed_date=self.today - timedelta(days=2),
                    agreed=True,
                    ip_address=None,
                    now=self.now - timedelta(days=2),
                )

    def next_week(self) -> list[date]:
        days = open_days(self.location, self.today + timedelta(days=7), 4)
        booked = {}
        for n, at, practitioner, type_name, patient in NEXT_WEEK:
            if n < len(days):
                booked[patient] = self.visit(
                    day=days[n], at=at, practitioner=practitioner, type_name=type_name, patient=patient
                )
        self.next_week_bookings = booked
        return days

    def series(self):
        patient, practitioner, at, pattern = SERIES
        # The first weekday the clinic is open after today: weekday afternoons (Saturdays are mornings only).
        first = next(
            d for d in open_days(self.location, self.today + timedelta(days=1), 10) if d.weekday() < 5
        )
        proposal = plans.propose_series(
            patient=self.patients[patient],
            practitioner=self.practitioners[practitioner],
            location=self.location,
            appointment_type=self.types[FOLLOW_UP],
            first_start=self.start(first, at),
            pattern=pattern,
            now=self.now,
        )
        # What the desk does: a visit that cannot be booked as asked (a holiday) takes the nearest alternative.
        chosen = [
            o if o.is_free else o.choose(o.alternatives[0]) for o in proposal if o.is_free or o.alternatives
        ]
        result = plans.book_series(
            patient=self.patients[patient],
            practitioner=self.practitioners[practitioner],
            location=self.location,
            appointment_type=self.types[FOLLOW_UP],
            pattern=pattern,
            occurrences=chosen,
            by=None,
            now=self.now,
        )
        if not result.booked:
            raise RuntimeError(f"the demo treatment plan could not be booked: {result.problem}")
        return result.plan

    def waitlist_entry(self):
        patient, practitioner = WAITLIST
        booking = self.next_week_bookings.get(patient)
        latest = booking.start.astimezone(self.location.zone).date() - timedelta(days=1) if booking else None
        return waitlist.join_waitlist(
            patient=self.patients[patient],
            appointment_type=self.types[FOLLOW_UP],
            location=self.location,
            practitioner=self.practitioners[practitioner],
            appointment=booking,
            earliest=self.today + timedelta(days=1),
            latest=latest or self.today + timedelta(days=7),
        )

    def requests(self, next_week_days: list[date]):
        made = {}
        for item in REQUESTS:
            fields = dict(item["fields"], consent_to_contact=True)
            submission = request_services.submit_appointment_request(
                fields=fields,
                red_flag_answers=item["red_flags"],
                preferred_times=[(self.today + timedelta(days=1), "morning")],
                today=self.today,
            )
            request = submission.request
            # Sent before the demo existed: no clinic-inbox e-mail about a request nobody sent.
            RequestNotification.objects.filter(request=request).delete()
            AppointmentRequest.objects.filter(pk=request.pk).update(submitted_at=self.now - item["before"])
            request.refresh_from_db()
            if item["state"] == "contacting":
                request_services.log_contact_attempt(
                    request=request,
                    by=None,
                    method="phone",
                    outcome="voicemail",
                    note="Left a message with our number and opening hours.",
                    at=self.now - timedelta(days=1, hours=2),
                )
            elif item["state"] == "booked":
                n, at, practitioner, type_name = BOOKED_FROM_REQUEST
                day = next_week_days[min(n, len(next_week_days) - 1)]
                services.book_from_request(
                    request=request,
                    by=None,
                    practitioner=self.practitioners[practitioner],
                    room=self.room_of[practitioner],
                    appointment_type=self.types[type_name],
                    start=self.start(day, at),
                    now=self.now,
                )
            made[item["key"]] = request
        return made


def ensure_demo_clinic(*, location: Location, now: datetime | None = None) -> tuple[DemoClinic | None, str]:
    """Add the demo clinic once. Returns (the marker, a sentence for the loader's output).

    All or nothing, and never in the way of ``make run``: if the demo's practitioners, rooms or visit types were
    changed so that its visits cannot be booked, nothing of it is kept and the sentence says why.
    """
    existing = DemoClinic.objects.filter(key="demo").first()
    if existing is not None:
        return existing, f"Demo clinic: in place since {long_date(existing.anchor_date)} (not changed)."
    if Patient.objects.exists() or Appointment.objects.exists() or AppointmentRequest.objects.exists():
        return None, "Demo clinic: not added — this database already has patients, appointments or requests."
    now = now or timezone.now()
    anchor = now.astimezone(location.zone).date()
    try:
        with transaction.atomic():
            today = demo_today(location, anchor)
            marker = DemoClinic.objects.create(anchor_date=anchor, today=today)
            _build(location=location, now=now, today=today)
    except (KeyError, IndexError, StopIteration, ValidationError, services.SlotTaken, RuntimeError) as exc:
        return (
            None,
            f"Demo clinic: not added — the demo practitioners, rooms or visit types were changed ({exc!r}).",
        )
    moved = "" if today == anchor else f" (closed on {long_date(anchor)}: “today” is the next open day)"
    return marker, (
        f"Demo clinic: {len(PATIENTS) + 1} fictional patients, today's schedule on {long_date(today)}{moved}, "
        "last week's visits, next week's bookings, a treatment plan, open requests (one urgent), a waitlist entry."
    )


def _build(*, location: Location, now: datetime, today: date) -> None:
    builder = _Builder(location=location, now=now, today=today)
    builder.patients_without_email()
    builder.last_week()
    builder.consents()
    builder.today_schedule()
    builder.intakes()
    next_week_days = builder.next_week()
    builder.series()
    builder.waitlist_entry()
    builder.requests(next_week_days)
    builder.record_emails()

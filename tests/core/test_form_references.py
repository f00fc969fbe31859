"""Every ``aria-describedby``, ``aria-labelledby``, ``aria-controls`` and ``<label for>`` on every screen points at
an element that exists on that page (WCAG 1.3.1, 4.1.2): a reference to a missing id is silently ignored by screen
readers, so a hint ("as MM/DD/YYYY") or an error is never read out.

PAGES is the list of screens walked, public and back office, with their forms blank and, where a form can be
sent back with errors, with errors too. A new screen is one line here: (name, who, method, url, data), where
``url`` and ``data`` are callables of the ``site`` fixture (a clinic with a booking, a request, a patient, …).
"""

from dataclasses import dataclass
from datetime import time, timedelta
from functools import partial
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from acuclinic.scheduling import waitlist
from acuclinic.scheduling.booking_views import manage_token
from acuclinic.scheduling.services import book_appointment, local_start
from tests.factories import make_appointment_request, make_user
from tests.scheduling.conftest import make_clinic

pytestmark = pytest.mark.django_db

REFERENCE_ATTRIBUTES = (
    "aria-describedby",
    "aria-labelledby",
    "aria-controls",
    "aria-owns",
    "aria-errormessage",
)


class _References(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.references: list[tuple[str, str, str]] = []  # (tag and its id/name, attribute, id referred to)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs.items() if k in ('id', 'name', 'class'))}>"
        for name in REFERENCE_ATTRIBUTES:
            for target in (attrs.get(name) or "").split():
                self.references.append((where, name, target))
        if tag == "label" and attrs.get("for") is not None:
            self.references.append((where, "for", attrs["for"]))

    handle_startendtag = handle_starttag


def dangling_references(html: str) -> list[str]:
    """Each reference on the page to an id that no element on the page has."""
    parser = _References()
    parser.feed(html)
    parser.close()
    return sorted(
        {
            f"{where} {name}={target!r}"
            for where, name, target in parser.references
            if target not in parser.ids
        }
    )


def test_the_checker_finds_a_missing_hint():
    page = (
        '<label for="id_x">X</label><p id="id_x-hint">as MM/DD/YYYY</p>'
        '<input id="id_x" aria-describedby="id_x_helptext">'
    )
    assert dangling_references(page) == ["<input id='id_x'> aria-describedby='id_x_helptext'"]
    assert (
        dangling_references('<label for="a">A</label><input id="a" aria-describedby="h"><p id="h"></p>') == []
    )


# --- the site to walk ------------------------------------------------------------------------------------------


@dataclass
class Site:
    clinic: object
    appointment: object
    token: str
    offer_token: str
    request: object
    desk: object
    superuser: object

    @property
    def choice(self):
        return f"location={self.clinic.location.pk}&type={self.clinic.follow_up.pk}&practitioner=any"

    @property
    def day(self):
        return self.appointment.start.astimezone(self.clinic.location.zone).date()


@pytest.fixture
def site(db, django_capture_on_commit_callbacks):
    clinic = make_clinic(patients=4, working_hours=True)
    clinic.practitioner.locations.add(clinic.location)
    day = timezone.localdate(timezone=clinic.location.zone) + timedelta(days=4)
    appointment = book_appointment(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.follow_up,
        start=local_start(clinic.location, day, time(10)),
    )
    # A waitlist offer: a patient waits, a booking in their window is cancelled, its time is offered to them.
    freed = book_appointment(
        patient=clinic.other_patient,
        practitioner=clinic.practitioner,
        room=clinic.room,
        appointment_type=clinic.first_visit,
        start=local_start(clinic.location, day, time(14)),
    )
    entry = waitlist.join_waitlist(
        patient=make_patient_3(clinic),
        appointment_type=clinic.first_visit,
        location=clinic.location,
        earliest=day - timedelta(days=1),
        latest=day + timedelta(days=7),
    )
    from acuclinic.scheduling.services import cancel_appointment

    with django_capture_on_commit_callbacks(execute=True):
        cancel_appointment(appointment=freed, by=None, reason="test")
    entry.refresh_from_db()
    return Site(
        clinic=clinic,
        appointment=appointment,
        token=manage_token(appointment),
        offer_token=waitlist.offer_token(entry),
        request=make_appointment_request(),
        desk=make_user("desk-refs", "Front desk"),
        superuser=make_user("root-refs", is_superuser=True, is_staff=True),
    )


def make_patient_3(clinic):
    from tests.scheduling.conftest import make_patient

    return make_patient(3)


def _details(s):
    return f"/book/details/?{s.choice}&start={s.appointment.start.isoformat().replace('+', '%2B')}"


def _details_with_errors(s):
    return {
        "location": s.clinic.location.pk,
        "type": s.clinic.follow_up.pk,
        "practitioner": "any",
        "start": s.appointment.start.isoformat(),
        "first_name": "",
        "date_of_birth": "x",
    }


# (name, who, method, url(site), data(site) or None); who: "anonymous", "desk" (front desk) or "superuser".
PAGES = [
    # public
    ("request form", "anonymous", "get", lambda s: "/request-appointment/", None),
    (
        "request form with errors",
        "anonymous",
        "post",
        lambda s: "/request-appointment/",
        lambda s: {"first_name": ""},
    ),
    ("search", "anonymous", "get", lambda s: "/search/?q=back+pain", None),
    ("practitioners", "anonymous", "get", lambda s: "/practitioners/", None),
    ("practitioner", "anonymous", "get", lambda s: f"/practitioners/{s.clinic.practitioner.slug}/", None),
    ("book: location", "anonymous", "get", lambda s: "/book/", None),
    ("book: type", "anonymous", "get", lambda s: f"/book/?location={s.clinic.location.pk}", None),
    (
        "book: practitioner",
        "anonymous",
        "get",
        lambda s: f"/book/?location={s.clinic.location.pk}&type={s.clinic.follow_up.pk}",
        None,
    ),
    ("book: day", "anonymous", "get", lambda s: f"/book/?{s.choice}", None),
    ("book: time", "anonymous", "get", lambda s: f"/book/?{s.choice}&day={s.day.isoformat()}", None),
    ("book: details", "anonymous", "get", _details, None),
    (
        "book: details with errors",
        "anonymous",
        "post",
        _details,
        _details_with_errors,
    ),
    ("booking: manage", "anonymous", "get", lambda s: f"/book/manage/{s.token}/", None),
    (
        "booking: cancel with errors",
        "anonymous",
        "post",
        lambda s: f"/book/manage/{s.token}/",
        lambda s: {"reason": "nonsense"},
    ),
    (
        "booking: earlier with errors",
        "anonymous",
        "post",
        lambda s: f"/book/manage/{s.token}/earlier/",
        lambda s: {"earliest": "not a date"},
    ),
    ("booking: move", "anonymous", "get", lambda s: f"/book/manage/{s.token}/move/", None),
    ("booking: move, times", "anonymous", "get", lambda s: f"/book/manage/{s.token}/move/?day={s.day}", None),
    ("waitlist offer", "anonymous", "get", lambda s: f"/waitlist/offer/{s.offer_token}/", None),
    # back office
    ("inbox", "desk", "get", lambda s: "/admin/appointment-requests/", None),
    ("request detail", "desk", "get", lambda s: f"/admin/appointment-requests/{s.request.pk}/", None),
    ("schedule: day", "desk", "get", lambda s: "/admin/schedule/", None),
    ("schedule: week", "desk", "get", lambda s: "/admin/schedule/?view=week", None),
    ("book at the desk", "desk", "get", lambda s: "/admin/schedule/book/", None),
    (
        "book at the desk with errors",
        "desk",
        "post",
        lambda s: "/admin/schedule/book/",
        lambda s: {"date": "x"},
    ),
    ("appointment", "desk", "get", lambda s: f"/admin/schedule/appointments/{s.appointment.pk}/", None),
    ("treatment plan", "desk", "get", lambda s: "/admin/treatment-plans/new/", None),
    (
        "treatment plan with errors",
        "desk",
        "post",
        lambda s: "/admin/treatment-plans/new/",
        lambda s: {"action": "preview"},
    ),
    ("waitlist", "desk", "get", lambda s: "/admin/waitlist/", None),
    ("patients", "desk", "get", lambda s: "/admin/patients/", None),
    ("patient", "desk", "get", lambda s: f"/admin/patients/{s.clinic.patient.pk}/", None),
    ("staff home", "superuser", "get", lambda s: "/admin/", None),
    ("settings: clinic", "superuser", "get", lambda s: "/admin/settings/core/clinicsettings/", None),
    (
        "settings: scheduling",
        "superuser",
        "get",
        lambda s: "/admin/settings/scheduling/schedulingsettings/",
        None,
    ),
    ("audit log", "superuser", "get", lambda s: "/admin/audit-log/", None),
    ("calendar feeds", "superuser", "get", lambda s: "/admin/calendar-feeds/", None),
    ("questionnaires", "superuser", "get", lambda s: "/admin/questionnaires/", None),
    ("questionnaire: intake", "superuser", "get", lambda s: "/admin/questionnaires/intake/", None),
    ("questionnaire: switch on", "superuser", "get", lambda s: "/admin/questionnaires/peg/switch/", None),
    (
        "questionnaire: switch on with errors",
        "superuser",
        "post",
        lambda s: "/admin/questionnaires/peg/switch/",
        lambda s: {"active": "on"},
    ),
    ("consent text", "superuser", "get", lambda s: "/admin/questionnaires/consent/text/", None),
    (
        "consent text with errors",
        "superuser",
        "post",
        lambda s: "/admin/questionnaires/consent/text/",
        lambda s: {"text": ""},
    ),
    ("add an instrument", "superuser", "get", lambda s: "/admin/questionnaires/new/", None),
    (
        "add an instrument with errors",
        "superuser",
        "post",
        lambda s: "/admin/questionnaires/new/",
        lambda s: {"key": "Not a slug", "questionnaire_json": "{not json"},
    ),
]


@pytest.mark.parametrize(("name", "who", "method", "url", "data"), PAGES, ids=[p[0] for p in PAGES])
def test_every_reference_on_every_screen_points_at_an_element(site, name, who, method, url, data):
    cache.clear()
    client = Client()
    if who != "anonymous":
        client.force_login(site.desk if who == "desk" else site.superuser)
    target = url(site)
    send = client.get if method == "get" else partial(client.post, data=data(site))
    response = send(target, follow=True)
    assert response.status_code in (200, 400), (target, response.status_code)
    if method == "post":
        assert response.status_code == 400, f"{name}: expected the form back with errors"
    assert "<form" in response.text or "<label" in response.text or method == "get", name
    assert dangling_references(response.text) == [], f"{name} ({target})"

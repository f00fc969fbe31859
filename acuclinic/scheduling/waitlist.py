"""The waitlist: patients who want an earlier (or any) slot; a freed slot is offered to the first who fits.

- ``join_waitlist``: the desk adds someone, or a patient asks for an earlier slot from their booking's page
  (``request_earlier_slot`` with ``EarlierSlotForm``).
- ``offer_freed_slot``: called after a cancellation commits. The first waiting entry that matches (type, location,
  practitioner or any, date range, earlier than their current booking, the patient free then) gets the offer:
  status OFFERED for ``SchedulingSettings.waitlist_offer_hours``, and an e-mail row in the outbox with a signed link.
- ``accept_offer``: books the slot through ``services.book_appointment(online=True)`` (and cancels the booking it
  replaces); if the slot was taken meanwhile the entry goes back to waiting.
- ``expire_offers``: the periodic job; an unanswered offer expires and the slot passes to the next person.

Exactly one offer per slot: offers for a practitioner are made one at a time (a row lock on the practitioner on
PostgreSQL; SQLite's BEGIN IMMEDIATE serialises every writer), an entry is claimed with a conditional UPDATE
(``status = waiting``), and a slot already under offer is not offered again.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent
from acuclinic.accounts.patient_links import Purpose, make_token

from . import notifications, services
from .models import (
    Appointment,
    AppointmentNotification,
    AppointmentStatus,
    Location,
    Practitioner,
    Room,
    SchedulingSettings,
    WaitlistEntry,
)

logger = logging.getLogger(__name__)

MOVED_EARLIER_REASON = "moved earlier from the waitlist"
Status = WaitlistEntry.Status


def offer_hours() -> int:
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    return (SchedulingSettings.for_site(site) if site else SchedulingSettings()).waitlist_offer_hours


def offer_token(entry: WaitlistEntry) -> str:
    return make_token(purpose=Purpose.WAITLIST_OFFER, object_id=entry.pk)


def offer_url(entry: WaitlistEntry) -> str:
    """The link for the offer e-mail (the sending task builds the message; this is the address to put in it)."""
    base = getattr(settings, "WAGTAILADMIN_BASE_URL", "").rstrip("/")
    return base + reverse("waitlist_offer", kwargs={"token": offer_token(entry)})


# --- joining --------------------------------------------------------------------------------------------------


def join_waitlist(
    *,
    patient,
    appointment_type,
    location: Location,
    earliest: date,
    latest: date,
    practitioner: Practitioner | None = None,
    appointment: Appointment | None = None,
    by=None,
) -> WaitlistEntry:
    errors = {}
    if latest < earliest:
        errors["latest"] = "The last day cannot be before the first."
    if appointment is not None:
        if appointment.patient_id != patient.pk:
            errors["appointment"] = "That booking is another patient's."
        elif not appointment.holds_time:
            errors["appointment"] = "That booking is cancelled."
    if practitioner is not None and not appointment_type.practitioners.filter(pk=practitioner.pk).exists():
        errors["practitioner"] = "This practitioner does not offer this appointment type."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        open_entry = WaitlistEntry.objects.filter(
            patient=patient,
            appointment_type=appointment_type,
            location=location,
            appointment=appointment,
            status__in=(Status.WAITING, Status.OFFERED),
        ).first()
        if open_entry is not None:
            return open_entry  # asking twice keeps one place in the queue
        entry = WaitlistEntry.objects.create(
            patient=patient,
            appointment_type=appointment_type,
            location=location,
            practitioner=practitioner,
            appointment=appointment,
            earliest=earliest,
            latest=latest,
            created_by=by if getattr(by, "is_authenticated", False) else None,
        )
        audit.record(
            actor=by,
            action=AuditEvent.Action.CREATE,
            obj=entry,
            detail=(
                f"patient={patient.pk} type={appointment_type.pk} location={location.pk}"
                f"{f' practitioner={practitioner.pk}' if practitioner else ''}"
                f"{f' appointment={appointment.pk}' if appointment else ''}"
            ),
        )
    return entry


def request_earlier_slot(
    *, appointment: Appointment, earliest: date, latest: date | None = None, any_practitioner=False
):
    """A patient's "earlier slot, please" from their booking's manage page (no sign-in: ``by`` is None)."""
    booked_day = appointment.local_start.date()
    latest = min(latest or booked_day, booked_day)
    if earliest > latest:
        raise ValidationError({"earliest": "Choose a day before your current appointment."})
    return join_waitlist(
        patient=appointment.patient,
        appointment_type=appointment.appointment_type,
        location=appointment.location,
        practitioner=None if any_practitioner else appointment.practitioner,
        appointment=appointment,
        earliest=earliest,
        latest=latest,
    )


class EarlierSlotForm(forms.Form):
    """For the public manage page: ``request_earlier_slot(appointment=…, **form.cleaned_data)``."""

    earliest = forms.DateField(
        label="From",
        input_formats=["%m/%d/%Y"],
        help_text="The first day you could come, as MM/DD/YYYY.",
        error_messages={"invalid": "Enter a date as MM/DD/YYYY, e.g. 06/03/2030."},
    )
    any_practitioner = forms.BooleanField(
        label="Any practitioner is fine", required=False, help_text="Otherwise only your practitioner."
    )

    def __init__(self, *args, appointment: Appointment, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self.today = today or timezone.localdate(timezone=appointment.location.zone)

    def clean_earliest(self):
        earliest = self.cleaned_data["earliest"]
        if earliest < self.today:
            raise ValidationError("Choose today or a later day.")
        if earliest >= self.appointment.local_start.date():
            raise ValidationError("Choose a day before your current appointment.")
        return earliest


# --- offering ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreedSlot:
    start: datetime
    until: datetime  # the end of the time it frees (blocked_until)
    practitioner_id: int
    room_id: int
    location_id: int
    appointment_type_id: int


def offer_freed_slot(*, appointment: Appointment, now: datetime | None = None) -> WaitlistEntry | None:
    """Offer a cancelled appointment's time to the first waiting patient who fits; the entry offered, or None.

    Call it after the cancellation has committed (``services.cancel_appointment`` does, with on_commit).
    """
    slot = FreedSlot(
        appointment.start,
        appointment.blocked_until,
        appointment.practitioner_id,
        appointment.room_id,
        appointment.location_id,
        appointment.appointment_type_id,
    )
    return offer_slot(slot=slot, now=now)


def offer_slot(
    *, slot: FreedSlot, now: datetime | None = None, exclude: tuple[int, ...] = ()
) -> WaitlistEntry | None:
    now = now or timezone.now()
    if slot.start <= now:
        return None
    with transaction.atomic():
        # One offer-maker per practitioner at a time (PostgreSQL); SQLite already has the single write lock.
        practitioner = Practitioner.objects.select_for_update().get(pk=slot.practitioner_id)
        room = Room.objects.select_related("location").get(pk=slot.room_id)
        if _under_offer(slot):
            return None
        candidates = (
            WaitlistEntry.objects.select_related("appointment_type", "appointment", "patient", "location")
            .filter(
                status=Status.WAITING,
                location_id=slot.location_id,
                appointment_type_id=slot.appointment_type_id,
            )
            .filter(Q(practitioner__isnull=True) | Q(practitioner_id=slot.practitioner_id))
            .exclude(pk__in=exclude)
            .order_by("created_at", "pk")
        )
        expires = now + timedelta(hours=offer_hours())
        for entry in candidates:
            if not _fits(entry=entry, slot=slot, practitioner=practitioner, room=room, now=now):
                continue
            claimed = WaitlistEntry.objects.filter(pk=entry.pk, status=Status.WAITING).update(
                status=Status.OFFERED,
                offered_start=slot.start,
                offered_practitioner_id=slot.practitioner_id,
                offered_room_id=slot.room_id,
                offer_expires_at=expires,
            )
            if not claimed:
                continue  # taken by a concurrent offer a moment ago
            entry.refresh_from_db()
            if entry.patient.email:
                notification = AppointmentNotification.objects.create(
                    waitlist_entry=entry, kind=AppointmentNotification.Kind.PATIENT_WAITLIST_OFFER
                )
                notifications._enqueue_on_commit(notification)
            audit.record(
                actor=None,
                action=AuditEvent.Action.CHANGE,
                obj=entry,
                detail=(
                    f"status=offered practitioner={slot.practitioner_id} room={slot.room_id} "
                    f"start={slot.start:%Y-%m-%dT%H:%MZ}"
                ),
            )
            logger.info("waitlist offer made", extra={"waitlist_entry": entry.pk})
            return entry
    return None


def _under_offer(slot: FreedSlot) -> bool:
    """An offer still open for a time overlapping this one with the same practitioner or room."""
    open_offers = (
        WaitlistEntry.objects.filter(status=Status.OFFERED, offered_start__lt=slot.until)
        .filter(Q(offered_practitioner_id=slot.practitioner_id) | Q(offered_room_id=slot.room_id))
        .select_related("appointment_type")
    )
    return any(
        services.window_for(e.appointment_type, e.offered_start).blocked_until > slot.start
        for e in open_offers
    )


def _replaces_booked_visit(entry: WaitlistEntry, current: Appointment | None) -> bool:
    """Whether taking the offer moves a visit the patient holds (same type) rather than booking a new one."""
    return (
        current is not None
        and current.status in services.OPEN_STATUSES
        and current.appointment_type_id == entry.appointment_type_id
    )


def _fits(*, entry: WaitlistEntry, slot: FreedSlot, practitioner, room, now) -> bool:
    appointment_type = entry.appointment_type
    window = services.window_for(appointment_type, slot.start)
    local_day = slot.start.astimezone(room.location.zone).date()
    if not entry.earliest <= local_day <= entry.latest:
        return False
    current = entry.appointment
    if current is not None and (not current.holds_time or slot.start >= current.start):
        return False  # only earlier than the booking they have (a cancelled one: nothing to move)
    try:
        # The rules an online booking must meet (notice, horizon, hours, licence, type offered; new patients only
        # for a new booking: an earlier time for a visit already booked is a move).
        services.check_bookable(
            patient=entry.patient,
            practitioner=practitioner,
            room=room,
            location=room.location,
            appointment_type=appointment_type,
            window=window,
            online=True,
            now=now,
            new_booking=not _replaces_booked_visit(entry, current),
        )
    except ValidationError:
        return False
    overlapping = Appointment.objects.overlapping(window.start, window.blocked_until)
    if current is not None:
        overlapping = overlapping.exclude(pk=current.pk)  # the booking they would give up
    return not overlapping.filter(
        Q(practitioner_id=slot.practitioner_id) | Q(room_id=slot.room_id) | Q(patient_id=entry.patient_id)
    ).exists()


# --- answering --------------------------------------------------------------------------------------------------


class OfferNotOpen(Exception):
    """The offer was already taken up, withdrawn or has expired."""


def accept_offer(*, entry: WaitlistEntry, now: datetime | None = None) -> Appointment:
    """Book the offered slot for the patient (online rules), cancelling the later booking it replaces.

    Raises ``OfferNotOpen`` when there is no open offer, and ``services.SlotTaken`` when the time was taken
    meanwhile — the entry is then back on the waitlist (WAITING), in its old place.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            entry = (
                WaitlistEntry.objects.select_for_update(of=("self",))
                .select_related(
                    "patient", "appointment_type", "appointment", "offered_practitioner", "offered_room"
                )
                .get(pk=entry.pk)
            )
            if (
                entry.status != Status.OFFERED
                or entry.offer_expires_at is None
                or entry.offer_expires_at <= now
            ):
                raise OfferNotOpen
            room = Room.objects.select_related("location").get(pk=entry.offered_room_id)
            old = entry.appointment
            moving = _replaces_booked_visit(entry, old)
            if old is not None and old.holds_time:
                # First, so that a new time overlapping the old one is not refused as the patient's own clash;
                # if the booking then fails, the rollback restores the old appointment.
                services.cancel_appointment(
                    appointment=old, by=None, reason=MOVED_EARLIER_REASON, online=True
                )
            appointment = services.book_appointment(
                patient=entry.patient,
                practitioner=entry.offered_practitioner,
                room=room,
                appointment_type=entry.appointment_type,
                start=entry.offered_start,
                online=True,
                now=now,
                new_booking=not moving,
            )
            entry.status = Status.BOOKED
            entry.save(update_fields=["status"])
            audit.record(
                actor=None,
                action=AuditEvent.Action.CHANGE,
                obj=entry,
                detail=f"status=booked appointment={appointment.pk}{f' replaces={old.pk}' if old else ''}",
            )
    except (services.SlotTaken, ValidationError):
        _back_to_waiting(entry)
        raise
    logger.info("waitlist offer accepted", extra={"waitlist_entry": entry.pk, "appointment": appointment.pk})
    return appointment


def decline_offer(*, entry: WaitlistEntry, now: datetime | None = None) -> None:
    """The patient does not want it: the entry stays waiting and the slot goes to the next person."""
    now = now or timezone.now()
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != Status.OFFERED:
            raise OfferNotOpen
        slot = _slot_of(entry)
        _back_to_waiting(entry)
    offer_slot(slot=slot, now=now, exclude=(entry.pk,))


def _back_to_waiting(entry: WaitlistEntry) -> None:
    with transaction.atomic():
        changed = WaitlistEntry.objects.filter(pk=entry.pk, status=Status.OFFERED).update(
            status=Status.WAITING,
            offered_start=None,
            offered_practitioner=None,
            offered_room=None,
            offer_expires_at=None,
        )
        if changed:
            audit.record(actor=None, action=AuditEvent.Action.CHANGE, obj=entry, detail="status=waiting")


def _slot_of(entry: WaitlistEntry) -> FreedSlot:
    window = services.window_for(entry.appointment_type, entry.offered_start)
    return FreedSlot(
        entry.offered_start,
        window.blocked_until,
        entry.offered_practitioner_id,
        entry.offered_room_id,
        entry.location_id,
        entry.appointment_type_id,
    )


def expire_offers(*, now: datetime | None = None) -> int:
    """Expire every unanswered offer past its time and pass each slot to the next person; how many expired."""
    now = now or timezone.now()
    expired = 0
    for pk in WaitlistEntry.objects.filter(status=Status.OFFERED, offer_expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            entry = (
                WaitlistEntry.objects.select_for_update(of=("self",))
                .select_related("appointment_type")
                .filter(pk=pk, status=Status.OFFERED, offer_expires_at__lte=now)
                .first()
            )
            if entry is None:
                continue  # accepted or expired by another run meanwhile
            slot = _slot_of(entry) if entry.offered_practitioner_id and entry.offered_room_id else None
            entry.status = Status.EXPIRED
            entry.save(update_fields=["status"])
            audit.record(actor=None, action=AuditEvent.Action.CHANGE, obj=entry, detail="status=expired")
        expired += 1
        if slot is not None:
            offer_slot(slot=slot, now=now, exclude=(entry.pk,))
    return expired


def withdraw(*, entry: WaitlistEntry, by) -> WaitlistEntry:
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status not in (Status.WAITING, Status.OFFERED):
            return entry
        slot = _slot_of(entry) if entry.status == Status.OFFERED else None
        entry.status = Status.WITHDRAWN
        entry.save(update_fields=["status"])
        audit.record(actor=by, action=AuditEvent.Action.CHANGE, obj=entry, detail="status=withdrawn")
    if slot is not None:
        offer_slot(slot=slot, exclude=(entry.pk,))
    return entry


def after_cancellation(appointment_pk: int) -> None:
    """The on_commit hook of a cancellation: offer the freed time. A failure must not break the cancellation,
    which is already committed; the next cancellation or expiry run carries on."""
    try:
        appointment = Appointment.objects.get(pk=appointment_pk, status=AppointmentStatus.CANCELLED)
        offer_freed_slot(appointment=appointment)
    except Exception:
        logger.exception("waitlist offer failed", extra={"appointment": appointment_pk})

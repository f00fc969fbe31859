"""Writes for appointment requests. Every change to a request goes through a function here."""

import hashlib
import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from acuclinic.accounts import audit
from acuclinic.accounts.models import AuditEvent

from . import triage
from .models import AppointmentRequest, ContactAttempt, PreferredTime, RequestNotification

logger = logging.getLogger(__name__)

# Per client address; APPOINTMENTS_RATE_LIMIT_PER_HOUR in the environment (default 10), read at start-up.
RATE_LIMIT_PER_HOUR = settings.APPOINTMENTS_RATE_LIMIT_PER_HOUR
# A request is ended as "unreachable" only after this many logged contact attempts.
UNREACHABLE_MIN_ATTEMPTS = 3


@dataclass(frozen=True)
class Submission:
    request: AppointmentRequest
    created: bool  # False when the same form token was submitted before (refresh, double click)


def client_key(ip: str) -> str:
    """A keyed hash of the address: enough to rate-limit, useless to anyone who reads the cache."""
    return hmac.new(settings.SECRET_KEY.encode(), (ip or "unknown").encode(), hashlib.sha256).hexdigest()[:32]


def over_rate_limit(*, ip: str) -> bool:
    """Count this submission against the address; True once it exceeds the hourly allowance."""
    key = f"appointments:rate:{client_key(ip)}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, 60 * 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, 60 * 60)
        count = 1
    return count > RATE_LIMIT_PER_HOUR


def submit_appointment_request(
    *,
    fields: dict,
    red_flag_answers: dict[str, bool],
    preferred_times: list,
    today,
    token: str = "",
    channel: str = "web",
    spam_reason: str = "",
) -> Submission:
    """Store a request (spam included, flagged) and queue its notifications for after the commit.

    The patient is told "received" only after this returns: the row is committed by then.
    """
    if token:
        existing = AppointmentRequest.objects.filter(submission_token=token).first()
        if existing:
            return Submission(existing, created=False)
    result = triage.evaluate(
        answers=red_flag_answers,
        date_of_birth=fields.get("date_of_birth"),
        pain_is_new=fields.get("pain_duration") in ("acute", "subacute"),
        today=today,
    )
    try:
        with transaction.atomic():
            request = _create_with_unique_reference(
                fields=fields,
                red_flag_answers=red_flag_answers,
                result=result,
                token=token or None,
                channel=channel,
                spam_reason=spam_reason,
            )
            PreferredTime.objects.bulk_create(
                PreferredTime(request=request, date=wanted, time_of_day=time_of_day)
                for wanted, time_of_day in preferred_times
            )
            if not request.is_spam:
                kinds = [RequestNotification.Kind.CLINIC]
                if request.wants_email_acknowledgement and request.email:
                    kinds.append(RequestNotification.Kind.PATIENT_ACK)
                for kind in kinds:
                    notification = RequestNotification.objects.create(request=request, kind=kind)
                    transaction.on_commit(lambda pk=notification.pk: _enqueue_notification(pk))
    except IntegrityError:
        # A concurrent submission of the same token won the race: show that one.
        if token:
            existing = AppointmentRequest.objects.filter(submission_token=token).first()
            if existing:
                return Submission(existing, created=False)
        raise
    # Reference and urgency only: no name, no answers, nothing of the patient's health.
    logger.info(
        "appointment request stored",
        extra={
            "reference": request.reference,
            "urgency": request.urgency,
            "spam": request.is_spam,
            "channel": channel,
        },
    )
    return Submission(request, created=True)


def _create_with_unique_reference(*, fields, red_flag_answers, result, token, channel, spam_reason):
    # Spam is stored ended, out of sight, except an emergency or urgent-today request: that one stays open, in the
    # inbox and the urgent banner, marked “possible spam” — a patient in trouble who filled the form in a hurry
    # (or with autofill) must never be hidden (issue 10).
    ends_as_spam = bool(spam_reason) and result.urgency < triage.Urgency.URGENT_TODAY
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return AppointmentRequest.objects.create(
                    **fields,
                    submission_token=token,
                    channel=channel,
                    red_flag_answers=red_flag_answers,
                    urgency=result.urgency.key,
                    urgency_rank=int(result.urgency),
                    urgency_reasons=list(result.reasons),
                    is_spam=bool(spam_reason),
                    spam_reason=spam_reason,
                    status=AppointmentRequest.Status.ENDED if ends_as_spam else AppointmentRequest.Status.NEW,
                    end_reason=AppointmentRequest.EndReason.SPAM if ends_as_spam else "",
                    ended_at=timezone.now() if ends_as_spam else None,
                )
        except IntegrityError as exc:
            if (
                "reference" not in str(exc).lower()
                or token
                and AppointmentRequest.objects.filter(submission_token=token).exists()
            ):
                raise
    raise RuntimeError("could not allocate a unique reference")


def _enqueue_notification(notification_pk: int) -> None:
    from .tasks import send_request_notification

    send_request_notification.enqueue(notification_pk)


# --- the front desk --------------------------------------------------------------------------------------------


@transaction.atomic
def log_contact_attempt(
    *, request: AppointmentRequest, by, method: str, outcome: str, note: str = "", at=None
):
    request = AppointmentRequest.objects.select_for_update().get(pk=request.pk)
    attempt = ContactAttempt.objects.create(
        request=request, by=by, method=method, outcome=outcome, note=note, at=at or timezone.now()
    )
    if request.status == AppointmentRequest.Status.NEW:
        request.status = AppointmentRequest.Status.CONTACTING
        request.save(update_fields=["status"])
    _audit_change(
        by=by, request=request, detail=f"contact attempt #{attempt.pk} logged ({method}, {outcome})"
    )
    return attempt


@transaction.atomic
def end_request(*, request: AppointmentRequest, by, reason: str) -> AppointmentRequest:
    request = AppointmentRequest.objects.select_for_update().get(pk=request.pk)
    if reason not in AppointmentRequest.EndReason.values:
        raise ValueError(f"unknown end reason {reason!r}")
    if request.status == AppointmentRequest.Status.ENDED:
        raise ValidationError(
            "This request has already ended. Reopen it first to change how it ended.", code="already_ended"
        )
    if reason == AppointmentRequest.EndReason.UNREACHABLE:
        attempts = request.contact_attempts.count()
        if attempts < UNREACHABLE_MIN_ATTEMPTS:
            raise ValidationError(
                {
                    "reason": ValidationError(
                        f"Log at least {UNREACHABLE_MIN_ATTEMPTS} contact attempts before ending a "
                        f"request as unreachable ({attempts} so far).",
                        code="too_few_attempts",
                    )
                }
            )
    request.status = AppointmentRequest.Status.ENDED
    request.end_reason = reason
    request.ended_at = timezone.now()
    request.is_spam = reason == AppointmentRequest.EndReason.SPAM
    request.save(update_fields=["status", "end_reason", "ended_at", "is_spam"])
    _audit_change(by=by, request=request, detail=f"ended ({reason})")
    return request


@transaction.atomic
def end_as_booked(*, request: AppointmentRequest, by, appointment) -> AppointmentRequest:
    """End the request as "booked" once its appointment exists (scheduling.services.book_from_request calls this
    in the booking's transaction), recording which appointment it became."""
    request = end_request(request=request, by=by, reason=AppointmentRequest.EndReason.BOOKED)
    _audit_change(by=by, request=request, detail=f"booked as appointment #{appointment.pk}")
    return request


@transaction.atomic
def reopen_request(*, request: AppointmentRequest, by) -> AppointmentRequest:
    """Recover a false positive (spam) or a request ended by mistake."""
    request = AppointmentRequest.objects.select_for_update().get(pk=request.pk)
    request.status = AppointmentRequest.Status.CONTACTING if request.contact_attempts.exists() else "new"
    request.end_reason = ""
    request.ended_at = None
    request.is_spam = False
    request.spam_reason = ""
    request.save(update_fields=["status", "end_reason", "ended_at", "is_spam", "spam_reason"])
    _audit_change(by=by, request=request, detail="reopened")
    return request


def assign_request(*, request: AppointmentRequest, by, assignee) -> AppointmentRequest:
    """Assign to a member of the front desk (or an administrator); None unassigns."""
    if assignee is not None and not (
        assignee.is_active and assignee.has_perm("appointments.work_appointmentrequest")
    ):
        raise ValidationError({"assignee": "Requests can only be assigned to front-desk staff."})
    with transaction.atomic():
        AppointmentRequest.objects.filter(pk=request.pk).update(assigned_to=assignee)
        _audit_change(
            by=by, request=request, detail=f"assigned to user #{assignee.pk}" if assignee else "unassigned"
        )
    request.refresh_from_db()
    return request


def acknowledge_urgent(*, request: AppointmentRequest, by) -> AppointmentRequest:
    with transaction.atomic():
        if AppointmentRequest.objects.filter(pk=request.pk, urgent_acknowledged_at__isnull=True).update(
            urgent_acknowledged_at=timezone.now(), urgent_acknowledged_by=by
        ):
            _audit_change(by=by, request=request, detail="urgent request acknowledged")
    request.refresh_from_db()
    return request


def link_patient(*, request: AppointmentRequest, patient, by) -> AppointmentRequest:
    """Record which patient a request is from (clinical.services calls this once it has one)."""
    with transaction.atomic():
        AppointmentRequest.objects.filter(pk=request.pk).update(patient=patient)
        _audit_change(by=by, request=request, detail=f"linked to patient #{patient.pk}")
    request.refresh_from_db()
    return request


def _audit_change(*, by, request: AppointmentRequest, detail: str) -> None:
    """Every front-desk write to a request is recorded in the caller's transaction (ids and codes, no content)."""
    audit.record(actor=by, action=AuditEvent.Action.CHANGE, obj=request, detail=detail)

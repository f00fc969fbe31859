"""Reads of safety flags."""

from .models import SafetyFlag


def active_flags(*, patient) -> list[SafetyFlag]:
    """The patient's flags in force: do-not-treat first, then red flags, contraindications, precautions."""
    order = {"red-flag": 1, "contraindication": 2, "local": 3, "precaution": 4}
    flags = list(
        SafetyFlag.objects.filter(patient=patient, cleared_at__isnull=True).select_related("acknowledged_by")
    )
    return sorted(flags, key=lambda f: (not f.do_not_treat, order.get(f.kind, 9), f.pk))


def unacknowledged(flags) -> list[SafetyFlag]:
    return [flag for flag in flags if flag.acknowledged_at is None]

"""Validators shared by every app."""

import phonenumbers
from django.core.exceptions import ValidationError

DEFAULT_REGION = "US"


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """Return the number in E.164 form, or raise ValidationError with words a person understands."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"“{value}” is not a phone number.", code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"“{value}” is not a valid phone number.", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    normalise_phone(value)


def format_phone_for_display(value: str, region: str = DEFAULT_REGION) -> str:
    """(212) 555-0100 for a US number, international form for others; the input unchanged if unparseable."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == region
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def phone_uri(value: str) -> str:
    try:
        return "tel:" + normalise_phone(value)
    except ValidationError:
        return ""

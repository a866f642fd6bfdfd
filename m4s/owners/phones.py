"""Phone numbers: parsed, validated and stored in E.164 (Chinese mobiles by default)."""

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError

MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalize_mobile(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of a mobile number, or raise DomainError("invalid_phone")."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise DomainError("invalid_phone", _("Enter a mobile phone number."))
    try:
        number = phonenumbers.parse(text, region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise DomainError("invalid_phone", _("This is not a phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        raise DomainError("invalid_phone", _("This phone number does not exist."))
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise DomainError(
            "invalid_phone", _("Enter a mobile number that can receive text messages.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """+8613812345678 -> +86 138****5678 (for screens that do not need the whole number)."""
    if len(e164) < 8:
        return e164
    return f"{e164[:-8]}****{e164[-4:]}"

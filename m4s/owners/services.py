"""Writes to an owner's own profile, preferences and consents."""

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.core.hooks import after_commit

from .choices import Channel, ConsentKind, Language
from .models import ConsentRecord, Owner

PROFILE_FIELDS = {
    "name",
    "email",
    "birthday",
    "language",
    "channels",
    "quiet_hours_start",
    "quiet_hours_end",
    "time_zone",
}
CONSENT_FIELDS = {
    "marketing_consent": ConsentKind.MARKETING,
    "telematics_consent": ConsentKind.TELEMATICS,
}


@dataclass(frozen=True)
class TelematicsConsentChanged:
    """The owner gave or withdrew telematics consent (settings.HOOKS: the telematics area
    clears the positions it holds of the owner's cars at once on a withdrawal)."""

    owner_id: int
    granted: bool


@functools.cache
def time_zones() -> frozenset[str]:
    """The IANA zone names the tz database knows ("Asia/Shanghai", "Asia/Seoul" ...)."""
    return frozenset(zoneinfo.available_timezones())


def valid_time_zone(name: str) -> bool:
    return name in time_zones()


def _validate(changes: dict, owner: Owner) -> dict:
    clean = {}
    for field, value in changes.items():
        if field == "name":
            value = (value or "").strip()
            if len(value) > 80:
                raise DomainError("invalid_name", _("A name is at most 80 characters."))
        elif field == "email":
            value = (value or "").strip()
            if value:
                try:
                    validate_email(value)
                except DjangoValidationError:
                    raise DomainError("invalid_email", _("Enter a valid e-mail address.")) from None
        elif field == "birthday":
            if value is not None and (value > timezone.localdate() or value < dt.date(1900, 1, 1)):
                raise DomainError("invalid_birthday", _("Enter a real date of birth."))
        elif field == "language":
            if value not in Language.values:
                raise DomainError(
                    "invalid_language",
                    _("Language must be one of %(choices)s.")
                    % {"choices": ", ".join(Language.values)},
                )
        elif field == "time_zone":
            value = (value or "").strip()
            if value and not valid_time_zone(value):
                raise DomainError(
                    "invalid_time_zone",
                    _("%(zone)s is not a time zone such as Asia/Shanghai.") % {"zone": value[:64]},
                )
        elif field == "channels":
            value = list(dict.fromkeys(value or []))
            unknown = set(value) - set(Channel.values)
            if unknown:
                raise DomainError(
                    "invalid_channel",
                    _("Unknown channel(s): %(names)s.") % {"names": ", ".join(sorted(unknown))},
                )
            if Channel.INAPP not in value:
                value.insert(0, Channel.INAPP.value)  # the in-app inbox always receives messages
        clean[field] = value
    start = clean.get("quiet_hours_start", owner.quiet_hours_start)
    end = clean.get("quiet_hours_end", owner.quiet_hours_end)
    if (start is None) != (end is None):
        raise DomainError(
            "invalid_quiet_hours", _("Give both the start and the end of quiet hours, or neither.")
        )
    if start is not None and start == end:
        raise DomainError(
            "invalid_quiet_hours", _("Quiet hours must not start and end at the same time.")
        )
    if clean.get("email") == "" and Channel.EMAIL in clean.get("channels", owner.channels):
        raise DomainError("invalid_channel", _("Add an e-mail address before choosing e-mail."))
    return clean


@transaction.atomic
def update_owner_profile(owner: Owner, changes: dict, *, source: str = "app") -> Owner:
    """Apply profile and consent changes; every consent change is timestamped and recorded."""
    unknown = set(changes) - PROFILE_FIELDS - set(CONSENT_FIELDS)
    if unknown:
        raise DomainError(
            "unknown_field",
            _("Unknown field(s): %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    profile = _validate({k: v for k, v in changes.items() if k in PROFILE_FIELDS}, owner)
    if (
        "channels" in profile
        and Channel.EMAIL in profile["channels"]
        and not profile.get("email", owner.email)
    ):
        raise DomainError("invalid_channel", _("Add an e-mail address before choosing e-mail."))
    now = timezone.now()
    owner = Owner.objects.select_for_update().get(pk=owner.pk)
    updated = []
    for field, value in profile.items():
        if getattr(owner, field) != value:
            setattr(owner, field, value)
            updated.append(field)
    for field, kind in CONSENT_FIELDS.items():
        if field not in changes:
            continue
        granted = bool(changes[field])
        if granted != getattr(owner, field):
            setattr(owner, field, granted)
            setattr(owner, f"{field}_at", now)
            updated += [field, f"{field}_at"]
            ConsentRecord.objects.create(
                owner=owner, kind=kind, granted=granted, at=now, source=source
            )
            if kind == ConsentKind.TELEMATICS:
                after_commit(
                    "owners.telematics_consent_changed",
                    TelematicsConsentChanged(owner_id=owner.pk, granted=granted),
                )
    if updated:
        owner.save(update_fields=updated)
    return owner

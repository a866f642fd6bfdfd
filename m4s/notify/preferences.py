"""The owner's notification settings (per category and channel, quiet hours, time zone) and
their browsers' web-push subscriptions. Bad input is a DomainError and changes nothing."""

import base64
import binascii
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError, NotFound
from m4s.owners.models import Owner
from m4s.owners.selectors import owner_zone
from m4s.owners.services import update_owner_profile

from . import policy, webpush
from .choices import Category, Channel
from .models import PushSubscription, Unsubscribe

SWITCHABLE = [c.value for c in policy.UNSUBSCRIBABLE]
MAX_SUBSCRIPTIONS = 10  # live browsers per owner; the oldest is dropped beyond


# --- reading ---------------------------------------------------------------------------------
def available_channels() -> list[str]:
    """Channels this install can deliver on."""
    out = [Channel.INAPP.value, Channel.SMS.value, Channel.EMAIL.value]
    if settings.WEBPUSH_ENABLED:
        out.append(Channel.PUSH.value)
    if settings.WECHAT_ENABLED:
        out.append(Channel.WECHAT.value)
    return out


def category_rows(owner: Owner) -> list[dict[str, Any]]:
    """One row per category: on or off, on which channels, whether it can be switched off."""
    rows = []
    for category in Category:
        prefs = (owner.notification_prefs or {}).get(category.value) or {}
        allowed = prefs.get("channels")
        rows.append(
            {
                "category": category.value,
                "label": str(category.label),
                "enabled": policy.category_enabled(owner, category.value),
                "channels": list(allowed) if isinstance(allowed, list) else list(Channel.values),
                "locked": category == Category.TRANSACTIONAL,
            }
        )
    return rows


def live_subscriptions(owner: Owner) -> "list[PushSubscription]":
    return list(PushSubscription.objects.filter(owner=owner, gone_at__isnull=True))


def settings_of(owner: Owner) -> dict[str, Any]:
    return {
        "channels": list(owner.channels or []),
        "categories": category_rows(owner),
        "quiet_hours_start": owner.quiet_hours_start,
        "quiet_hours_end": owner.quiet_hours_end,
        "time_zone": owner.time_zone,
        "effective_time_zone": str(owner_zone(owner)),
        "marketing_consent": owner.marketing_consent,
        "available_channels": available_channels(),
        "push_public_key": webpush.application_server_key() if settings.WEBPUSH_ENABLED else "",
        "push_subscriptions": live_subscriptions(owner),
        "wechat_bound": bool(owner.wechat_openid),
    }


# --- writing ---------------------------------------------------------------------------------
def _clean_categories(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    clean: dict[str, dict[str, Any]] = {}
    for row in rows:
        category = row.get("category")
        if category not in SWITCHABLE:
            raise DomainError(
                "invalid_category",
                _("%(name)s cannot be changed: one of %(choices)s.")
                % {"name": str(category)[:40], "choices": ", ".join(SWITCHABLE)},
            )
        if category in clean:
            raise DomainError("invalid_category", _("Each category at most once."))
        entry: dict[str, Any] = {}
        if "enabled" in row and row["enabled"] is not None:
            entry["enabled"] = bool(row["enabled"])
        if row.get("channels") is not None:
            channels = list(dict.fromkeys(row["channels"]))
            unknown = set(channels) - set(Channel.values)
            if unknown:
                raise DomainError(
                    "invalid_channel",
                    _("Unknown channel(s): %(names)s.") % {"names": ", ".join(sorted(unknown))},
                )
            if Channel.INAPP not in channels:
                channels.insert(0, Channel.INAPP.value)  # the inbox always receives messages
            entry["channels"] = channels
        clean[str(category)] = entry
    return clean


@transaction.atomic
def update_settings(owner: Owner, changes: dict[str, Any], *, source: str = "app") -> Owner:
    """Change what is sent: `channels` (order), `quiet_hours_start`/`_end`, `time_zone` (through
    the owner's profile rules) and `categories` ([{category, enabled, channels}]). Everything is
    checked before anything is saved; switching a category off is recorded (Unsubscribe), and
    switching marketing off withdraws the marketing consent."""
    unknown = set(changes) - {
        "channels",
        "quiet_hours_start",
        "quiet_hours_end",
        "time_zone",
        "categories",
    }
    if unknown:
        raise DomainError(
            "unknown_field",
            _("Unknown field(s): %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    categories = _clean_categories(changes.get("categories") or [])
    profile = {k: v for k, v in changes.items() if k != "categories"}
    owner = Owner.objects.select_for_update().get(pk=owner.pk)
    if profile:
        owner = update_owner_profile(owner, profile, source=source)  # validates, then saves
    if categories:
        prefs = dict(owner.notification_prefs or {})
        now = timezone.now()
        withdraw_marketing = False
        for category, entry in categories.items():
            before = dict(prefs.get(category) or {})
            was_on = bool(before.get("enabled", True))
            merged = {**before, **entry}
            prefs[category] = merged
            if was_on and not merged.get("enabled", True):
                Unsubscribe.objects.create(
                    owner=owner, category=category, source="settings", at=now
                )
                withdraw_marketing |= category == Category.MARKETING
        owner.notification_prefs = prefs
        owner.save(update_fields=["notification_prefs"])
        if withdraw_marketing and owner.marketing_consent:
            owner = update_owner_profile(owner, {"marketing_consent": False}, source=source)
    return owner


def _key_bytes(value: str, size: int, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise DomainError(
            "invalid_keys", _("The browser's %(what)s key is not valid.") % {"what": what}
        )
    return raw


def subscribe(
    owner: Owner, *, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Keep a browser's push subscription for the owner: (subscription, created). The same
    endpoint again refreshes the keys; an endpoint another owner had moves here (the browser
    belongs to whoever signed in on it now)."""
    endpoint = (endpoint or "").strip()
    if not webpush.endpoint_allowed(endpoint):
        raise DomainError(
            "invalid_endpoint", _("This is not the address of a known web-push service.")
        )
    point = _key_bytes(p256dh or "", 65, "p256dh")
    _key_bytes(auth or "", 16, "auth")
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise DomainError(
            "invalid_keys", _("The browser's %(what)s key is not valid.") % {"what": "p256dh"}
        ) from None
    now = timezone.now()
    with transaction.atomic():
        PushSubscription.objects.filter(endpoint=endpoint).exclude(owner=owner).delete()
        sub, created = PushSubscription.objects.update_or_create(
            owner=owner,
            endpoint=endpoint,
            defaults={
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": (user_agent or "")[:200],
                "gone_at": None,
            },
            create_defaults={
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": (user_agent or "")[:200],
                "created_at": now,
            },
        )
        live = PushSubscription.objects.filter(owner=owner, gone_at__isnull=True)
        extra = list(live.order_by("-created_at", "-id").values_list("pk", flat=True))
        if len(extra) > MAX_SUBSCRIPTIONS:
            PushSubscription.objects.filter(pk__in=extra[MAX_SUBSCRIPTIONS:]).update(gone_at=now)
    return sub, created


def unsubscribe_push(owner: Owner, subscription_id: int) -> None:
    """Forget one of the owner's browsers; another owner's subscription is not found."""
    deleted, _rows = PushSubscription.objects.filter(pk=subscription_id, owner=owner).delete()
    if not deleted:
        raise NotFound(_("No such push subscription."))

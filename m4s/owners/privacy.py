"""The owner's own personal data: profile and consents (m4s/privacy/registry.py)."""

from django.utils import timezone

from m4s.core.personal_data import erased_phone, rows

from .models import ConsentRecord, Owner, default_channels

PERSONAL_FIELDS = {
    "owners.Owner": {"phone", "name", "email", "birthday", "wechat_openid"},
}
NOT_PERSONAL = {
    "owners.ConsentRecord": {"source": "how a consent was given (app, api): kept as evidence"},
}


def export_owner(owner) -> dict:
    return {
        "rows": {
            "profile": rows(
                [owner],
                [
                    "phone",
                    "name",
                    "email",
                    "birthday",
                    "language",
                    "channels",
                    "quiet_hours_start",
                    "quiet_hours_end",
                    "time_zone",
                    "notification_prefs",
                    "wechat_openid",
                    "marketing_consent",
                    "marketing_consent_at",
                    "telematics_consent",
                    "telematics_consent_at",
                    "created_at",
                    "last_login_at",
                ],
            ),
            "consents": rows(
                ConsentRecord.objects.filter(owner=owner).order_by("at"),
                ["kind", "granted", "at", "source"],
            ),
        },
        "files": [],
    }


def erase_owner(owner) -> dict:
    """The owner row stays as an anonymised, inactive tombstone (rows that must be kept, such
    as invoices and consent evidence, point at it); signing in with it is impossible and every
    session ends (the owner middleware and the token resolver take active owners only)."""
    now = timezone.now()
    changed = Owner.objects.filter(pk=owner.pk).update(
        phone=erased_phone(owner.pk),
        name="",
        email="",
        birthday=None,
        channels=default_channels(),
        quiet_hours_start=None,
        quiet_hours_end=None,
        time_zone="",
        notification_prefs={},
        wechat_openid="",
        marketing_consent=False,
        marketing_consent_at=now,
        telematics_consent=False,
        telematics_consent_at=now,
        home_store=None,
        is_active=False,
    )
    return {"owner anonymised": changed}

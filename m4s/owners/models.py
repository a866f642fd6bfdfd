from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Channel, ConsentKind, Language


def default_channels() -> list[str]:
    return [Channel.INAPP.value, Channel.SMS.value]


class Owner(models.Model):
    """A car owner's identity: one per phone number across the platform.

    What a dealer group knows about the owner (its customer record) lives in that group's own
    tables; this row is only the person who signs in, with their own preferences and consents.
    """

    phone = models.CharField(_("phone"), max_length=20, unique=True)  # E.164
    name = models.CharField(_("name"), max_length=80, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    channels = models.JSONField(_("preferred channels"), default=default_channels)
    quiet_hours_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    # IANA zone the quiet hours are read in; empty: the home store's zone, else the platform's
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # per message category (m4s.notify.choices.Category): {"care": {"enabled": false,
    # "channels": ["inapp", "push"]}}; a category not named is on, on every channel above
    notification_prefs = models.JSONField(_("notification settings"), default=dict, blank=True)
    # the owner's openid with the dealer's WeChat official account (template messages)
    wechat_openid = models.CharField(_("WeChat openid"), max_length=64, blank=True, db_index=True)
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    marketing_consent_at = models.DateTimeField(
        _("marketing consent given or withdrawn at"), null=True, blank=True
    )
    telematics_consent = models.BooleanField(_("telematics consent"), default=False)
    telematics_consent_at = models.DateTimeField(
        _("telematics consent given or withdrawn at"), null=True, blank=True
    )
    home_store = models.ForeignKey(
        "org.Store",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("home store"),
        help_text=_("The store whose app (branding, SOS numbers) this owner sees."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("owner")
        verbose_name_plural = _("owners")

    def __str__(self):
        return self.name or self.phone

    is_authenticated = True  # lets templates and permission checks treat an owner as signed in


class ConsentRecord(models.Model):
    """Append-only evidence of every consent given or withdrawn."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="consent_records")
    kind = models.CharField(max_length=16, choices=ConsentKind.choices)
    granted = models.BooleanField()
    at = models.DateTimeField()
    source = models.CharField(max_length=16, default="app")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["owner", "kind", "-at"])]

    def __str__(self):
        return (
            f"{self.kind} {'granted' if self.granted else 'withdrawn'} at {self.at:%Y-%m-%d %H:%M}"
        )

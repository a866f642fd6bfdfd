from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel

from .choices import Category, Channel, Outcome, Status, Why


class Message(models.Model):
    """The transactional outbox: one row per message per channel.

    Written in the same transaction as the business change that causes it; delivered after
    commit by a task that claims the row with a conditional update, so a retried or duplicated
    task never sends it twice. In-app messages become the recipient's inbox once delivered.
    """

    dealer_group = models.ForeignKey(
        "org.DealerGroup", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    owner = models.ForeignKey(
        "owners.Owner", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
    )
    to_address = models.CharField(max_length=254, blank=True)  # phone or e-mail for SMS / e-mail
    kind = models.CharField(
        max_length=40
    )  # what caused it: otp, welcome, system, booking_confirmed ...
    # the contact-policy category (owner-addressed messages; empty for staff messages)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # subject and body as m4s.core.i18n text ({"subject": ..., "body": ...}): the inbox shows
    # them in the reader's current language; subject/body above are the send-time rendering
    texts = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=160, null=True, blank=True, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    provider_ref = models.CharField(max_length=100, blank=True)  # the gateway's id, once sent
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "channel", "status", "-id"], name="msg_owner_inbox"),
            models.Index(fields=["staff", "channel", "status", "-id"], name="msg_staff_inbox"),
            models.Index(fields=["status", "next_attempt_at"], name="msg_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(channel=Channel.INAPP)
                | Q(owner__isnull=False)
                | Q(staff__isnull=False),
                name="inapp_message_has_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind}#{self.pk}"

    @property
    def display_subject(self) -> str:
        from m4s.core.i18n import render

        return render((self.texts or {}).get("subject"), self.subject)

    @property
    def display_body(self) -> str:
        from m4s.core.i18n import render

        return render((self.texts or {}).get("body"), self.body)


class ContactDecision(models.Model):
    """What the contact policy decided for one message to one owner (or app-less customer) on
    one channel: sent, held until a moment (quiet hours) or dropped, and why. Shown on the
    customer 360; caps and dedupe read it. `contact` groups the rows of one `contact(...)`."""

    dealer_group = models.ForeignKey(
        "org.DealerGroup", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    owner = models.ForeignKey(
        "owners.Owner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="contact_decisions",
    )
    # a dealer's customer record (customers.Customer: an area above notify, so a plain id)
    customer_id = models.BigIntegerField(null=True, blank=True)
    contact = models.CharField(max_length=32)  # one id per contact(...) call
    category = models.CharField(max_length=16, choices=Category.choices)
    kind = models.CharField(max_length=40)
    reason = models.CharField(max_length=160, blank=True)  # dedupe: owner + reason + cycle
    cycle = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    why = models.CharField(max_length=24, choices=Why.choices)
    until = models.DateTimeField(null=True, blank=True)  # held: delivered at this moment
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "category", "decided_at"], name="decision_owner_cap"),
            models.Index(fields=["customer_id", "decided_at"], name="decision_customer"),
            models.Index(fields=["dealer_group", "decided_at"], name="decision_group"),
        ]
        constraints = [
            # one delivery per owner, reason, cycle and channel, whatever races (dedupe)
            models.UniqueConstraint(
                fields=["owner", "reason", "cycle", "channel"],
                condition=Q(outcome__in=["sent", "held"], owner__isnull=False) & ~Q(reason=""),
                name="decision_once_per_owner_reason",
            ),
            models.UniqueConstraint(
                fields=["customer_id", "reason", "cycle", "channel"],
                condition=Q(outcome__in=["sent", "held"], owner__isnull=True) & ~Q(reason=""),
                name="decision_once_per_customer_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel or '-'}: {self.outcome} ({self.why})"


class ContactRules(TenantModel):
    """A dealer group's frequency cap: at most `cap_count` messages of the capped categories
    (care and marketing together) per owner in `cap_days` days. No row: the platform default
    (settings.CONTACT_CAP_COUNT / CONTACT_CAP_DAYS). Transactional and service messages are
    never capped. Edited in the back office by the group's admins."""

    cap_count = models.PositiveSmallIntegerField(
        _("messages at most"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("Reminders and offers together, per owner."),
    )
    cap_days = models.PositiveSmallIntegerField(
        _("per so many days"), default=7, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )

    class Meta:
        verbose_name = _("contact rules")
        verbose_name_plural = _("contact rules")
        constraints = [
            models.UniqueConstraint(fields=["dealer_group"], name="contact_rules_once_per_group")
        ]

    def __str__(self) -> str:
        return f"{self.cap_count} / {self.cap_days} d"


class PushSubscription(models.Model):
    """A browser's web-push subscription for an owner (the installed PWA). `gone_at`: the push
    service answered 404/410, so it is not used again."""

    owner = models.ForeignKey(
        "owners.Owner", on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    last_success_at = models.DateTimeField(null=True, blank=True)
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "endpoint"], name="push_once_per_endpoint")
        ]

    def __str__(self) -> str:
        return f"push#{self.pk} of owner {self.owner_id}"


class Unsubscribe(models.Model):
    """An owner switched a category of messages off: by the one-tap link in a message (which
    names the dealer group that sent it) or on the settings page. Kept for the figures."""

    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    dealer_group = models.ForeignKey(
        "org.DealerGroup", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    category = models.CharField(max_length=16, choices=Category.choices)
    source = models.CharField(max_length=8)  # link | settings
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["dealer_group", "at"], name="unsub_group_at")]

    def __str__(self) -> str:
        return f"{self.owner_id} off {self.category} ({self.source})"


class LiveEvent(models.Model):
    """One event on the console's live channel (m4s/notify/live.py): a rescue alarm for the
    staff of a store, a new notification for one staff member. Append-only and short-lived
    (pruned after a day); the id orders the stream and is the SSE event id, so a page that
    reconnects with Last-Event-ID misses nothing."""

    dealer_group = models.ForeignKey("org.DealerGroup", on_delete=models.CASCADE, related_name="+")
    store_id = models.BigIntegerField(null=True, blank=True)  # None: every store of the group
    staff_id = models.BigIntegerField(null=True, blank=True)  # None: every staff member
    kind = models.CharField(max_length=30)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["dealer_group", "id"], name="live_event_group_id")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

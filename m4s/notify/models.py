from django.conf import settings
from django.db import models
from django.db.models import Q

from .choices import Channel, Status


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

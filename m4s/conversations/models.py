"""Conversations: an owner and their store talk in the app, one conversation per customer and
topic; messages (with photos and cards), internal notes, hand-overs between staff, callback
requests and the call log (calls are never cold), canned replies and a group's targets."""

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.tenancy import TenantModel
from m4s.core.uploads import ProtectedImageField

from .choices import (
    BODY_MAX,
    COMMENT_MAX,
    DEFAULT_FIRST_RESPONSE_MINUTES,
    DEFAULT_TEAM_OFFER_MINUTES,
    NOTE_MAX,
    PREVIEW_LEN,
    AuthorKind,
    CallbackStatus,
    CallBasis,
    CallDirection,
    CallOutcome,
    CallSource,
    CardKind,
    HandoverReason,
    MessageKind,
    Stage,
    Status,
    Topic,
)

OPEN = Status.OPEN.value
CLOSED = Status.CLOSED.value


class ConversationSettings(TenantModel):
    """A group's targets (business minutes, counted with the one business-time engine) and the
    secret its telephony system signs call events with. A group without a row gets the defaults."""

    first_response_minutes = models.PositiveIntegerField(
        _("first response by the consultant (business minutes)"),
        default=DEFAULT_FIRST_RESPONSE_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
    )
    team_offer_minutes = models.PositiveIntegerField(
        _("then the on-duty team has (business minutes)"),
        default=DEFAULT_TEAM_OFFER_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
    )
    # HMAC key of the group's CTI webhook (m4s.core.crypto, encrypted at rest); empty: none yet
    cti_secret_cipher = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("conversation settings")
        verbose_name_plural = _("conversation settings")
        constraints = [
            models.UniqueConstraint(fields=["dealer_group"], name="conversation_settings_once")
        ]

    def __str__(self):
        return str(self.dealer_group_id)


class Conversation(TenantModel):
    """One customer and one topic. At most one is open per (customer, topic); a new owner
    message to a closed one reopens it. The counters and `waiting_since` are kept by the
    services so that the inbox never counts messages."""

    owner_lookup = "customer__owner"

    store = models.ForeignKey(
        "org.Store", on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    topic = models.CharField(_("topic"), max_length=10, choices=Topic.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        verbose_name=_("handled by"),
    )
    stage = models.CharField(
        _("stage"), max_length=10, choices=Stage.choices, default=Stage.CONSULTANT
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=OPEN)
    # the oldest owner message not answered by staff yet (null: nothing waits on us)
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    # when this stage's first-response target runs out (business time); null: no clock running
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    # each wait (owner writes, staff have not answered yet) is one round: a stage is moved
    # through at most once per round (Handover's unique constraint)
    wait_round = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField()
    last_message_preview = models.CharField(max_length=PREVIEW_LEN, blank=True)
    owner_unread = models.PositiveIntegerField(default=0)
    staff_unread = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    opened_at = models.DateTimeField()  # created or last reopened
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    # business minutes from (re)opening to closing, for the figures
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    rating_comment = models.CharField(_("comment"), max_length=COMMENT_MAX, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at", "-id"]
        indexes = [
            # the owner's list and the customer 360 panel
            models.Index(fields=["customer", "-last_message_at"], name="conv_customer"),
            # inbox boxes: mine / team + unassigned / waiting longest / closed
            models.Index(
                fields=["assignee", "-last_message_at"],
                name="conv_mine",
                condition=Q(status=OPEN),
            ),
            models.Index(
                fields=["store", "-last_message_at"],
                name="conv_store_open",
                condition=Q(status=OPEN),
            ),
            models.Index(
                fields=["store", "waiting_since"],
                name="conv_waiting",
                condition=Q(status=OPEN, waiting_since__isnull=False),
            ),
            models.Index(
                fields=["store", "-closed_at"], name="conv_closed", condition=Q(status=CLOSED)
            ),
            # the first-response scan: open, waiting, a stage left to move to
            models.Index(
                fields=["first_response_due_at"],
                name="conv_due",
                condition=Q(
                    status=OPEN,
                    waiting_since__isnull=False,
                    first_response_due_at__isnull=False,
                ),
            ),
            # figures: closed conversations of a month
            models.Index(fields=["dealer_group", "closed_at"], name="conv_group_closed"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "topic"],
                condition=Q(status=OPEN),
                name="conversation_open_once_per_topic",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="conversation_rating_1_5",
            ),
        ]

    def __str__(self):
        return f"{self.customer_id}/{self.topic} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


class Message(TenantModel):
    """A message (owner or staff), an internal note (staff only, never shown to owners) or a
    system line (hand-over, closed, reopened) stored as source text + parameters in `text`."""

    owner_lookup = "conversation__customer__owner"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, db_index=False, related_name="messages"
    )
    author_kind = models.CharField(max_length=8, choices=AuthorKind.choices)
    author_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default=MessageKind.MESSAGE)
    body = models.TextField(blank=True, validators=[MaxLengthValidator(BODY_MAX)])
    text = models.JSONField(default=dict, blank=True)  # system lines: m4s.core.i18n.text
    card_kind = models.CharField(max_length=12, choices=CardKind.choices, blank=True, default="")
    card_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)  # reached the other side
    read_at = models.DateTimeField(null=True, blank=True)  # read by the other side
    # the first staff answer of a wait: how long the owner waited (business minutes)
    response_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # the thread, and polling for what came after a message id
            models.Index(fields=["conversation", "id"], name="conv_message_thread"),
            # figures: first responses of a month
            models.Index(
                fields=["dealer_group", "created_at"],
                name="conv_message_response",
                condition=Q(response_minutes__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.conversation_id}:{self.pk} {self.author_kind}/{self.kind}"

    @property
    def is_note(self) -> bool:
        return self.kind == MessageKind.NOTE

    @property
    def display_text(self) -> str:
        """The system line in the reader's language (the body for people's messages)."""
        if self.text:
            from m4s.core.i18n import render

            return render(self.text, self.body)
        return self.body


class MessagePhoto(TenantModel):
    owner_lookup = "conversation__customer__owner"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="photos")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    image = ProtectedImageField(
        area="conversations", access="m4s.conversations.photos.can_see_message_photo"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"photo {self.pk} of message {self.message_id}"


class Handover(TenantModel):
    """Every change of who a conversation is with: routed to the consultant, offered to the
    on-duty team or the CS queue (off duty, overdue), claimed, transferred with a reason. An
    automatic move to a stage happens at most once per wait round (the unique constraint is what
    makes two scanning workers safe)."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, db_index=False, related_name="handovers"
    )
    from_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    to_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    by_staff = models.ForeignKey(  # null: the system (routing, the scan)
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    reason = models.CharField(max_length=10, choices=HandoverReason.choices)
    transfer_reason = models.CharField(max_length=20, blank=True)  # TransferReason
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    stage = models.CharField(max_length=10, choices=Stage.choices)
    wait_round = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["conversation", "at"], name="conv_handover_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "wait_round", "stage"],
                condition=Q(reason="overdue"),
                name="conv_overdue_move_once",
            )
        ]

    def __str__(self):
        return f"{self.conversation_id}: {self.from_staff_id}→{self.to_staff_id} ({self.reason})"


class CallbackRequest(TenantModel):
    """The owner tapped "Call me back" and chose a time window."""

    owner_lookup = "customer__owner"

    store = models.ForeignKey(
        "org.Store", on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    owner = models.ForeignKey(
        "owners.Owner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="callback_requests",
    )
    topic = models.CharField(_("topic"), max_length=10, choices=Topic.choices)
    window_start = models.DateTimeField(_("call me from"))
    window_end = models.DateTimeField(_("call me until"))
    note = models.CharField(_("note"), max_length=NOTE_MAX, blank=True)
    status = models.CharField(
        max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.OPEN
    )
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("callback request")
        verbose_name_plural = _("callback requests")
        ordering = ["window_start", "id"]
        indexes = [
            models.Index(
                fields=["store", "window_start"],
                name="conv_callback_open",
                condition=Q(status="open"),
            ),
            models.Index(fields=["customer", "-created_at"], name="conv_callback_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")),
                name="conv_callback_window",
            )
        ]

    def __str__(self):
        return f"callback {self.customer_id} {self.window_start:%Y-%m-%d %H:%M}"


class Call(TenantModel):
    """One phone call with a customer, logged by staff or reported by the telephony system. An
    outbound call needs a basis (the owner asked, an open case, an agreed reminder); without
    one it is unsolicited and carries the reason staff gave."""

    owner_lookup = "customer__owner"

    store = models.ForeignKey(
        "org.Store", on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="calls",
    )
    callback_request = models.ForeignKey(
        CallbackRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="calls",
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    direction = models.CharField(_("direction"), max_length=8, choices=CallDirection.choices)
    reached = models.BooleanField(_("reached"), default=False)
    duration_seconds = models.PositiveIntegerField(
        _("duration (seconds)"), default=0, validators=[MaxValueValidator(86_400)]
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=CallOutcome.choices)
    note = models.TextField(_("note"), blank=True, validators=[MaxLengthValidator(NOTE_MAX)])
    basis = models.CharField(_("basis"), max_length=16, choices=CallBasis.choices)
    reason = models.CharField(_("reason for an unsolicited call"), max_length=NOTE_MAX, blank=True)
    started_at = models.DateTimeField(_("started"))
    source = models.CharField(max_length=8, choices=CallSource.choices, default=CallSource.MANUAL)
    external_id = models.CharField(max_length=100, null=True, blank=True)  # the CTI's call id
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-started_at"], name="conv_call_customer"),
            models.Index(fields=["dealer_group", "started_at"], name="conv_call_month"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "external_id"], name="conv_call_external_once"
            ),
            # an unsolicited outbound call always says why
            models.CheckConstraint(
                condition=~Q(basis="none", direction="outbound", reason=""),
                name="conv_call_unsolicited_reason",
            ),
        ]

    def __str__(self):
        return f"call {self.direction} {self.customer_id} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def unsolicited(self) -> bool:
        return self.direction == CallDirection.OUTBOUND and self.basis == CallBasis.NONE


class CannedReply(Translatable, TenantModel):
    """A group's ready answer, in zh-Hans/en/ko, with the placeholders {customer}, {car} and
    {store} filled in for the conversation it is used in."""

    title = models.CharField(_("title"), max_length=80)
    title_i18n = TranslationsField(_("title, translated"), max_length=80)
    body = models.TextField(_("text"), validators=[MaxLengthValidator(BODY_MAX)])
    body_i18n = TranslationsField(_("text, translated"), max_length=BODY_MAX)
    topic = models.CharField(
        _("topic"),
        max_length=10,
        choices=Topic.choices,
        blank=True,
        help_text=_("Empty: offered in every topic."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["position", "id"]

    def __str__(self):
        return self.title


class OwnerRequest(models.Model):
    """The stored answer of an owner's retryable POST, per Idempotency-Key
    (m4s.core.idempotency): a retried message is stored once."""

    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="conversation_request_once")
        ]

    def __str__(self):
        return f"{self.owner_id}:{self.key}"

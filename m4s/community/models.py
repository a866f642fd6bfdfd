"""Owners' stories: a story (text and photos) an owner shares with the other owners of their
dealer group, approved by the group's moderators before anyone else sees it; likes, comments and
reports of abuse. Every row carries its dealer group (TenantModel); an owner's rows hang on
their customer record in that group."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel
from m4s.core.uploads import ProtectedImageField

from .choices import (
    COMMENT_TEXT_MAX,
    REASON_MAX,
    STORY_TEXT_MAX,
    CommentStatus,
    ReportOutcome,
    ReportReason,
    StoryStatus,
)


class Story(TenantModel):
    owner_lookup = "customer__owner"

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("author"),
    )
    text = models.TextField(_("text"), validators=[MaxLengthValidator(STORY_TEXT_MAX)])
    status = models.CharField(
        _("status"), max_length=10, choices=StoryStatus.choices, default=StoryStatus.PENDING
    )
    reject_reason = models.CharField(_("reason"), max_length=REASON_MAX, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("posted at"))
    approved_at = models.DateTimeField(_("published at"), null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    likes_count = models.PositiveIntegerField(_("likes"), default=0)
    comments_count = models.PositiveIntegerField(_("comments"), default=0)
    share_token = models.CharField(max_length=32, unique=True)
    # A car-pal event the photos were taken at (m4s.events sits above this area: no foreign key).
    event_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("owner's story")
        verbose_name_plural = _("owners' stories")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["dealer_group", "status", "-approved_at"], name="story_feed"),
            models.Index(fields=["dealer_group", "status", "created_at"], name="story_queue"),
            models.Index(fields=["customer", "-created_at"], name="story_author"),
        ]

    def __str__(self):
        return f"story {self.pk} ({self.status})"


class StoryPhoto(TenantModel):
    owner_lookup = "story__customer__owner"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="photos")
    image = ProtectedImageField(
        area="community-stories", access="m4s.community.photos.can_see_story_photo"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"photo {self.pk} of story {self.story_id}"


class StoryLike(TenantModel):
    owner_lookup = "customer__owner"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="likes")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["story", "customer"], name="story_like_once"),
        ]
        indexes = [models.Index(fields=["customer"], name="story_like_customer")]

    def __str__(self):
        return f"like {self.customer_id} -> {self.story_id}"


class StoryComment(TenantModel):
    owner_lookup = "customer__owner"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="comments")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("author")
    )
    text = models.TextField(_("comment"), validators=[MaxLengthValidator(COMMENT_TEXT_MAX)])
    status = models.CharField(
        max_length=8, choices=CommentStatus.choices, default=CommentStatus.VISIBLE
    )
    created_at = models.DateTimeField()
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["story", "created_at"], name="story_comment_at")]

    def __str__(self):
        return f"comment {self.pk} on story {self.story_id}"


class Report(TenantModel):
    """An owner reports a story or (with `comment`) a comment of it; moderators resolve it."""

    owner_lookup = "reporter__owner"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="reports")
    comment = models.ForeignKey(
        StoryComment, on_delete=models.CASCADE, null=True, blank=True, related_name="reports"
    )
    reporter = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=10, choices=ReportReason.choices)
    note = models.CharField(_("note"), max_length=REASON_MAX, blank=True)
    created_at = models.DateTimeField()
    outcome = models.CharField(
        max_length=10, choices=ReportOutcome.choices, blank=True, default=ReportOutcome.OPEN
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "story"],
                condition=Q(comment__isnull=True),
                name="story_report_once",
            ),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=Q(comment__isnull=False),
                name="comment_report_once",
            ),
        ]
        indexes = [
            models.Index(fields=["dealer_group", "resolved_at"], name="report_open"),
        ]

    def __str__(self):
        return f"report {self.pk} on story {self.story_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class StoryRequest(models.Model):
    """The stored answer of an owner's post, per Idempotency-Key (m4s.core.idempotency): a
    retried POST gets the same story, not a second one."""

    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="story_request_once")]

    def __str__(self):
        return f"{self.owner_id}:{self.key}"

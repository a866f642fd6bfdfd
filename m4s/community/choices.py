"""Constants of the community area: story and comment states, report reasons, limits."""

from django.db import models
from django.utils.translation import gettext_lazy as _

STORY_TEXT_MAX = 2000
COMMENT_TEXT_MAX = 500
REASON_MAX = 500
MAX_PHOTOS = 9
# A comment reported by this many different owners is hidden until a moderator looks at it.
REPORTS_TO_HIDE_COMMENT = 3
FEED_PAGE = 20


class StoryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Published")
    REJECTED = "rejected", _("Not approved")
    HIDDEN = "hidden", _("Hidden by a moderator")
    DELETED = "deleted", _("Deleted")


class CommentStatus(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden")


class ReportReason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    ABUSE = "abuse", _("Abusive or offensive")
    PRIVACY = "privacy", _("Shows someone's personal data")
    FALSE = "false", _("Misleading")
    OTHER = "other", _("Something else")


class ReportOutcome(models.TextChoices):
    OPEN = "", _("Open")
    HIDDEN = "hidden", _("Hidden")
    DISMISSED = "dismissed", _("Dismissed")


class ModerationAction(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    HIDE = "hide", _("Hide")

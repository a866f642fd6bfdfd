from django.db import models
from django.utils.translation import gettext_lazy as _

from m4s.owners.choices import Channel

__all__ = ["Channel", "Status"]


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    RETRY = "retry", _("Waiting to retry")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")

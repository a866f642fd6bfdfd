from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready to download")
    EXPIRED = "expired", _("Expired")
    FAILED = "failed", _("Failed")


class ErasureStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the cooling-off period")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Erased")

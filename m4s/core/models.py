from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .tenancy import TenantModel


class AuditEntry(TenantModel):
    """Who changed what on a group's data, when, and the fields before and after. Append-only."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_name = models.CharField(_("who"), max_length=150)  # kept if the account is deleted
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100)  # app_label.model
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    changes = models.JSONField(
        _("changes (before, after)"), default=dict
    )  # {field: [before, after]}
    at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["dealer_group", "object_type", "object_id"])]

    def __str__(self):
        return f"{self.actor_name} {self.action} {self.object_type}#{self.object_id}"


class PeriodicJobState(models.Model):
    """When each declared periodic job next runs. Claimed with a conditional update so that
    any number of workers enqueue each run exactly once."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M}"

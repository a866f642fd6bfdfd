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
        VIEW = "view", _("viewed")  # a sensitive read: a full ID number, a position

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

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.object_type}#{self.object_id}"


class PeriodicJobState(models.Model):
    """When each declared periodic job next runs. Claimed with a conditional update so that
    any number of workers enqueue each run exactly once."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M}"


class HookDelivery(models.Model):
    """One receiver's copy of a hand-off between areas (m4s/core/hooks.py), written in the same
    transaction as the change it reports, so a committed change is never without its
    hand-offs. A task runs it after commit; a failure is retried with backoff, and the periodic
    sweep picks up what a crash left. Receivers are idempotent per source, so a run repeated
    after a crash applies once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        RETRY = "retry", _("waiting to retry")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    hook = models.CharField(max_length=100)
    receiver = models.CharField(max_length=200)  # dotted path
    payload_type = models.CharField(max_length=200)  # dotted path of the payload dataclass
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.hook} → {self.receiver} ({self.status})"


class WorkerHeartbeat(models.Model):
    """A running `m4s worker` says it is alive every WORKER_HEARTBEAT_SECONDS; /health/ready
    wants one younger than WORKER_HEARTBEAT_MAX_AGE. A stopped worker deletes its own row."""

    name = models.CharField(max_length=200, primary_key=True)  # host:pid
    backend = models.CharField(max_length=20)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.backend}) at {self.beat_at:%H:%M:%S}"

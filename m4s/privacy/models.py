"""Owners' data rights (PIPL): data exports, erasure requests and the record of each erasure.

These rows belong to the owner, not to a dealer group (an owner may be a customer of several),
so they are not tenant models; staff have no page that lists them or opens an export's file.
"""

from django.db import models
from django.db.models import Q

from .choices import ErasureStatus, ExportStatus


class DataExport(models.Model):
    """One export of everything M4S holds about an owner, built by a task into a ZIP that the
    owner alone downloads through a signed link until `expires_at`."""

    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    requested_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # storage name under MEDIA_ROOT: privacy-exports/<random>.zip. Not a FileField: no URL
    # maps this folder and nothing links it; only the signed view streams it, to its owner
    file = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)  # rows per kind, photos

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["owner", "-requested_at"], name="export_owner")]

    def __str__(self) -> str:
        return f"export #{self.pk} ({self.status})"


class ErasureRequest(models.Model):
    """An owner asked to be erased; after the cooling-off period (`due_at`) the scheduled job
    erases them unless they cancelled."""

    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=10, choices=ErasureStatus.choices, default=ErasureStatus.PENDING
    )
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(status="pending"), name="one_pending_erasure"
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="erasure_due")]

    def __str__(self) -> str:
        return f"erasure #{self.pk} ({self.status})"


class ErasureRecord(models.Model):
    """What an erasure did, kept as evidence: counts per area and kind, no personal data (the
    request's owner row itself is an anonymised tombstone by then)."""

    request = models.OneToOneField(ErasureRequest, on_delete=models.PROTECT, related_name="record")
    requested_at = models.DateTimeField()
    erased_at = models.DateTimeField()
    summary = models.JSONField(default=dict)  # {area module: {what: count}}

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"erasure record #{self.pk}"


class PrivacyApiCall(models.Model):
    """The stored answer of an owner's privacy API call per Idempotency-Key
    (m4s.core.idempotency.call_once): a retried export request gets the same export."""

    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="privacy_call_once")]

    def __str__(self) -> str:
        return f"privacy call {self.key}"

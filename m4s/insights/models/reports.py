"""The monthly service report of a store: one rendered PDF per store, month and language.

The PDF is not a FileField: its storage name (`service-reports/<random>.pdf` under MEDIA_ROOT)
is kept in `file`, no URL maps that folder, and only the report download (console page and
`GET /api/v1/staff/reports/service`) streams it, after checking the reader may see the store
(a manager of that store or a group-wide manager). Same pattern as the privacy exports.

A report is immutable once generated. "Generate again" (a manager's button, or a figure that
changed after the month closed) replaces the row's PDF and figures in place, bumps `version` and
writes an audit entry with the old and new file, version and time; the old PDF is deleted after
the commit. So there is always one current report per (store, month, language), and the audit
log says when and by whom it was replaced.

A report keeps no owner's full name: unhappy revisits show the first character of the name and
the repair order number (reports.masked), so an owner's erasure leaves nothing naming them here.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel

__all__ = ["ServiceReport"]


class ServiceReport(TenantModel):
    store = models.ForeignKey(
        "org.Store", on_delete=models.CASCADE, related_name="+", verbose_name=_("store")
    )
    month = models.DateField(_("month"))  # its first day
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    file = models.CharField(max_length=200, blank=True)  # storage name; served after a check
    size = models.PositiveIntegerField(default=0)
    pages = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveSmallIntegerField(default=1)
    figures = models.JSONField(default=dict, blank=True)  # the snapshot the PDF shows
    generated_at = models.DateTimeField(_("generated"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("monthly service report")
        verbose_name_plural = _("monthly service reports")
        ordering = ["-month", "store_id", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "month", "language"], name="service_report_once"
            )
        ]
        indexes = [models.Index(fields=["dealer_group", "-month"], name="service_report_month")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.month:%Y-%m} {self.language}"

    @property
    def filename(self) -> str:
        return f"service-report-{self.store_id}-{self.month:%Y-%m}-{self.language}.pdf"

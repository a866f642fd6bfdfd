"""The trained churn models: one row per training of a group, the current one `active`.

The fitted scikit-learn object is stored pickled (joblib) in `state`; it is only ever loaded
from this table, which only `m4s.insights.churn.train_group` writes."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel

__all__ = ["ChurnModel"]


class ChurnModel(TenantModel):
    class Kind(models.TextChoices):
        GBM = "gbm", _("Gradient boosting")
        LOGREG = "logreg", _("Logistic regression")

    trained_at = models.DateTimeField(_("trained at"))
    as_of = models.DateField(_("history up to"))  # training reads events before this day
    cutoff = models.DateField(_("cut-off"))  # features before it, label = the 365 days after
    kind = models.CharField(_("model"), max_length=10, choices=Kind.choices)
    auc = models.FloatField(_("validation AUC"))
    recency_auc = models.FloatField(_("recency-only AUC"))
    aucs = models.JSONField(default=dict)  # {"gbm": 0.71, "logreg": 0.73}: both measured
    calibration = models.JSONField(default=list)  # [{"predicted", "observed", "n"}] per bin
    brier = models.FloatField(default=0)
    n_train = models.PositiveIntegerField(default=0)
    n_valid = models.PositiveIntegerField(default=0)
    base_rate = models.FloatField(default=0)  # share of churners at the cut-off
    features = models.JSONField(default=list)  # the feature names, in column order
    timings = models.JSONField(default=dict)
    state = models.BinaryField()  # joblib of {"model", "kind", "names", "tiers", "medians"}
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group"], condition=Q(active=True), name="one_active_churn_model"
            )
        ]
        indexes = [models.Index(fields=["dealer_group", "-trained_at"])]
        verbose_name = _("churn model")

    def __str__(self) -> str:
        return f"{self.kind} {self.auc:.3f} {self.as_of}"

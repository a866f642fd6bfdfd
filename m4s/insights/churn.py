"""The churn model of each group, trained on its own history (the database read as the same
events table the `m4s insights churn` command reads; see history.py, churn_features.py and
churn_engine.py for the time split and the model choice).

- `train_group(group, as_of=None)`: trains (logreg vs gradient boosting, measured), stores the
  winner as the group's active ChurnModel; None when the history is too thin.
- `score_group(group)`: every customer's risk, band and top three reasons from the active model,
  written set-based onto CustomerInsight (rows created where missing).
- `current_model(group)`, `retrain_all()` (the monthly job: retrain models older than 30 days,
  then score; safe to run twice).

Risk bands: low < 25 %, medium 25–50 %, high ≥ 50 % (churn_engine.BAND_*).
"""

from __future__ import annotations

import datetime as dt
import io
import logging

import joblib
from django.db import transaction
from django.utils import timezone

from m4s.insights import churn_engine, history
from m4s.insights.churn_features import day
from m4s.insights.models import ChurnModel, CustomerInsight

log = logging.getLogger(__name__)
RETRAIN_AFTER = dt.timedelta(days=30)
WRITE_BATCH = 5000


def _gid(group) -> int:
    return group.pk if hasattr(group, "pk") else int(group)


def current_model(group) -> ChurnModel | None:
    return ChurnModel.objects.for_group(_gid(group)).filter(active=True).first()


def load_state(model: ChurnModel) -> dict:
    """The fitted model back from our own table (never from anywhere else)."""
    return joblib.load(io.BytesIO(bytes(model.state)))


def history_state(group, as_of: dt.date | None = None) -> dict:
    """Why there is no model: active customers at the cut-off vs the minimum (one query)."""
    from m4s.service.models import Invoice

    as_of = as_of or timezone.localdate()
    cut = as_of - dt.timedelta(days=365)
    customers = (
        Invoice.objects.for_group(_gid(group))
        .filter(issued_at__date__lt=cut, issued_at__date__gte=cut - dt.timedelta(days=730))
        .values("repair_order__customer_id")
        .distinct()
        .count()
    )
    return {"customers": customers, "needed": churn_engine.MIN_CUSTOMERS, "cutoff": cut}


def train_group(group, as_of: dt.date | None = None) -> ChurnModel | None:
    as_of = as_of or timezone.localdate()
    data = history.load(group).before(day(as_of))
    fitted = churn_engine.train(data, as_of)
    if isinstance(fitted, churn_engine.NotEnough):
        log.info("churn: group %s has not enough history (%s)", _gid(group), fitted)
        return None
    buf = io.BytesIO()
    joblib.dump(fitted.state(), buf, compress=3)
    with transaction.atomic():
        ChurnModel.objects.for_group(_gid(group)).filter(active=True).update(active=False)
        return ChurnModel.objects.create(
            dealer_group_id=_gid(group),
            trained_at=timezone.now(),
            as_of=as_of,
            cutoff=fitted.cutoff,
            kind=fitted.kind,
            auc=fitted.auc,
            recency_auc=fitted.recency_auc,
            aucs=fitted.aucs,
            calibration=fitted.calibration,
            brier=fitted.brier,
            n_train=fitted.n_train,
            n_valid=fitted.n_valid,
            base_rate=fitted.base_rate,
            features=fitted.names,
            timings=fitted.timings,
            state=buf.getvalue(),
            active=True,
        )


def score_group(group, at: dt.date | None = None) -> int:
    """Scores every customer of the group with its active model; 0 when it has none."""
    model = current_model(group)
    if model is None:
        return 0
    state = load_state(model)
    at = at or timezone.localdate()
    data = history.load(group, tiers=state["tiers"])
    risk, band, reasons = churn_engine.score(state, data.before(day(at)), at)
    return write_scores(
        _gid(group), data.customer_ids, data.stores, risk, band, reasons, at, timezone.now()
    )


def write_scores(gid, customer_ids, stores, risk, band, reasons, as_of, now) -> int:
    """Set-based upsert of churn_risk, risk_band, reasons, scored_at (one statement a batch)."""
    n = 0
    for start in range(0, len(customer_ids), WRITE_BATCH):
        stop = start + WRITE_BATCH
        rows = [
            CustomerInsight(
                dealer_group_id=gid,
                customer_id=int(cid),
                store_id=int(sid) or None,
                as_of=as_of,
                churn_risk=round(float(p), 4),
                risk_band=str(b),
                reasons=rs,
                scored_at=now,
            )
            for cid, sid, p, b, rs in zip(
                customer_ids[start:stop],
                stores[start:stop],
                risk[start:stop],
                band[start:stop],
                reasons[start:stop],
                strict=True,
            )
        ]
        CustomerInsight.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=["churn_risk", "risk_band", "reasons", "scored_at"],
        )
        n += len(rows)
    return n


def retrain_all(today: dt.date | None = None) -> dict:
    """Each group: retrain when its model is missing or older than 30 days, then score."""
    from m4s.org.models import DealerGroup

    now = timezone.now()
    done = {}
    for group in DealerGroup.objects.order_by("pk"):
        model = current_model(group)
        if model is None or model.trained_at < now - RETRAIN_AFTER:
            model = train_group(group, today) or model
        done[group.pk] = score_group(group, today) if model else 0
    return done

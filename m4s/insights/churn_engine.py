"""The churn model on `churn_features.Data` (no database): train by a time split, choose between
gradient boosting and logistic regression by measuring both, score, and give each customer the
top three reasons that RAISE their risk.

Time split (documented in the README):
- cut-off c = as_of − 365 days. Features come only from events before c; the label is "no paid
  visit in [c, as_of)". Customers trained on are those active before c (`active_at`).
- validation: a customer-disjoint, stratified 25 % of those customers at the same cut-off,
  never seen in fitting. Both model kinds are fitted on the other 75 % and measured there (AUC,
  and the recency-only rule's AUC on the same customers); gradient boosting wins only by at
  least GBM_MIN_GAIN of AUC (else the simpler logistic regression); the winner is refitted on all.
- scoring: features at the scoring day from all events before it; nothing after the cut-off
  ever reaches the fit except through the label.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils.translation import gettext_noop as N_

from m4s.core.i18n import text

from .churn_features import (
    BASE_FEATURES,
    HORIZON,
    Data,
    active_at,
    day,
    feature_names,
    features_at,
    label_at,
)

MIN_CUSTOMERS = 60  # active customers at the cut-off needed to train a model
MIN_CLASS = 10  # and at least this many who churned and who stayed
VALID_SHARE = 0.25
GBM_MIN_GAIN = 0.01  # validation AUC boosting must add over logistic regression to be chosen
# Risk bands on the predicted probability of no paid visit in the next 12 months
BAND_MEDIUM = 0.25  # 25 % ≤ risk < 50 %: medium
BAND_HIGH = 0.50  # 50 % and above: high


def band_of(risk: np.ndarray) -> np.ndarray:
    return np.where(risk >= BAND_HIGH, "high", np.where(risk >= BAND_MEDIUM, "medium", "low"))


@dataclass
class NotEnough:
    """Too little history to train: how many active customers there were, and how many needed."""

    customers: int
    needed: int
    churned: int = 0
    stayed: int = 0


@dataclass
class Fitted:
    kind: str  # "gbm" | "logreg"
    model: Any
    names: list[str]
    tiers: list[str]
    medians: np.ndarray
    cutoff: dt.date
    as_of: dt.date
    auc: float
    recency_auc: float
    aucs: dict[str, float]
    calibration: list[dict]
    brier: float
    n_train: int
    n_valid: int
    base_rate: float
    timings: dict[str, float] = field(default_factory=dict)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(X)[:, 1]

    def state(self) -> dict:
        """What is stored (pickled) with the model row."""
        return {
            "model": self.model,
            "kind": self.kind,
            "names": self.names,
            "tiers": self.tiers,
            "medians": self.medians,
        }


def make(kind: str, seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "gbm":
        return HistGradientBoostingClassifier(
            max_iter=100,
            learning_rate=0.06,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=seed,
        )
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Predicted vs observed churn per bin of customers sorted by predicted risk (deciles, fewer
    bins for small sets)."""
    bins = max(1, min(bins, len(y) // 20))
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            out.append(
                {
                    "predicted": round(float(p[chunk].mean()), 4),
                    "observed": round(float(y[chunk].mean()), 4),
                    "n": len(chunk),
                }
            )
    return out


def threads():
    """sklearn's OpenMP threads (M4S_CHURN_THREADS, default 1: the jobs share the machine)."""
    import os

    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(os.environ.get("M4S_CHURN_THREADS", "1") or 1))


def train(data: Data, as_of: dt.date, *, seed: int = 0) -> Fitted | NotEnough:
    with threads():
        return _train(data, as_of, seed=seed)


def _train(data: Data, as_of: dt.date, *, seed: int = 0) -> Fitted | NotEnough:
    import time

    from sklearn.metrics import brier_score_loss, roc_auc_score

    t0 = time.perf_counter()
    cut = day(as_of) - HORIZON
    rows = np.flatnonzero(active_at(data, cut))
    X = features_at(data, cut)[rows]
    y = label_at(data, cut)[rows]
    churned = int(y.sum())
    stayed = len(y) - churned
    if len(y) < MIN_CUSTOMERS or min(churned, stayed) < MIN_CLASS:
        return NotEnough(len(y), MIN_CUSTOMERS, churned, stayed)
    t_features = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    valid = np.zeros(len(y), dtype=bool)
    for cls in (0, 1):  # stratified, customer-disjoint
        members = np.flatnonzero(y == cls)
        take = max(1, round(len(members) * VALID_SHARE))
        valid[rng.choice(members, size=take, replace=False)] = True
    Xt, yt, Xv, yv = X[~valid], y[~valid], X[valid], y[valid]
    aucs: dict[str, float] = {}
    preds: dict[str, np.ndarray] = {}
    for kind in ("logreg", "gbm"):
        m = make(kind, seed).fit(Xt, yt)
        preds[kind] = m.predict_proba(Xv)[:, 1]
        aucs[kind] = round(float(roc_auc_score(yv, preds[kind])), 4)
    # gradient boosting only when it is clearly better: logistic regression is the simpler
    # model, and its reasons are one matrix product (boosting's take a prediction per reason)
    kind = "gbm" if aucs["gbm"] >= aucs["logreg"] + GBM_MIN_GAIN else "logreg"
    recency = Xv[:, BASE_FEATURES.index("days_since_paid")]
    recency_auc = round(float(roc_auc_score(yv, recency)), 4)
    t_fit = time.perf_counter() - t0 - t_features
    model = make(kind, seed).fit(X, y)
    return Fitted(
        kind=kind,
        model=model,
        names=feature_names(data),
        tiers=list(data.tiers or []),
        medians=np.median(X, axis=0),
        cutoff=dt.date(1970, 1, 1) + dt.timedelta(days=cut),
        as_of=as_of,
        auc=aucs[kind],
        recency_auc=recency_auc,
        aucs=aucs,
        calibration=calibration_table(yv, preds[kind]),
        brier=round(float(brier_score_loss(yv, preds[kind])), 4),
        n_train=len(yt),
        n_valid=len(yv),
        base_rate=round(float(y.mean()), 4),
        timings={
            "features": round(t_features, 3),
            "fit_both": round(t_fit, 3),
            "total": round(time.perf_counter() - t0, 3),
        },
    )


# --- reasons -----------------------------------------------------------------------------------
# reason group → the features whose contributions add up to it
GROUPS: dict[str, list[str]] = {
    "recency": ["days_since_paid", "never_paid"],
    "frequency": ["paid_12m", "paid_24m"],
    "spend": ["spend_24m"],
    "warranty": ["warranty_visits_24m"],
    "bookings": ["bookings_12m"],
    "no_shows": ["no_shows_12m"],
    "nps": ["last_nps", "detractor"],
    "complaints": ["complaints_12m"],
    "unresolved": ["unresolved_complaints"],
    "declined": ["declined_12m"],
    "app": ["app_opens_90d"],
    "points_earned": ["points_earned_12m"],
    "points_redeemed": ["points_redeemed_12m"],
    "messages": ["messages_12m"],
    "reminders": ["reminders_sent_12m", "reminder_click_rate"],
    "car_age": ["car_age_months"],
    "warranty_end": ["out_of_warranty"],
    "car_sold": ["car_sold"],
    "app_bound": ["app_bound"],
    "tier": [],  # the tier=* one-hot columns
}


def _i(v: float) -> int:
    return int(round(float(v)))


def reason_text(group: str, f: dict[str, float], tier: str) -> dict | None:
    """The plain-language reason for one customer (None when there is nothing true to say)."""
    if group == "recency":
        if f["never_paid"]:
            return text(N_("No paid visit yet"))
        return text(
            N_("No paid visit for %(months)s months"), months=_i(f["days_since_paid"] / 30.44)
        )
    if group == "frequency":
        return text(N_("Paid visits in 24 months: %(n)s"), n=_i(f["paid_24m"]))
    if group == "spend":
        return text(N_("Spend in 24 months: %(amount)s CNY"), amount=_i(f["spend_24m"]))
    if group == "warranty":
        return text(N_("Warranty visits in 24 months: %(n)s"), n=_i(f["warranty_visits_24m"]))
    if group == "bookings":
        if not f["bookings_12m"]:
            return text(N_("No booking in 12 months"))
        return text(N_("Bookings in 12 months: %(n)s"), n=_i(f["bookings_12m"]))
    if group == "no_shows" and f["no_shows_12m"]:
        return text(N_("Missed appointments in 12 months: %(n)s"), n=_i(f["no_shows_12m"]))
    if group == "nps" and f["detractor"]:
        return text(N_("Gave a low score (%(score)s/10)"), score=_i(f["last_nps"]))
    if group == "complaints" and f["complaints_12m"]:
        return text(N_("Complaints in 12 months: %(n)s"), n=_i(f["complaints_12m"]))
    if group == "unresolved" and f["unresolved_complaints"]:
        return text(N_("Unresolved complaints: %(n)s"), n=_i(f["unresolved_complaints"]))
    if group == "declined" and f["declined_12m"]:
        return text(N_("Declined recommended work in 12 months: %(n)s"), n=_i(f["declined_12m"]))
    if group == "app":
        if not f["app_opens_90d"]:
            return text(N_("Has not opened the app in 90 days"))
        return text(N_("App opens in 90 days: %(n)s"), n=_i(f["app_opens_90d"]))
    if group == "points_earned":
        return text(N_("Points earned in 12 months: %(n)s"), n=_i(f["points_earned_12m"]))
    if group == "points_redeemed" and not f["points_redeemed_12m"]:
        return text(N_("No points redeemed in 12 months"))
    if group == "messages":
        if not f["messages_12m"]:
            return text(N_("No messages with the store in 12 months"))
        return text(N_("Messages with the store in 12 months: %(n)s"), n=_i(f["messages_12m"]))
    if group == "reminders" and f["reminders_sent_12m"]:
        sent = _i(f["reminders_sent_12m"])
        return text(
            N_("Reminders opened: %(clicked)s of %(sent)s"),
            clicked=_i(f["reminder_click_rate"] * sent),
            sent=sent,
        )
    if group == "car_age":
        return text(N_("Car age: %(years)s years"), years=_i(f["car_age_months"] / 12))
    if group == "warranty_end" and f["out_of_warranty"]:
        return text(N_("Car out of warranty"))
    if group == "car_sold" and f["car_sold"]:
        return text(N_("Sold their car"))
    if group == "app_bound" and not f["app_bound"]:
        return text(N_("No car bound in the app"))
    if group == "tier":
        if not tier:
            return text(N_("No loyalty tier"))
        return text(N_("Loyalty tier: %(tier)s"), tier=tier)
    return None


def contributions(fitted_state: dict, X: np.ndarray, medians: np.ndarray | None) -> np.ndarray:
    """(n, k) how much each feature pushes each customer's risk up (positive) or down.
    logreg: coefficient × standardised value (log-odds); gbm: predicted risk minus the risk with
    that one feature set to the training population's median (one at a time)."""
    model, kind = fitted_state["model"], fitted_state["kind"]
    if kind == "logreg":
        scaler, lr = model[0], model[-1]
        return ((X - scaler.mean_) / scaler.scale_) * lr.coef_[0]
    base = model.predict_proba(X)[:, 1]
    out = np.zeros_like(X, dtype=float)
    med = medians if medians is not None else np.median(X, axis=0)
    for j in range(X.shape[1]):
        rows = np.flatnonzero(X[:, j] != med[j])  # at the median: no contribution
        if not len(rows):
            continue
        work = X[rows]
        work[:, j] = med[j]
        out[rows, j] = base[rows] - model.predict_proba(work)[:, 1]
    return out


def group_contributions(
    fitted_state: dict, X: np.ndarray, medians: np.ndarray | None
) -> tuple[list[str], np.ndarray]:
    """The reason groups and an (n, groups) array of how much each group pushes each customer's
    risk up (positive) or down. logreg: the sum of its features' contributions; gbm: predicted
    risk minus the risk with the group's features set to the training population's medians
    together (one prediction per group, only for the rows off those medians)."""
    names = fitted_state["names"]
    col = {name: i for i, name in enumerate(names)}
    groups = list(GROUPS)
    idx_of = []
    for name in groups:
        cols = GROUPS[name] or [i for i, n in enumerate(names) if n.startswith("tier=")]
        idx_of.append([col[c] if isinstance(c, str) else c for c in cols])
    out = np.zeros((X.shape[0], len(groups)))
    if fitted_state["kind"] == "logreg":
        contrib = contributions(fitted_state, X, medians)
        for g, idx in enumerate(idx_of):
            if idx:
                out[:, g] = contrib[:, idx].sum(axis=1)
        return groups, out
    model = fitted_state["model"]
    base = model.predict_proba(X)[:, 1]
    med = medians if medians is not None else np.median(X, axis=0)
    for g, idx in enumerate(idx_of):
        if not idx:
            continue
        rows = np.flatnonzero((X[:, idx] != med[idx]).any(axis=1))  # at the medians: nothing
        if not len(rows):
            continue
        work = X[rows]
        work[:, idx] = med[idx]
        out[rows, g] = base[rows] - model.predict_proba(work)[:, 1]
    return groups, out


def top_reasons(
    state: dict, X: np.ndarray, tiers_of_rows: np.ndarray, medians: np.ndarray | None, k: int = 3
) -> list[list[dict]]:
    """Per customer, up to `k` reasons among the groups that raise their risk, strongest first."""
    names = state["names"]
    groups, per_group = group_contributions(state, X, medians)
    eps = 1e-3 if state["kind"] == "gbm" else 0.05
    order = np.argsort(-per_group, axis=1)[:, : k + 3]
    out: list[list[dict]] = []
    for i in range(X.shape[0]):
        reasons: list[dict] = []
        feats = None
        for g in order[i]:
            if per_group[i, g] <= eps or len(reasons) == k:
                break
            if feats is None:
                feats = dict(zip(names, X[i].tolist(), strict=True))
            r = reason_text(groups[g], feats, str(tiers_of_rows[i]))
            if r is not None:
                reasons.append({"code": groups[g], **r})
        out.append(reasons)
    return out


def score(state: dict, data: Data, at: dt.date):
    """(risk, band, reasons) for every customer of `data` from events before `at` (`data` built
    with the model's tiers, so the columns match)."""
    X = features_at(data, day(at))
    with threads():
        risk = state["model"].predict_proba(X)[:, 1]
        reasons = top_reasons(state, X, data.tier, state.get("medians"))
    return risk, band_of(risk), reasons

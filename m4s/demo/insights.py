"""The insight demo: two years of history for the demo groups, then what the nightly and
monthly jobs would have made of it (daily facts, customer features, RFM, the churn model and
its scores), a finished campaign with its measured uplift and last month's service report
per store, so every figure is there at once."""

import datetime as dt
import logging
import time
from types import SimpleNamespace

from django.utils import timezone

from m4s.insights import churn, facts, reports, rfm
from m4s.org.models import Store
from m4s.staff.choices import Role
from m4s.staff.models import StaffUser

from .campaigns import build_campaigns_demo
from .history import DAYS, build_history
from .training import build_training_demo

log = logging.getLogger(__name__)


def _admin_of(group, staff: dict | None):
    for user in (staff or {}).values():
        if user.role == Role.GROUP_ADMIN and user.dealer_group_id == group.pk:
            return user
    return (
        StaffUser.objects.filter(role=Role.GROUP_ADMIN, dealer_group=group, is_active=True)
        .order_by("pk")
        .first()
    )


def build_insights_demo(groups, staff: dict | None = None, *, today: dt.date | None = None):
    """History, then the insight steps in order for every group (each once its part has landed:
    daily facts and customer features, RFM, the churn model and its scores, the campaign demo,
    last month's report per store). Returns what was made: row counts of the history, the churn
    model per group (its validation AUC), campaigns, reports and the seconds each step took."""
    groups = list(groups)
    today = today or timezone.localdate()
    out = SimpleNamespace(counts={}, models={}, campaigns={}, reports=[], seconds={})

    def timed(step, fn, *args, **kw):
        started = time.monotonic()
        result = fn(*args, **kw)
        out.seconds[step] = round(out.seconds.get(step, 0) + time.monotonic() - started, 2)
        return result

    if staff:
        timed("training", build_training_demo, staff, groups)
    made = timed("history", build_history, groups, today=today)
    out.counts = dict(made.counts)
    for group in groups:
        timed("facts_days", facts.build_days, group, today - dt.timedelta(days=DAYS), today)
        timed("facts_customers", facts.build_customers, group, as_of=today)
        timed("rfm", rfm.score, group, today)
        model = timed("churn_train", churn.train_group, group, as_of=today)
        out.models[group.pk] = model
        if model is not None:
            timed("churn_score", churn.score_group, group)
            log.info("churn model of %s: %s AUC %.3f", group.slug, model.kind, model.auc)
        admin = _admin_of(group, staff)
        if admin is not None:
            out.campaigns[group.pk] = timed("campaigns", build_campaigns_demo, group, admin, today)
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for group in groups:
        for store in Store.objects.for_group(group.pk).order_by("pk"):
            out.reports.append(timed("reports", reports.generate, store, last_month))
    return out

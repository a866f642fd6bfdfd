"""The churn model on the database: the group's history read as events (scoped to the group),
training and scoring (set-based write onto CustomerInsight), the thin-history state, retrain_all
safe to run twice."""

import datetime as dt

import numpy as np
import pytest

from m4s.complaints.models import Complaint
from m4s.core.tests.factories import build_world
from m4s.customers.models import Customer
from m4s.insights import churn, churn_synth, history
from m4s.insights.churn_features import BASE_FEATURES, KIND, day, features_at
from m4s.insights.models import ChurnModel, CustomerInsight
from m4s.insights.tests.test_facts import History, at
from m4s.service.choices import AppointmentStatus
from m4s.vehicles.models import Vehicle

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 1, 1)


@pytest.fixture
def world():
    return build_world()


def _customer(w, store, i):
    c = Customer.objects.create(
        dealer_group_id=store.dealer_group_id, store=store, name=f"C{i}", phone=f"+8613{i:09d}"
    )
    car = Vehicle.objects.create(
        dealer_group_id=store.dealer_group_id,
        vin=f"LSVCHURN{i:09d}",
        model="Golf",
        current_owner=c,
        purchase_date=dt.date(2020, 5, 1),
        warranty_end=dt.date(2023, 5, 1),
    )
    return c, car


def test_history_reads_only_the_groups_events(world):
    w = world
    h = History(group=w.group_a, store=w.store_a, advisor=w.advisor_a, owner=w.owner)
    c1, car1 = _customer(w, w.store_a, 1)
    h.visit(c1, car1, at(2025, 3, 1), "800.00")
    h.visit(c1, car1, at(2025, 6, 1), "0.00")
    h.appointment(c1, car1, at(2025, 9, 1), AppointmentStatus.NO_SHOW)
    cb, carb = _customer(w, w.store_b, 2)
    hb = History(group=w.group_b, store=w.store_b, advisor=w.advisor_b, owner=w.owner_b)
    hb.visit(cb, carb, at(2025, 3, 1), "500.00")
    data = history.load(w.group_a)
    assert list(data.customer_ids) == [c1.pk]
    kinds = sorted(int(k) for k in data.ev_kind)
    assert kinds == sorted([KIND["visit_paid"], KIND["visit_warranty"], KIND["booking"],
                            KIND["no_show"]])  # fmt: skip
    X = features_at(data, day(dt.date(2025, 12, 1)))
    f = dict(zip(BASE_FEATURES, X[0], strict=False))
    assert f["paid_12m"] == 1 and f["spend_24m"] == 800 and f["warranty_visits_24m"] == 1
    assert f["no_shows_12m"] == 1 and f["out_of_warranty"] == 1
    assert data.purchase[0] == day(dt.date(2020, 5, 1))
    assert Complaint.objects.unscoped().count() == 0


def _synthetic_history(monkeypatch, world, n):
    """The database history replaced by a synthetic cohort of `n` real customers of group A."""
    customers = [_customer(world, world.store_a, 100 + i)[0] for i in range(n)]
    synth = churn_synth.cohort(n, TODAY, seed=3)
    synth.customer_ids = np.array([c.pk for c in customers], dtype=object)
    synth.stores = np.full(n, world.store_a.pk)

    real = history.load

    def load(group, *, tiers=None):
        if group.pk != world.group_a.pk:
            return real(group, tiers=tiers)
        d = churn_synth.cohort(n, TODAY, seed=3)
        d.customer_ids = synth.customer_ids
        d.stores = synth.stores
        if tiers is not None:
            d.tiers = tiers
        return d

    monkeypatch.setattr(history, "load", load)
    return customers


def test_train_and_score_a_small_group(world, monkeypatch, django_assert_max_num_queries):
    customers = _synthetic_history(monkeypatch, world, 300)
    model = churn.train_group(world.group_a, TODAY)
    assert model is not None and model.active and model.kind in {"gbm", "logreg"}
    assert 0.5 < model.auc <= 1 and 0 < model.recency_auc < 1
    assert set(model.aucs) == {"gbm", "logreg"} and model.calibration
    assert churn.current_model(world.group_a) == model
    assert churn.current_model(world.group_b) is None
    # one existing insight row (kept, updated), the rest created
    CustomerInsight.objects.create(
        dealer_group=world.group_a, customer=customers[0], as_of=dt.date(2025, 12, 31),
        segment="loyal",
    )  # fmt: skip
    with django_assert_max_num_queries(15):  # a few bulk upserts, not one per row
        assert churn.score_group(world.group_a, TODAY) == 300
    rows = CustomerInsight.objects.for_group(world.group_a.pk)
    assert rows.count() == 300 and not rows.filter(churn_risk__isnull=True).exists()
    first = rows.get(customer=customers[0])
    assert first.segment == "loyal" and first.as_of == dt.date(2025, 12, 31)
    assert first.risk_band in {"low", "medium", "high"} and first.scored_at
    high = rows.filter(risk_band="high").exclude(reasons=[]).first()
    assert high and all("t" in r and "code" in r for r in high.reasons) and len(high.reasons) <= 3
    # a second training replaces the active model; only one active per group
    again = churn.train_group(world.group_a, TODAY)
    assert ChurnModel.objects.for_group(world.group_a.pk).filter(active=True).get() == again


def test_thin_history_has_no_model_and_no_crash(world):
    _customer(world, world.store_a, 7)
    assert churn.train_group(world.group_a, TODAY) is None
    assert churn.score_group(world.group_a, TODAY) == 0
    state = churn.history_state(world.group_a, TODAY)
    assert state["customers"] == 0 and state["needed"] == 60
    assert churn.retrain_all(TODAY) == {world.group_a.pk: 0, world.group_b.pk: 0}


def test_retrain_all_twice_trains_once(world, monkeypatch):
    _synthetic_history(monkeypatch, world, 200)
    monkeypatch.setattr(churn, "history_state", lambda *a, **k: None)
    first = churn.retrain_all(TODAY)
    model = churn.current_model(world.group_a)
    second = churn.retrain_all(TODAY)
    assert first == second == {world.group_a.pk: 200, world.group_b.pk: 0}
    assert churn.current_model(world.group_a) == model
    assert ChurnModel.objects.for_group(world.group_a.pk).count() == 1

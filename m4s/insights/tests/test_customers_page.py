"""Customers at risk: the API (list filtered by segment, risk band and store; a customer's risk
with its reasons translated; the model card) and the console page. Store managers see their
stores only; another group's customer or store is a 404; a role without VIEW_INSIGHTS a 403."""

import datetime as dt
import io

import joblib
import pytest
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from m4s.core.i18n import text
from m4s.core.tests.factories import (
    PASSWORD,
    ApiClient,
    StoreFactory,
    build_world,
    make_staff,
    staff_token,
)
from m4s.customers.models import Customer
from m4s.insights.models import ChurnModel, CustomerInsight
from m4s.staff.choices import Role

pytestmark = pytest.mark.django_db
API = "/api/v1/staff/insights"


def _insight(store, i, risk, band, segment="at_risk", reasons=None):
    c = Customer.objects.create(
        dealer_group_id=store.dealer_group_id, store=store, name=f"Risky {i}", phone=f"+8613{i:09d}"
    )
    CustomerInsight.objects.create(
        dealer_group_id=store.dealer_group_id,
        customer=c,
        store=store,
        as_of=dt.date(2026, 1, 1),
        segment=segment,
        churn_risk=risk,
        risk_band=band,
        reasons=reasons if reasons is not None else [
            {"code": "recency", **text(N_("No paid visit for %(months)s months"), months=14)},
            {"code": "unresolved", **text(N_("Unresolved complaints: %(n)s"), n=1)},
        ],
        scored_at=timezone.now(),
    )  # fmt: skip
    return c


@pytest.fixture
def w():
    w = build_world()
    w.store_a2 = StoreFactory(dealer_group=w.group_a, name="Alpha East")
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    w.high = _insight(w.store_a, 1, 0.81, "high")
    w.low = _insight(w.store_a, 2, 0.1, "low", segment="loyal", reasons=[])
    w.east = _insight(w.store_a2, 3, 0.6, "high")
    w.other = _insight(w.store_b, 4, 0.9, "high")
    buf = io.BytesIO()
    joblib.dump({"kind": "logreg"}, buf)
    ChurnModel.objects.create(
        dealer_group=w.group_a, trained_at=timezone.now(), as_of=dt.date(2026, 1, 1),
        cutoff=dt.date(2025, 1, 1), kind="gbm", auc=0.78, recency_auc=0.69,
        aucs={"gbm": 0.78, "logreg": 0.75}, brier=0.2, n_train=300, n_valid=100, base_rate=0.4,
        calibration=[{"predicted": p / 10, "observed": p / 11, "n": 10} for p in range(10)],
        state=buf.getvalue(),
    )  # fmt: skip
    return w


def test_list_filters_and_scope(w):
    api = ApiClient()
    token = staff_token(w.admin_a)
    r = api.get(f"{API}/customers", token)
    assert r.status_code == 200
    body = r.json_body
    assert [i["customer_id"] for i in body["items"]] == [w.high.pk, w.east.pk, w.low.pk]
    assert body["model"]["trained"] and body["model"]["auc"] == 0.78
    assert body["model"]["recency_auc"] == 0.69 and len(body["model"]["calibration"]) == 10
    assert body["items"][0]["reasons"] == [
        "No paid visit for 14 months",
        "Unresolved complaints: 1",
    ]
    r = api.get(f"{API}/customers", token, params={"risk": "high", "store": w.store_a.pk})
    assert [i["customer_id"] for i in r.json_body["items"]] == [w.high.pk]
    r = api.get(f"{API}/customers", token, params={"segment": "loyal"})
    assert [i["customer_id"] for i in r.json_body["items"]] == [w.low.pk]
    r = api.get(f"{API}/customers", token, params={"page": 9})
    assert r.status_code == 200 and r.json_body["items"] == [] and r.json_body["count"] == 3
    # a store manager sees their store only; another group's store is a 404
    mgr = staff_token(w.manager_a)
    r = api.get(f"{API}/customers", mgr)
    assert {i["customer_id"] for i in r.json_body["items"]} == {w.high.pk, w.low.pk}
    assert api.get(f"{API}/customers", mgr, params={"store": w.store_a2.pk}).status_code == 404
    assert api.get(f"{API}/customers", token, params={"store": w.store_b.pk}).status_code == 404
    assert api.get(f"{API}/customers", token, params={"risk": "extreme"}).status_code == 422
    assert api.get(f"{API}/customers", staff_token(w.advisor_a)).status_code == 403


def test_risk_detail_translated_and_isolated(w):
    api = ApiClient()
    token = staff_token(w.admin_a)
    r = api.get(f"{API}/customers/{w.high.pk}/risk", token)
    assert r.status_code == 200 and r.json_body["risk_band"] == "high"
    assert r.json_body["churn_risk"] == 0.81
    r = api.request(
        "GET", f"{API}/customers/{w.high.pk}/risk", token=token, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert r.status_code == 200 and r.json_body["reasons"][0] != "No paid visit for 14 months"
    assert "14" in r.json_body["reasons"][0]
    assert api.get(f"{API}/customers/{w.other.pk}/risk", token).status_code == 404
    assert api.get(f"{API}/customers/{w.east.pk}/risk", staff_token(w.manager_a)).status_code == 404
    assert api.get(f"{API}/customers/999999/risk", token).status_code == 404
    assert api.get(f"{API}/customers/{w.high.pk}/risk", staff_token(w.advisor_a)).status_code == 403
    # group B has no model: the reason is stated
    r = api.get(f"{API}/churn/model", staff_token(w.admin_b))
    assert r.status_code == 200 and not r.json_body["trained"]
    assert "Not enough history" in r.json_body["note"]
    assert api.get(f"{API}/churn/model", token).json_body["kind"] == "gbm"


def _login(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_page_shows_model_card_list_and_filters(w, django_assert_max_num_queries):
    c = _login(w.admin_a)
    with django_assert_max_num_queries(20):
        r = c.get("/console/insights/customers/", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="auc">0.780' in html and 'data-testid="recency-auc">0.690' in html
    assert 'data-testid="calibration-chart"' in html
    assert "Risky 1" in html and "Risky 3" in html and "Risky 4" not in html
    assert "No paid visit for 14 months" in html
    assert f"/console/customers/{w.high.pk}/" in html
    r = c.get("/console/insights/customers/", {"risk": "low"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Risky 2" in r.content.decode() and "Risky 1" not in r.content.decode()
    assert c.get("/console/insights/customers/", {"store": w.store_b.pk}).status_code == 404
    m = _login(w.manager_a).get("/console/insights/customers/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Risky 1" in m.content.decode() and "Risky 3" not in m.content.decode()
    assert _login(w.advisor_a).get("/console/insights/customers/").status_code == 403
    b = _login(w.admin_b).get("/console/insights/customers/", HTTP_ACCEPT_LANGUAGE="en")
    html = b.content.decode()
    assert 'data-testid="no-model"' in html and "Not enough history" in html
    assert "Risky 4" in html and "Risky 1" not in html

"""The staff API: list, walk-in (Idempotency-Key, duplicate → 200), PATCH (lost needs a reason),
board and forecast; another group's lead is a 404, a consultant of another store gets a 404, an
advisor (no leads) a 403."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.core.tests.factories import staff_token
from m4s.sales import services
from m4s.sales.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(sw):
    return services.open_or_update_lead(
        group_id=sw.group_a.pk, store=sw.store_a, phone="13900040001", source="walk_in"
    )


def test_walk_in_once_per_key_and_duplicate(sw, api_client):
    t = staff_token(sw.sales1)
    body = {"phone": "13900040002", "name": "Wang", "value": "180000.00"}
    r = api_client.post("/api/v1/staff/leads", body, t, HTTP_IDEMPOTENCY_KEY="k1")
    assert r.status_code == 201, r.json_body
    again = api_client.post("/api/v1/staff/leads", body, t, HTTP_IDEMPOTENCY_KEY="k1")
    assert again.status_code == 201 and again.json_body["id"] == r.json_body["id"]
    dup = api_client.post("/api/v1/staff/leads", {"phone": "139 0004 0002"}, t)
    assert dup.status_code == 200 and dup.json_body["id"] == r.json_body["id"]
    assert Lead.objects.for_group(sw.group_a).filter(phone="+8613900040002").count() == 1
    assert r.json_body["assigned_to"] == sw.sales1.pk
    bad = api_client.post("/api/v1/staff/leads", {"phone": "12"}, t)
    assert bad.status_code == 400 and bad.json_body["code"] == "invalid_phone"


def test_patch_stage_lost_needs_reason(sw, api_client, lead):
    t = staff_token(sw.sales1)
    url = f"/api/v1/staff/leads/{lead.pk}"
    r = api_client.patch(url, {"stage": "lost"}, t)
    assert r.status_code == 409 and r.json_body["code"] == "lost_reason_required"
    r = api_client.patch(url, {"stage": "lost", "lost_reason": "price"}, t)
    assert r.status_code == 200 and r.json_body["stage"] == "lost"
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    r = api_client.patch(url, {"stage": "negotiation", "next_follow_up": day}, t)
    assert r.json_body["stage"] == "negotiation" and r.json_body["next_follow_up"] == day
    assert r.json_body["lost_reason"] == ""


def test_isolation_on_every_endpoint(sw, api_client, lead):
    for who, status in ((sw.sales_b, 404), (sw.admin_b, 404), (sw.sales_south, 404)):
        t = staff_token(who)
        assert api_client.get(f"/api/v1/staff/leads/{lead.pk}", t).status_code == status
        assert (
            api_client.patch(f"/api/v1/staff/leads/{lead.pk}", {"stage": "won"}, t).status_code
            == status
        )
        ids = [x["id"] for x in api_client.get("/api/v1/staff/leads", t).json_body]
        assert lead.pk not in ids
    lead.refresh_from_db()
    assert lead.stage == "new"
    # the group's manager sees it; an advisor (no leads) is refused everywhere
    assert (
        api_client.get(f"/api/v1/staff/leads/{lead.pk}", staff_token(sw.admin_a)).status_code == 200
    )
    t = staff_token(sw.advisor_a)
    for path in (
        "/api/v1/staff/leads",
        f"/api/v1/staff/leads/{lead.pk}",
        "/api/v1/staff/sales/board",
        "/api/v1/staff/sales/forecast",
    ):
        assert api_client.get(path, t).status_code == 403
    # a consultant has no forecast
    assert api_client.get("/api/v1/staff/sales/forecast", staff_token(sw.sales1)).status_code == 403


def test_board_and_forecast(sw, api_client, lead):
    month = timezone.localdate().replace(day=1)
    Lead.objects.for_group(sw.group_a).filter(pk=lead.pk).update(
        value="200000.00", expected_close=month, assigned_to=sw.sales1, stage="test_drive"
    )
    b = api_client.get("/api/v1/staff/sales/board", staff_token(sw.sales1)).json_body
    col = next(c for c in b["columns"] if c["stage"] == "test_drive")
    assert [c["id"] for c in col["cards"]] == [lead.pk]
    f = api_client.get(
        "/api/v1/staff/sales/forecast",
        staff_token(sw.manager_a),
        params={"month": month.strftime("%Y-%m")},
    ).json_body
    assert f["weighted_total"] == "80000.00"
    other = api_client.get("/api/v1/staff/sales/forecast", staff_token(sw.admin_b)).json_body
    assert other["weighted_total"] == "0.00"
    assert (
        api_client.get(
            "/api/v1/staff/sales/forecast", staff_token(sw.manager_a), params={"month": "2026-13"}
        ).status_code
        == 422
    )

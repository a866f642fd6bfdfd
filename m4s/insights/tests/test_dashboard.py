"""The KPI dashboard, its drill-down and exports, and GET /api/v1/staff/insights/kpis: numbers
on the page, isolation (another group's store 404, no capability 403, a store manager sees only
their stores) and a bounded number of queries whatever the data size."""

import datetime as dt
import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from m4s.core.tests.factories import make_staff, staff_token
from m4s.insights import facts
from m4s.staff.choices import Role

from .test_facts import history


@pytest.fixture
def built(world):
    h = history(world)
    facts.build_days(world.group_a, dt.date(2025, 5, 1), dt.date(2025, 6, 30))
    h.manager2 = make_staff("manager-a2", Role.STORE_MANAGER, world.group_a, [h.store2])
    return h


def client_for(user):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


URL = reverse("console-insights")


def test_dashboard_shows_group_and_stores(world, built, django_assert_max_num_queries):
    c = client_for(world.admin_a)
    with django_assert_max_num_queries(25):
        r = c.get(URL, {"month": "2025-06"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="kpi-retention-group">50.0%' in html
    assert f'data-testid="kpi-paid_visits-{built.store2.pk}">' in html
    assert 'data-testid="trend-csi"' in html and "Alpha South" in html
    # a month without data: dashes, not errors
    r = c.get(URL, {"month": "2019-01"})
    assert r.status_code == 200 and 'data-testid="kpi-csi-group">—' in r.content.decode()
    # more facts rows (every day of two years for both stores), same number of queries
    from m4s.insights.models import StoreDay

    have = set(StoreDay.objects.unscoped().values_list("store_id", "day"))
    StoreDay.objects.bulk_create(
        StoreDay(dealer_group=world.group_a, store=s, day=d, paid_visits=1)
        for s in (world.store_a, built.store2)
        for d in (dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(730))
        if (s.pk, d) not in have
    )
    with django_assert_max_num_queries(25):
        assert c.get(URL, {"month": "2025-06", "store": world.store_a.pk}).status_code == 200


def test_isolation_and_capability(world, built):
    admin_b = client_for(world.admin_b)
    assert admin_b.get(URL, {"store": world.store_a.pk}).status_code == 404
    assert client_for(world.advisor_a).get(URL).status_code == 403
    m2 = client_for(built.manager2)
    r = m2.get(URL, {"month": "2025-06"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "Alpha South" in html and "Alpha North" not in html
    assert m2.get(URL, {"store": world.store_a.pk}).status_code == 404
    drill = reverse("console-insights-drill", args=["retention"])
    assert m2.get(drill, {"store": world.store_a.pk}).status_code == 404
    assert client_for(world.advisor_a).get(drill).status_code == 403
    assert (
        client_for(world.admin_a).get(reverse("console-insights-drill", args=["nope"])).status_code
        == 404
    )


def test_drill_down_lists_the_customers(world, built):
    c = client_for(world.admin_a)
    url = reverse("console-insights-drill", args=["retention"])
    r = c.get(url, {"store": world.store_a.pk, "month": "2025-06"})
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count('data-testid="drill-row"') == 2  # c1 (retained) and c2
    assert reverse("console-customer", args=[built.c[0].pk]) in html
    for code in (
        "show_rate",
        "csi",
        "ftf",
        "binding_rate",
        "active_owners",
        "lead_conversion",
        "points_liability",
        "maint_booked",
        "complaint_fr_sla",
        "warranty_return",
        "first_response",
        "request_sla",
        "reminder_conversion",
        "revenue",
    ):
        r = c.get(reverse("console-insights-drill", args=[code]), {"month": "2025-06"})
        assert r.status_code == 200, code
    r = c.get(
        reverse("console-insights-drill", args=["show_rate"]),
        {"month": "2025-06", "store": world.store_a.pk},
    )
    assert r.content.decode().count('data-testid="drill-row"') == 4


def test_exports(world, built):
    c = client_for(world.admin_a)
    built.c[0].name = "=cmd()"
    built.c[0].save()
    r = c.get(reverse("console-insights-export"), {"month": "2025-06"})
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = list(book.worksheets[0].values)
    assert rows[0][2:] == ("All stores shown", "Alpha North", "Alpha South")
    assert rows[1][:3] == ("Retention (12 months)", "pct", 50.0)
    r = c.get(reverse("console-insights-drill-export", args=["retention"]), {"month": "2025-06"})
    names = [row[0] for row in openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0].values]
    assert "'=cmd()" in names  # formula injection guarded


def test_api_kpis(world, built, api_client):
    token = staff_token(world.admin_a)
    r = api_client.get("/api/v1/staff/insights/kpis", token, params={"month": "2025-06"})
    assert r.status_code == 200
    by = {k["code"]: k["value"] for k in r.json_body["kpis"]}
    assert by["paid_visits"] == 3 and by["retention"] == 50.0
    r = api_client.get(
        "/api/v1/staff/insights/kpis",
        token,
        params={"scope": "store", "store": world.store_a.pk, "month": "2025-06"},
    )
    assert r.status_code == 200 and r.json_body["store_id"] == world.store_a.pk
    assert {k["code"]: k["value"] for k in r.json_body["kpis"]}["paid_visits"] == 2
    r = api_client.get("/api/v1/staff/insights/kpis", token, params={"month": "2019-01"})
    assert all(k["value"] is None for k in r.json_body["kpis"])
    # another group's store 404; bad month 422; no capability 403; scope=store needs a store
    tb = staff_token(world.admin_b)
    r = api_client.get(
        "/api/v1/staff/insights/kpis", tb, params={"scope": "store", "store": world.store_a.pk}
    )
    assert r.status_code == 404
    assert (
        api_client.get(
            "/api/v1/staff/insights/kpis", token, params={"month": "2025-13"}
        ).status_code
        == 422
    )
    assert (
        api_client.get("/api/v1/staff/insights/kpis", token, params={"scope": "store"}).status_code
        == 422
    )
    assert (
        api_client.get("/api/v1/staff/insights/kpis", staff_token(world.advisor_a)).status_code
        == 403
    )

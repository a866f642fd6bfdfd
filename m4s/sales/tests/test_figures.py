"""The forecast's arithmetic on hand-made leads (exact Decimals), the board's columns, and a
fixed number of queries whatever the number of leads."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from m4s.sales import selectors, services
from m4s.sales.choices import Stage
from m4s.sales.models import Lead

pytestmark = pytest.mark.django_db


def _lead(w, phone, value, stage, close, **kw):
    lead = services.open_or_update_lead(
        group_id=w.group_a.pk, store=w.store_a, phone=phone, source="walk_in", value=value
    )
    Lead.objects.for_group(w.group_a).filter(pk=lead.pk).update(
        stage=stage, expected_close=close, **kw
    )
    return lead


def test_weighted_forecast_is_exact(sw):
    today = timezone.localdate()
    month = today.replace(day=1)
    nxt = (month + dt.timedelta(days=32)).replace(day=1)
    _lead(sw, "13900010001", "100000.00", Stage.NEW, month, assigned_to=sw.sales1)  # 10 %
    _lead(sw, "13900010002", "250000.50", Stage.NEGOTIATION, month, assigned_to=sw.sales2)  # 60 %
    _lead(sw, "13900010003", "123456.78", Stage.TEST_DRIVE, month, assigned_to=sw.sales1)  # 40 %
    _lead(
        sw, "13900010004", "300000.00", Stage.WON, nxt, won_at=timezone.now(), assigned_to=sw.sales1
    )
    _lead(sw, "13900010005", "999999.00", Stage.LOST, month, lost_reason="price")
    _lead(sw, "13900010006", "500000.00", Stage.NEW, nxt)  # next month
    f = selectors.forecast(sw.manager_a, month)
    # 10000.00 + 150000.30 + 49382.712 (→ 49382.71) + 300000.00
    assert f["weighted_total"] == Decimal("509383.01")
    stages = {s["stage"]: s for s in f["stages"]}
    assert stages[Stage.WON]["weighted"] == Decimal("300000.00")
    assert stages[Stage.NEGOTIATION]["weighted"] == Decimal("150000.30")
    assert f["won_total"] == Decimal("300000.00")
    people = {p["staff_id"]: p for p in f["consultants"]}
    assert people[sw.sales1.pk]["weighted"] == Decimal("359382.71")
    assert people[sw.sales2.pk]["count"] == 1
    assert "lost" not in stages
    # the group changes its probabilities: negotiation 50 %
    services.save_probabilities(sw.manager_a, p_negotiation=50)
    f2 = selectors.forecast(sw.manager_a, month)
    assert f2["weighted_total"] == Decimal("509383.01") - Decimal("25000.05")
    # another group sees none of it
    assert selectors.forecast(sw.admin_b, month)["weighted_total"] == Decimal("0.00")


def test_board_columns_and_overdue_first(sw):
    today = timezone.localdate()
    a = _lead(sw, "13900020001", "1000", Stage.CONTACTED, None, assigned_to=sw.sales1)
    b = _lead(sw, "13900020002", "2000", Stage.CONTACTED, None, assigned_to=sw.sales1)
    Lead.objects.for_group(sw.group_a).filter(pk=a.pk).update(
        next_follow_up=today + dt.timedelta(days=2)
    )
    Lead.objects.for_group(sw.group_a).filter(pk=b.pk).update(
        next_follow_up=today - dt.timedelta(days=3)
    )
    board = selectors.board(sw.sales1, today=today)
    col = next(c for c in board["columns"] if c["stage"] == Stage.CONTACTED)
    assert [c.pk for c in col["cards"]] == [b.pk, a.pk]
    assert col["count"] == 2 and col["value"] == Decimal("3000.00") and col["overdue"] == 1


def test_board_and_forecast_queries_are_fixed(sw):
    month = timezone.localdate().replace(day=1)

    def count():
        with CaptureQueriesContext(connection) as q:
            selectors.board(sw.sales1)
            selectors.forecast(sw.manager_a, month)
            selectors.pipeline(sw.manager_a)
        return len(q)

    _lead(sw, "13900030000", "1000", Stage.NEW, month, assigned_to=sw.sales1)
    count()  # the actors' stores are read once, then cached
    few = count()
    for i in range(1, 15):
        _lead(sw, f"139000300{i:02d}", "1000", Stage.NEW, month, assigned_to=sw.sales1)
    assert count() == few

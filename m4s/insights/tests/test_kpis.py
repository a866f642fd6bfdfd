"""Each KPI against the hand-built June 2025 (see test_facts.history), the trend, and a month
outside the data (every figure None)."""

import datetime as dt
from decimal import Decimal

import pytest

from m4s.insights import facts, kpis

from .test_facts import JUNE, history


@pytest.fixture
def built(world):
    h = history(world)
    facts.build_days(world.group_a, dt.date(2025, 5, 1), dt.date(2025, 6, 30))
    return h


def test_store_kpis_of_june(world, built):
    v = kpis.month(world.group_a, JUNE, world.store_a.pk)
    assert v["retention"] == 50.0  # c1 of c1, c2
    assert v["warranty_return"] == 50.0  # c1's car of c1's and c2's
    assert v["maint_booked"] == 100.0 and v["maint_done"] == 50.0 and v["maint_elsewhere"] == 0.0
    assert v["show_rate"] == 75.0  # 3 shown, 1 no-show, the cancelled one not counted
    assert v["csi"] == 90.0  # 100 and 80
    assert v["nps"] == 0.0  # one promoter, one detractor
    assert v["ftf"] == pytest.approx(66.7)  # c3 came back within 30 days
    assert v["complaint_fr_sla"] == 100.0 and v["complaint_res_sla"] == 0.0
    assert v["complaint_handling"] == 120.0
    assert v["first_response"] is None and v["request_sla"] is None  # nothing happened
    assert v["binding_rate"] == 25.0  # c1 of 4 customers
    assert v["reminder_conversion"] == 50.0
    assert v["lead_conversion"] == 50.0
    assert v["points_liability"] == 70
    assert v["active_owners"] == 2  # two app bookings
    assert v["paid_visits"] == 2 and v["revenue"] == Decimal("800.00")


def test_group_column_sums_the_stores(world, built):
    cols = kpis.table(world.group_a, JUNE, [world.store_a.pk, built.store2.pk])
    assert cols[built.store2.pk]["paid_visits"] == 1
    assert cols[None]["paid_visits"] == 3
    assert cols[None]["revenue"] == Decimal("1000.00")
    assert kpis.month(world.group_a, JUNE)["paid_visits"] == 3
    assert cols[None]["binding_rate"] == 20.0  # 1 of 5 customers


def test_months_outside_the_data_are_empty(world, built):
    v = kpis.month(world.group_a, dt.date(2019, 1, 1))
    assert all(value is None for value in v.values())
    assert all(value is None for value in kpis.month(world.group_b, JUNE).values())


def test_trend_and_staff(world, built):
    t = kpis.trend(world.group_a, [dt.date(2025, 4, 1), dt.date(2025, 5, 1), JUNE])
    assert t["paid_visits"] == [None, 0, 3]
    assert t["points_liability"][1:] == [100, 70]
    staff = kpis.staff_binding(world.group_a, JUNE, [world.store_a.pk])
    assert staff[0]["staff_id"] == world.advisor_a.pk and staff[0]["rate"] == 25.0

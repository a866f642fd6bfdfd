"""Uplift arithmetic against hand-computed and published numbers, and the per-arm, per-window
figures read from appointments and paid invoices (one aggregate query per arm and window)."""

import datetime as dt
import itertools
import math
from decimal import Decimal

import pytest
from django.db.models import F

from m4s.insights import uplift
from m4s.insights.models import Arm, Campaign, CampaignMember
from m4s.insights.tests.test_segments import cw, make_customer  # noqa: F401

_n = itertools.count(1)
T0 = dt.datetime(2026, 1, 10, 10, 0, tzinfo=dt.UTC)


# --- arithmetic ----------------------------------------------------------------------------------
def test_wilson_matches_the_published_interval():
    # Newcombe (1998), table I: 81/263 → 0.2553 to 0.3662
    lo, hi = uplift.wilson(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    assert uplift.wilson(0, 10)[0] == 0.0


def test_newcombe_difference_matches_the_published_interval():
    # Newcombe (1998), table II example (a): 56/70 − 48/80 → 0.2000, 0.0524 to 0.3339
    d, lo, hi = uplift.newcombe(56, 70, 48, 80)
    assert (round(d, 4), round(lo, 4), round(hi, 4)) == (0.2, 0.0524, 0.3339)
    # (h): 10/10 − 0/10 → 0.6075 to 1.0000 (the interval behaves at 0 % and 100 %)
    d, lo, hi = uplift.newcombe(10, 10, 0, 10)
    assert (d, round(lo, 4), round(hi, 4)) == (1.0, 0.6075, 1.0)


def test_welch_matches_hand_computation():
    # treated: mean 10, var 4, n 10; control: mean 8, var 9, n 12
    # se = sqrt(4/10 + 9/12) = sqrt(1.15) = 1.07238
    # df = 1.15² / (0.4²/9 + 0.75²/11) = 1.3225 / 0.068914 = 19.1905
    # t(0.975, 19.19) = 2.0917 (between 2.093 at 19 and 2.086 at 20) → 2 ± 2.2431
    d, lo, hi, df = uplift.welch(10, 4, 10, 8, 9, 12)
    assert d == 2
    assert math.isclose(df, 19.1905, abs_tol=1e-3)
    assert math.isclose(hi - d, 2.0917 * math.sqrt(1.15), abs_tol=2e-3)
    assert math.isclose(lo, 2 - (hi - 2))
    # no spread: the interval is the point
    assert uplift.welch(5, 0, 4, 5, 0, 4)[:3] == (0, 0, 0)
    # large arms: the t quantile tends to the normal one
    assert math.isclose(uplift.t_quantile(1e6), uplift.Z95, abs_tol=1e-4)


# --- figures from the database --------------------------------------------------------------------
def paid_visit(w, customer, at, amount, *, booked_at=None):
    """A repair order and its invoice at `at` (customer pays `amount`), with its appointment
    created at `booked_at` when given."""
    from m4s.service.models import Appointment, Invoice, RepairOrder
    from m4s.vehicles.models import Vehicle

    i = next(_n)
    car = Vehicle.objects.unscoped().filter(current_owner=customer).first()
    appt = None
    if booked_at is not None:
        appt = Appointment.objects.create(
            dealer_group=w.group_a,
            store=w.store_a,
            customer=customer,
            vehicle=car,
            advisor=w.advisor_a,
            starts_at=at,
            date=at.date(),
            channel="app",
        )
        Appointment.objects.unscoped().filter(pk=appt.pk).update(created_at=booked_at)
    if amount is None:
        return
    ro = RepairOrder.objects.create(
        dealer_group=w.group_a,
        number=f"RO{i}",
        store=w.store_a,
        customer=customer,
        vehicle=car,
        appointment=appt,
        advisor=w.advisor_a,
        odometer_in=1000,
        fuel_pct=50,
        checked_in_at=at,
    )
    money = Decimal(amount)
    Invoice.objects.create(
        dealer_group=w.group_a,
        repair_order=ro,
        number=f"INV{i}",
        issued_at=at,
        issued_by=w.advisor_a,
        labour_total=money,
        parts_total=0,
        discount_total=0,
        net_total=money,
        tax_rate=Decimal("0"),
        tax=0,
        total=money,
        customer_pay_net=money,
        customer_pay_total=money,
    )


@pytest.mark.django_db
def test_result_per_arm_and_window(cw, django_assert_num_queries):  # noqa: F811
    w = cw
    treated = [make_customer(w, w.store_a) for _ in range(4)]
    control = [make_customer(w, w.store_a) for _ in range(3)]
    c = Campaign.objects.create(
        dealer_group=w.group_a, name="T", status="sent", launched_at=T0, body={"n": "x"}
    )
    CampaignMember.objects.bulk_create(
        [
            CampaignMember(dealer_group=w.group_a, campaign=c, customer=x, arm=arm)
            for arm, people in ((Arm.TREATED, treated), (Arm.CONTROL, control))
            for x in people
        ]
    )
    day = dt.timedelta(days=1)
    # treated: two visits within 30 days (one booked), one at day 45, one never
    paid_visit(w, treated[0], T0 + 5 * day, "300.00", booked_at=T0 + 2 * day)
    paid_visit(w, treated[0], T0 + 20 * day, "100.00")  # a second visit: spend adds, visited once
    paid_visit(w, treated[1], T0 + 10 * day, "200.00")
    paid_visit(w, treated[2], T0 + 45 * day, "500.00", booked_at=T0 + 40 * day)
    paid_visit(w, treated[3], T0 - 5 * day, "999.00")  # before launch: not counted
    # control: a booking without a visit at day 50; a warranty visit (0) at day 10
    paid_visit(w, control[0], T0 + 55 * day, None, booked_at=T0 + 50 * day)
    paid_visit(w, control[1], T0 + 10 * day, "0.00")
    # another group's campaign member would never count: figures are read in the group
    with django_assert_num_queries(2):
        t30 = uplift.arm_figures(c, Arm.TREATED, T0, T0 + 30 * day)
        c30 = uplift.arm_figures(c, Arm.CONTROL, T0, T0 + 30 * day)
    assert (t30.n, t30.booked, t30.visited, t30.spend) == (4, 1, 2, Decimal("600.00"))
    assert (c30.n, c30.booked, c30.visited, c30.spend) == (3, 0, 0, Decimal("0.00"))
    # spend per member 150 and its sample variance: values 400, 200, 0, 0
    assert t30.spend_mean == 150.0
    assert math.isclose(t30.spend_var, ((250**2) + (50**2) + 2 * (150**2)) / 3)

    r = uplift.result(c, now=T0 + 70 * day)
    assert [(x["days"], x["partial"]) for x in r["windows"]] == [
        (30, False),
        (60, False),
        (90, True),
    ]
    w30, w60 = r["windows"][0], r["windows"][1]
    assert w60["arms"]["treated"]["visited"] == 3 and w60["arms"]["control"]["booked"] == 1
    d, lo, hi = uplift.newcombe(2, 4, 0, 3)
    assert w30["uplift"]["visited"] == {"diff": d, "low": lo, "high": hi}
    assert w30["uplift"]["spend"]["diff"] == 150.0
    assert w30["uplift"]["spend"]["low"] < 0 < w30["uplift"]["spend"]["high"]  # tiny arms
    assert w60["arms"]["treated"]["spend"] == Decimal("1100.00")
    # before launch: no window; a draft: none
    assert uplift.result(c, now=T0 - day)["windows"] == []
    Campaign.objects.unscoped().filter(pk=c.pk).update(launched_at=None, seed=F("seed"))
    c.refresh_from_db()
    assert uplift.result(c)["windows"] == []

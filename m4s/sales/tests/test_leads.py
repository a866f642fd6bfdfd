"""Leads: de-duplication by phone and by customer, the customer's consultant, round-robin among
the store's consultants, stages (lost needs a reason, won sets won_at, advance only forward)."""

from decimal import Decimal

import pytest

from m4s.core.errors import DomainError
from m4s.customers.models import TimelineEvent
from m4s.sales import services
from m4s.sales.choices import Stage
from m4s.sales.models import Lead, LeadActivity

pytestmark = pytest.mark.django_db


def _open(w, **kw):
    data = {"group_id": w.group_a.pk, "store": w.store_a, "source": "walk_in", **kw}
    return services.open_or_update_lead(**data)


def test_same_phone_updates_the_open_lead(sw):
    first = _open(sw, phone="139 0000 1111", name="Li", value="150000")
    again = _open(sw, phone="+8613900001111", source="finance", campaign="spring")
    assert again.pk == first.pk
    assert Lead.objects.for_group(sw.group_a).count() == 1
    again.refresh_from_db()
    assert again.phone == "+8613900001111"
    assert again.campaign == "spring"  # filled where empty
    assert LeadActivity.objects.for_group(sw.group_a).filter(lead=first).count() == 2


def test_a_new_lead_is_expected_to_close_in_a_month_and_counts_in_that_forecast(sw):
    import datetime as dt

    from django.utils import timezone

    from m4s.sales import selectors

    lead = _open(sw, phone="139 0000 2222", value="100000")
    expected = timezone.localdate() + dt.timedelta(days=services.EXPECTED_CLOSE_DAYS)
    assert lead.expected_close == expected
    month = selectors.forecast(sw.admin_a, month=expected.replace(day=1))
    assert month["weighted_total"] == Decimal("10000.00")  # new: 10 % of 100,000


def test_same_customer_updates_and_a_closed_lead_does_not_count(sw):
    first = _open(sw, customer=sw.customer, source="test_drive")
    assert _open(sw, customer=sw.customer, source="finance").pk == first.pk
    services.move_stage(sw.manager_a, first, Stage.WON)
    third = _open(sw, customer=sw.customer, source="insurance")
    assert third.pk != first.pk
    assert TimelineEvent.objects.for_group(sw.group_a).filter(customer=sw.customer).count() >= 2


def test_the_same_phone_in_another_group_is_another_lead(sw):
    a = _open(sw, phone="13900000077")
    assert a.pk != sw.lead_b.pk
    assert a.dealer_group_id == sw.group_a.pk


def test_customer_lead_goes_to_their_consultant(sw):
    sw.customer.sales_consultant = sw.sales2
    sw.customer.save()
    lead = _open(sw, customer=sw.customer)
    assert lead.assigned_to == sw.sales2


def test_round_robin_among_the_store_consultants(sw):
    got = [_open(sw, phone=f"1390000{i:04d}").assigned_to for i in range(4)]
    assert got[0] != got[1]
    assert {got[0], got[1]} == {sw.sales1, sw.sales2}
    assert got[2] == got[0] and got[3] == got[1]
    # never the other store's consultant
    assert sw.sales_south not in got


def test_no_consultant_leaves_it_unassigned(sw):
    lead = services.open_or_update_lead(
        group_id=sw.group_b.pk, store=sw.store_b, phone="13900005555", source="web"
    )
    assert lead.assigned_to == sw.sales_b
    sw.sales_b.is_active = False
    sw.sales_b.save()
    lead2 = services.open_or_update_lead(
        group_id=sw.group_b.pk, store=sw.store_b, phone="13900005556", source="web"
    )
    assert lead2.assigned_to is None


def test_bad_input_stores_nothing(sw):
    before = Lead.objects.for_group(sw.group_a).count()
    for kw in (
        {"phone": "12"},
        {"phone": ""},
        {"phone": "13900001234", "source": "nope"},
        {"phone": "13900001234", "store": sw.store_b},
        {"phone": "13900001234", "value": "-5"},
        {"phone": "13900001234", "car_model_id": 999999},
    ):
        with pytest.raises(DomainError):
            _open(sw, **kw)
    assert Lead.objects.for_group(sw.group_a).count() == before


def test_lost_needs_a_reason_and_won_sets_won_at(sw):
    lead = _open(sw, phone="13900002222")
    with pytest.raises(DomainError) as exc:
        services.move_stage(sw.sales1, lead, Stage.LOST)
    assert exc.value.code == "lost_reason_required"
    lead.refresh_from_db()
    assert lead.stage == Stage.NEW
    services.move_stage(sw.sales1, lead, Stage.LOST, lost_reason="price")
    lead.refresh_from_db()
    assert lead.stage == Stage.LOST and lead.lost_reason == "price" and lead.lost_at
    services.move_stage(sw.sales1, lead, Stage.WON)
    lead.refresh_from_db()
    assert lead.won_at and lead.lost_reason == "" and lead.lost_at is None


def test_advance_moves_only_forward(sw):
    lead = _open(sw, phone="13900003333")
    services.move_stage(sw.sales1, lead, Stage.NEGOTIATION)
    lead = services.advance_lead(lead, Stage.TEST_DRIVE)
    assert lead.stage == Stage.NEGOTIATION
    other = _open(sw, phone="13900003334")
    assert services.advance_lead(other, Stage.TEST_DRIVE).stage == Stage.TEST_DRIVE


def test_a_consultant_of_another_store_cannot_touch_the_lead(sw):
    lead = _open(sw, phone="13900004444")
    for actor in (sw.sales_south, sw.sales_b):
        with pytest.raises(DomainError) as exc:
            services.move_stage(actor, lead, Stage.CONTACTED)
        assert exc.value.status == 404


def test_a_call_moves_a_new_lead_to_contacted(sw):
    lead = _open(sw, phone="13900006666")
    services.record_activity(sw.sales1, lead, "call", "will come Saturday")
    lead.refresh_from_db()
    assert lead.stage == Stage.CONTACTED
    with pytest.raises(DomainError):
        services.record_activity(sw.sales1, lead, "note", "")

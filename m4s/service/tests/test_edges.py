"""Inputs at the edges (huge numbers, far dates, odd digits) are clear 4xx answers that change
nothing; a member discount never lets a part go below its price without a reason."""

from decimal import Decimal

import pytest

from m4s.core.tests.factories import owner_token, staff_token
from m4s.demo.starters import loyalty as loyalty_starter
from m4s.loyalty.models import Member
from m4s.loyalty.services import get_or_create_member
from m4s.service.models import InspectionPoint, RepairLinePart, RepairOrder

from .helpers import ready_order


def test_far_dates_odd_ids_and_huge_numbers_are_4xx(workshop, api_client, client):
    w = workshop
    me, staff = owner_token(w.owner), staff_token(w.manager_a)
    for date in ("0001-01-01", "9999-12-31"):
        r = api_client.get(f"/api/v1/stores/{w.store_a.pk}/slots?date={date}", token=me)
        assert r.status_code == 422, date
    r = api_client.get(f"/api/v1/stores/{w.store_a.pk}/slots?date={w.day}&service=%C2%B2", token=me)
    assert (
        r.status_code == 422 and r.json()["code"] == "validation_error"
    )  # `service` has a pattern
    for when in ("9999-12-31T23:00:00Z", "0001-01-01T00:00:00+14:00"):
        body = {"vehicle_id": w.my_car.pk, "store_id": w.store_a.pk, "starts_at": when}
        r = api_client.post("/api/v1/me/appointments", {**body, "package_id": w.s10k.pk}, token=me)
        assert r.status_code == 422, when
    huge = "99999999999999999999999"
    for path in (
        f"/api/v1/staff/appointments?store_id={huge}",
        f"/api/v1/staff/repair-orders?store_id={huge}",
        f"/api/v1/staff/service/follow-ups?store_id={huge}",
        f"/api/v1/staff/service/figures?store_id={w.store_a.pk}&month=9999-12-15",
    ):
        assert api_client.get(path, token=staff).status_code == 422, path
    client.force_login(w.manager_a)
    for path in (
        "/console/service/?date=9999-12-31",
        "/console/service/?date=0001-01-01",
        "/console/service/figures/?month=9999-12",
        "/console/service/figures/?month=0001-03",
        "/console/service/figures/?month=99999999999999999999-01",
    ):
        assert client.get(path).status_code == 200, path


def test_measurements_and_prices_out_of_range_change_nothing(workshop, api_client):
    w = workshop
    ro, (line,) = ready_order(w, [("BATT", "28800-YZZJ4")])
    staff = staff_token(w.advisor_a)
    point = InspectionPoint.objects.for_group(w.group_a).filter(template=w.template).first()
    ro2 = RepairOrder.objects.for_group(w.group_a).get(pk=ro.pk)
    for value in ("12345.67", "1E+30", "-1"):
        r = api_client.post(
            f"/api/v1/staff/repair-orders/{ro2.pk}/inspection",
            {"results": [{"point_id": point.pk, "rating": "amber", "measurement": value}]},
            token=staff,
        )
        assert r.status_code in (400, 409, 422), (value, r.content)
    assert api_client.get(f"/api/v1/staff/repair-orders/{ro.pk}", token=staff).status_code == 200
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro.pk}/settle",
        {"lines": [{"line_id": line.pk, "labour": "1E+27", "reason": "x"}]},
        token=staff,
    )
    assert (
        r.status_code == 422 and r.json()["code"] == "validation_error"
    )  # Money: below 10**9, to the cent
    assert not RepairOrder.objects.for_group(w.group_a).get(pk=ro.pk).settled_at


@pytest.mark.parametrize("tier", [1, 2])
def test_a_member_discount_does_not_excuse_a_part_discount(workshop, tier):
    """The tier's reason covers the labour only: a part below its price still needs one."""
    from m4s.core.errors import DomainError
    from m4s.service import billing as billing_services

    w = workshop
    club = loyalty_starter.install_programme(w.group_a)
    member = get_or_create_member(w.customer)
    Member.objects.for_group(w.group_a).filter(pk=member.pk).update(tier=club.tiers[tier])
    ro, (line,) = ready_order(w, [("BATT", "28800-YZZJ4")])
    lp = RepairLinePart.objects.for_group(w.group_a).get(line=line)
    with pytest.raises(DomainError) as e:
        billing_services.settle(w.advisor_a, ro, prices={line.pk: {"parts": {lp.pk: "1.00"}}})
    assert e.value.code == "discount_needs_reason"
    invoice = billing_services.settle(
        w.advisor_a, ro, prices={line.pk: {"parts": {lp.pk: "1.00"}, "reason": "damaged box"}}
    )
    lp.refresh_from_db()
    assert lp.unit_price == Decimal("1.00") and invoice.discount_total > 0

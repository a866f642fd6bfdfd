"""`m4s seed`: synthetic customers with cars, valid and unique within the group, run after run."""

import io
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from m4s.customers import selectors
from m4s.customers.models import Customer
from m4s.demo.builder import build_demo
from m4s.demo.management.commands import seed
from m4s.demo.synthetic import make_vin
from m4s.org.models import DealerGroup, Store
from m4s.owners.phones import normalize_mobile
from m4s.staff.models import StaffUser
from m4s.vehicles.models import Vehicle, VehicleOwnership
from m4s.vehicles.validation import (
    id_number_is_valid,
    normalize_plate,
    normalize_vin,
    vin_model_year,
)


def _run(customers=300, **options):
    out = io.StringIO()
    call_command(
        "seed", customers=customers, batch=128, stdout=out, stderr=io.StringIO(), **options
    )
    return out.getvalue()


def _group_rows(group):
    customers = list(Customer.objects.for_group(group).order_by("pk"))
    vehicles = list(Vehicle.objects.for_group(group).order_by("pk"))
    return customers, vehicles


def _check_group(group, seeded_ids):
    """Every phone, VIN and plate of the group is valid and unique; every seeded customer has
    exactly one car, owned by them since its purchase."""
    customers, vehicles = _group_rows(group)
    phones = [c.phone for c in customers] + [c.phone2 for c in customers if c.phone2]
    assert len(phones) == len(set(phones))
    assert len({v.vin for v in vehicles}) == len(vehicles)
    plates = [v.plate for v in vehicles if v.plate]
    assert len(plates) == len(set(plates))

    seeded = [c for c in customers if c.pk in seeded_ids]
    cars = {v.current_owner_id: v for v in vehicles if v.current_owner_id in seeded_ids}
    ownerships = {
        o.vehicle_id: o
        for o in VehicleOwnership.objects.for_group(group).filter(customer_id__in=seeded_ids)
    }
    assert len(cars) == len(ownerships) == len(seeded)
    for customer in seeded:
        assert normalize_mobile(customer.phone) == customer.phone
        assert customer.phone_last4 == customer.phone[-4:]
        if customer.phone2:
            assert normalize_mobile(customer.phone2) == customer.phone2
            assert customer.phone2_last4 == customer.phone2[-4:]
        else:
            assert customer.phone2_last4 == ""
        assert customer.name and customer.address.startswith("北京市")
        assert customer.source == "import" and customer.gender in ("m", "f") and customer.tags == []
        masked = customer.id_number_masked
        assert len(masked) == 18 and masked[3:14] == "*" * 11
        if customer.id_number_cipher:
            from m4s.core import crypto

            full = crypto.decrypt(customer.id_number_cipher)
            assert id_number_is_valid(full) and full[6:14] == f"{customer.birthday:%Y%m%d}"
        car = cars[customer.pk]
        assert normalize_vin(car.vin) == car.vin
        assert normalize_plate(car.plate) == car.plate and car.plate.startswith("京")
        assert vin_model_year(car.vin) == car.model_year
        assert (len(car.plate) == 8) == (car.fuel in ("bev", "phev"))
        assert car.purchase_store_id == customer.store_id and car.brand and car.model
        assert car.purchase_date <= car.warranty_end and car.odometer_km >= 0
        ownership = ownerships[car.pk]
        assert (
            ownership.customer_id == customer.pk
            and ownership.reason == "import"
            and ownership.ended_at is None
        )
        assert ownership.started_at.date() == car.purchase_date
    return seeded


@pytest.mark.django_db
def test_seed_adds_valid_unique_customers_with_cars_and_again_without_collisions():
    build_demo(insights=False)
    group = DealerGroup.objects.get(slug="jingcheng")
    other = DealerGroup.objects.get(slug="huabei")
    other_before = Customer.objects.for_group(other).count()
    before = set(Customer.objects.for_group(group).values_list("pk", flat=True))
    vehicles_before = Vehicle.objects.for_group(group).count()

    out = _run()
    assert "Seeded 300 customers" in out
    first = set(Customer.objects.for_group(group).values_list("pk", flat=True)) - before
    assert len(first) == 300
    assert Vehicle.objects.for_group(group).count() == vehicles_before + 300
    seeded = _check_group(group, first)

    # round-robin over the group's stores and each store's consultants
    stores = list(Store.objects.for_group(group).order_by("pk"))
    per_store = {s.pk: sum(c.store_id == s.pk for c in seeded) for s in stores}
    assert set(per_store.values()) == {150}
    advisor = StaffUser.objects.get(username="advisor")
    chaoyang = next(c for c in seeded if c.store_id in advisor.store_ids())
    chaoyang_advisors = set(
        StaffUser.objects.filter(role="service_advisor", stores=chaoyang.store_id).values_list(
            "pk", flat=True
        )
    )
    assert advisor.pk in chaoyang_advisors
    assert (
        chaoyang.service_advisor_id in chaoyang_advisors
        and chaoyang.sales_consultant_id
        and chaoyang.cs_agent_id
    )
    assert 40 <= sum(bool(c.phone2) for c in seeded) <= 140  # about 30 %
    assert (
        20
        <= sum(
            len(v.plate) == 8
            for v in Vehicle.objects.for_group(group).filter(current_owner_id__in=first)
        )
        <= 70
    )

    _run(check_foreign_keys=True)  # PostgreSQL: the database checks every key this time
    second = set(Customer.objects.for_group(group).values_list("pk", flat=True)) - before - first
    assert len(second) == 300
    _check_group(group, first | second)
    assert Vehicle.objects.for_group(group).count() == vehicles_before + 600
    assert Customer.objects.for_group(other).count() == other_before  # the other group is untouched

    # the real search finds seeded customers by phone, last four digits and plate
    car = (
        Vehicle.objects.for_group(group).filter(current_owner_id__in=second).order_by("pk").first()
    )
    customer = car.current_owner
    assert customer in selectors.search_customers(advisor, customer.phone)
    assert customer in selectors.search_customers(advisor, car.plate)
    assert customer in selectors.search_customers(advisor, customer.phone_last4, limit=100)


@pytest.mark.django_db
def test_seed_skips_rows_whose_phone_vin_or_plate_the_group_already_has():
    build_demo(insights=False)
    group = DealerGroup.objects.get(slug="jingcheng")
    before = set(Customer.objects.for_group(group).values_list("pk", flat=True))
    ctx = seed.Context(group, 42, 0.0)
    start = len(before) + 1  # the customer made below counts too
    # somebody already has the phone the 2nd new row would get, and the plate of a later one
    phone = seed.phone_for(start + 1, ctx.phone_salt)
    owner = Customer.objects.create(
        dealer_group=group, store_id=ctx.stores[0], name="先到", phone=phone
    )
    later = next(i for i in range(start + 3, start + 20) if seed.plate_kind(i) != "nev")
    Vehicle.objects.create(
        dealer_group=group,
        vin=make_vin(random.Random(1)),
        plate=seed.plate_for(later, ctx.plate_salt, "petrol"),
        current_owner=owner,
    )

    out = _run(customers=20)
    assert "Seeded 20 customers" in out and "; 2 skipped" in out
    seeded = (
        set(Customer.objects.for_group(group).values_list("pk", flat=True)) - before - {owner.pk}
    )
    assert len(seeded) == 20
    customers, vehicles = _group_rows(group)
    assert len({c.phone for c in customers}) == len(customers)
    assert len({v.plate for v in vehicles}) == len(vehicles)
    _check_group(group, seeded)


def test_unique_keys_are_bijective_and_valid():
    salt = 12345
    n = 20_000
    firsts = [seed.phone_for(i, salt) for i in range(n)]
    phones = set(firsts) | {seed.phone_for(i, salt, second=True) for i in range(n)}
    assert len(phones) == 2 * n
    assert {len(p) for p in phones} == {14}
    assert len({p[-4:] for p in firsts}) > 8000  # last four digits spread over all 10,000
    for phone in firsts[:500]:
        assert normalize_mobile(phone) == phone
    assert len({seed.vin_key(i, salt) for i in range(n)}) == n
    plates = [seed.plate_for(i, salt, "bev") for i in range(n)]
    assert len(set(plates)) == n
    for plate in plates[:2000]:
        assert normalize_plate(plate) == plate
    assert seed.MAX_CUSTOMERS == 4_800_000


@pytest.mark.django_db
def test_seed_refuses_an_unknown_group():
    with pytest.raises(CommandError, match="No dealer group"):
        call_command("seed", customers=1, group="nope", stdout=io.StringIO(), stderr=io.StringIO())

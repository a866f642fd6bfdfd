"""The complaints desk: group A's store with two CS agents, a manager and the group admin; the
test owner (a customer of group A with a bound car, CS agent cs-a); another owner of group A;
group B with its own desk and customer."""

import datetime as dt

import pytest

from m4s.core.tests.factories import OwnerFactory, make_staff
from m4s.customers import services as customer_services
from m4s.demo import synthetic
from m4s.staff.choices import Role
from m4s.staff.models import Shift
from m4s.vehicles.models import Vehicle

# A Tuesday without statutory holidays, 10:00 in Shanghai.
T0 = dt.datetime(2025, 3, 11, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def shift(person, store, day: dt.date, start=dt.time(8, 0), end=dt.time(20, 0)):
    return Shift.objects.create(
        dealer_group_id=store.dealer_group_id,
        staff=person,
        store=store,
        date=day,
        starts_at=start,
        ends_at=end,
    )


@pytest.fixture
def desk(workshop, rng):
    w = workshop
    w.cs2_a = make_staff("cs2-a", Role.CUSTOMER_SERVICE, w.group_a, [w.store_a])
    w.manager_b = make_staff("manager-b", Role.STORE_MANAGER, w.group_b, [w.store_b])
    w.cs_b = make_staff("cs-b", Role.CUSTOMER_SERVICE, w.group_b, [w.store_b])
    w.customer.cs_agent = w.cs_a
    w.customer.save()
    # another owner of group A, with a car
    w.owner_c = OwnerFactory(home_store=w.store_a)
    w.customer_c = customer_services.get_or_create_customer_for_owner(w.owner_c, w.store_a)
    w.car_c = Vehicle.objects.create(
        dealer_group=w.group_a,
        vin=synthetic.make_vin(rng),
        plate="京C99999",
        brand="VW",
        model="Golf",
    )
    customer_services.bind_customer_vehicle(
        w.customer_c, w.car_c, via="app", invitation=None, staff=None
    )
    # owner B: a customer of group B with a car
    w.customer_b = customer_services.get_or_create_customer_for_owner(w.owner_b, w.store_b)
    w.car_b = Vehicle.objects.create(
        dealer_group=w.group_b,
        vin=synthetic.make_vin(rng),
        plate="沪B12345",
        brand="VW",
        model="Polo",
    )
    customer_services.bind_customer_vehicle(
        w.customer_b, w.car_b, via="app", invitation=None, staff=None
    )
    return w

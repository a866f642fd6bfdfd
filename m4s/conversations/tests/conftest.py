"""Conversations: group A's store with the test owner (a customer with a bound Camry whose
service advisor is advisor-a, sales consultant sales-a, CS agent cs-a), a second advisor, a
second CS agent, the store manager; another owner of group A; group B with its own owner,
advisor and store. Everyone of group A works 08:00-20:00 on T0's date."""

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
def talk(workshop, rng):
    w = workshop
    w.cs2_a = make_staff("cs2-a", Role.CUSTOMER_SERVICE, w.group_a, [w.store_a])
    w.cs_b = make_staff("cs-b", Role.CUSTOMER_SERVICE, w.group_b, [w.store_b])
    w.customer.cs_agent = w.cs_a
    w.customer.sales_consultant = w.sales_a
    w.customer.save()
    for person in (w.advisor_a, w.advisor_a2, w.cs_a, w.cs2_a, w.sales_a, w.manager_a):
        shift(person, w.store_a, T0.date())
    # another owner of group A, with a car
    w.owner_c = OwnerFactory(home_store=w.store_a)
    w.customer_c = customer_services.get_or_create_customer_for_owner(w.owner_c, w.store_a)
    w.customer_c.service_advisor = w.advisor_a2
    w.customer_c.save()
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
    w.customer_b.service_advisor = w.advisor_b
    w.customer_b.save()
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
    # a third owner who is nobody's customer
    w.stranger = OwnerFactory()
    return w

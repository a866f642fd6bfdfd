import random

import pytest

from m4s.customers import services
from m4s.customers.models import Customer
from m4s.vehicles import synthetic
from m4s.vehicles.models import Vehicle


@pytest.fixture
def rng():
    return random.Random(7)


@pytest.fixture
def cars(world, rng):
    """Group A knows one car owned by an imported customer; group B has its own customer and car."""
    from m4s.core.tests.factories import make_staff
    from m4s.staff.choices import Role

    world.sales_a = make_staff("sales-a", Role.SALES_CONSULTANT, world.group_a, [world.store_a])
    world.cs_a = make_staff("cs-a", Role.CUSTOMER_SERVICE, world.group_a, [world.store_a])
    known = Customer.objects.create(dealer_group=world.group_a, store=world.store_a, name="Zhang San", phone="+8613911110000",
                                    service_advisor=world.advisor_a, sales_consultant=world.sales_a)
    services.set_id_number(known, "11010519491231002X")
    known.save()
    car = Vehicle.objects.create(dealer_group=world.group_a, vin=synthetic.make_vin(rng), plate=synthetic.make_plate(rng), brand="Toyota", model="Camry")
    services._bind(known, car, via="desk", invitation=None, staff=world.advisor_a)
    other = Customer.objects.create(dealer_group=world.group_b, store=world.store_b, name="Li Si", phone="+8613922221234", service_advisor=world.advisor_b)
    other_car = Vehicle.objects.create(dealer_group=world.group_b, vin=synthetic.make_vin(rng), plate=synthetic.make_plate(rng, "沪"), brand="Honda", model="Accord")
    services._bind(other, other_car, via="desk", invitation=None, staff=world.advisor_b)
    world.known, world.car, world.other, world.other_car = known, car, other, other_car
    return world

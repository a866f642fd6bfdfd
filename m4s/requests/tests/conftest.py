"""The requests tests' world: group A's store open every day 09:00-18:00 with a one-car
test-drive fleet of the catalogue's model; the test owner (a customer of group A) has a bound
car; group B has its own catalogue, and its owner sees nothing of group A."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.catalogue.tests.factories import make_catalogue
from m4s.core.tests.factories import OwnerFactory, make_staff
from m4s.customers.services import bind_customer_vehicle, get_or_create_customer_for_owner
from m4s.org import services as org
from m4s.requests.models import TestDriveCar
from m4s.staff.choices import Role
from m4s.vehicles.models import Vehicle


def next_weekday_slot(store, days=7, hour=9) -> dt.datetime:
    local = timezone.localtime(timezone.now(), store.tz) + dt.timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def rq(cars):
    w = cars
    for wd in range(7):
        org.set_business_hours(w.store_a, wd, [(dt.time(9), dt.time(18))])
    w.cat = make_catalogue(w.admin_a)
    w.cat_b = make_catalogue(w.admin_b, prefix="Beta")
    w.td_car = TestDriveCar.objects.create(
        dealer_group=w.group_a, store=w.store_a, car_model=w.cat.model, plate="京A12345"
    )
    w.customer = get_or_create_customer_for_owner(w.owner, w.store_a)
    w.my_car = Vehicle.objects.create(
        dealer_group=w.group_a,
        vin="LSVAA4182E2000001",
        plate="京B54321",
        brand="VW",
        model="Passat",
        model_year=2019,
    )
    bind_customer_vehicle(w.customer, w.my_car, via="desk", invitation=None, staff=w.admin_a)
    w.other_owner = OwnerFactory(home_store=w.store_a)
    w.sales_a2 = make_staff("sales-a2", Role.SALES_CONSULTANT, w.group_a, [w.store_a])
    w.slot = next_weekday_slot(w.store_a)
    return w


@pytest.fixture
def api(api_client):
    return api_client

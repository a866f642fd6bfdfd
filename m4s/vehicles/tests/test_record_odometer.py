"""The car's odometer only goes up, whichever area writes it and in whatever order."""

import pytest

from m4s.vehicles.models import Vehicle
from m4s.vehicles.services import record_odometer


@pytest.mark.django_db
def test_a_reading_never_lowers_a_newer_one(cars):
    w = cars
    group_id = w.car.dealer_group_id
    Vehicle.objects.for_group(group_id).filter(pk=w.car.pk).update(odometer_km=None)
    assert record_odometer(group_id, w.car.pk, 18_000) is True
    assert record_odometer(group_id, w.car.pk, 17_500) is False  # older, lower: ignored
    assert record_odometer(group_id, w.car.pk, 18_000) is False
    assert record_odometer(group_id, w.car.pk, 18_650) is True
    w.car.refresh_from_db()
    assert w.car.odometer_km == 18_650
    # another group's id never reaches this car
    assert record_odometer(w.other_car.dealer_group_id, w.car.pk, 99_000) is False
    w.car.refresh_from_db()
    assert w.car.odometer_km == 18_650


@pytest.mark.django_db
def test_workshop_delivery_keeps_a_newer_telematics_reading(workshop):
    """The car left the workshop at 18,610 km, but its terminal already reported 18,700 km
    before the advisor typed the delivery reading in: the car stays at 18,700."""
    from m4s.service import workshop as workshop_services
    from m4s.service.tests.helpers import ready_order

    w = workshop
    ro, _lines = ready_order(w, settle=True)
    group_id = ro.dealer_group_id
    record_odometer(group_id, ro.vehicle_id, 18_700)  # what the terminal path does
    workshop_services.deliver(w.advisor_a, ro, odometer=18_610)
    car = Vehicle.objects.for_group(group_id).get(pk=ro.vehicle_id)
    assert car.odometer_km == 18_700
    ro.refresh_from_db()
    assert ro.odometer_out == 18_610  # the order keeps what was read at delivery

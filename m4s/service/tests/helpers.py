"""Shared set-up for service tests (the `workshop` fixture lives in the root conftest)."""

import datetime as dt

from django.utils import timezone

from m4s.core.tests.factories import make_staff
from m4s.customers import services as customer_services
from m4s.demo import synthetic
from m4s.demo.starters import service as starter
from m4s.org import services as org
from m4s.service.choices import RepairOrderStatus, SkillLine
from m4s.staff.choices import Role
from m4s.vehicles.models import Vehicle

HOURS = [(dt.time(8, 30), dt.time(12)), (dt.time(13, 30), dt.time(18))]


def next_weekday(days_ahead: int = 2) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days_ahead)


def at(day: dt.date, hh: int, mm: int = 0, store=None) -> dt.datetime:
    tz = store.tz if store is not None else timezone.get_current_timezone()
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=tz)


def build_workshop(w, rng):
    """Group A's store with a catalogue, 2 advisors, 3 technicians and rosters for two weeks; the
    test owner is a customer of group A with a bound Camry. Group B has its own catalogue."""
    for store in (w.store_a, w.store_b):
        for d in range(7):
            org.set_business_hours(store, d, HOURS)
    w.catalogue = starter.install_catalogue(w.group_a)
    w.catalogue_b = starter.install_catalogue(w.group_b)
    w.advisor_a2 = make_staff("advisor-a2", Role.SERVICE_ADVISOR, w.group_a, [w.store_a])
    w.tech_a2 = make_staff("tech-a2", Role.TECHNICIAN, w.group_a, [w.store_a])
    w.tech_body = make_staff("tech-body", Role.TECHNICIAN, w.group_a, [w.store_a])
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    w.template = starter.install_workshop(
        w.store_a,
        w.catalogue,
        advisors=[w.advisor_a, w.advisor_a2],
        technicians=[
            (w.tech_a, SkillLine.QUICK),
            (w.tech_a2, SkillLine.GENERAL),
            (w.tech_body, SkillLine.BODY),
        ],
        hours=(dt.time(8, 30), dt.time(18)),
    )
    starter.install_workshop(
        w.store_b,
        w.catalogue_b,
        advisors=[w.advisor_b],
        technicians=[],
        hours=(dt.time(8, 30), dt.time(18)),
    )
    w.customer = customer_services.get_or_create_customer_for_owner(w.owner, w.store_a)
    w.customer.service_advisor = w.advisor_a
    w.customer.save()
    w.my_car = Vehicle.objects.create(
        dealer_group=w.group_a,
        vin=synthetic.make_vin(rng),
        plate="京A12345",
        brand="Toyota",
        model="Camry",
        odometer_km=18500,
        purchase_date=timezone.localdate() - dt.timedelta(days=700),
    )
    customer_services.bind_customer_vehicle(
        w.customer, w.my_car, via="app", invitation=None, staff=None
    )
    w.day = next_weekday()
    w.s10k = w.catalogue.packages["S10K"]
    return w


def ready_order(w, work=(("DIAG", None),), *, symptoms="noise", settle=False):
    """A walk-in repair order of the test owner's car: each (operation code, part number or None)
    added, approved by the owner and done, the order READY (and settled by the advisor when
    `settle`). Returns (order, lines)."""
    from m4s.service import billing as billing_services
    from m4s.service import workshop as workshop_services
    from m4s.service.models import RepairOrder

    ro = workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms=symptoms,
    )
    lines = []
    for code, part in work:
        parts = [{"part_id": w.catalogue.parts[part].pk, "quantity": 1}] if part else []
        line = workshop_services.add_line(
            w.advisor_a,
            ro,
            operation_id=w.catalogue.operations[code].pk,
            parts=parts,
            reason=symptoms,
        )
        workshop_services.decide_line(ro, line.pk, True, owner=w.owner)
        workshop_services.clock_on(w.tech_a, ro, line.pk)
        workshop_services.clock_off(w.tech_a, ro, line.pk, done=True)
        lines.append(line)
    workshop_services.advance(w.tech_a, ro, RepairOrderStatus.QUALITY_CHECK)
    workshop_services.advance(w.advisor_a, ro, RepairOrderStatus.READY)
    if settle:
        billing_services.settle(w.advisor_a, ro)
    return RepairOrder.objects.for_group(w.group_a).get(pk=ro.pk), lines

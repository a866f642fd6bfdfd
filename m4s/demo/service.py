"""Service demo data: catalogue and workshops for every store, rosters, six months of visits at
Chaoyang and a few things happening right now. Called once by `m4s.demo.builder.build_demo()`,
inside its transaction (so it is as idempotent as the rest of the demo).

The past is written in bulk, as the services would have left it; the services stamp their rows
with `timezone.now()` and cannot write history. Appointments and their part reservations (used
up or released), repair orders with inspection results, booked / inspection / workshop lines at
the published prices, owner decisions, clock times, invoices with the settlement arithmetic of
`billing.settle`, maintenance records, revisit surveys (with the 30-day quiet period) and the
customers' timeline. CapacityUse rows exist only for active appointments from today on, and
every store's PartStock.reserved equals its held reservations.

Now goes through the real services: the first demo owner has a visit booked for tomorrow, the
second a repair order waiting for approval (a red and an amber inspection item), and the due
survey of the third is opened by the survey job.

The shared constants, `Workshop` and `Car` are in `service_base`, the past in `service_history`.
"""

import datetime as dt
import math
import random
from collections import defaultdict
from types import SimpleNamespace

from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.dates import add_months
from m4s.customers.choices import BindingVia, Source, TimelineKind
from m4s.customers.models import Binding, Customer, TimelineEvent
from m4s.customers.services import timeline_event
from m4s.owners.models import Owner
from m4s.service import booking as booking_services
from m4s.service import selectors
from m4s.service import surveys as survey_services
from m4s.service import workshop as workshop_services
from m4s.service.choices import (
    AppointmentStatus,
    Channel,
    Rating,
    SurveyStatus,
    VisitMode,
)
from m4s.service.models import (
    Appointment,
    CapacityUse,
    MaintenanceRecord,
    MaintenanceSchedule,
    PartReservation,
    PartStock,
    Survey,
)
from m4s.staff.choices import Role
from m4s.staff.models import Shift
from m4s.staff.services import create_staff
from m4s.vehicles.choices import Fuel, OwnershipReason
from m4s.vehicles.models import Vehicle, VehicleOwnership
from m4s.vehicles.validation import vin_model_year

from . import synthetic
from .accounts import DEMO_PASSWORD
from .service_base import (
    APP_USERS,
    BOOKING_LEADS,
    EXISTING_STAFF,
    FUTURE_DAYS,
    GENERATED_CUSTOMERS,
    NEW_STAFF,
    PAST_DAYS,
    SEED,
    SHIFT,
    VISITS_PER_WEEKDAY,
    Car,
    Workshop,
    _choose_service,
    _local,
    _shift_for,
)
from .service_history import History
from .starters import service as starter


def build_service_demo(*, staff: dict, owners: list, stores: dict) -> SimpleNamespace:
    """`staff`: username -> StaffUser of build_demo() (the new staff are added to it); `owners`:
    the demo owners in phone order; `stores`: code -> Store (chaoyang, haidian, fengtai,
    tongzhou)."""
    now = timezone.now()
    chaoyang = stores["chaoyang"]
    today = timezone.localtime(now, chaoyang.tz).date()
    rng = random.Random(SEED)
    groups = {s.dealer_group_id: s.dealer_group for s in stores.values()}
    catalogues = {pk: starter.install_catalogue(g, today=today) for pk, g in groups.items()}
    for username, role, code, name, _line, _off in NEW_STAFF:
        store = stores[code]
        staff[username] = create_staff(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            group=store.dealer_group,
            stores=[store],
            display_name=name,
        )
    people = defaultdict(list)  # store code -> [(staff, skill line, weekday off)]
    for username, (line, off) in EXISTING_STAFF.items():
        for store in staff[username].stores.all():
            people[store.code].append((staff[username], line, off))
    for username, _role, code, _name, line, off in NEW_STAFF:
        people[code].append((staff[username], line, off))

    start = today - dt.timedelta(days=PAST_DAYS)
    templates = {}
    for code, store in stores.items():
        templates[code] = starter.install_workshop(
            store,
            catalogues[store.dealer_group_id],
            technicians=[(s, line) for s, line, _off in people[code] if line],
            days=0,  # rosters below, with days off
            start=start,
            hours=SHIFT,
        )
        _rosters(store, people[code], start, PAST_DAYS + FUTURE_DAYS + 1)
    # A busy store keeps three times the starter stock of service parts.
    PartStock.objects.for_group(chaoyang.dealer_group_id).filter(store=chaoyang).update(
        on_hand=F("on_hand") * 3
    )

    w = Workshop(
        chaoyang,
        catalogues[chaoyang.dealer_group_id],
        templates["chaoyang"],
        people["chaoyang"],
        today,
        now,
    )
    w.rng, w.manager, w.sales = rng, staff["manager"], staff["sales"]
    cars = _demo_owner_cars(w, owners) + _generated_cars(w, GENERATED_CUSTOMERS)
    _earlier_service(w, cars + _other_cars(w, cars, list(groups)))
    history = History(w)
    history.plan(cars)
    history.write()
    future = _future_bookings(w, [c for c in cars if not c.demo])
    live = _right_now(w, cars, staff)
    return SimpleNamespace(
        catalogues=catalogues, templates=templates, history=history, future=future, **live
    )


def _rosters(store, people, start: dt.date, days: int) -> None:
    """Everyone works every day but their weekday off; Sundays are short."""
    Shift.objects.bulk_create(
        Shift(
            dealer_group_id=store.dealer_group_id,
            staff=s,
            store=store,
            date=day,
            starts_at=_shift_for(day)[0],
            ends_at=_shift_for(day)[1],
        )
        for day in (start + dt.timedelta(days=i) for i in range(days))
        for s, _line, off in people
        if day.weekday() != off
    )


# --- customers and cars --------------------------------------------------------------------------
def _car(w: Workshop, vehicle: Vehicle, customer: Customer, *, demo: bool) -> Car:
    bought = vehicle.purchase_date or (w.today - dt.timedelta(days=900))
    return Car(
        vehicle=vehicle,
        customer=customer,
        owner_id=customer.owner_id,
        km_now=vehicle.odometer_km or 0,
        km_per_day=(vehicle.odometer_km or 0) / max((w.today - bought).days, 30),
        today=w.today,
        bought=bought,
        ev=vehicle.fuel == Fuel.BEV,
        items=w.schedule_items(vehicle),
        demo=demo,
        last_visit=None,
        booked=False,
    )


def _demo_owner_cars(w: Workshop, owners) -> list[Car]:
    cars = []
    for owner in owners:
        customer = Customer.objects.for_group(w.group_id).get(owner=owner)
        vehicle = (
            Vehicle.objects.for_group(w.group_id)
            .filter(current_owner=customer)
            .order_by("pk")
            .first()
        )
        cars.append(_car(w, vehicle, customer, demo=True))
    return cars


def _anniversary(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _generated_cars(w: Workshop, n: int) -> list[Car]:
    """Chaoyang's other customers, each with one car (mostly Toyotas), 70 % of them app users."""
    rng, group_id, store = w.rng, w.group_id, w.store
    phones = set(Owner.objects.values_list("phone", flat=True)) | set(
        Customer.objects.for_group(group_id).values_list("phone", flat=True)
    )
    plates = set(Vehicle.objects.for_group(group_id).values_list("plate", flat=True))
    vins = set(Vehicle.objects.for_group(group_id).values_list("vin", flat=True))
    advisors = [s for s, _line, _off in w.people if s.role == Role.SERVICE_ADVISOR]
    toyotas = [m for m in synthetic.VEHICLE_MODELS if m[0] == "Toyota"]

    def unique(make, taken):
        value = make()
        while value in taken:
            value = make()
        taken.add(value)
        return value

    rows = []
    latest = w.today - dt.timedelta(days=PAST_DAYS + 60)
    for i in range(n):
        phone = unique(lambda: synthetic.make_mobile(rng), phones)
        brand, model, fuel = (
            rng.choice(toyotas) if rng.random() < 0.8 else synthetic.make_vehicle_model(rng)
        )
        vin = unique(lambda: synthetic.make_vin(rng), vins)
        year = vin_model_year(vin) or 2020
        last = min(dt.date(year, 12, 31), latest)
        first = min(dt.date(year - 1, 7, 1), last)
        bought = first + dt.timedelta(days=rng.randint(0, (last - first).days))
        plate = unique(
            lambda f=fuel: synthetic.make_plate(rng, new_energy=f in (Fuel.BEV, Fuel.PHEV)), plates
        )
        rows.append(
            SimpleNamespace(
                i=i,
                phone=phone,
                name=synthetic.make_chinese_name(rng),
                app=rng.random() < APP_USERS,
                brand=brand,
                model=model,
                fuel=fuel,
                vin=vin,
                plate=plate,
                year=year,
                bought=bought,
                km=int((w.today - bought).days * rng.uniform(25, 55)),
            )
        )
    owners = {
        o.phone: o
        for o in Owner.objects.bulk_create(
            Owner(
                phone=r.phone,
                name=r.name,
                language="en" if r.i % 20 == 0 else "zh-hans",
                home_store=store,
                telematics_consent=True,
                telematics_consent_at=w.now,
                last_login_at=w.now
                - dt.timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 900)),
            )
            for r in rows
            if r.app
        )
    }
    customers = Customer.objects.bulk_create(
        Customer(
            dealer_group_id=group_id,
            owner=owners.get(r.phone),
            store=store,
            name=r.name,
            phone=r.phone,
            phone_last4=r.phone[-4:],
            gender=rng.choice("MF"),
            address=synthetic.make_address(rng),
            source=Source.APP if r.app else Source.IMPORT,
            marketing_consent=rng.random() < 0.6,
            telematics_consent=True,
            service_advisor=advisors[r.i % len(advisors)],
            sales_consultant=w.sales,
        )
        for r in rows
    )
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(
            dealer_group_id=group_id,
            vin=r.vin,
            plate=r.plate,
            brand=r.brand,
            model=r.model,
            fuel=r.fuel,
            model_year=r.year,
            colour=rng.choice(["白", "黑", "银", "灰", "红", "蓝"]),
            purchase_date=r.bought,
            purchase_store=store,
            odometer_km=r.km,
            warranty_end=_anniversary(r.bought, 8 if r.fuel == Fuel.BEV else 3),
            insurance_expiry=w.today + dt.timedelta(days=rng.randint(5, 360)),
            insurer=rng.choice(["人保财险", "平安产险", "太平洋产险"]),
            next_inspection_date=w.today + dt.timedelta(days=rng.randint(20, 700)),
            current_owner=c,
        )
        for r, c in zip(rows, customers, strict=True)
    )
    pairs = list(zip(vehicles, customers, strict=True))
    VehicleOwnership.objects.bulk_create(
        VehicleOwnership(
            dealer_group_id=group_id,
            vehicle=v,
            customer=c,
            reason=OwnershipReason.PURCHASE,
            started_at=dt.datetime.combine(v.purchase_date, dt.time(10), tzinfo=w.tz),
        )
        for v, c in pairs
    )
    Binding.objects.bulk_create(
        Binding(
            dealer_group_id=group_id,
            customer=c,
            vehicle=v,
            owner=c.owner,
            via=BindingVia.APP if k % 2 else BindingVia.DESK,
            staff=None if k % 2 else c.service_advisor,
            store=store,
            created_at=w.now - dt.timedelta(days=rng.randint(PAST_DAYS + 5, 700)),
        )
        for k, (v, c) in enumerate(pairs)
        if c.owner_id
    )
    # customers since they bought the car, not since today
    Customer.objects.for_group(group_id).filter(pk__in=[c.pk for c in customers]).update(
        created_at=Subquery(
            VehicleOwnership.objects.unscoped()
            .filter(customer=OuterRef("pk"))
            .values("started_at")[:1]
        )
    )
    return [_car(w, v, c, demo=False) for v, c in pairs]


# --- before the history: each car's earlier services ------------------------------------------
LATE_DAYS = (0, 40)  # owners come for a service on time or up to a few weeks late
SERVE_AHEAD_DAYS = 60  # an item falling due within two months is done at the same visit


def _other_cars(w: Workshop, cars: list[Car], group_ids: list[int]) -> list[Car]:
    """Every other owned car of the demo groups (other stores, imported customers), with its
    group's schedule, so that none of the demo's cars is without a service history."""
    known = {c.vehicle.pk for c in cars}
    schedules = {
        (s.dealer_group_id, s.brand.lower(), s.model.lower()): list(s.items.all())
        for s in MaintenanceSchedule.objects.unscoped()
        .filter(dealer_group_id__in=group_ids)
        .prefetch_related("items")
    }
    out = []
    for v in (
        Vehicle.objects.unscoped()
        .filter(dealer_group_id__in=group_ids, current_owner__isnull=False)
        .exclude(pk__in=known)
        .select_related("current_owner")
        .order_by("pk")
    ):
        car = _car(w, v, v.current_owner, demo=False)
        brand, model = v.brand.lower(), v.model.lower()
        car.items = schedules.get((v.dealer_group_id, brand, model)) or schedules.get(
            (v.dealer_group_id, brand, ""), []
        )
        out.append(car)
    return out


def _earlier_service(w: Workshop, cars: list[Car]) -> int:
    """Each car's maintenance from its purchase to the start of the history, as the dealer's
    previous system recorded it (no repair orders): the car came in whenever its first item fell
    due (by months or by km at its own pace, a little late), and had done what was due then or
    within two months. So what a car is due for now follows from a plausible service history,
    not from its purchase date years ago."""
    rng = w.rng
    start = w.today - dt.timedelta(days=PAST_DAYS)
    records = []
    for car in cars:
        if not car.items:
            continue
        last = {item.pk: car.bought for item in car.items}
        while True:
            due = []
            for item in car.items:
                on, when = last[item.pk], []
                if item.interval_months:
                    when.append(add_months(on, item.interval_months))
                if item.interval_km and car.km_per_day > 0:
                    when.append(
                        on + dt.timedelta(days=math.ceil(item.interval_km / car.km_per_day))
                    )
                if when:
                    due.append((min(when), item))
            if not due:
                break
            visit = min(d for d, _item in due) + dt.timedelta(days=rng.randint(*LATE_DAYS))
            if visit >= start:
                break
            km = car.odometer_on(visit)
            for d, item in due:
                if d <= visit + dt.timedelta(days=SERVE_AHEAD_DAYS):
                    last[item.pk] = visit
                    records.append(
                        MaintenanceRecord(
                            dealer_group_id=car.vehicle.dealer_group_id,
                            vehicle=car.vehicle,
                            item=item,
                            done_on=visit,
                            done_km=km,
                        )
                    )
    MaintenanceRecord.objects.bulk_create(records, batch_size=1000)
    return len(records)


# --- the next 30 days: visits already booked -----------------------------------------------------
def _future_bookings(w: Workshop, cars: list[Car]) -> list[Appointment]:
    """Bookings fill the next days most and thin out further ahead. Each one fits both capacity
    layers as `day_capacity` computes them; its CapacityUse rows and held parts are written as
    `book_appointment` writes them."""
    rng, g = w.rng, w.group_id
    eligible = [c for c in cars if c.last_visit is None or (w.today - c.last_visit).days > 20]
    rng.shuffle(eligible)
    stock = {s.part_id: s for s in PartStock.objects.for_group(g).filter(store=w.store)}
    held = defaultdict(int)  # part id -> quantity newly held
    appointments, uses, reservations, events = [], [], [], []
    for k in range(1, FUTURE_DAYS + 1):
        day = w.today + dt.timedelta(days=k)
        if not w.is_open(day):
            continue
        n = round(
            VISITS_PER_WEEKDAY[day.weekday()] * max(0.1, 0.85 - 0.028 * (k - 1))
            + rng.random()
            - 0.5
        )
        if n <= 0:
            continue
        cap = selectors.day_capacity(w.store, day, mode=VisitMode.WAITING, now=w.now, conf=w.conf)
        if not cap.slots:
            continue
        free = {pool: p["free"] for pool, p in cap.pools.items()}
        taken = set()
        for _ in range(n):
            if not eligible:
                break
            car = eligible.pop()
            package, problem = _choose_service(rng, car)
            ops = w.package_ops[package] if package else [w.catalogue.operations["DIAG"]]
            parts = w.package_parts[package] if package else []
            demand = selectors.demand_of(ops)
            if any(free.get(pool, 0) < m for pool, m in demand.items()) or any(
                stock[p.pk].on_hand - stock[p.pk].reserved - held[p.pk] < q for p, q in parts
            ):
                continue
            for _try in range(30):
                slot = cap.slots[min(int(rng.expovariate(3 / len(cap.slots))), len(cap.slots) - 1)]
                mode = VisitMode.WAITING if rng.random() < 0.6 else VisitMode.DROP_OFF
                mine = [a for a in slot.advisors if a == car.customer.service_advisor_id]
                advisor_id = (
                    (mine or slot.advisors)[0] if rng.random() < 0.7 else rng.choice(slot.advisors)
                )
                if (advisor_id, slot.starts_at, mode) not in taken:
                    break
            else:
                continue
            booked_at = w.now - BOOKING_LEADS[rng.randint(0, min(k, 12) - 1)]
            channel = Channel.APP if car.owner_id and rng.random() < 0.7 else Channel.PHONE
            appt = Appointment(
                dealer_group_id=g,
                store=w.store,
                customer=car.customer,
                vehicle=car.vehicle,
                owner_id=car.owner_id,
                advisor_id=advisor_id,
                starts_at=slot.starts_at,
                date=day,
                mode=mode,
                package=w.catalogue.packages[package] if package else None,
                problem=problem[0] if problem else "",
                channel=channel,
                booked_by_id=None if channel == Channel.APP else advisor_id,
                estimated_minutes=sum(op.minutes for op in ops),
            )
            appt.booked_at = booked_at
            appointments.append(appt)
            events.append(
                (car, booked_at, gettext_noop("Booked a service visit for %(when)s"), appt)
            )
            if rng.random() < 0.05:  # booked, then cancelled by the owner
                appt.status = AppointmentStatus.CANCELLED
                appt.cancelled_at = booked_at + (w.now - booked_at) * rng.random()
                status = PartReservation.RELEASED
                events.append(
                    (car, appt.cancelled_at, gettext_noop("Cancelled the visit of %(when)s"), appt)
                )
            else:
                taken.add((advisor_id, slot.starts_at, mode))
                car.booked = True
                status = PartReservation.HELD
                for pool, m in demand.items():
                    free[pool] -= m
                    uses.append(
                        CapacityUse(
                            dealer_group_id=g,
                            appointment=appt,
                            store=w.store,
                            date=day,
                            pool=pool,
                            minutes=m,
                        )
                    )
                for part, qty in parts:
                    held[part.pk] += qty
            reservations += [
                PartReservation(
                    dealer_group_id=g,
                    appointment=appt,
                    store=w.store,
                    part=part,
                    quantity=qty,
                    status=status,
                )
                for part, qty in parts
            ]
    Appointment.objects.bulk_create(appointments)
    by_time = defaultdict(list)
    for appt in appointments:
        by_time[appt.booked_at].append(appt.pk)
    for at, pks in by_time.items():
        Appointment.objects.for_group(g).filter(pk__in=pks).update(created_at=at)
    CapacityUse.objects.bulk_create(uses, batch_size=1000)
    PartReservation.objects.bulk_create(reservations, batch_size=1000)
    for part_id, qty in held.items():
        PartStock.objects.for_group(g).filter(store=w.store, part_id=part_id).update(
            reserved=F("reserved") + qty
        )
    TimelineEvent.objects.bulk_create(
        timeline_event(
            group_id=g,
            customer_id=car.customer.pk,
            kind=TimelineKind.VISIT,
            title=title,
            params={"when": _local(w.tz, appt.starts_at)},
            data={"appointment": appt.pk, **({"reason": ""} if "Cancelled" in title else {})},
            at=at,
        )
        for car, at, title, appt in events
    )
    return appointments


# --- right now, through the real services -------------------------------------------------------
POINT_FINDINGS = {
    "Front brake pads": {"rating": Rating.RED, "note": "2 mm left", "measurement": "2.0"},
    "Wipers": {"rating": Rating.AMBER, "note": "streaking"},
}


def _due_package(w: Workshop, car: Car):
    for due in selectors.maintenance_due(car.vehicle, today=w.today):
        if due.status != "ok" and due.item.package_id:
            return due.item.package
    return w.catalogue.packages["EVCK" if car.ev else "S10K"]


def _right_now(w: Workshop, cars: list[Car], staff: dict) -> dict:
    advisor, tech = staff["advisor"], staff["tech"]
    g = w.group_id
    # The survey job opens the third owner's survey (delivered two days ago) and asks them.
    survey_services.open_due_surveys()
    survey = (
        Survey.objects.for_group(g)
        .filter(customer=cars[2].customer, status=SurveyStatus.OPEN)
        .first()
    )

    # The second owner's car came in this morning; the inspection found two things to approve.
    car = cars[1]
    ro = workshop_services.check_in(
        advisor,
        store=w.store,
        customer=car.customer,
        vehicle=car.vehicle,
        odometer=car.km_now + 12,
        fuel_pct=40,
        symptoms="刹车时有异响 Squeak when braking",
        belongings="儿童座椅 child seat",
    )
    results = [
        {"point_id": p.pk, "rating": Rating.GREEN, **POINT_FINDINGS.get(p.name, {})}
        for p in w.points
    ]
    workshop_services.record_inspection(tech, ro, results)
    ro = workshop_services.complete_inspection(tech, ro)

    # The first owner books what the car is due for, tomorrow (or the next day with a free slot).
    car = cars[0]
    package = _due_package(w, car)
    choice = booking_services.resolve_service(g, package.pk)
    booking = None
    for k in range(1, 8):
        day = w.today + dt.timedelta(days=k)
        cap = selectors.day_capacity(
            w.store,
            day,
            demand=choice.demand,
            prefer_advisor_id=car.customer.service_advisor_id,
            conf=w.conf,
        )
        if cap.slots:
            slot = next((s for s in cap.slots if s.starts_at.hour >= 10), cap.slots[0])
            booking, _created = booking_services.book_appointment(
                customer=car.customer,
                vehicle=car.vehicle,
                store=w.store,
                starts_at=slot.starts_at,
                mode=VisitMode.WAITING,
                package_id=package.pk,
                channel=Channel.APP,
                owner=car.customer.owner,
            )
            break
    return {"booking": booking, "waiting_ro": ro, "open_survey": survey}

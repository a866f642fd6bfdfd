"""Service demo data: catalogue and workshops for every store, rosters, six months of visits at
Chaoyang and a few things happening right now. Called once by `m4s.core.demo.build_demo()`,
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
"""

import datetime as dt
import math
import random
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from django.db.models import CharField, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.customers.choices import BindingVia, Source, TimelineKind
from m4s.customers.models import Binding, Customer, Shift, TimelineEvent
from m4s.customers.services import timeline_event
from m4s.org.models import BusinessHours, Holiday
from m4s.owners.models import Owner
from m4s.staff.choices import Role
from m4s.staff.services import create_staff
from m4s.vehicles import synthetic
from m4s.vehicles.choices import Fuel, OwnershipReason
from m4s.vehicles.models import Vehicle, VehicleOwnership
from m4s.vehicles.validation import vin_model_year

from . import booking as booking_services
from . import selectors, starter
from . import surveys as survey_services
from . import workshop as workshop_services
from .choices import (
    CSI_WEIGHTS,
    UNHAPPY_AT_OR_BELOW,
    AppointmentStatus,
    Approval,
    ApprovalChannel,
    Channel,
    LineSource,
    Payer,
    Rating,
    RepairOrderStatus,
    SkillLine,
    SurveyStatus,
    VisitMode,
    WorkStatus,
)
from .models import (
    Appointment,
    CapacityUse,
    InspectionResult,
    Invoice,
    MaintenanceRecord,
    MaintenanceSchedule,
    PartReservation,
    PartStock,
    PriceOverride,
    RepairLine,
    RepairLinePart,
    RepairOrder,
    Survey,
    TimeEntry,
)

SEED = 11  # deterministic demo
PAST_DAYS = 190  # six months and more: the manager's six-month chart has data in every month
FUTURE_DAYS = 30
# Customers made up for Chaoyang's history. Keep 17 + GENERATED_CUSTOMERS ≡ 0 or 5 (mod 6): the
# seed test expects the first seeded Chaoyang customer to land on the first of its 3 advisors.
GENERATED_CUSTOMERS = 360
APP_USERS = 0.7  # share of customers who use the owner app (only they get surveys)
SHIFT = (dt.time(8, 30), dt.time(18, 0))
SUNDAY_SHIFT = (dt.time(9, 0), dt.time(16, 0))
# New staff: username, role, store code, display name, skill line, weekday off (Mon = 0).
NEW_STAFF = [
    ("advisor2", Role.SERVICE_ADVISOR, "chaoyang", "李娜 Li Na", None, 3),
    ("advisor3", Role.SERVICE_ADVISOR, "chaoyang", "王磊 Wang Lei", None, 1),
    ("tech2", Role.TECHNICIAN, "chaoyang", "张超 Zhang Chao", SkillLine.QUICK, 3),
    ("tech3", Role.TECHNICIAN, "chaoyang", "刘建国 Liu Jianguo", SkillLine.GENERAL, 1),
    ("tech4", Role.TECHNICIAN, "chaoyang", "陈浩 Chen Hao", SkillLine.GENERAL, 4),
    ("tech5", Role.TECHNICIAN, "chaoyang", "杨帆 Yang Fan", SkillLine.BODY, 0),
    ("tech6", Role.TECHNICIAN, "chaoyang", "赵磊 Zhao Lei", SkillLine.EV_HV, 3),
    ("advisor-haidian", Role.SERVICE_ADVISOR, "haidian", "黄丽 Huang Li", None, 2),
    ("tech-haidian", Role.TECHNICIAN, "haidian", "周鹏 Zhou Peng", SkillLine.QUICK, 2),
    ("tech-fengtai", Role.TECHNICIAN, "fengtai", "吴涛 Wu Tao", SkillLine.QUICK, 2),
]
EXISTING_STAFF = {  # username: (skill line, weekday off)
    "advisor": (None, 2),
    "tech": (SkillLine.QUICK, 2),
    "other-advisor": (None, 2),
}
VISITS_PER_WEEKDAY = (6, 5, 5, 5, 6, 8, 3)  # Mon..Sun, Chaoyang's booked visits per day
PROBLEMS = [  # the owner's words, the fix it usually leads to (operation, part, quantity)
    ("刹车时有异响 Squeak when braking", "PADF", "04465-33471", 1),
    ("早上启动困难 Hard to start in the morning", "BATT", "28800-YZZJ4", 1),
    ("高速时方向盘抖动 Steering wheel shakes at 100 km/h", "ALGN", None, 0),
    ("水温偏高 Engine running hot", "COOL", "08889-80070", 1),
    ("左前大灯不亮 Left headlamp is out", "BULB", "90981-13046", 1),
    ("空调有异味 Smell from the air conditioning", "CABF", "87139-YZZ08", 1),
]
EV_PROBLEMS = [
    ("续航明显下降 Range has dropped noticeably", "HVCK", None, 0),
    ("充电时报错 Charging stops with an error", "HVCK", None, 0),
]
NOTES = {
    Rating.AMBER: {
        "Front brake pads": "4 mm left",
        "Rear brake pads": "4 mm left",
        "Tyres": "3 mm tread",
        "12 V battery": "weak cranking",
        "Fluids (coolant, brake, washer)": "coolant low",
        "Wipers": "streaking",
        "Wheel alignment": "pulls slightly left",
        "Lights": "lens misted",
    },
    Rating.RED: {
        "Front brake pads": "2 mm left",
        "Rear brake pads": "2 mm left",
        "Tyres": "1.6 mm, at the legal limit",
        "12 V battery": "fails the load test",
        "Lights": "brake light out",
    },
}
# (amber, red) probability per checklist point
WEAR = {
    "Front brake pads": (0.10, 0.04),
    "Rear brake pads": (0.06, 0.02),
    "Tyres": (0.10, 0.03),
    "12 V battery": (0.06, 0.02),
    "Fluids (coolant, brake, washer)": (0.05, 0.0),
    "Lights": (0.02, 0.03),
    "Wipers": (0.14, 0.0),
    "Wheel alignment": (0.05, 0.0),
}
MEASURES = {  # measure: (green range, amber range, red range)
    "pad_mm": ((6, 10), (3, 4.5), (1.5, 2.5)),
    "tread_mm": ((4, 7), (2.5, 3.5), (1.4, 1.6)),
    "battery_v": ((12.4, 12.8), (12.1, 12.3), (11.6, 11.9)),
}
VERBAL = ["电话确认 Phone call at {t}", "车主在店内确认 Owner agreed at the desk at {t}"]
HAPPY_COMMENTS = [
    "",
    "",
    "",
    "服务很好，速度快 Quick and friendly",
    "顾问很专业 Very helpful advisor",
]
UNHAPPY_COMMENTS = [
    "等了太久 Waited far too long",
    "价格比预期高 More expensive than I was told",
    "车没洗干净 The car came back dirty",
    "问题还在 The noise is still there",
    "没人告诉我进度 Nobody told me how it was going",
]
FOLLOW_UP_NOTES = [
    "已致电道歉，下次保养赠送洗车 Called, apologised, free car wash next time",
    "已安排技师回访检查 Technician re-check booked",
    "已解释收费明细，客户接受 Explained the bill, customer satisfied",
]
DISCOUNT_REASONS = ["老客户优惠 Loyal customer", "等待时间过长 Long wait, goodwill"]


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _shift_for(day: dt.date) -> tuple[dt.time, dt.time]:
    return SUNDAY_SHIFT if day.weekday() == 6 else SHIFT


class Workshop:
    """What generating one store's visits needs: hours, rosters, checklist, prices, schedules."""

    def __init__(self, store, catalogue, template, people, today, now):
        self.store, self.tz, self.catalogue = store, store.tz, catalogue
        self.group_id = store.dealer_group_id
        self.today, self.now = today, now
        self.conf = booking_services.ensure_settings(store)
        self.hours = defaultdict(list)
        for h in BusinessHours.objects.for_group(self.group_id).filter(store=store):
            self.hours[h.weekday].append((h.opens_at, h.closes_at))
        self.holidays = set(
            Holiday.objects.for_group(self.group_id)
            .filter(store=store)
            .values_list("date", flat=True)
        )
        self.people = people  # [(staff, skill line or None, weekday off)]
        self.points = list(template.points.select_related("operation", "part"))
        self.ops = {op.pk: op for op in catalogue.operations.values()}
        self.prices = selectors.require_prices(
            self.group_id,
            today - dt.timedelta(days=PAST_DAYS),
            operations=list(self.ops),
            parts=[p.pk for p in catalogue.parts.values()],
        )
        self.package_ops = {
            code: sorted(p.operations.all(), key=lambda o: o.code)  # as check_in reads them
            for code, p in catalogue.packages.items()
        }
        self.package_jobs = {  # [(operation, its parts)], as check_in puts them on lines
            code: selectors.package_lines(p) for code, p in catalogue.packages.items()
        }
        self.package_parts = {
            code: [(pp.part, pp.quantity) for pp in p.parts.select_related("part")]
            for code, p in catalogue.packages.items()
        }
        self.schedules = {}
        for s in MaintenanceSchedule.objects.for_group(self.group_id).prefetch_related("items"):
            self.schedules[(s.brand.lower(), s.model.lower())] = list(s.items.all())

    def is_open(self, day: dt.date) -> bool:
        return day not in self.holidays and bool(self.hours[day.weekday()])

    def on_duty(self, day: dt.date, role: str):
        return [
            (s, line) for s, line, off in self.people if s.role == role and off != day.weekday()
        ]

    def slot_times(self, day: dt.date) -> list[dt.datetime]:
        step = self.conf.slot_minutes
        starts, ends = _shift_for(day)
        out = []
        for opens, closes in self.hours[day.weekday()]:
            m = math.ceil(max(_minutes(starts), _minutes(opens)) / step) * step
            end = min(_minutes(ends), _minutes(closes))
            while m + step <= end:
                out.append(dt.datetime.combine(day, dt.time(m // 60, m % 60), tzinfo=self.tz))
                m += step
        return out

    def schedule_items(self, vehicle: Vehicle) -> list:
        brand, model = vehicle.brand.lower(), vehicle.model.lower()
        return self.schedules.get((brand, model)) or self.schedules.get((brand, ""), [])

    def at(self, day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=self.tz)


def build_service_demo(*, staff: dict, owners: list, stores: dict) -> SimpleNamespace:
    """`staff`: username -> StaffUser of build_demo() (the new staff are added to it); `owners`:
    the demo owners in phone order; `stores`: code -> Store (chaoyang, haidian, fengtai,
    tongzhou)."""
    from m4s.core.demo import DEMO_PASSWORD

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
class Car(SimpleNamespace):
    """A car of the history: vehicle, customer, owner id, kilometres per day, schedule items."""

    def odometer_on(self, day: dt.date) -> int:
        return max(0, int(self.km_now - self.km_per_day * (self.today - day).days))


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
                    when.append(selectors.add_months(on, item.interval_months))
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


# --- the past: six months of visits at one store ----------------------------------------------
# Fixed visits of the demo owners (index in the owner list): days ago, "package" or "diagnosis".
DEMO_VISITS = {
    0: [(68, "diagnosis")],
    1: [(96, "diagnosis"), (41, "package")],
    2: [(47, "package"), (2, "package")],  # the last one's survey is opened right now
    3: [(33, "package")],  # an unhappy answer nobody has followed up yet
    4: [(61, "package")],
}
UNHAPPY_DEMO_OWNER = 3


# How long before the visit it was booked (a few values, so created_at is one UPDATE per value).
BOOKING_LEADS = [dt.timedelta(days=d, hours=-(d * 5 % 9), minutes=-13 * d) for d in range(1, 13)]


def _number_by_id(model, group_id, rows, prefix):
    """RO00000123 / INV00000123 from the id, as the services number them."""
    model.objects.for_group(group_id).filter(pk__in=[r.pk for r in rows]).update(
        number=Concat(Value(prefix), LPad(Cast("id", CharField()), 8, Value("0")))
    )
    for r in rows:
        r.number = f"{prefix}{r.pk:08d}"


def _local(tz, when: dt.datetime) -> str:
    return timezone.localtime(when, tz).strftime("%Y-%m-%d %H:%M")


class History:
    """Plans Chaoyang's past visits day by day, then writes them in bulk, in foreign-key order."""

    def __init__(self, w: Workshop):
        self.w, self.rng = w, w.rng
        self.taken = set()  # (advisor id, starts_at, mode)
        self.appointments, self.reservations = [], []
        self.orders, self.results, self.lines, self.line_parts = [], [], [], []
        self.entries, self.overrides, self.invoices, self.records = [], [], [], []
        self.surveys, self.events = [], []
        self.last_survey = {}  # owner id -> available_at of their latest survey
        self.tech_free = {}  # technician id -> when they can start the next job
        self.open_survey_owner = None

    # planning -----------------------------------------------------------------------------
    def plan(self, cars: list[Car]) -> None:
        w, rng = self.w, self.rng
        fixed = defaultdict(list)  # day -> [(car, kind, flags)]
        for i, visits in DEMO_VISITS.items():
            for days_ago, kind in visits:
                day = w.today - dt.timedelta(days=days_ago)
                while not w.is_open(day):  # a holiday: the day before
                    day -= dt.timedelta(days=1)
                fixed[day].append((cars[i], kind, i))
        pool = [c for c in cars if not c.demo]
        comebacks = defaultdict(list)
        for k in range(PAST_DAYS, 0, -1):
            day = w.today - dt.timedelta(days=k)
            if not w.is_open(day):
                continue
            self.tech_free = {}
            todo = [(car, kind, i) for car, kind, i in fixed.pop(day, [])]
            todo += [(car, "comeback", None) for car in comebacks.pop(day, [])]
            n = max(1, VISITS_PER_WEEKDAY[day.weekday()] + rng.choice((-1, 0, 0, 1)))
            for _ in range(n):
                car = self._pick_car(pool, day)
                if car is not None:
                    car.last_visit = day
                    todo.append((car, "any", None))
            visits = []
            for car, kind, demo_index in todo:
                slot = self._slot(day)
                if slot is not None:
                    car.last_visit = day
                    visits.append((slot, car, kind, demo_index))
            for (starts_at, advisor, mode), car, kind, demo_index in sorted(
                visits, key=lambda v: v[0][0]
            ):
                again = self._visit(day, starts_at, advisor, mode, car, kind, demo_index)
                if again:
                    back = day + dt.timedelta(days=rng.randint(6, 20))
                    if back < w.today:
                        comebacks[back].append(car)

    def _pick_car(self, pool, day):
        for _ in range(30):
            car = self.rng.choice(pool)
            if car.bought <= day - dt.timedelta(days=30) and (
                car.last_visit is None or (day - car.last_visit).days > 25
            ):
                return car
        return None

    def _slot(self, day):
        """A free (time, advisor, mode), mornings busier than afternoons."""
        w, rng = self.w, self.rng
        times = w.slot_times(day)
        advisors = [s for s, _line in w.on_duty(day, Role.SERVICE_ADVISOR)]
        if not times or not advisors:
            return None
        for _ in range(40):
            t = times[min(int(rng.expovariate(3 / len(times))), len(times) - 1)]
            advisor = rng.choice(advisors)
            mode = VisitMode.WAITING if rng.random() < 0.6 else VisitMode.DROP_OFF
            if (advisor.pk, t, mode) not in self.taken:
                self.taken.add((advisor.pk, t, mode))
                return t, advisor, mode
        return None

    def _visit(self, day, starts_at, advisor, mode, car, kind, demo_index) -> bool:
        """Plan one booked visit; True if the car will come back with the same problem."""
        w, rng = self.w, self.rng
        package, problem = _choose_service(rng, car, kind)
        if kind == "comeback":
            text = "上次修过的问题又出现了 The same problem is back"
        else:
            text = problem[0] if problem else ""
        ops = w.package_ops[package] if package else [w.catalogue.operations["DIAG"]]
        lead = rng.randrange(len(BOOKING_LEADS))
        booked_at = starts_at - BOOKING_LEADS[lead]
        channel = rng.choices([Channel.APP, Channel.PHONE, Channel.CONSOLE], [6, 3, 1])[0]
        if car.owner_id is None and channel == Channel.APP:
            channel = Channel.PHONE
        appt = Appointment(
            dealer_group_id=w.group_id,
            store=w.store,
            customer=car.customer,
            vehicle=car.vehicle,
            owner_id=car.owner_id,
            advisor=advisor,
            starts_at=starts_at,
            date=day,
            mode=mode,
            package=w.catalogue.packages[package] if package else None,
            problem=text,
            status=AppointmentStatus.CHECKED_IN,
            channel=channel,
            booked_by=None if channel == Channel.APP else advisor,
            estimated_minutes=sum(op.minutes for op in ops),
        )
        appt.lead = BOOKING_LEADS[lead]
        self.appointments.append(appt)
        self._event(
            car,
            booked_at,
            gettext_noop("Booked a service visit for %(when)s"),
            {"when": _local(w.tz, starts_at)},
            appointment=appt,
        )
        roll = rng.random() if demo_index is None else 1.0
        parts = w.package_parts[package] if package else []
        if roll < 0.06:  # cancelled by the owner a few hours to days before
            appt.status = AppointmentStatus.CANCELLED
            appt.cancelled_at = starts_at - dt.timedelta(hours=rng.randint(3, 60))
            appt.cancelled_at = max(appt.cancelled_at, booked_at + dt.timedelta(hours=1))
            self._reserve(appt, parts, PartReservation.RELEASED)
            self._event(
                car,
                appt.cancelled_at,
                gettext_noop("Cancelled the visit of %(when)s"),
                {"when": _local(w.tz, starts_at)},
                appointment=appt,
                reason="",
            )
            return False
        if roll < 0.06 + 0.08:  # no-show: the job marks it, the parts go back
            appt.status = AppointmentStatus.NO_SHOW
            self._reserve(appt, parts, PartReservation.RELEASED)
            return False
        self._reserve(appt, parts, PartReservation.CONSUMED)
        self._repair_order(appt, car, ops, parts, package, text, problem, demo_index)
        return bool(problem) and rng.random() < 0.1

    def _reserve(self, appt, parts, status):
        for part, qty in parts:
            self.reservations.append(
                PartReservation(
                    dealer_group_id=self.w.group_id,
                    appointment=appt,
                    store=self.w.store,
                    part=part,
                    quantity=qty,
                    status=status,
                )
            )

    def _event(self, car, at, title, params, *, actor=None, appointment=None, **data):
        event = timeline_event(
            group_id=self.w.group_id,
            customer_id=car.customer.pk,
            kind=TimelineKind.VISIT,
            title=title,
            params=params,
            data=data,
            actor=actor,
            at=at,
        )
        event.refs = {
            "appointment": appointment,
            **{k: v for k, v in data.items() if hasattr(v, "_meta")},
        }
        self.events.append(event)
        return event

    def _inspector(self, day):
        techs = self.w.on_duty(day, Role.TECHNICIAN)
        return self.rng.choice(
            [s for s, ln in techs if ln == SkillLine.QUICK] or [s for s, _ln in techs]
        )

    def _technician(self, day, line: str, ready: dt.datetime, minutes: int):
        """The technician of the skill line who is free first; (staff, start, end)."""
        techs = [s for s, ln in self.w.on_duty(day, Role.TECHNICIAN) if ln == line] or [
            s for s, _ln in self.w.on_duty(day, Role.TECHNICIAN)
        ]
        tech = min(techs, key=lambda s: self.tech_free.get(s.pk, ready))
        start = max(ready, self.tech_free.get(tech.pk, ready)) + dt.timedelta(minutes=2)
        end = start + dt.timedelta(minutes=max(6, int(minutes * self.rng.uniform(0.8, 1.25))))
        self.tech_free[tech.pk] = end
        return tech, start, end

    def _line(
        self,
        ro,
        op,
        *,
        source,
        reason,
        at,
        advisor,
        parts=(),
        result=None,
        payer=Payer.CUSTOMER,
        reason_i18n=None,
    ):
        w = self.w
        price = w.prices[("op", op.pk)]
        line = RepairLine(
            dealer_group_id=w.group_id,
            repair_order=ro,
            operation=op,
            description=op.name,
            description_i18n=dict(op.name_i18n or {}),
            reason=reason[:300],
            reason_i18n={k: v[:300] for k, v in (reason_i18n or {}).items()},
            labour_list_price=price,
            labour_price=price,
            payer=payer,
            source=source,
            result=result,
            added_by=advisor,
        )
        line.at = at
        line.part_rows = [
            RepairLinePart(
                dealer_group_id=w.group_id,
                line=line,
                part=part,
                quantity=qty,
                list_price=w.prices[("part", part.pk)],
                unit_price=w.prices[("part", part.pk)],
            )
            for part, qty in parts
        ]
        self.lines.append(line)
        self.line_parts += line.part_rows
        return line

    def _decide(self, line, approve, at, advisor, car):
        line.approval = Approval.APPROVED if approve else Approval.DECLINED
        line.decided_at = at
        if car.owner_id and self.rng.random() < 0.7:
            line.approval_channel = ApprovalChannel.APP
        else:
            line.approval_channel = ApprovalChannel.VERBAL
            line.approval_reason = self.rng.choice(VERBAL).format(t=_local(self.w.tz, at)[-5:])
            line.approval_staff = advisor

    def _repair_order(self, appt, car, ops, parts, package, text, problem, demo_index):
        w, rng = self.w, self.rng
        day, advisor = appt.date, appt.advisor
        arrived = appt.starts_at + dt.timedelta(minutes=rng.randint(-10, 12))
        km = car.odometer_on(day)
        ro = RepairOrder(
            dealer_group_id=w.group_id,
            number=f"RO-DEMO-{len(self.orders)}",  # RO<id> once it has an id
            store=w.store,
            customer=car.customer,
            vehicle=car.vehicle,
            appointment=appt,
            advisor=advisor,
            status=RepairOrderStatus.DELIVERED,
            odometer_in=km,
            fuel_pct=rng.randint(15, 95),
            symptoms=text,
            belongings=rng.choice(["", "", "", "儿童座椅 child seat", "行车记录仪 dash cam"]),
            checked_in_at=arrived,
        )
        self.orders.append(ro)
        self._event(
            car,
            arrived,
            gettext_noop("Checked in at %(store)s (%(km)d km)"),
            {"store": w.store.name, "km": km},
            actor=advisor,
            repair_order=ro,
        )
        reason = w.catalogue.packages[package].name if package else text
        reason_i18n = w.catalogue.packages[package].name_i18n if package else None
        lines = []
        jobs = w.package_jobs[package] if package else [(op, []) for op in ops]
        for op, op_parts in jobs:
            line = self._line(
                ro,
                op,
                source=LineSource.BOOKING,
                reason=reason,
                reason_i18n=reason_i18n,
                at=arrived,
                advisor=advisor,
                parts=op_parts,
            )
            line.approval, line.approval_channel, line.decided_at = (
                Approval.APPROVED,
                ApprovalChannel.AT_BOOKING,
                arrived,
            )
            lines.append(line)
        inspected = arrived + dt.timedelta(minutes=rng.randint(25, 50))
        if package:  # the multi-point inspection: amber and red items become recommendations
            inspector = self._inspector(day)
            for point in w.points:
                amber, red = WEAR[point.name]
                roll = rng.random()
                rating = (
                    Rating.RED
                    if roll < red
                    else Rating.AMBER
                    if roll < red + amber
                    else Rating.GREEN
                )
                if rating == Rating.RED and point.name not in NOTES[Rating.RED]:
                    rating = Rating.AMBER
                note = NOTES.get(rating, {}).get(point.name, "")
                measurement = None
                if point.measure:
                    band = MEASURES[point.measure][
                        [Rating.GREEN, Rating.AMBER, Rating.RED].index(rating)
                    ]
                    measurement = Decimal(f"{rng.uniform(*band):.1f}")
                result = InspectionResult(
                    dealer_group_id=w.group_id,
                    repair_order=ro,
                    point=point,
                    rating=rating,
                    note=note,
                    measurement=measurement,
                    inspected_by=inspector,
                    at=inspected,
                )
                self.results.append(result)
                if rating == Rating.GREEN:
                    continue
                part_rows = [(point.part, point.part_quantity)] if point.part_id else []
                line = self._line(
                    ro,
                    point.operation,
                    source=LineSource.INSPECTION,
                    reason=f"{point.name}: {note}".strip(": "),
                    reason_i18n={
                        lang: f"{name}: {note}".strip(": ")
                        for lang, name in (point.name_i18n or {}).items()
                    },
                    at=inspected,
                    advisor=advisor,
                    parts=part_rows,
                    result=result,
                )
                approve = rng.random() < (0.8 if rating == Rating.RED else 0.45)
                self._decide(
                    line,
                    approve,
                    inspected + dt.timedelta(minutes=rng.randint(15, 80)),
                    advisor,
                    car,
                )
                lines.append(line)
        if problem and problem[1]:  # the diagnosis found the cause: a repair to approve
            _text, code, number, qty = problem
            op = w.catalogue.operations[code]
            under_warranty = car.vehicle.warranty_end and car.vehicle.warranty_end >= day
            line = self._line(
                ro,
                op,
                source=LineSource.ADDED,
                reason=f"诊断 Diagnosis: {text}",
                at=inspected,
                advisor=advisor,
                parts=[(w.catalogue.parts[number], qty)] if number else [],
                payer=Payer.WARRANTY if code == "BATT" and under_warranty else Payer.CUSTOMER,
            )
            self._decide(
                line,
                rng.random() < 0.85,
                inspected + dt.timedelta(minutes=rng.randint(20, 90)),
                advisor,
                car,
            )
            lines.append(line)
        if rng.random() < 0.025:  # body work on an insurance claim
            line = self._line(
                ro,
                w.catalogue.operations["DENT"],
                source=LineSource.ADDED,
                reason="后保险杠刮擦 Scratch on the rear bumper (insurance claim)",
                at=arrived,
                advisor=advisor,
                payer=Payer.INSURANCE,
            )
            self._decide(line, True, arrived + dt.timedelta(minutes=30), advisor, car)
            lines.append(line)

        # Work: approved lines, each by the first free technician of its skill line.
        finished = arrived + dt.timedelta(minutes=20)
        for line in lines:
            if line.approval != Approval.APPROVED:
                continue
            ready = max(line.decided_at, arrived + dt.timedelta(minutes=10))
            tech, start, end = self._technician(
                day, line.operation.skill_line, ready, line.operation.minutes
            )
            self.entries.append(
                TimeEntry(
                    dealer_group_id=w.group_id,
                    line=line,
                    technician=tech,
                    started_at=start,
                    ended_at=end,
                )
            )
            line.work_status, line.completed_at = WorkStatus.DONE, end
            finished = max(finished, end)
        settled = finished + dt.timedelta(minutes=rng.randint(10, 25))
        if appt.mode == VisitMode.DROP_OFF:  # picked up after work
            settled = max(settled, w.at(day, 16, rng.randint(0, 50)))
        delivered = settled + dt.timedelta(minutes=rng.randint(5, 20))
        ro.settled_at, ro.delivered_at = settled, delivered
        ro.odometer_out = min(km + rng.choice((0, 1, 2, 3)), max(car.km_now, km))
        self._invoice(ro, lines, advisor, settled)
        done_ops = {ln.operation.pk for ln in lines if ln.approval == Approval.APPROVED}
        local_day = timezone.localtime(delivered, w.tz).date()
        for item in car.items:
            if item.operation_id in done_ops:
                self.records.append(
                    MaintenanceRecord(
                        dealer_group_id=w.group_id,
                        vehicle=car.vehicle,
                        item=item,
                        done_on=local_day,
                        done_km=ro.odometer_out,
                        repair_order=ro,
                    )
                )
        self._event(
            car,
            delivered,
            gettext_noop("Car delivered (%(km)d km)"),
            {"km": ro.odometer_out},
            actor=advisor,
            repair_order=ro,
        )
        self._survey(
            ro,
            car,
            delivered,
            demo_index,
            unhappy_bias=appt.problem.startswith("上次")
            or any(
                ln.approval == Approval.DECLINED
                and ln.result is not None
                and ln.result.rating == Rating.RED
                for ln in lines
            ),
        )

    def _invoice(self, ro, lines, advisor, at):
        """The arithmetic of billing.settle, at the published prices (a few goodwill discounts)."""
        w, rng = self.w, self.rng
        approved = [ln for ln in lines if ln.approval == Approval.APPROVED]
        if rng.random() < 0.06:
            line = next((ln for ln in approved if ln.labour_list_price > 0), None)
            if line is not None:
                line.labour_price = (
                    line.labour_list_price * Decimal(rng.choice(("0.8", "0.9")))
                ).quantize(Decimal("1.00"))
                self.overrides.append(
                    PriceOverride(
                        dealer_group_id=w.group_id,
                        repair_order=ro,
                        line=line,
                        item=line.description[:200],
                        list_amount=line.labour_list_price,
                        charged_amount=line.labour_price,
                        reason=rng.choice(DISCOUNT_REASONS),
                        by=advisor,
                        at=at,
                    )
                )
        by_payer: dict[str, Decimal] = {}
        tax_by_payer: dict[str, Decimal] = {}
        rate = w.conf.tax_rate
        labour = parts = discount = Decimal("0")
        for line in approved:
            line_tax = selectors.tax_on(line.labour_price, rate) + sum(
                (selectors.tax_on(lp.unit_price * lp.quantity, rate) for lp in line.part_rows),
                Decimal("0"),
            )
            tax_by_payer[line.payer] = tax_by_payer.get(line.payer, Decimal("0")) + line_tax
            amount = line.labour_price
            labour += line.labour_list_price
            discount += line.labour_list_price - line.labour_price
            for lp in line.part_rows:
                amount += lp.unit_price * lp.quantity
                parts += lp.list_price * lp.quantity
                discount += (lp.list_price - lp.unit_price) * lp.quantity
            by_payer[line.payer] = by_payer.get(line.payer, Decimal("0")) + amount
        net = labour + parts - discount
        tax = sum(tax_by_payer.values(), Decimal("0"))  # each line's, as billing.settle
        customer_net = by_payer.get(Payer.CUSTOMER, Decimal("0"))
        self.invoices.append(
            Invoice(
                dealer_group_id=w.group_id,
                repair_order=ro,
                number=f"INV-DEMO-{len(self.invoices)}",
                issued_at=at,
                issued_by=advisor,
                labour_total=labour,
                parts_total=parts,
                discount_total=discount,
                net_total=net,
                tax_rate=rate,
                tax=tax,
                total=net + tax,
                customer_pay_net=customer_net,
                customer_pay_total=customer_net + tax_by_payer.get(Payer.CUSTOMER, Decimal("0")),
                by_payer={k: str(v) for k, v in by_payer.items()},
            )
        )

    def _survey(self, ro, car, delivered, demo_index, *, unhappy_bias: bool):
        """As deliver() schedules it (one per owner per 30 days), then as owners answered."""
        w, rng = self.w, self.rng
        if car.owner_id is None:
            return
        last = self.last_survey.get(car.owner_id)
        if last is not None and last > delivered - dt.timedelta(days=w.conf.survey_quiet_days):
            return
        available = delivered + dt.timedelta(days=w.conf.survey_delay_days)
        self.last_survey[car.owner_id] = available
        survey = Survey(
            dealer_group_id=w.group_id,
            repair_order=ro,
            store=w.store,
            customer=car.customer,
            owner_id=car.owner_id,
            advisor=ro.advisor,
            available_at=available,
            expires_at=available + dt.timedelta(days=w.conf.survey_expiry_days),
        )
        self.surveys.append(survey)
        if available > w.now:
            return  # still scheduled
        if demo_index == 2 and delivered > w.now - dt.timedelta(days=7):
            self.open_survey_owner = car.owner_id
            return  # scheduled and due: the survey job opens it below, and tells the owner
        answered = available + dt.timedelta(minutes=rng.randint(30, 60 * 60))
        answers = demo_index is not None or rng.random() < 0.68
        if not answers or answered > w.now:
            survey.status = (
                SurveyStatus.EXPIRED if survey.expires_at <= w.now else SurveyStatus.OPEN
            )
            return
        profile = rng.random()
        if demo_index == UNHAPPY_DEMO_OWNER or (
            demo_index is None and profile < (0.3 if unhappy_bias else 0.09)
        ):
            scores = {f: rng.randint(6, 8) for f in CSI_WEIGHTS}
            for f in rng.sample(list(CSI_WEIGHTS), rng.randint(1, 2)):
                scores[f] = rng.randint(3, 6)
            nps, comment = rng.randint(2, 6), rng.choice(UNHAPPY_COMMENTS)
        elif profile < 0.3:
            scores = {f: rng.randint(7, 9) for f in CSI_WEIGHTS}
            nps, comment = rng.randint(7, 8), ""
        else:
            scores = {f: rng.choice((8, 9, 9, 10, 10, 10)) for f in CSI_WEIGHTS}
            nps, comment = rng.choice((9, 10, 10)), rng.choice(HAPPY_COMMENTS)
        survey.status, survey.answered_at = SurveyStatus.ANSWERED, answered
        survey.initiation, survey.advisor_score = scores["initiation"], scores["advisor"]
        survey.facility, survey.pickup, survey.quality = (
            scores["facility"],
            scores["pickup"],
            scores["quality"],
        )
        survey.nps, survey.comment = nps, comment
        survey.needs_follow_up = (
            min(scores.values()) <= UNHAPPY_AT_OR_BELOW or nps <= UNHAPPY_AT_OR_BELOW
        )
        if (
            survey.needs_follow_up
            and demo_index != UNHAPPY_DEMO_OWNER
            and answered < w.now - dt.timedelta(days=2)
            and rng.random() < 0.75
        ):
            survey.followed_up_at = answered + dt.timedelta(hours=rng.randint(2, 30))
            survey.followed_up_by = w.manager
            survey.follow_up_note = rng.choice(FOLLOW_UP_NOTES)
        self._event(
            car,
            answered,
            gettext_noop("Answered the revisit survey (NPS %(nps)d)"),
            {"nps": nps},
            survey=survey,
            follow_up=survey.needs_follow_up,
        )

    # writing ------------------------------------------------------------------------------
    def write(self) -> None:
        g = self.w.group_id
        Appointment.objects.bulk_create(self.appointments, batch_size=500)
        by_lead = defaultdict(list)  # booked days before the visit, not today
        for appt in self.appointments:
            by_lead[appt.lead].append(appt.pk)
        for lead, pks in by_lead.items():
            Appointment.objects.for_group(g).filter(pk__in=pks).update(
                created_at=F("starts_at") - lead
            )
        PartReservation.objects.bulk_create(self.reservations, batch_size=1000)
        RepairOrder.objects.bulk_create(self.orders, batch_size=500)
        _number_by_id(RepairOrder, g, self.orders, "RO")
        InspectionResult.objects.bulk_create(self.results, batch_size=1000)
        RepairLine.objects.bulk_create(self.lines, batch_size=1000)
        # Lines were added at check-in, or by the inspection whose result they fix.
        lines = RepairLine.objects.for_group(g).filter(pk__in=[ln.pk for ln in self.lines])
        lines.filter(result__isnull=True).update(
            created_at=Subquery(
                RepairOrder.objects.unscoped()
                .filter(pk=OuterRef("repair_order_id"))
                .values("checked_in_at")[:1]
            )
        )
        lines.filter(result__isnull=False).update(
            created_at=Subquery(
                InspectionResult.objects.unscoped()
                .filter(pk=OuterRef("result_id"))
                .values("at")[:1]
            )
        )
        RepairLinePart.objects.bulk_create(self.line_parts, batch_size=1000)
        TimeEntry.objects.bulk_create(self.entries, batch_size=1000)
        PriceOverride.objects.bulk_create(self.overrides)
        Invoice.objects.bulk_create(self.invoices, batch_size=500)
        _number_by_id(Invoice, g, self.invoices, "INV")
        MaintenanceRecord.objects.bulk_create(self.records, batch_size=1000)
        Survey.objects.bulk_create(self.surveys, batch_size=500)
        invoices = {inv.repair_order.pk: inv for inv in self.invoices}
        settled = [
            timeline_event(
                group_id=g,
                customer_id=ro.customer.pk,
                kind=TimelineKind.VISIT,
                title=gettext_noop("Settled %(number)s: %(total)s"),
                params={"number": ro.number, "total": str(invoices[ro.pk].total)},
                data={"repair_order": ro.pk, "invoice": invoices[ro.pk].pk},
                actor=ro.advisor,
                at=ro.settled_at,
            )
            for ro in self.orders
        ]
        for event in self.events:  # ids of the rows the line is about, now that they exist
            for key, obj in event.refs.items():
                if obj is not None:
                    event.data[key] = obj.pk
        TimelineEvent.objects.bulk_create(self.events + settled, batch_size=1000)


def _choose_service(rng, car: Car, kind: str = "any"):
    """(package code or None, problem row or None) for a visit of `car`."""
    if kind == "comeback":
        return None, None
    if kind == "diagnosis" or (kind == "any" and rng.random() < 0.3):
        return None, rng.choice(EV_PROBLEMS if car.ev else PROBLEMS)
    if car.ev:
        return "EVCK", None
    return rng.choices(["S10K", "S20K", "S40K"], weights=[55, 32, 13])[0], None


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

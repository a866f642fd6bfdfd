"""A starter service set-up for a dealer group: labour operations, parts, packages, a published
price list, maintenance schedules for the common models, an inspection checklist, workshop
settings, technicians and rosters. Used by `m4s demo`, the tests and the benchmarks; a real
group edits all of it in the back office."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from m4s.org.models import BusinessHours
from m4s.service.choices import Measure, ResourceKind, SkillLine
from m4s.service.models import (
    InspectionPoint,
    InspectionTemplate,
    LabourOperation,
    MaintenanceItem,
    MaintenanceSchedule,
    PackagePart,
    Part,
    PartStock,
    Price,
    PriceList,
    Resource,
    ServicePackage,
    ServiceSettings,
    TechnicianProfile,
)
from m4s.staff.choices import Role
from m4s.staff.models import Shift

from .service_i18n import names

# code, name, hours, skill line, resource, price (CNY)
OPERATIONS = [
    ("OIL", "Engine oil and filter change", "0.50", SkillLine.QUICK, ResourceKind.LIFT, "120.00"),
    ("AIRF", "Air filter replacement", "0.20", SkillLine.QUICK, "", "40.00"),
    ("CABF", "Cabin filter replacement", "0.20", SkillLine.QUICK, "", "40.00"),
    ("BRKF", "Brake fluid replacement", "0.60", SkillLine.QUICK, ResourceKind.LIFT, "150.00"),
    ("SPRK", "Spark plug replacement", "0.80", SkillLine.QUICK, "", "200.00"),
    ("ROT", "Tyre rotation and balance", "0.50", SkillLine.QUICK, ResourceKind.LIFT, "100.00"),
    ("INSP", "Multi-point inspection", "0.30", SkillLine.QUICK, "", "0.00"),
    ("DIAG", "Diagnosis of a described problem", "1.00", SkillLine.GENERAL, "", "200.00"),
    (
        "PADF",
        "Front brake pads replacement",
        "1.00",
        SkillLine.GENERAL,
        ResourceKind.LIFT,
        "260.00",
    ),
    ("TYRE", "Tyre replacement (each)", "0.30", SkillLine.QUICK, ResourceKind.LIFT, "50.00"),
    ("BATT", "12 V battery replacement", "0.30", SkillLine.GENERAL, "", "80.00"),
    ("WIPE", "Wiper blades replacement", "0.10", SkillLine.QUICK, "", "20.00"),
    ("ALGN", "Wheel alignment", "1.00", SkillLine.GENERAL, ResourceKind.ALIGNMENT, "280.00"),
    ("BULB", "Bulb replacement", "0.20", SkillLine.QUICK, "", "30.00"),
    (
        "DENT",
        "Dent and scratch repair (panel)",
        "3.00",
        SkillLine.BODY,
        ResourceKind.PAINT_BOOTH,
        "900.00",
    ),
    ("HVCK", "High-voltage battery check", "1.00", SkillLine.EV_HV, "", "300.00"),
    ("COOL", "Coolant replacement", "0.80", SkillLine.GENERAL, "", "180.00"),
]
# part number, name, price, stock per store
PARTS = [
    ("90915-YZZE1", "Oil filter", "58.00", 40),
    ("08880-83325", "Engine oil 0W-20 4 L", "368.00", 40),
    ("17801-21050", "Air filter element", "128.00", 20),
    ("87139-YZZ08", "Cabin air filter", "96.00", 20),
    ("08823-80010", "Brake fluid DOT 4 1 L", "88.00", 12),
    ("90919-01253", "Spark plug (each)", "95.00", 24),
    ("04465-33471", "Front brake pads (set)", "560.00", 6),
    ("28800-YZZJ4", "12 V battery 60 Ah", "780.00", 4),
    ("85222-33180", "Wiper blade (each)", "85.00", 16),
    ("TYR-215-55R17", "Tyre 215/55 R17 (each)", "720.00", 8),
    ("90981-13046", "Headlamp bulb H11", "65.00", 20),
    ("08889-80070", "Long-life coolant 2 L", "120.00", 10),
]
PACKAGES = [
    (
        "S10K",
        "10,000 km service",
        "Oil and filter, inspection.",
        ["OIL", "INSP"],
        [("90915-YZZE1", 1, "OIL"), ("08880-83325", 1, "OIL")],
    ),
    (
        "S20K",
        "20,000 km service",
        "Oil, filters, tyre rotation, inspection.",
        ["OIL", "AIRF", "CABF", "ROT", "INSP"],
        [
            ("90915-YZZE1", 1, "OIL"),
            ("08880-83325", 1, "OIL"),
            ("17801-21050", 1, "AIRF"),
            ("87139-YZZ08", 1, "CABF"),
        ],
    ),
    (
        "S40K",
        "40,000 km service",
        "Oil, filters, brake fluid, spark plugs, inspection.",
        ["OIL", "AIRF", "CABF", "BRKF", "SPRK", "INSP"],
        [
            ("90915-YZZE1", 1, "OIL"),
            ("08880-83325", 1, "OIL"),
            ("17801-21050", 1, "AIRF"),
            ("87139-YZZ08", 1, "CABF"),
            ("08823-80010", 1, "BRKF"),
            ("90919-01253", 4, "SPRK"),
        ],
    ),
    (
        "EVCK",
        "EV annual check",
        "High-voltage battery check, cabin filter, inspection.",
        ["HVCK", "CABF", "INSP"],
        [("87139-YZZ08", 1, "CABF")],
    ),
]
# item, km, months, operation, package
SCHEDULE = [
    ("Engine oil and filter", 10000, 12, "OIL", "S10K"),
    ("Air filter", 20000, 24, "AIRF", "S20K"),
    ("Cabin filter", 20000, 12, "CABF", "S20K"),
    ("Tyre rotation", 10000, None, "ROT", "S20K"),
    ("Brake fluid", 40000, 24, "BRKF", "S40K"),
    ("Spark plugs", 40000, 48, "SPRK", "S40K"),
    ("Coolant", 80000, 48, "COOL", None),
]
EV_SCHEDULE = [
    ("High-voltage battery check", 20000, 12, "HVCK", "EVCK"),
    ("Cabin filter", 20000, 12, "CABF", "EVCK"),
    ("Brake fluid", 40000, 24, "BRKF", None),
    ("Tyre rotation", 10000, None, "ROT", None),
]
CHECKLIST = [
    ("Front brake pads", Measure.PAD_MM, "PADF", "04465-33471", 1),
    ("Rear brake pads", Measure.PAD_MM, "PADF", "04465-33471", 1),
    ("Tyres", Measure.TREAD_MM, "TYRE", "TYR-215-55R17", 2),
    ("12 V battery", Measure.BATTERY_V, "BATT", "28800-YZZJ4", 1),
    ("Fluids (coolant, brake, washer)", "", "COOL", "08889-80070", 1),
    ("Lights", "", "BULB", "90981-13046", 1),
    ("Wipers", "", "WIPE", "85222-33180", 2),
    ("Wheel alignment", "", "ALGN", None, 1),
]


@transaction.atomic
def install_catalogue(group, *, today: dt.date | None = None) -> SimpleNamespace:
    """Operations, parts, packages, a published price list and schedules for `group`."""
    today = today or timezone.localdate()
    g = group.pk
    ops = {}
    for code, name, hours, line, resource, _price in OPERATIONS:
        ops[code] = LabourOperation.objects.create(
            dealer_group_id=g,
            code=code,
            name=name,
            name_i18n=names(name),
            standard_hours=Decimal(hours),
            skill_line=line,
            resource_kind=resource,
        )
    parts = {}
    for number, name, _price, _stock in PARTS:
        parts[number] = Part.objects.create(
            dealer_group_id=g, part_number=number, name=name, name_i18n=names(name)
        )
    packages = {}
    for code, name, description, op_codes, part_rows in PACKAGES:
        p = packages[code] = ServicePackage.objects.create(
            dealer_group_id=g,
            code=code,
            name=name,
            name_i18n=names(name),
            description=description,
            description_i18n=names(description),
            for_fuels=["bev"] if code.startswith("EV") else ["petrol", "diesel", "hybrid", "phev"],
        )
        p.operations.set([ops[c] for c in op_codes])
        PackagePart.objects.bulk_create(
            PackagePart(dealer_group_id=g, package=p, part=parts[n], quantity=q, operation=ops[o])
            for n, q, o in part_rows
        )
    price_list = PriceList.objects.create(
        dealer_group_id=g,
        name=f"{today.year} service prices",
        effective_from=today - dt.timedelta(days=365),
        published_at=timezone.now(),
    )
    Price.objects.bulk_create(
        [
            Price(
                dealer_group_id=g, price_list=price_list, operation=ops[c[0]], amount=Decimal(c[5])
            )
            for c in OPERATIONS
        ]
        + [
            Price(dealer_group_id=g, price_list=price_list, part=parts[p[0]], amount=Decimal(p[2]))
            for p in PARTS
        ]
    )
    from m4s.demo.synthetic import VEHICLE_MODELS

    for brand in sorted({b for b, _m, fuel in VEHICLE_MODELS if fuel != "bev"}):
        _schedule(g, brand, "", f"{brand} maintenance schedule", SCHEDULE, ops, packages)
    for brand, model, fuel in VEHICLE_MODELS:
        if fuel == "bev":
            _schedule(g, brand, model, f"{brand} {model} EV schedule", EV_SCHEDULE, ops, packages)
    return SimpleNamespace(operations=ops, parts=parts, packages=packages, price_list=price_list)


def _schedule(group_id, brand, model, name, rows, ops, packages):
    if MaintenanceSchedule.objects.for_group(group_id).filter(brand=brand, model=model).exists():
        return
    schedule = MaintenanceSchedule.objects.create(
        dealer_group_id=group_id, brand=brand, model=model, name=name
    )
    MaintenanceItem.objects.bulk_create(
        MaintenanceItem(
            dealer_group_id=group_id,
            schedule=schedule,
            name=item,
            name_i18n=names(item),
            interval_km=km,
            interval_months=months,
            operation=ops[op],
            package=packages.get(pkg),
            position=i,
        )
        for i, (item, km, months, op, pkg) in enumerate(rows)
    )


@transaction.atomic
def install_workshop(
    store,
    catalogue,
    *,
    advisors=(),
    technicians=(),
    days: int = 14,
    start: dt.date | None = None,
    lifts: int = 4,
    hours=(dt.time(8, 30), dt.time(17, 30)),
):
    """Settings, stock, checklist, resources, opening hours and rosters for one store.
    `technicians` is a list of (staff, skill line)."""
    g = store.dealer_group_id
    start = start or timezone.localdate()
    ServiceSettings.objects.for_group(g).get_or_create(store=store, defaults={"dealer_group_id": g})
    for number, _name, _price, qty in PARTS:
        PartStock.objects.for_group(g).get_or_create(
            store=store,
            part=catalogue.parts[number],
            defaults={"dealer_group_id": g, "on_hand": qty},
        )
    template = InspectionTemplate.objects.create(
        dealer_group_id=g, store=store, name="Multi-point inspection"
    )
    InspectionPoint.objects.bulk_create(
        InspectionPoint(
            dealer_group_id=g,
            template=template,
            position=i,
            name=name,
            name_i18n=names(name),
            measure=measure,
            operation=catalogue.operations[op],
            part=catalogue.parts.get(part),
            part_quantity=qty,
        )
        for i, (name, measure, op, part, qty) in enumerate(CHECKLIST)
    )
    Resource.objects.bulk_create(
        [
            Resource(dealer_group_id=g, store=store, kind=ResourceKind.LIFT, name=f"Lift {i + 1}")
            for i in range(lifts)
        ]
        + [
            Resource(
                dealer_group_id=g, store=store, kind=ResourceKind.ALIGNMENT, name="Alignment bay"
            ),
            Resource(
                dealer_group_id=g, store=store, kind=ResourceKind.PAINT_BOOTH, name="Paint booth"
            ),
        ]
    )
    if not BusinessHours.objects.for_group(g).filter(store=store).exists():
        BusinessHours.objects.bulk_create(
            BusinessHours(
                dealer_group_id=g, store=store, weekday=d, opens_at=hours[0], closes_at=hours[1]
            )
            for d in range(7)
        )
    for staff, line in technicians:
        TechnicianProfile.objects.for_group(g).get_or_create(
            staff=staff, defaults={"dealer_group_id": g, "skill_line": line}
        )
    add_rosters(
        store,
        [s for s in advisors] + [s for s, _l in technicians],
        start=start,
        days=days,
        hours=hours,
    )
    return template


def add_rosters(
    store, staff, *, start: dt.date, days: int, hours=(dt.time(8, 30), dt.time(17, 30))
):
    existing = set(
        Shift.objects.for_group(store.dealer_group_id)
        .filter(store=store, date__gte=start, date__lt=start + dt.timedelta(days=days))
        .values_list("staff_id", "date")
    )
    Shift.objects.bulk_create(
        Shift(
            dealer_group_id=store.dealer_group_id,
            staff=s,
            store=store,
            date=start + dt.timedelta(days=i),
            starts_at=hours[0],
            ends_at=hours[1],
        )
        for i in range(days)
        for s in staff
        if (s.pk, start + dt.timedelta(days=i)) not in existing
        and s.role in (Role.SERVICE_ADVISOR, Role.TECHNICIAN)
    )

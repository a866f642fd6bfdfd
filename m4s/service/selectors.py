"""Reads of the service area: published prices, what a car is due for, free booking slots,
repair orders and the store manager's figures. Everything is scoped to one dealer group."""

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.dates import add_months
from m4s.core.errors import DomainError, NotFound
from m4s.core.routers import on_replica
from m4s.org.models import Store
from m4s.org.selectors import get_day_schedule
from m4s.staff.choices import Role
from m4s.staff.models import Shift

from .choices import (
    ACTIVE_APPOINTMENT,
    CLOCKABLE_RO,
    CSI_WEIGHTS,
    OPEN_RO,
    AppointmentStatus,
    Approval,
    SurveyStatus,
    VisitMode,
    WorkStatus,
)
from .models import (
    Appointment,
    CapacityUse,
    LabourOperation,
    MaintenanceItem,
    MaintenanceRecord,
    MaintenanceSchedule,
    Part,
    PartStock,
    Price,
    RepairLine,
    RepairOrder,
    Resource,
    ServicePackage,
    ServiceSettings,
    Survey,
    TechnicianProfile,
    TimeEntry,
)

DUE_SOON_KM = 1000
DUE_SOON_DAYS = 30


# --- prices ----------------------------------------------------------------------------------------
def published_prices(group_id: int, on: dt.date, *, operations=(), parts=()) -> dict:
    """{("op", id) | ("part", id): Decimal} from the published list in force on `on`.
    One query however many items are asked for."""
    rows = (
        Price.objects.for_group(group_id)
        .filter(
            price_list__published_at__isnull=False,
            price_list__effective_from__lte=on,
        )
        .filter(Q(price_list__effective_to__isnull=True) | Q(price_list__effective_to__gte=on))
        .filter(Q(operation_id__in=list(operations)) | Q(part_id__in=list(parts)))
        .order_by("price_list__effective_from", "price_list_id")
        .values_list("operation_id", "part_id", "amount")
    )
    prices = {}
    for op_id, part_id, amount in rows:  # later lists overwrite earlier ones
        prices[("op", op_id) if op_id else ("part", part_id)] = amount
    return prices


def require_prices(group_id: int, on: dt.date, *, operations=(), parts=()) -> dict:
    prices = published_prices(group_id, on, operations=operations, parts=parts)
    missing = [("op", i) for i in operations if ("op", i) not in prices] + [
        ("part", i) for i in parts if ("part", i) not in prices
    ]
    if missing:
        raise DomainError(
            "no_published_price",
            _("An item has no published price; publish it in the price list first."),
            items=[f"{kind}:{pk}" for kind, pk in missing],
        )
    return prices


# --- tax -------------------------------------------------------------------------------------------
# Published prices are net. Owners see tax-inclusive prices (as Chinese retail prices are): the
# tax of each priced item (a job's labour, a part row) is rounded to the fen on its own, so a
# job's price with tax is the sum of its items' and the invoice's tax the sum of its lines'.
CENT = Decimal("0.01")
DEFAULT_TAX_RATE = ServiceSettings._meta.get_field("tax_rate").default


def tax_on(net: Decimal, rate: Decimal) -> Decimal:
    return (Decimal(net) * Decimal(rate)).quantize(CENT, ROUND_HALF_UP)


def with_tax(net: Decimal, rate: Decimal) -> Decimal:
    return Decimal(net) + tax_on(net, rate)


def tax_rate_for(store: Store | None, group_id: int | None = None) -> Decimal:
    """The store's tax rate (remembered on the store object); without a store, the rate of the
    group's first store that has settings, else the default."""
    if store is not None:
        cached = getattr(store, "_m4s_tax_rate", None)
        if cached is None:
            cached = store._m4s_tax_rate = settings_for(store).tax_rate
        return cached
    found = (
        ServiceSettings.objects.for_group(group_id)
        .order_by("store_id")
        .values_list("tax_rate", flat=True)
        .first()
        if group_id
        else None
    )
    return found if found is not None else DEFAULT_TAX_RATE


def line_tax(line: RepairLine, rate: Decimal) -> Decimal:
    """The tax of one job at its charged prices: labour and each part row, each rounded."""
    return tax_on(line.labour_price, rate) + sum(
        (tax_on(p.unit_price * p.quantity, rate) for p in line.parts.all()), Decimal("0")
    )


@dataclass
class PackageQuote:
    package: ServicePackage
    operations: list
    parts: list  # (Part, quantity)
    labour: Decimal
    parts_total: Decimal
    minutes_by_pool: dict
    item_amounts: list = field(default_factory=list)  # net amount of each priced item
    tax_rate: Decimal = DEFAULT_TAX_RATE

    @property
    def total(self) -> Decimal:
        """Net, as published."""
        return self.labour + self.parts_total

    @property
    def tax(self) -> Decimal:
        return sum((tax_on(a, self.tax_rate) for a in self.item_amounts), Decimal("0"))

    @property
    def total_incl_tax(self) -> Decimal:
        """What the owner pays for the package (the price owners are shown)."""
        return self.total + self.tax


def package_lines(package: ServicePackage) -> list[tuple[LabourOperation, list]]:
    """The package's jobs, each with the parts it uses: [(operation, [(Part, qty)])]. A part
    goes on the line of the operation it serves; one without (or whose operation is not in the
    package) goes on the longest job."""
    ops = sorted(package.operations.all(), key=lambda o: o.code)
    carrier = max(ops, key=lambda o: (o.standard_hours, -o.pk)) if ops else None
    parts: dict[int, list] = defaultdict(list)
    in_package = {o.pk for o in ops}
    for pp in package.parts.all():
        op_id = pp.operation_id if pp.operation_id in in_package else getattr(carrier, "pk", None)
        parts[op_id].append((pp.part, pp.quantity))
    return [(op, parts.get(op.pk, [])) for op in ops]


def list_packages(group_id: int, vehicle=None) -> list[ServicePackage]:
    """Active packages; with a vehicle, only those for its fuel type (no EV check for a petrol car)."""
    packages = list(
        ServicePackage.objects.for_group(group_id)
        .filter(is_active=True)
        .prefetch_related("operations", "parts__part")
        .order_by("code")
    )
    return [p for p in packages if vehicle is None or p.fits(vehicle)]


def quote_package(
    package: ServicePackage, on: dt.date | None = None, *, store: Store | None = None
) -> PackageQuote:
    on = on or timezone.localdate()
    ops = list(package.operations.all())
    parts = [(pp.part, pp.quantity) for pp in package.parts.all()]
    prices = require_prices(
        package.dealer_group_id, on, operations=[o.pk for o in ops], parts=[p.pk for p, _q in parts]
    )
    return PackageQuote(
        package=package,
        operations=ops,
        parts=parts,
        labour=sum((prices[("op", o.pk)] for o in ops), Decimal("0")),
        parts_total=sum((prices[("part", p.pk)] * q for p, q in parts), Decimal("0")),
        minutes_by_pool=demand_of(ops),
        item_amounts=[prices[("op", o.pk)] for o in ops]
        + [prices[("part", p.pk)] * q for p, q in parts],
        tax_rate=tax_rate_for(store, package.dealer_group_id),
    )


def demand_of(operations) -> dict[str, int]:
    """Minutes per pool: skill lines and exclusive resources."""
    demand: dict[str, int] = defaultdict(int)
    for op in operations:
        demand[op.skill_line] += op.minutes
        if op.resource_kind:
            demand[f"resource:{op.resource_kind}"] += op.minutes
    return dict(demand)


def diagnosis_operation(group_id: int) -> LabourOperation:
    """A described problem is booked as a diagnosis: the group's `DIAG` operation."""
    op = LabourOperation.objects.for_group(group_id).filter(code="DIAG", is_active=True).first()
    if op is None:
        raise DomainError(
            "no_diagnosis_operation", _("This dealer has no diagnosis operation set up.")
        )
    return op


# --- maintenance schedule --------------------------------------------------------------------------
@dataclass
class DueItem:
    item: MaintenanceItem
    last_on: dt.date | None
    last_km: int | None
    due_km: int | None
    due_on: dt.date | None
    km_left: int | None
    days_left: int | None
    status: str  # overdue | due_soon | ok

    @property
    def label(self) -> str:
        return {"overdue": _("Overdue"), "due_soon": _("Due soon"), "ok": _("Not yet due")}[
            self.status
        ]


def schedule_for(vehicle) -> MaintenanceSchedule | None:
    schedules = (
        MaintenanceSchedule.objects.for_group(vehicle.dealer_group_id)
        .filter(brand__iexact=vehicle.brand)
        .filter(Q(model__iexact=vehicle.model) | Q(model=""))
    )
    return sorted(schedules, key=lambda s: s.model == "")[0] if schedules else None


def maintenance_due(
    vehicle, *, today: dt.date | None = None, odometer: int | None = None
) -> list[DueItem]:
    """The car's schedule items with when each falls due next, most urgent first.
    Counts from the last service of the item, or from the purchase date and 0 km."""
    today = today or timezone.localdate()
    schedule = schedule_for(vehicle)
    if schedule is None:
        return []
    items = list(schedule.items.select_related("package", "operation"))
    last = {}
    for rec in (
        MaintenanceRecord.objects.for_group(vehicle.dealer_group_id)
        .filter(vehicle=vehicle, item__in=items)
        .order_by("item_id", "done_on", "id")
    ):
        last[rec.item_id] = rec
    km_now = odometer if odometer is not None else vehicle.odometer_km
    start_on = vehicle.purchase_date
    due = []
    for item in items:
        rec = last.get(item.pk)
        last_on = rec.done_on if rec else start_on
        last_km = (rec.done_km if rec else 0) if (rec is None or rec.done_km is not None) else None
        due_km = last_km + item.interval_km if item.interval_km and last_km is not None else None
        due_on = (
            add_months(last_on, item.interval_months) if item.interval_months and last_on else None
        )
        km_left = due_km - km_now if due_km is not None and km_now is not None else None
        days_left = (due_on - today).days if due_on else None
        if (km_left is not None and km_left <= 0) or (days_left is not None and days_left <= 0):
            status = "overdue"
        elif (km_left is not None and km_left <= DUE_SOON_KM) or (
            days_left is not None and days_left <= DUE_SOON_DAYS
        ):
            status = "due_soon"
        else:
            status = "ok"
        due.append(
            DueItem(
                item,
                rec.done_on if rec else None,
                rec.done_km if rec else None,
                due_km,
                due_on,
                km_left,
                days_left,
                status,
            )
        )
    rank = {"overdue": 0, "due_soon": 1, "ok": 2}
    return sorted(
        due, key=lambda d: (rank[d.status], d.days_left if d.days_left is not None else 10**6)
    )


@dataclass
class Overdue:
    days: int  # since the due date (0: not past it)
    km: int  # beyond the due kilometres (0: not past them)

    @property
    def text(self) -> str:
        """How long and how far, in words ("3 months, 2,400 km overdue")."""
        from django.utils.translation import ngettext

        parts = []
        if self.days >= 60:
            months = self.days // 30
            parts.append(ngettext("%(n)d month", "%(n)d months", months) % {"n": months})
        elif self.days > 0:
            parts.append(ngettext("%(n)d day", "%(n)d days", self.days) % {"n": self.days})
        if self.km > 0:
            parts.append(_("%(km)s km") % {"km": f"{self.km:,}"})
        return _("%(what)s overdue") % {"what": ", ".join(parts)} if parts else ""


def overdue_of(reminders, today: dt.date | None = None) -> dict[int, Overdue]:
    """{reminder id: Overdue} for the reminders whose item is past its date or its kilometres
    (the car's odometer against the last service's + the interval). Two queries for any list."""
    today = today or timezone.localdate()
    reminders = list(reminders)
    if not reminders:
        return {}
    last_km: dict[tuple[int, int], int | None] = {}
    for vehicle_id, item_id, km in (
        MaintenanceRecord.objects.for_group(reminders[0].dealer_group_id)
        .filter(
            vehicle_id__in={r.vehicle_id for r in reminders},
            item_id__in={r.item_id for r in reminders},
        )
        .order_by("done_on", "id")
        .values_list("vehicle_id", "item_id", "done_km")
    ):
        last_km[(vehicle_id, item_id)] = km
    out = {}
    for r in reminders:
        days = max((today - r.due_on).days, 0)
        km = 0
        base = last_km.get((r.vehicle_id, r.item_id), 0)
        if r.item.interval_km and base is not None and r.vehicle.odometer_km is not None:
            km = max(r.vehicle.odometer_km - (base + r.item.interval_km), 0)
        if days or km:
            out[r.pk] = Overdue(days, km)
    return out


# --- capacity and slots ---------------------------------------------------------------------------
def settings_for(store: Store) -> ServiceSettings:
    found = ServiceSettings.objects.for_group(store.dealer_group_id).filter(store=store).first()
    return found or ServiceSettings(store=store, dealer_group_id=store.dealer_group_id)


@dataclass
class Slot:
    starts_at: dt.datetime
    advisors: list[int]  # advisor ids with a free seat, preferred first

    @property
    def local(self) -> dt.datetime:
        return self.starts_at


@dataclass
class DayCapacity:
    store: Store
    date: dt.date
    open: bool
    reason: str = ""
    pools: dict = field(default_factory=dict)  # pool -> {"capacity": m, "used": m, "free": m}
    slots: list[Slot] = field(default_factory=list)

    def fits(self, demand: dict[str, int]) -> bool:
        return all(
            self.pools.get(pool, {}).get("free", 0) >= minutes for pool, minutes in demand.items()
        )


def no_show_rate(store: Store, today: dt.date) -> float:
    counts = dict(
        Appointment.objects.for_group(store.dealer_group_id)
        .filter(store=store, date__gte=today - dt.timedelta(days=90), date__lt=today)
        .filter(status__in=[AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW])
        .values_list("status")
        .annotate(n=Count("id"))
    )
    total = sum(counts.values())
    return counts.get(AppointmentStatus.NO_SHOW, 0) / total if total else 0.0


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def day_capacity(
    store: Store,
    date: dt.date,
    *,
    mode: str = VisitMode.WAITING,
    demand: dict[str, int] | None = None,
    prefer_advisor_id: int | None = None,
    now: dt.datetime | None = None,
    conf: ServiceSettings | None = None,
    exclude_appointment_id: int | None = None,
) -> DayCapacity:
    """Both layers for one store and day: reception seats per advisor and slot, and labour
    minutes per skill line (and resource) after the walk-in reserve, carry-over work and the
    overbooking allowance. About eight queries, whatever the number of bookings.
    `exclude_appointment_id`: leave one visit out (the times it could move to when rescheduled)."""
    conf = conf or settings_for(store)
    now = now or timezone.now()
    tz = store.tz
    day = DayCapacity(store=store, date=date, open=True)
    schedule = get_day_schedule(store, date)
    if schedule.holiday:
        day.open, day.reason = False, "holiday"
        return day
    if not schedule.periods:
        day.open, day.reason = False, "closed"
        return day
    group_id = store.dealer_group_id

    shifts = list(
        Shift.objects.for_group(group_id)
        .filter(store=store, date=date, staff__is_active=True)
        .filter(staff__role__in=[Role.SERVICE_ADVISOR, Role.TECHNICIAN])
        .values_list("staff_id", "staff__role", "starts_at", "ends_at")
    )
    tech_ids = [s[0] for s in shifts if s[1] == Role.TECHNICIAN]
    profiles = {
        p.staff_id: p
        for p in TechnicianProfile.objects.for_group(group_id).filter(staff_id__in=tech_ids)
    }
    open_minutes = sum(_minutes(c) - _minutes(o) for o, c in schedule.periods)

    # Layer 2: labour pools.
    capacity: dict[str, float] = defaultdict(float)
    for staff_id, role, starts, ends in shifts:
        if role == Role.TECHNICIAN and staff_id in profiles:
            p = profiles[staff_id]
            capacity[p.skill_line] += (_minutes(ends) - _minutes(starts)) * p.availability_pct / 100
    overbook = min(no_show_rate(store, date), conf.max_overbooking_pct / 100)
    factor = (1 - conf.walk_in_reserve_pct / 100) * (1 + overbook)
    pools = {line: math.floor(m * factor) for line, m in capacity.items()}
    for kind, n in (
        Resource.objects.for_group(group_id)
        .filter(store=store)
        .values_list("kind")
        .annotate(n=Count("id"))
    ):
        pools[f"resource:{kind}"] = n * open_minutes
    used = dict(
        CapacityUse.objects.for_group(group_id)
        .filter(store=store, date=date, appointment__status__in=ACTIVE_APPOINTMENT)
        .exclude(appointment_id=exclude_appointment_id)
        .values_list("pool")
        .annotate(m=Sum("minutes"))
    )
    carry = carry_over_minutes(store, date, now=now)
    for pool in set(pools) | set(used) | set(carry):
        cap = pools.get(pool, 0)
        u = used.get(pool, 0) + carry.get(pool, 0)
        day.pools[pool] = {"capacity": cap, "used": u, "free": max(cap - u, 0)}
    if demand and not day.fits(demand):
        day.reason = "workshop_full"
        return day

    # Layer 1: reception seats.
    seats = conf.waiting_per_slot if mode == VisitMode.WAITING else conf.dropoff_per_slot
    taken = defaultdict(int)
    for advisor_id, starts_at in (
        Appointment.objects.for_group(group_id)
        .filter(store=store, date=date, mode=mode, status__in=ACTIVE_APPOINTMENT)
        .exclude(pk=exclude_appointment_id)
        .values_list("advisor_id", "starts_at")
    ):
        taken[(advisor_id, starts_at)] += 1
    earliest = now + dt.timedelta(minutes=conf.min_lead_minutes)
    step = conf.slot_minutes
    by_time: dict[dt.datetime, list[int]] = defaultdict(list)
    advisors = sorted(
        (s for s in shifts if s[1] == Role.SERVICE_ADVISOR),
        key=lambda s: (s[0] != prefer_advisor_id, s[0]),
    )
    for staff_id, _role, starts, ends in advisors:
        for opens, closes in schedule.periods:
            m = max(_minutes(starts), _minutes(opens))
            m = math.ceil(m / step) * step
            end = min(_minutes(ends), _minutes(closes))
            while m + step <= end:
                at = dt.datetime.combine(date, dt.time(m // 60, m % 60), tzinfo=tz)
                if at >= earliest and taken[(staff_id, at)] < seats:
                    by_time[at].append(staff_id)
                m += step
    day.slots = [Slot(at, ids) for at, ids in sorted(by_time.items())]
    if not day.slots and not day.reason:
        day.reason = "no_reception_slot"
    return day


def carry_over_minutes(store: Store, date: dt.date, *, now: dt.datetime) -> dict[str, int]:
    """Approved work not yet done on cars that came in before today takes today's minutes
    (work on cars booked for today is already in today's capacity rows). Future days are not
    touched: their bookings are counted, and today's cars are expected to be done."""
    today = now.astimezone(store.tz).date()
    if date != today:
        return {}
    rows = (
        RepairLine.objects.for_group(store.dealer_group_id)
        .filter(
            repair_order__store=store, repair_order__status__in=OPEN_RO, approval=Approval.APPROVED
        )
        .exclude(work_status="done")
        .filter(
            repair_order__checked_in_at__lt=dt.datetime.combine(date, dt.time(0), tzinfo=store.tz)
        )
        .values_list("operation__skill_line")
        .annotate(h=Sum("operation__standard_hours"))
    )
    return {line: int(h * 60) for line, h in rows}


def free_days(store: Store, start: dt.date, days: int, *, demand: dict, mode: str) -> list[dt.date]:
    out = []
    for i in range(days):
        d = start + dt.timedelta(days=i)
        cap = day_capacity(store, d, demand=demand, mode=mode)
        if cap.slots:
            out.append(d)
    return out


def parts_available_on(
    store: Store, parts: list[tuple[Part, int]], date: dt.date
) -> tuple[bool, dt.date | None]:
    """Whether the parts can be reserved for a visit on `date`, and if not the earliest date a
    delivery covers them (None if no delivery is expected)."""
    stock = {
        s.part_id: s
        for s in PartStock.objects.for_group(store.dealer_group_id).filter(
            store=store, part_id__in=[p.pk for p, _q in parts]
        )
    }
    ok, later = True, None
    for part, qty in parts:
        s = stock.get(part.pk)
        free_now = (s.on_hand - s.reserved) if s else 0
        if free_now >= qty:
            continue
        if s and s.next_delivery_date and s.on_hand + s.incoming - s.reserved >= qty:
            if date >= s.next_delivery_date:
                continue
            ok = False
            later = max(later or s.next_delivery_date, s.next_delivery_date)
        else:
            return False, None
    return ok, later


# --- appointments and repair orders ----------------------------------------------------------------
def appointments_of_owner(owner):
    return (
        Appointment.objects.unscoped()
        .filter(owner=owner)
        .select_related("store", "vehicle", "package", "advisor")
        .order_by("-starts_at")
    )


def get_owner_appointment(owner, appointment_id: int) -> Appointment:
    found = appointments_of_owner(owner).filter(pk=appointment_id).first()
    if found is None:
        raise NotFound(_("No such appointment."))
    return found


def _ro_queryset(qs):
    return qs.select_related(
        "store", "customer", "vehicle", "advisor", "appointment", "invoice"
    ).prefetch_related(
        "lines__parts__part",
        "lines__operation",
        "lines__time_entries__technician",
        "inspection__point",
        "inspection__photos",
        "photos",
    )


def repair_orders_of_owner(owner):
    return (
        RepairOrder.objects.unscoped()
        .filter(customer__owner=owner)
        .select_related("store", "vehicle")
        .order_by("-checked_in_at")
    )


def get_owner_repair_order(owner, ro_id: int) -> RepairOrder:
    found = _ro_queryset(
        RepairOrder.objects.unscoped().filter(customer__owner=owner, pk=ro_id)
    ).first()
    if found is None:
        raise NotFound(_("No such repair order."))
    return found


def store_ids_for(actor) -> list[int] | None:
    """None means every store of the actor's group."""
    from m4s.staff.choices import Perm

    if actor.has_perm_m4s(Perm.VIEW_ALL_STORES):
        return None
    return list(actor.store_ids())


def repair_orders_for(actor):
    qs = RepairOrder.objects.for_actor(actor)
    ids = store_ids_for(actor)
    return qs if ids is None else qs.filter(store_id__in=ids)


def get_repair_order(actor, ro_id: int) -> RepairOrder:
    found = _ro_queryset(repair_orders_for(actor).filter(pk=ro_id)).first()
    if found is None:
        raise NotFound(_("No such repair order."))
    return found


def appointments_for(actor):
    qs = Appointment.objects.for_actor(actor)
    ids = store_ids_for(actor)
    return qs if ids is None else qs.filter(store_id__in=ids)


def get_appointment(actor, appointment_id: int) -> Appointment:
    found = (
        appointments_for(actor)
        .select_related("store", "customer", "vehicle", "package", "advisor")
        .filter(pk=appointment_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such appointment."))
    return found


def store_for_actor(actor, store_id: int) -> Store:
    ids = store_ids_for(actor)
    qs = Store.objects.for_actor(actor).filter(pk=store_id, is_active=True)
    store = qs.first() if ids is None or store_id in ids else None
    if store is None:
        raise NotFound(_("No such store."))
    return store


@dataclass
class Totals:
    approved: Decimal
    pending: Decimal
    declined: Decimal
    approved_incl_tax: Decimal = Decimal("0")
    pending_incl_tax: Decimal = Decimal("0")
    declined_incl_tax: Decimal = Decimal("0")
    tax_rate: Decimal = DEFAULT_TAX_RATE


def line_amount(line: RepairLine, *, list_prices: bool = False) -> Decimal:
    labour = line.labour_list_price if list_prices else line.labour_price
    parts = sum(
        ((p.list_price if list_prices else p.unit_price) * p.quantity for p in line.parts.all()),
        Decimal("0"),
    )
    return labour + parts


def work_finished(lines) -> bool:
    """Every approved job is done and nothing waits for the owner: the order can go to the
    quality check (the only state from which `workshop.advance` accepts that step)."""
    lines = list(lines)
    return (
        any(ln.approval == Approval.APPROVED for ln in lines)
        and not any(ln.approval == Approval.PENDING for ln in lines)
        and all(ln.work_status == "done" for ln in lines if ln.approval == Approval.APPROVED)
    )


def clockable_lines(ro: RepairOrder, technician) -> tuple[set[int], set[int]]:
    """(the lines `technician` may clock on now, the lines they may clock off), by the rules
    workshop.clock_on / clock_off apply: an order in a workable status, approved lines not yet
    done, and one open clock per technician."""
    if ro.status not in CLOCKABLE_RO:
        return set(), set()
    clocked = list(
        TimeEntry.objects.for_group(ro.dealer_group_id)
        .filter(technician=technician, ended_at__isnull=True)
        .values_list("line_id", "line__repair_order_id")
    )
    mine = {line_id for line_id, ro_id in clocked if ro_id == ro.pk}
    if clocked:  # on a job: clock off that one first
        return set(), mine
    lines = RepairLine.objects.for_group(ro.dealer_group_id).filter(repair_order=ro)
    approved = lines.filter(approval=Approval.APPROVED).exclude(work_status=WorkStatus.DONE)
    return set(approved.values_list("pk", flat=True)), mine


def line_amount_incl_tax(line: RepairLine, rate: Decimal | None = None) -> Decimal:
    """What the owner pays for one job: its charged prices with their tax."""
    if rate is None:
        rate = tax_rate_for(line.repair_order.store)
    return line_amount(line) + line_tax(line, rate)


def ro_totals(ro: RepairOrder) -> Totals:
    """Net and tax-inclusive sums of the approved, pending and declined jobs."""
    rate = tax_rate_for(ro.store)
    t = {a: Decimal("0") for a in Approval.values}
    g = {a: Decimal("0") for a in Approval.values}
    for line in ro.lines.all():
        t[line.approval] += line_amount(line)
        g[line.approval] += line_amount_incl_tax(line, rate)
    return Totals(
        t[Approval.APPROVED],
        t[Approval.PENDING],
        t[Approval.DECLINED],
        g[Approval.APPROVED],
        g[Approval.PENDING],
        g[Approval.DECLINED],
        rate,
    )


def open_surveys_of_owner(owner):
    return (
        Survey.objects.unscoped()
        .filter(owner=owner, status=SurveyStatus.OPEN, expires_at__gt=timezone.now())
        .select_related("store", "repair_order__vehicle")
        .order_by("expires_at")
    )


def surveys_of_owner(owner):
    return (
        Survey.objects.unscoped()
        .filter(owner=owner)
        .exclude(status=SurveyStatus.SCHEDULED)
        .select_related("store", "repair_order__vehicle")
        .order_by("-available_at")
    )


def follow_up_list(actor, store_id: int | None = None):
    qs = Survey.objects.for_actor(actor).filter(needs_follow_up=True, followed_up_at__isnull=True)
    ids = store_ids_for(actor)
    if ids is not None:
        qs = qs.filter(store_id__in=ids)
    if store_id:
        qs = qs.filter(store_id=store_id)
    return qs.select_related("customer", "store", "repair_order__vehicle", "advisor").order_by(
        "-answered_at"
    )


# --- store figures -----------------------------------------------------------------------------
@dataclass
class Figures:
    month: dt.date
    surveys: int
    csi: float | None
    factors: dict
    nps: float | None
    promoters: int
    detractors: int
    appointments: int
    shown: int
    no_shows: int
    show_rate: float | None
    delivered: int
    fixed_first_time: int
    ftfr: float | None
    follow_ups: int


def month_bounds(store: Store, month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    first = month.replace(day=1)
    start = dt.datetime.combine(first, dt.time(0), tzinfo=store.tz)
    return start, dt.datetime.combine(add_months(first, 1), dt.time(0), tzinfo=store.tz)


@on_replica  # a report: its reads may go to the read replica (REPLICA_DATABASE_URL)
def store_figures(store: Store, month: dt.date) -> Figures:
    """CSI (weighted factors, 0–100), NPS, show rate and first-time-fix rate for one month."""
    group_id = store.dealer_group_id
    start, end = month_bounds(store, month)
    answered = Survey.objects.for_group(group_id).filter(
        store=store, status=SurveyStatus.ANSWERED, answered_at__gte=start, answered_at__lt=end
    )
    agg = answered.aggregate(
        n=Count("id"),
        initiation=Sum("initiation"),
        advisor=Sum("advisor_score"),
        facility=Sum("facility"),
        pickup=Sum("pickup"),
        quality=Sum("quality"),
        promoters=Count("id", filter=Q(nps__gte=9)),
        detractors=Count("id", filter=Q(nps__lte=6)),
        follow=Count("id", filter=Q(needs_follow_up=True)),
    )
    n = agg["n"]
    factors = {f: (agg[f] / n * 10 if n else None) for f in CSI_WEIGHTS}  # 0–100 per factor
    csi = sum(factors[f] * w for f, w in CSI_WEIGHTS.items()) / 100 if n else None
    nps = (agg["promoters"] - agg["detractors"]) * 100 / n if n else None

    appts = dict(
        Appointment.objects.for_group(group_id)
        .filter(store=store, starts_at__gte=start, starts_at__lt=end)
        .values_list("status")
        .annotate(c=Count("id"))
    )
    shown = appts.get(AppointmentStatus.CHECKED_IN, 0)
    no_shows = appts.get(AppointmentStatus.NO_SHOW, 0)

    delivered = list(
        RepairOrder.objects.for_group(group_id)
        .filter(store=store, delivered_at__gte=start, delivered_at__lt=end)
        .values_list("id", "vehicle_id", "delivered_at")
    )
    repeat = 0
    if delivered:
        ops = defaultdict(set)
        for ro_id, op_id in (
            RepairLine.objects.for_group(group_id)
            .filter(repair_order_id__in=[d[0] for d in delivered], approval=Approval.APPROVED)
            .values_list("repair_order_id", "operation_id")
        ):
            ops[ro_id].add(op_id)
        later = defaultdict(list)
        for vehicle_id, checked_in_at, op_id in (
            RepairLine.objects.for_group(group_id)
            .filter(
                repair_order__vehicle_id__in={d[1] for d in delivered},
                repair_order__checked_in_at__gte=start,
                repair_order__checked_in_at__lt=end + dt.timedelta(days=30),
                approval=Approval.APPROVED,
            )
            .values_list("repair_order__vehicle_id", "repair_order__checked_in_at", "operation_id")
        ):
            later[vehicle_id].append((checked_in_at, op_id))
        for ro_id, vehicle_id, delivered_at in delivered:
            if any(
                delivered_at < at <= delivered_at + dt.timedelta(days=30) and op in ops[ro_id]
                for at, op in later[vehicle_id]
            ):
                repeat += 1
    return Figures(
        month=month.replace(day=1),
        surveys=n,
        csi=csi,
        factors=factors,
        nps=nps,
        promoters=agg["promoters"],
        detractors=agg["detractors"],
        appointments=sum(appts.values()),
        shown=shown,
        no_shows=no_shows,
        show_rate=shown / (shown + no_shows) if shown + no_shows else None,
        delivered=len(delivered),
        fixed_first_time=len(delivered) - repeat,
        ftfr=(len(delivered) - repeat) / len(delivered) if delivered else None,
        follow_ups=agg["follow"],
    )

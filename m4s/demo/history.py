"""Two years of service history for the insight demo: for every store of the demo groups,
customers with a car (new synthetic ones, some app users), visits paid and under warranty,
recommendations declined, no-shows, surveys, complaints, reminders, leads and points, planned
customer by customer and written in bulk in foreign-key order, as the services would have left
them (see `service_history`, whose six months at Chaoyang stay untouched).

Behaviour carries a churn signal: each customer has a latent loyalty; a customer who drifts
away comes less often, then stops. Declined red work, a detractor's survey, an unresolved
complaint and a car past its warranty raise the chance to stop, so the churn model has
something to learn. Deterministic (one seeded `random.Random`)."""

import datetime as dt
import random
from collections import Counter, defaultdict
from decimal import Decimal
from types import SimpleNamespace

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone

from m4s.customers.choices import BindingVia, Source
from m4s.customers.models import Binding, Customer
from m4s.org.models import Store
from m4s.owners.models import Owner
from m4s.service import selectors
from m4s.service.choices import (
    AppointmentStatus,
    Approval,
    ApprovalChannel,
    Channel,
    LineSource,
    Payer,
    Rating,
    RepairOrderStatus,
    SurveyStatus,
    VisitMode,
    WorkStatus,
)
from m4s.service.models import (
    Appointment,
    InspectionResult,
    InspectionTemplate,
    Invoice,
    LabourOperation,
    RepairLine,
    RepairOrder,
    ServicePackage,
    Survey,
)
from m4s.staff.choices import Role
from m4s.staff.models import StaffUser
from m4s.vehicles.choices import Fuel, OwnershipReason
from m4s.vehicles.models import Vehicle, VehicleOwnership
from m4s.vehicles.validation import vin_model_year

from . import synthetic

SEED = 19
DAYS = 730  # two years back from today
# New customers per store (Chaoyang already has its ~380 of the service demo).
CUSTOMERS_PER_STORE = {"chaoyang": 90, "haidian": 230, "fengtai": 240, "tongzhou": 210}
DEFAULT_CUSTOMERS = 150
APP_SHARE = 0.6  # customers with the owner app (only they answer surveys)
TAX = Decimal("0.13")
CENT = Decimal("0.01")
# Inspection points whose amber/red findings become recommendations, with their wear chance
WORN = {
    "Front brake pads": 0.16,
    "Rear brake pads": 0.08,
    "Tyres": 0.12,
    "12 V battery": 0.08,
}
PROBLEMS = [
    ("刹车时有异响 Squeak when braking", "PADF"),
    ("早上启动困难 Hard to start in the morning", "BATT"),
    ("高速时方向盘抖动 Steering wheel shakes at 100 km/h", "ALGN"),
    ("空调有异味 Smell from the air conditioning", "CABF"),
]
COMEBACK = "上次修过的问题又出现了 The same problem is back"


def _anniversary(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _q(x) -> Decimal:
    return Decimal(x).quantize(CENT)


class Plan:
    """Rows to write, in foreign-key order, and what the rest of the demo needs to know."""

    def __init__(self):
        self.appointments, self.orders, self.results, self.lines = [], [], [], []
        self.invoices, self.surveys = [], []
        self.visits = []  # (customer, store, delivered_at, paid amount, order) of paid visits
        self.stopped = set()  # customer ids who drifted away
        self.complaint_seeds = []  # (car, order, when, resolved)


def _advisors(store):
    return list(
        StaffUser.objects.filter(role=Role.SERVICE_ADVISOR, stores=store, is_active=True).order_by(
            "pk"
        )
    )


def _ensure_advisor(store):
    """Every store needs someone to write its repair orders (Tongzhou has nobody yet)."""
    advisors = _advisors(store)
    if advisors:
        return advisors
    from m4s.staff.services import create_staff

    from .accounts import DEMO_PASSWORD

    create_staff(
        username=f"advisor-{store.code}",
        password=DEMO_PASSWORD,
        role=Role.SERVICE_ADVISOR,
        group=store.dealer_group,
        stores=[store],
        display_name="许静 Xu Jing",
    )
    return _advisors(store)


def _new_cars(rng, store, n, today, now, taken) -> list[SimpleNamespace]:
    """`n` synthetic customers of `store`, each with one car bought 1-7 years ago."""
    group_id = store.dealer_group_id
    phones, plates, vins = taken

    def unique(make, seen):
        value = make()
        while value in seen:
            value = make()
        seen.add(value)
        return value

    rows = []
    for _i in range(n):
        brand, model, fuel = synthetic.make_vehicle_model(rng)
        vin = unique(lambda: synthetic.make_vin(rng), vins)
        bought = today - dt.timedelta(days=rng.randint(200, 7 * 365))
        rows.append(
            SimpleNamespace(
                phone=unique(lambda: synthetic.make_mobile(rng), phones),
                name=synthetic.make_chinese_name(rng),
                app=rng.random() < APP_SHARE,
                brand=brand,
                model=model,
                fuel=fuel,
                vin=vin,
                plate=unique(
                    lambda f=fuel: synthetic.make_plate(rng, new_energy=f in (Fuel.BEV, Fuel.PHEV)),
                    plates,
                ),
                bought=bought,
                km=int((today - bought).days * rng.uniform(25, 55)),
            )
        )
    owners = {
        o.phone: o
        for o in Owner.objects.bulk_create(
            Owner(
                phone=r.phone,
                name=r.name,
                language="zh-hans",
                home_store=store,
                marketing_consent=rng.random() < 0.7,
                last_login_at=now - dt.timedelta(days=rng.randint(0, 200)),
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
            marketing_consent=rng.random() < 0.65,
        )
        for r in rows
    )
    # a dealer's customer record dates from the car's purchase (created_at is set on insert,
    # so it is backdated after; the month figures count customers who existed by then)
    for r, c in zip(rows, customers, strict=True):
        c.created_at = dt.datetime.combine(r.bought, dt.time(10), tzinfo=store.tz)
    Customer.objects.unscoped().bulk_update(customers, ["created_at"], batch_size=500)
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(
            dealer_group_id=group_id,
            vin=r.vin,
            plate=r.plate,
            brand=r.brand,
            model=r.model,
            fuel=r.fuel,
            model_year=vin_model_year(r.vin),
            colour=rng.choice(["白", "黑", "银", "灰", "红", "蓝"]),
            purchase_date=r.bought,
            purchase_store=store,
            odometer_km=r.km,
            warranty_end=_anniversary(r.bought, 8 if r.fuel == Fuel.BEV else 3),
            insurance_expiry=today + dt.timedelta(days=rng.randint(5, 360)),
            current_owner=c,
        )
        for r, c in zip(rows, customers, strict=True)
    )
    VehicleOwnership.objects.bulk_create(
        VehicleOwnership(
            dealer_group_id=group_id,
            vehicle=v,
            customer=c,
            reason=OwnershipReason.PURCHASE,
            started_at=dt.datetime.combine(v.purchase_date, dt.time(10), tzinfo=store.tz),
        )
        for v, c in zip(vehicles, customers, strict=True)
    )
    bindings = []
    cars = []
    for r, c, v in zip(rows, customers, vehicles, strict=True):
        if c.owner_id is not None:  # bound in the app some time after the purchase
            bound = max(
                r.bought + dt.timedelta(days=rng.randint(1, 400)), today - dt.timedelta(days=DAYS)
            )
            bound = min(bound, today - dt.timedelta(days=1))
            bindings.append(
                Binding(
                    dealer_group_id=group_id,
                    customer=c,
                    vehicle=v,
                    owner=c.owner,
                    via=rng.choice([BindingVia.APP, BindingVia.STORE_QR, BindingVia.DESK]),
                    store=store,
                    created_at=dt.datetime.combine(bound, dt.time(11), tzinfo=store.tz),
                )
            )
        cars.append(
            SimpleNamespace(
                customer=c,
                vehicle=v,
                owner_id=c.owner_id,
                store=store,
                bought=r.bought,
                km_now=r.km,
                km_per_day=r.km / max((today - r.bought).days, 30),
                warranty_end=v.warranty_end,
                loyalty=rng.betavariate(2.2, 1.4),
            )
        )
    Binding.objects.bulk_create(bindings)
    return cars


class Catalogue:
    """A group's operations, packages and current prices, and a store's checklist points."""

    def __init__(self, group_id, today):
        self.ops = {o.code: o for o in LabourOperation.objects.for_group(group_id)}
        self.packages = {
            p.code: p
            for p in ServicePackage.objects.for_group(group_id).prefetch_related("operations")
        }
        self.package_ops = {
            code: sorted(p.operations.all(), key=lambda o: o.code)
            for code, p in self.packages.items()
        }
        self.prices = selectors.published_prices(
            group_id, today, operations=[o.pk for o in self.ops.values()]
        )

    def price(self, op) -> Decimal:
        return Decimal(self.prices.get(("op", op.pk), Decimal("300")))


def _points(store):
    template = (
        InspectionTemplate.objects.for_group(store.dealer_group_id)
        .filter(store=store, is_active=True)
        .order_by("pk")
        .first()
    )
    if template is None:
        return {}
    return {p.name: p for p in template.points.select_related("operation") if p.name in WORN}


def _at(store, day: dt.date, minutes: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(8, 30), tzinfo=store.tz) + dt.timedelta(minutes=minutes)


class Simulator:
    def __init__(self, rng, today, now, plan: Plan):
        self.rng, self.today, self.now, self.plan = rng, today, now, plan

    def customer(self, car, cat: Catalogue, points, advisors, *, start: dt.date, end: dt.date):
        """The visits of one car between start and end (end excluded)."""
        rng = self.rng
        interval = 125 + 60 * (1 - car.loyalty) + rng.uniform(-10, 10)  # days between visits
        day = max(start, car.bought + dt.timedelta(days=20)) + dt.timedelta(
            days=rng.randint(0, int(interval))
        )
        drifting = 0  # visits left once the customer started drifting away
        visits = 0
        while day < end:
            if day.weekday() == 6 and rng.random() < 0.6:
                day += dt.timedelta(days=1)
                continue
            advisor = advisors[(car.customer.pk + visits) % len(advisors)]
            outcome = self.visit(car, cat, points, advisor, day)
            visits += 1
            if outcome.no_show:
                day += dt.timedelta(days=rng.randint(3, 20))  # booked again
                if rng.random() < 0.25 * (1 - car.loyalty):
                    self.plan.stopped.add(car.customer.pk)
                    return
                continue
            if drifting:
                drifting -= 1
                if drifting == 0:
                    self.plan.stopped.add(car.customer.pk)
                    return
                day += dt.timedelta(days=int(interval * rng.uniform(1.5, 2.2)))
                continue
            risk = 0.02 + 0.3 * (1 - car.loyalty) ** 2
            if outcome.declined_red:
                risk += 0.5
            elif outcome.declined:
                risk += 0.08
            if outcome.detractor:
                risk += 0.5
            if outcome.complaint_open:
                risk += 0.7
            elif outcome.complaint:
                risk += 0.1
            if car.warranty_end and day > car.warranty_end:
                risk += 0.12
            if rng.random() < risk:
                if rng.random() < 0.6:  # stops at once
                    self.plan.stopped.add(car.customer.pk)
                    return
                drifting = 1  # one more visit after a long gap, then gone
                day += dt.timedelta(days=int(interval * rng.uniform(1.8, 2.6)))
                continue
            comeback = outcome.repair and rng.random() < 0.07
            if comeback:
                back = day + dt.timedelta(days=rng.randint(5, 20))
                if back < end:
                    self.visit(car, cat, points, advisor, back, comeback=True)
            day += dt.timedelta(days=max(45, int(rng.gauss(interval, interval * 0.1))))

    def visit(self, car, cat, points, advisor, day, *, comeback=False) -> SimpleNamespace:
        rng, plan, store = self.rng, self.plan, car.store
        out = SimpleNamespace(
            no_show=False,
            declined_red=False,
            declined=False,
            detractor=False,
            complaint=False,
            complaint_open=False,
            repair=False,
        )
        under_warranty = bool(car.warranty_end and day <= car.warranty_end)
        starts_at = _at(store, day, rng.randrange(0, 15) * 30)
        repair = comeback or rng.random() < 0.25
        if repair:
            problem, code = rng.choice(PROBLEMS)
            if comeback:
                problem = COMEBACK
            package, ops = None, [cat.ops.get(code) or cat.ops["DIAG"]]
        else:
            problem = ""
            pkg = rng.choices(["S10K", "S20K", "S40K"], weights=[55, 32, 13])[0]
            package = cat.packages.get(pkg)
            ops = cat.package_ops.get(pkg) or [cat.ops["DIAG"]]
        channel = (
            rng.choices([Channel.APP, Channel.PHONE], [7, 3])[0] if car.owner_id else Channel.PHONE
        )
        appt = Appointment(
            dealer_group_id=store.dealer_group_id,
            store=store,
            customer=car.customer,
            vehicle=car.vehicle,
            owner_id=car.owner_id,
            advisor=advisor,
            starts_at=starts_at,
            date=day,
            mode=VisitMode.WAITING if rng.random() < 0.6 else VisitMode.DROP_OFF,
            package=package,
            problem=problem,
            status=AppointmentStatus.CHECKED_IN,
            channel=channel,
            booked_by=None if channel == Channel.APP else advisor,
            estimated_minutes=sum(op.minutes for op in ops),
        )
        appt.car = car
        plan.appointments.append(appt)
        if not comeback and rng.random() < 0.05 + 0.08 * (1 - car.loyalty):
            appt.status = AppointmentStatus.NO_SHOW
            out.no_show = True
            return out
        out.repair = repair
        arrived = starts_at + dt.timedelta(minutes=rng.randint(-10, 12))
        km = max(0, int(car.km_now - car.km_per_day * (self.today - day).days))
        ro = RepairOrder(
            dealer_group_id=store.dealer_group_id,
            number="",
            store=store,
            customer=car.customer,
            vehicle=car.vehicle,
            appointment=appt,
            advisor=advisor,
            status=RepairOrderStatus.DELIVERED,
            odometer_in=km,
            odometer_out=km + rng.choice((0, 1, 2)),
            fuel_pct=rng.randint(15, 95),
            symptoms=problem,
            checked_in_at=arrived,
        )
        plan.orders.append(ro)
        # under warranty: the repair and (for a third of the visits) the service are on the maker
        warranty = under_warranty and rng.random() < (0.5 if repair else 0.1)
        payer = Payer.WARRANTY if warranty else Payer.CUSTOMER
        lines = []
        for op in ops:
            lines.append(
                self._line(
                    ro, op, cat, advisor, arrived, payer, LineSource.BOOKING, problem or op.name
                )
            )
            lines[-1].approval = Approval.APPROVED
            lines[-1].approval_channel = ApprovalChannel.AT_BOOKING
            lines[-1].decided_at = arrived
        inspected = arrived + dt.timedelta(minutes=rng.randint(25, 50))
        if package is not None:
            for name, point in points.items():
                if rng.random() >= WORN[name] * (1.2 if day > (car.warranty_end or day) else 1):
                    continue
                rating = Rating.RED if rng.random() < 0.35 else Rating.AMBER
                result = InspectionResult(
                    dealer_group_id=store.dealer_group_id,
                    repair_order=ro,
                    point=point,
                    rating=rating,
                    note="2 mm left" if rating == Rating.RED else "4 mm left",
                    inspected_by=None,
                    at=inspected,
                )
                plan.results.append(result)
                if point.operation_id is None:
                    continue
                op = point.operation
                line = self._line(
                    ro, op, cat, advisor, inspected, Payer.CUSTOMER, LineSource.INSPECTION, name
                )
                line.result = result
                approve = rng.random() < (0.35 + 0.45 * car.loyalty) * (
                    1.2 if rating == Rating.RED else 0.8
                )
                line.approval = Approval.APPROVED if approve else Approval.DECLINED
                line.decided_at = inspected + dt.timedelta(minutes=rng.randint(15, 80))
                if car.owner_id and rng.random() < 0.7:
                    line.approval_channel = ApprovalChannel.APP
                else:
                    line.approval_channel = ApprovalChannel.VERBAL
                    line.approval_staff = advisor
                if not approve:
                    out.declined = True
                    out.declined_red = out.declined_red or rating == Rating.RED
                lines.append(line)
        finished = inspected
        for line in lines:
            if line.approval == Approval.APPROVED:
                line.work_status = WorkStatus.DONE
                line.completed_at = max(line.decided_at, arrived) + dt.timedelta(
                    minutes=line.operation.minutes
                )
                finished = max(finished, line.completed_at)
        ro.settled_at = finished + dt.timedelta(minutes=rng.randint(10, 25))
        ro.delivered_at = ro.settled_at + dt.timedelta(minutes=rng.randint(5, 20))
        paid = self._invoice(ro, lines, advisor)
        if paid > 0:
            plan.visits.append((car, ro, paid))
        # a survey (app users), answered by two in three
        unhappy = rng.random() < (0.05 + 0.45 * (1 - car.loyalty) ** 2) + (
            0.25 if out.declined_red or comeback else 0
        )
        if car.owner_id and rng.random() < 0.9:
            self._survey(ro, car, unhappy, out)
        # a complaint after an unhappy visit; some are never resolved
        if unhappy and rng.random() < 0.3:
            out.complaint = True
            out.complaint_open = rng.random() < 0.3
            plan.complaint_seeds.append(
                (car, ro, ro.delivered_at + dt.timedelta(hours=rng.randint(3, 72)), out)
            )
        return out

    def _line(self, ro, op, cat, advisor, at, payer, source, reason):
        price = cat.price(op)
        line = RepairLine(
            dealer_group_id=ro.dealer_group_id,
            repair_order=ro,
            operation=op,
            description=op.name,
            description_i18n=dict(op.name_i18n or {}),
            reason=reason[:300],
            labour_list_price=price,
            labour_price=price,
            payer=payer,
            source=source,
            added_by=advisor,
        )
        line.at = at
        self.plan.lines.append(line)
        return line

    def _invoice(self, ro, lines, advisor) -> Decimal:
        by_payer: dict[str, Decimal] = defaultdict(Decimal)
        tax_by: dict[str, Decimal] = defaultdict(Decimal)
        labour = Decimal(0)
        for line in lines:
            if line.approval != Approval.APPROVED:
                continue
            labour += line.labour_price
            by_payer[line.payer] += line.labour_price
            tax_by[line.payer] += selectors.tax_on(line.labour_price, TAX)
        # parts: roughly as much again as the labour
        parts = _q(labour * Decimal(self.rng.uniform(0.6, 1.4)))
        share = {k: (v / labour if labour else 0) for k, v in by_payer.items()}
        for k in list(by_payer):
            extra = _q(parts * Decimal(share[k]))
            by_payer[k] += extra
            tax_by[k] += selectors.tax_on(extra, TAX)
        net = sum(by_payer.values(), Decimal(0))
        tax = sum(tax_by.values(), Decimal(0))
        customer_net = by_payer.get(Payer.CUSTOMER, Decimal(0))
        customer_total = customer_net + tax_by.get(Payer.CUSTOMER, Decimal(0))
        self.plan.invoices.append(
            Invoice(
                dealer_group_id=ro.dealer_group_id,
                repair_order=ro,
                number="",
                issued_at=ro.settled_at,
                issued_by=advisor,
                labour_total=labour,
                parts_total=net - labour,
                discount_total=Decimal(0),
                net_total=net,
                tax_rate=TAX,
                tax=tax,
                total=net + tax,
                customer_pay_net=customer_net,
                customer_pay_total=customer_total,
                by_payer={k: str(v) for k, v in by_payer.items()},
            )
        )
        return customer_total

    def _survey(self, ro, car, unhappy, out):
        rng = self.rng
        available = ro.delivered_at + dt.timedelta(days=1)
        survey = Survey(
            dealer_group_id=ro.dealer_group_id,
            repair_order=ro,
            store=car.store,
            customer=car.customer,
            owner_id=car.owner_id,
            advisor=ro.advisor,
            available_at=available,
            expires_at=available + dt.timedelta(days=7),
        )
        self.plan.surveys.append(survey)
        if available > self.now:
            survey.status = SurveyStatus.SCHEDULED
            return
        answered = available + dt.timedelta(minutes=rng.randint(30, 3000))
        if rng.random() > 0.68 or answered > self.now:
            survey.status = (
                SurveyStatus.EXPIRED if survey.expires_at <= self.now else SurveyStatus.OPEN
            )
            return
        if unhappy:
            scores = [rng.randint(3, 7) for _ in range(5)]
            nps = rng.randint(1, 6)
            out.detractor = True
            comment = rng.choice(
                ["等了太久 Waited far too long", "价格比预期高 More expensive than I was told"]
            )
        elif rng.random() < 0.3:
            scores = [rng.randint(7, 9) for _ in range(5)]
            nps, comment = rng.randint(7, 8), ""
        else:
            scores = [rng.choice((8, 9, 9, 10, 10, 10)) for _ in range(5)]
            nps, comment = rng.choice((9, 10, 10)), ""
        survey.status, survey.answered_at = SurveyStatus.ANSWERED, answered
        (
            survey.initiation,
            survey.advisor_score,
            survey.facility,
            survey.pickup,
            survey.quality,
        ) = scores
        survey.nps, survey.comment = nps, comment
        survey.needs_follow_up = min(scores) <= 6 or nps <= 6
        if survey.needs_follow_up:
            survey.followed_up_at = answered + dt.timedelta(hours=rng.randint(2, 30))
            survey.followed_up_by = ro.advisor
            survey.follow_up_note = "已致电道歉 Called and apologised"


def _number(model, group_id, rows, prefix):
    model.objects.for_group(group_id).filter(pk__in=[r.pk for r in rows]).update(
        number=Concat(Value(prefix), LPad(Cast("id", CharField()), 8, Value("0")))
    )
    for r in rows:
        r.number = f"{prefix}{r.pk:08d}"


def _write(plan: Plan, group_id: int) -> Counter:
    for i, ro in enumerate(plan.orders):
        ro.number = f"RO-HIST-{group_id}-{i}"
    for i, inv in enumerate(plan.invoices):
        inv.number = f"INV-HIST-{group_id}-{i}"
    Appointment.objects.bulk_create(plan.appointments, batch_size=500)
    # booked one to ten days before the visit
    Appointment.objects.for_group(group_id).filter(pk__in=[a.pk for a in plan.appointments]).update(
        created_at=F("starts_at") - dt.timedelta(days=3, hours=5)
    )
    RepairOrder.objects.bulk_create(plan.orders, batch_size=500)
    _number(RepairOrder, group_id, plan.orders, "RO")
    InspectionResult.objects.bulk_create(plan.results, batch_size=1000)
    RepairLine.objects.bulk_create(plan.lines, batch_size=1000)
    Invoice.objects.bulk_create(plan.invoices, batch_size=500)
    _number(Invoice, group_id, plan.invoices, "INV")
    Survey.objects.bulk_create(plan.surveys, batch_size=500)
    return Counter(
        appointments=len(plan.appointments),
        repair_orders=len(plan.orders),
        inspection_results=len(plan.results),
        repair_lines=len(plan.lines),
        invoices=len(plan.invoices),
        surveys=len(plan.surveys),
    )


def _complaints(plan: Plan, group_id: int, now) -> int:
    """Complaints after unhappy visits: most answered and closed within days, some still open
    (waiting for the customer, so no escalation fires on the old ones)."""
    from m4s.complaints._common import ensure_defaults
    from m4s.complaints.choices import Channel as ComplaintChannel
    from m4s.complaints.choices import Severity, Status
    from m4s.complaints.models import Complaint, ComplaintCategory, RootCause

    ensure_defaults(group_id)
    categories = list(ComplaintCategory.objects.for_group(group_id).order_by("pk"))
    causes = list(RootCause.objects.for_group(group_id).order_by("pk"))
    rng = random.Random(SEED + group_id)
    rows = []
    for car, ro, at, _out in plan.complaint_seeds:
        if at >= now:
            continue
        open_ = _out.complaint_open
        first = at + dt.timedelta(minutes=rng.randint(20, 600))
        c = Complaint(
            dealer_group_id=group_id,
            reference=f"C-H{ro.pk:08d}",
            store=car.store,
            customer=car.customer,
            owner_id=car.owner_id,
            vehicle=car.vehicle,
            repair_order=ro,
            concerned_staff=ro.advisor,
            channel=ComplaintChannel.APP if car.owner_id else ComplaintChannel.PHONE,
            category=rng.choice(categories),
            severity=rng.choice([Severity.NORMAL, Severity.NORMAL, Severity.HIGH, Severity.LOW]),
            description=rng.choice(
                [
                    "保养后异响仍在 The noise is still there after the service",
                    "收费与报价不符 The bill was higher than the quote",
                    "等待时间太长 Waited far too long for the car",
                    "车辆交付时未清洗 The car came back dirty",
                ]
            ),
            created_at=at,
            first_response_due_at=at + dt.timedelta(hours=4),
            resolution_due_at=at + dt.timedelta(days=3),
            acknowledged_at=first if first <= now else None,
            first_responded_at=first if first <= now else None,
        )
        if first > now:
            c.first_responded_at = c.acknowledged_at = None
        elif open_:
            c.status, c.paused_at = Status.WAITING_CUSTOMER, first
        else:
            resolved = first + dt.timedelta(hours=rng.randint(2, 120))
            c.status = Status.CLOSED
            c.resolved_at, c.closed_at = resolved, resolved + dt.timedelta(days=rng.randint(1, 7))
            c.handling_minutes = int((resolved - at).total_seconds() // 60)
            c.root_cause = rng.choice(causes) if causes else None
            c.resolution = "已致电道歉并重新检查 Apologised and re-checked the car"
            if c.closed_at > now:
                c.status, c.closed_at = Status.RESOLVED, None
        rows.append(c)
    Complaint.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _reminders(plan: Plan, group_id: int, today: dt.date, now) -> int:
    """Maintenance reminders: one before most visits (it brought the booking) and, for those who
    drifted away, the ones that brought nothing."""
    from m4s.care.choices import Kind
    from m4s.care.choices import Status as ReminderStatus
    from m4s.care.models import Reminder

    rng = random.Random(SEED * 7 + group_id)
    last: dict[int, tuple] = {}
    rows = []
    for appt in plan.appointments:
        car = appt.car
        booked = appt.starts_at - dt.timedelta(days=3, hours=5)
        last[car.customer.pk] = (car, appt.date)
        if appt.problem or rng.random() > 0.65:
            continue
        sent = booked - dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
        rows.append(
            Reminder(
                dealer_group_id=group_id,
                customer=car.customer,
                owner_id=car.owner_id,
                vehicle=car.vehicle,
                kind=Kind.MAINTENANCE,
                target_ref=f"vehicle:{car.vehicle.pk}",
                cycle=f"h{appt.date.isoformat()}",
                due_on=appt.date,
                status=ReminderStatus.DONE,
                created_at=sent - dt.timedelta(hours=1),
                sent_at=sent,
                closed_at=appt.starts_at + dt.timedelta(hours=4),
            )
        )
    for car, day in last.values():  # reminded after the last visit: came back or not
        for k in (1, 2):
            due = day + dt.timedelta(days=180 * k)
            sent_day = due - dt.timedelta(days=14)
            if sent_day >= today:
                break
            sent = dt.datetime.combine(sent_day, dt.time(10), tzinfo=car.store.tz)
            old = sent_day < today - dt.timedelta(days=60)
            rows.append(
                Reminder(
                    dealer_group_id=group_id,
                    customer=car.customer,
                    owner_id=car.owner_id,
                    vehicle=car.vehicle,
                    kind=Kind.MAINTENANCE,
                    target_ref=f"vehicle:{car.vehicle.pk}",
                    cycle=f"h{due.isoformat()}",
                    due_on=due,
                    status=ReminderStatus.DISMISSED if old else ReminderStatus.SENT,
                    created_at=sent - dt.timedelta(hours=1),
                    sent_at=sent,
                    closed_at=sent + dt.timedelta(days=45) if old else None,
                )
            )
    Reminder.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def _leads(rng, stores, cars, today: dt.date, now) -> int:
    """New-car leads over the two years: won, lost, a few still open."""
    from m4s.sales.choices import LeadSource, LostReason, Stage
    from m4s.sales.models import Lead

    rows, made = [], []
    for store in stores:
        consultants = list(
            StaffUser.objects.filter(role=Role.SALES_CONSULTANT, stores=store).order_by("pk")
        )
        mine = [c for c in cars if c.store.pk == store.pk]
        for _i in range(36):
            created = now - dt.timedelta(days=rng.randint(5, DAYS), hours=rng.randint(0, 9))
            car = rng.choice(mine) if mine and rng.random() < 0.5 else None
            lead = Lead(
                dealer_group_id=store.dealer_group_id,
                store=store,
                customer=car.customer if car else None,
                name=car.customer.name if car else synthetic.make_chinese_name(rng),
                phone=car.customer.phone if car else synthetic.make_mobile(rng),
                source=rng.choice(list(LeadSource.values)),
                value=Decimal(rng.choice([129800, 159800, 189800, 219800])),
                assigned_to=consultants[_i % len(consultants)] if consultants else None,
                assigned_at=created + dt.timedelta(minutes=rng.randint(5, 240)),
            )
            roll = rng.random()
            closed = created + dt.timedelta(days=rng.randint(3, 60))
            if closed < now and roll < 0.3:
                lead.stage, lead.won_at, lead.stage_changed_at = Stage.WON, closed, closed
            elif closed < now and roll < 0.85:
                lead.stage, lead.lost_at, lead.stage_changed_at = Stage.LOST, closed, closed
                lead.lost_reason = rng.choice(list(LostReason.values))
            else:
                lead.stage = rng.choice([Stage.CONTACTED, Stage.TEST_DRIVE, Stage.NEGOTIATION])
                lead.stage_changed_at = created + dt.timedelta(days=1)
            rows.append(lead)
            made.append(created)
    Lead.objects.bulk_create(rows, batch_size=500)
    for lead, created in zip(rows, made, strict=True):  # few distinct values: one UPDATE each
        lead.created_at = created
    Lead.objects.for_group(stores[0].dealer_group_id).bulk_update(
        rows, ["created_at"], batch_size=500
    )
    return len(rows)


def build_history(groups, *, today: dt.date | None = None, seed: int = SEED, scale: float = 1.0):
    """Two years of history for every store of `groups`; returns rows written per table and
    the plans (per group) for the demo steps that follow."""
    now = timezone.now()
    rng = random.Random(seed)
    counts: Counter = Counter()
    result = SimpleNamespace(counts=counts, plans={}, cars={})
    taken = (
        set(Owner.objects.values_list("phone", flat=True))
        | set(Customer.objects.unscoped().values_list("phone", flat=True)),
        set(Vehicle.objects.unscoped().values_list("plate", flat=True)),
        set(Vehicle.objects.unscoped().values_list("vin", flat=True)),
    )
    for group in groups:
        stores = list(Store.objects.for_group(group.pk).order_by("pk"))
        if not stores:
            continue
        day0 = today or timezone.localtime(now, stores[0].tz).date()
        start = day0 - dt.timedelta(days=DAYS)
        cat = Catalogue(group.pk, day0)
        if "DIAG" not in cat.ops:
            continue  # no service catalogue in this group
        plan = Plan()
        sim = Simulator(rng, day0, now, plan)
        group_cars = []
        for store in stores:
            n = int(CUSTOMERS_PER_STORE.get(store.code, DEFAULT_CUSTOMERS) * scale)
            cars = _new_cars(rng, store, n, day0, now, taken)
            counts["customers"] += len(cars)
            counts["owners"] += sum(1 for c in cars if c.owner_id)
            points = _points(store)
            advisors = _ensure_advisor(store)
            for car in cars:
                sim.customer(car, cat, points, advisors, start=start, end=day0)
            group_cars += cars
        counts.update(_write(plan, group.pk))
        counts["complaints"] += _complaints(plan, group.pk, now)
        counts["reminders"] += _reminders(plan, group.pk, day0, now)
        counts["leads"] += _leads(rng, stores, group_cars, day0, now)
        result.plans[group.pk] = plan
        result.cars[group.pk] = group_cars
        counts["churners"] += len(plan.stopped)
    return result


def add_paid_visits(visits, *, seed: int = SEED) -> int:
    """Paid visits written in bulk as the services would have left them (booking → repair order
    delivered → invoice with `customer_pay_total` = amount): for the campaign demo, the visits
    its treated members made after the message. `visits`: iterable of (customer, vehicle, store,
    day, amount, advisor) with `amount` the customer's total with tax (Decimal). Returns the
    number of visits written."""
    rng = random.Random(seed)
    by_group: dict[int, Plan] = defaultdict(Plan)
    ops: dict[int, LabourOperation] = {}
    for customer, vehicle, store, day, amount, advisor in visits:
        g = store.dealer_group_id
        if g not in ops:
            qs = LabourOperation.objects.for_group(g).order_by("code")
            ops[g] = qs.filter(code="DIAG").first() or qs.first()
        plan = by_group[g]
        starts_at = _at(store, day, rng.randrange(0, 15) * 30)
        appt = Appointment(
            dealer_group_id=g,
            store=store,
            customer=customer,
            vehicle=vehicle,
            owner_id=customer.owner_id,
            advisor=advisor,
            starts_at=starts_at,
            date=day,
            mode=VisitMode.WAITING,
            status=AppointmentStatus.CHECKED_IN,
            channel=Channel.APP if customer.owner_id else Channel.PHONE,
            booked_by=None if customer.owner_id else advisor,
            estimated_minutes=60,
        )
        plan.appointments.append(appt)
        ro = RepairOrder(
            dealer_group_id=g,
            number="",
            store=store,
            customer=customer,
            vehicle=vehicle,
            appointment=appt,
            advisor=advisor,
            status=RepairOrderStatus.DELIVERED,
            odometer_in=vehicle.odometer_km or 0,
            odometer_out=vehicle.odometer_km or 0,
            fuel_pct=rng.randint(20, 90),
            checked_in_at=starts_at,
            settled_at=starts_at + dt.timedelta(minutes=90),
            delivered_at=starts_at + dt.timedelta(minutes=100),
        )
        plan.orders.append(ro)
        total = _q(amount)
        net = _q(total / (1 + TAX))
        op = ops[g]
        line = RepairLine(
            dealer_group_id=g,
            repair_order=ro,
            operation=op,
            description=op.name,
            description_i18n=dict(op.name_i18n or {}),
            labour_list_price=net,
            labour_price=net,
            payer=Payer.CUSTOMER,
            source=LineSource.BOOKING,
            approval=Approval.APPROVED,
            approval_channel=ApprovalChannel.AT_BOOKING,
            decided_at=starts_at,
            work_status=WorkStatus.DONE,
            completed_at=starts_at + dt.timedelta(minutes=80),
            added_by=advisor,
        )
        plan.lines.append(line)
        plan.invoices.append(
            Invoice(
                dealer_group_id=g,
                repair_order=ro,
                number="",
                issued_at=ro.settled_at,
                issued_by=advisor,
                labour_total=net,
                parts_total=Decimal(0),
                discount_total=Decimal(0),
                net_total=net,
                tax_rate=TAX,
                tax=total - net,
                total=total,
                customer_pay_net=net,
                customer_pay_total=total,
                by_payer={Payer.CUSTOMER.value: str(net)},
            )
        )
    n = 0
    for g, plan in by_group.items():
        n += _write(plan, g)["repair_orders"]
    return n


def add_paid_visit(customer, vehicle, store, day: dt.date, amount, advisor) -> int:
    """One paid visit (see `add_paid_visits`)."""
    return add_paid_visits([(customer, vehicle, store, day, Decimal(amount), advisor)])

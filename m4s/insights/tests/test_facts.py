"""The nightly facts on a hand-built history (June 2025 in group A); the other KPI and dashboard
tests import `history` from here."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from m4s.care.choices import Kind, Status
from m4s.care.models import Reminder
from m4s.complaints.models import Complaint, ComplaintCategory
from m4s.core.tests.factories import StoreFactory
from m4s.customers.models import Binding, Customer
from m4s.insights import facts
from m4s.insights.models import CustomerInsight, StaffMonth, StoreDay, StoreMonth
from m4s.loyalty.models import LedgerEntry, Member
from m4s.sales.models import Lead
from m4s.service.choices import AppointmentStatus, SurveyStatus
from m4s.service.models import Appointment, Invoice, RepairOrder, Survey
from m4s.vehicles.models import Vehicle

SH = dt.timezone(dt.timedelta(hours=8))
JUNE = dt.date(2025, 6, 1)


def at(y, m, d, h=10):
    return dt.datetime(y, m, d, h, 0, tzinfo=SH)


class History(SimpleNamespace):
    n = 0

    def visit(self, customer, car, when, pay, store=None, delivered=True):
        History.n += 1
        ro = RepairOrder.objects.create(
            dealer_group=self.group,
            number=f"RO{History.n}",
            store=store or self.store,
            customer=customer,
            vehicle=car,
            advisor=self.advisor,
            odometer_in=1000,
            fuel_pct=50,
            checked_in_at=when,
            delivered_at=when + dt.timedelta(hours=5) if delivered else None,
        )
        if delivered:
            p = Decimal(pay)
            Invoice.objects.create(
                dealer_group=self.group,
                repair_order=ro,
                number=f"INV{History.n}",
                issued_at=when + dt.timedelta(hours=4),
                issued_by=self.advisor,
                labour_total=p,
                parts_total=0,
                discount_total=0,
                net_total=p,
                tax_rate=Decimal("0.13"),
                tax=0,
                total=p,
                customer_pay_net=p,
                customer_pay_total=p,
            )
        return ro

    def appointment(self, customer, car, when, status, channel="console"):
        a = Appointment.objects.unscoped().create(
            dealer_group=self.group,
            store=self.store,
            customer=customer,
            vehicle=car,
            advisor=self.advisor,
            starts_at=when,
            date=when.date(),
            status=status,
            channel=channel,
        )
        Appointment.objects.unscoped().filter(pk=a.pk).update(
            created_at=when - dt.timedelta(days=2)
        )
        return a

    def survey(self, ro, customer, when, factor, nps):
        return Survey.objects.create(
            dealer_group=self.group,
            repair_order=ro,
            store=self.store,
            customer=customer,
            owner=self.owner,
            advisor=self.advisor,
            status=SurveyStatus.ANSWERED,
            available_at=when,
            expires_at=when + dt.timedelta(days=14),
            answered_at=when,
            initiation=factor,
            advisor_score=factor,
            facility=factor,
            pickup=factor,
            quality=factor,
            nps=nps,
        )


def history(w) -> History:
    """Group A, store A, June 2025:
    c1 paid 2024-03 and 2025-06-10 (300), app booking shown, bound, survey 10/10 nps 10,
       warranty ended 2024-02-01 (returned), maintenance reminder done, 100 points earned in May
       and 30 redeemed in June;
    c2 paid 2024-01 only (warranty ended 2024-03-01: not returned), a no-show in June,
       maintenance reminder sent (not done);
    c3 paid 2025-06-12 (500), app booking shown, survey 8/10 nps 6, a comeback on 06-20;
    c4 a warranty visit 2025-06-15 (0), shown, a cancelled appointment;
    c5 at store A2: paid 2025-06-05 (200);
    a complaint answered in time and resolved late (120 minutes); leads: one won, one lost."""
    g = w.group_a
    h = History(group=g, store=w.store_a, advisor=w.advisor_a, owner=w.owner)
    h.store2 = StoreFactory(dealer_group=g, name="Alpha South")
    cs, cars = [], []
    for i in range(5):
        c = Customer.objects.unscoped().create(
            dealer_group=g,
            store=h.store2 if i == 4 else h.store,
            name=f"C{i + 1}",
            phone=f"+86139000000{i}",
            service_advisor=w.advisor_a,
        )
        Customer.objects.unscoped().filter(pk=c.pk).update(created_at=at(2023, 1, 1))
        car = Vehicle.objects.create(
            dealer_group=g,
            vin=f"LSVAA4187E20000{i}",
            plate=f"京A1000{i}",
            brand="VW",
            model="Golf",
            current_owner=c,
            purchase_date=dt.date(2021, 1, 1),
            warranty_end=[dt.date(2024, 2, 1), dt.date(2024, 3, 1), None, None, None][i],
        )
        cs.append(c)
        cars.append(car)
    h.c, h.cars = cs, cars
    c1, c2, c3, c4, c5 = cs
    h.visit(c1, cars[0], at(2024, 3, 5), 250)
    ro1 = h.visit(c1, cars[0], at(2025, 6, 10), 300)
    h.visit(c2, cars[1], at(2024, 1, 5), 400)
    ro3 = h.visit(c3, cars[2], at(2025, 6, 12), 500)
    h.visit(c3, cars[2], at(2025, 6, 20), 0, delivered=False)  # the comeback
    h.visit(c4, cars[3], at(2025, 6, 15), 0)
    h.visit(c5, cars[4], at(2025, 6, 5), 200, store=h.store2)
    h.appointment(c1, cars[0], at(2025, 6, 10, 9), AppointmentStatus.CHECKED_IN, "app")
    h.appointment(c3, cars[2], at(2025, 6, 12, 9), AppointmentStatus.CHECKED_IN, "app")
    h.appointment(c4, cars[3], at(2025, 6, 15, 9), AppointmentStatus.CHECKED_IN)
    h.appointment(c2, cars[1], at(2025, 6, 16, 9), AppointmentStatus.NO_SHOW)
    h.appointment(c4, cars[3], at(2025, 6, 18, 9), AppointmentStatus.CANCELLED)
    h.survey(ro1, c1, at(2025, 6, 13), 10, 10)
    h.survey(ro3, c3, at(2025, 6, 14), 8, 6)
    Binding.objects.create(
        dealer_group=g,
        customer=c1,
        vehicle=cars[0],
        owner=w.owner,
        via="app",
        store=h.store,
        created_at=at(2024, 1, 1),
    )
    for c, car, status in ((c1, cars[0], Status.DONE), (c2, cars[1], Status.SENT)):
        Reminder.objects.create(
            dealer_group=g,
            customer=c,
            vehicle=car,
            kind=Kind.MAINTENANCE,
            target_ref=f"vehicle:{car.pk}",
            cycle="2025-06",
            due_on=dt.date(2025, 6, 20),
            status=status,
            created_at=at(2025, 6, 1),
            sent_at=at(2025, 6, 1),
        )
    member = Member.objects.create(dealer_group=g, customer=c1, code="M1", referral_code="R1")
    for kind, pts, when in (("earn", 100, at(2025, 5, 2)), ("redeem", -30, at(2025, 6, 3))):
        LedgerEntry.objects.create(
            dealer_group=g,
            member=member,
            kind=kind,
            points=pts,
            reason="test",
            idempotency_key=f"k{pts}",
            created_at=when,
        )
    cat = ComplaintCategory.objects.create(dealer_group=g, code="svc", name="Service")
    Complaint.objects.create(
        dealer_group=g,
        reference="CP1",
        store=h.store,
        customer=c2,
        channel="phone",
        category=cat,
        description="slow",
        created_at=at(2025, 6, 2),
        first_response_due_at=at(2025, 6, 2, 14),
        resolution_due_at=at(2025, 6, 4),
        first_responded_at=at(2025, 6, 2, 11),
        resolved_at=at(2025, 6, 5),
        handling_minutes=120,
    )
    for stage, field, extra in (
        ("won", "won_at", {}),
        ("lost", "lost_at", {"lost_reason": "price"}),
    ):
        Lead.objects.create(
            dealer_group=g,
            store=h.store,
            source="walk_in",
            stage=stage,
            **{field: at(2025, 6, 7)},
            **extra,
        )
    return h


def test_build_days_counts_and_idempotent(world, django_assert_max_num_queries):
    h = history(world)
    n = facts.build_days(world.group_a, dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert n == StoreDay.objects.unscoped().count() > 0
    day = StoreDay.objects.unscoped().get(store=h.store, day=dt.date(2025, 6, 10))
    assert day.paid_visits == 1 and day.revenue == Decimal("300.00")
    sums = {
        f: sum(getattr(d, f) for d in StoreDay.objects.unscoped().filter(store=h.store))
        for f in ["paid_visits", "warranty_visits", "delivered", "fixed_first_time", "shows"]
    }
    assert sums == {
        "paid_visits": 2,
        "warranty_visits": 1,
        "delivered": 3,
        "fixed_first_time": 2,
        "shows": 3,
    }
    m = StoreMonth.objects.unscoped().get(store=h.store, month=JUNE)
    assert (m.retention_base, m.retained) == (2, 1)
    assert (m.warranty_base, m.warranty_returned) == (2, 1)
    assert (m.customers, m.bound_customers) == (4, 1)
    assert (m.maint_due, m.maint_booked, m.maint_done) == (2, 2, 1)  # the no-show was booked
    assert m.points_liability == 70
    assert m.active_owners == 2
    assert StaffMonth.objects.unscoped().get(store=h.store, month=JUNE).bound_customers == 1
    before = sorted(
        StoreDay.objects.unscoped().values_list("store_id", "day", "paid_visits", "revenue")
    )
    months_before = sorted(
        StoreMonth.objects.unscoped().values_list("store_id", "month", "retained")
    )
    # the number of queries does not grow with the rows: a fixed handful per day range and month
    with django_assert_max_num_queries(40):
        facts.build_days(world.group_a, dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert (
        sorted(StoreDay.objects.unscoped().values_list("store_id", "day", "paid_visits", "revenue"))
        == before
    )
    assert (
        sorted(StoreMonth.objects.unscoped().values_list("store_id", "month", "retained"))
        == months_before
    )
    # group B has nothing
    assert facts.build_days(world.group_b, dt.date(2025, 6, 1), dt.date(2025, 6, 30)) == 0
    assert not StoreDay.objects.unscoped().filter(dealer_group=world.group_b).exists()


def test_build_customers_features(world):
    h = history(world)
    assert facts.build_customers(world.group_a, dt.date(2025, 6, 30)) == 5
    c1 = CustomerInsight.objects.unscoped().get(customer=h.c[0])
    assert c1.last_paid_visit == dt.date(2025, 6, 10)
    assert c1.visits_24m == 2 and c1.spend_24m == Decimal("550.00")
    assert c1.bound and c1.out_of_warranty and c1.last_nps == 10
    assert c1.car_age_months == 53
    c2 = CustomerInsight.objects.unscoped().get(customer=h.c[1])
    assert c2.no_shows_12m == 1 and c2.open_complaints == 1 and c2.complaints_12m == 1
    c4 = CustomerInsight.objects.unscoped().get(customer=h.c[3])
    assert c4.last_paid_visit is None and c4.last_visit == dt.date(2025, 6, 15)
    # re-running updates in place
    assert facts.build_customers(world.group_a, dt.date(2025, 6, 30)) == 5
    assert CustomerInsight.objects.unscoped().count() == 5
    assert CustomerInsight.objects.unscoped().get(customer=h.c[4]).store_id == h.store2.pk


def test_nightly_runs_every_group(world):
    history(world)
    facts.nightly(dt.date(2025, 6, 30))
    assert StoreDay.objects.unscoped().filter(dealer_group=world.group_a).exists()
    first = sorted(
        CustomerInsight.objects.unscoped().values_list("customer_id", "segment", "r", "f", "m")
    )
    facts.nightly(dt.date(2025, 6, 30))
    assert (
        sorted(
            CustomerInsight.objects.unscoped().values_list("customer_id", "segment", "r", "f", "m")
        )
        == first
    )

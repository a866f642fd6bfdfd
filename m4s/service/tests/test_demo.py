"""The demo's service data: alive from the first minute (owner app and manager figures) and
consistent with what the services themselves write."""

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from m4s.core.dates import add_months
from m4s.demo.builder import OWNER_PHONES, build_demo
from m4s.org.models import BusinessHours, DealerGroup, Store
from m4s.service import selectors
from m4s.service.choices import (
    ACTIVE_APPOINTMENT,
    AppointmentStatus,
    Approval,
    LineSource,
    Payer,
    Rating,
    RepairOrderStatus,
    SurveyStatus,
)
from m4s.service.models import (
    Appointment,
    CapacityUse,
    InspectionTemplate,
    Invoice,
    MaintenanceRecord,
    PartReservation,
    PartStock,
    PriceList,
    RepairLine,
    RepairOrder,
    Resource,
    ServicePackage,
    ServiceSettings,
    Survey,
    TechnicianProfile,
)
from m4s.staff.choices import Role
from m4s.staff.models import Shift, StaffUser


@pytest.mark.django_db
def test_service_demo():
    """One demo build (a few seconds), checked part by part."""
    assert build_demo(insights=False) is True
    chaoyang = Store.objects.unscoped().get(code="chaoyang")
    demo = chaoyang, chaoyang.dealer_group_id, timezone.localdate()
    check_catalogue_workshops_staff_and_rosters(demo)
    check_four_months_of_visits_at_chaoyang(demo)
    check_invoices_follow_the_settlement_arithmetic(demo)
    check_right_now_for_the_demo_owners(demo)
    check_reservations_and_capacity_are_what_the_services_would_leave(demo)
    check_cars_have_plausible_service_histories_and_six_months_of_figures(demo)
    before = Appointment.objects.unscoped().count()
    assert build_demo(insights=False) is False  # built once
    assert Appointment.objects.unscoped().count() == before


def check_catalogue_workshops_staff_and_rosters(demo):
    chaoyang, g, today = demo
    for group in DealerGroup.objects.all():
        assert ServicePackage.objects.for_group(group).count() >= 4
        assert PriceList.objects.for_group(group).filter(published_at__isnull=False).exists()
    for store in Store.objects.unscoped():
        group = store.dealer_group_id
        assert ServiceSettings.objects.for_group(group).filter(store=store).exists()
        assert PartStock.objects.for_group(group).filter(store=store).count() >= 10
        assert InspectionTemplate.objects.for_group(group).filter(store=store).exists()
        assert Resource.objects.for_group(group).filter(store=store).exists()
        assert BusinessHours.objects.for_group(group).filter(store=store).exists()

    at_chaoyang = StaffUser.objects.filter(stores=chaoyang, is_active=True)
    assert at_chaoyang.filter(role=Role.SERVICE_ADVISOR).count() >= 3
    techs = at_chaoyang.filter(role=Role.TECHNICIAN)
    assert techs.count() >= 6
    lines = set(
        TechnicianProfile.objects.for_group(g)
        .filter(staff__in=techs)
        .values_list("skill_line", flat=True)
    )
    assert len(lines) >= 3
    days = Shift.objects.for_group(g).filter(store=chaoyang).values_list("date", flat=True)
    assert min(days) <= today - dt.timedelta(days=115)
    assert max(days) >= today + dt.timedelta(days=29)


def check_four_months_of_visits_at_chaoyang(demo):
    chaoyang, g, today = demo
    past = Appointment.objects.for_group(g).filter(store=chaoyang, date__lt=today)
    assert not past.filter(status=AppointmentStatus.BOOKED).exists()  # the no-show job's work
    counts = Counter(past.values_list("status", flat=True))
    assert sum(counts.values()) >= 400
    assert min(past.values_list("date", flat=True)) <= today - dt.timedelta(days=110)
    shown, no_shows = counts[AppointmentStatus.CHECKED_IN], counts[AppointmentStatus.NO_SHOW]
    assert 0.04 <= no_shows / (shown + no_shows) <= 0.13
    assert counts[AppointmentStatus.CANCELLED] > 0
    assert all(a < s for a, s in past.values_list("created_at", "starts_at"))

    # every check-in became a delivered, invoiced repair order
    orders = RepairOrder.objects.for_group(g).filter(store=chaoyang, appointment__in=past)
    assert orders.count() == shown
    assert set(orders.values_list("status", flat=True)) == {RepairOrderStatus.DELIVERED}
    assert Invoice.objects.for_group(g).filter(repair_order__in=orders).count() == shown
    lines = RepairLine.objects.for_group(g).filter(repair_order__in=orders)
    assert lines.filter(source=LineSource.INSPECTION, approval=Approval.DECLINED).exists()
    assert lines.filter(source=LineSource.INSPECTION, approval=Approval.APPROVED).exists()
    assert not lines.filter(approval=Approval.PENDING).exists()
    assert MaintenanceRecord.objects.for_group(g).filter(repair_order__in=orders).exists()

    # surveys: a realistic mix, some unhappy ones waiting for a follow-up
    surveys = Survey.objects.for_group(g).filter(store=chaoyang)
    statuses = Counter(surveys.values_list("status", flat=True))
    assert statuses[SurveyStatus.ANSWERED] >= 100 and statuses[SurveyStatus.EXPIRED] > 0
    answered = surveys.filter(status=SurveyStatus.ANSWERED)
    assert answered.filter(nps__gte=9).exists() and answered.filter(nps__lte=6).exists()
    assert answered.filter(needs_follow_up=True, followed_up_at__isnull=True).exists()
    assert answered.filter(needs_follow_up=True, followed_up_at__isnull=False).exists()
    for s in answered:
        scores = [s.initiation, s.advisor_score, s.facility, s.pickup, s.quality]
        assert s.needs_follow_up == (min(scores) <= 6 or s.nps <= 6)

    # the manager's figures of last month are all there
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    figures = selectors.store_figures(chaoyang, last_month)
    assert figures.csi is not None and 60 < figures.csi <= 100
    assert figures.nps is not None
    assert figures.show_rate is not None and 0.85 <= figures.show_rate < 1
    assert figures.ftfr is not None and 0.8 <= figures.ftfr <= 1


def check_invoices_follow_the_settlement_arithmetic(demo):
    _chaoyang, g, _today = demo
    lines = defaultdict(list)
    for line in (
        RepairLine.objects.for_group(g)
        .filter(approval=Approval.APPROVED, repair_order__invoice__isnull=False)
        .prefetch_related("parts")
    ):
        lines[line.repair_order_id].append(line)
    invoices = list(Invoice.objects.for_group(g).select_related("repair_order"))
    assert invoices
    prices = selectors.published_prices(
        g,
        timezone.localdate(),
        operations={ln.operation_id for ls in lines.values() for ln in ls},
        parts={p.part_id for ls in lines.values() for ln in ls for p in ln.parts.all()},
    )
    for inv in invoices:
        labour = parts = discount = Decimal("0")
        by_payer, tax_by_payer = defaultdict(Decimal), defaultdict(Decimal)
        for ln in lines[inv.repair_order_id]:
            tax_by_payer[ln.payer] += selectors.line_tax(ln, inv.tax_rate)
            assert ln.labour_list_price == prices[("op", ln.operation_id)]
            labour += ln.labour_list_price
            discount += ln.labour_list_price - ln.labour_price
            amount = ln.labour_price
            for p in ln.parts.all():
                assert p.list_price == prices[("part", p.part_id)]
                parts += p.list_price * p.quantity
                discount += (p.list_price - p.unit_price) * p.quantity
                amount += p.unit_price * p.quantity
            by_payer[ln.payer] += amount
        net = labour + parts - discount
        assert (inv.labour_total, inv.parts_total, inv.discount_total, inv.net_total) == (
            labour,
            parts,
            discount,
            net,
        )
        assert inv.tax == sum(tax_by_payer.values(), Decimal("0"))  # each line's, as shown
        assert inv.total == net + inv.tax
        assert inv.customer_pay_net == by_payer.get(Payer.CUSTOMER, Decimal("0"))
        assert inv.customer_pay_total == inv.customer_pay_net + tax_by_payer[Payer.CUSTOMER]
        assert inv.by_payer == {k: str(v) for k, v in by_payer.items()}
        assert inv.number == f"INV{inv.pk:08d}"
        assert inv.repair_order.number == f"RO{inv.repair_order_id:08d}"


def check_right_now_for_the_demo_owners(demo):
    chaoyang, g, today = demo
    first, second, third = OWNER_PHONES[:3]

    # owner 1: a visit booked for tomorrow (the next open day with a free slot), parts held
    booked = Appointment.objects.for_group(g).filter(
        owner__phone=first, status=AppointmentStatus.BOOKED
    )
    assert booked.count() == 1
    visit = booked.get()
    tomorrow = today + dt.timedelta(days=1)
    if selectors.day_capacity(chaoyang, tomorrow).open:
        assert visit.date == tomorrow
    assert visit.package is not None
    assert visit.capacity_uses.exists()
    assert visit.reservations.filter(status=PartReservation.HELD).exists()

    # owner 2: a repair order waiting for approval of one red and one amber inspection item
    ro = RepairOrder.objects.for_group(g).get(
        customer__owner__phone=second, status=RepairOrderStatus.WAITING_APPROVAL
    )
    pending = ro.lines.filter(approval=Approval.PENDING, source=LineSource.INSPECTION)
    assert sorted(pending.values_list("result__rating", flat=True)) == [Rating.AMBER, Rating.RED]
    assert ro.checked_in_at.astimezone(chaoyang.tz).date() == today

    # owner 3: one open survey, in the app's list
    survey = Survey.objects.for_group(g).get(owner__phone=third, status=SurveyStatus.OPEN)
    assert list(selectors.open_surveys_of_owner(survey.owner)) == [survey]


def check_reservations_and_capacity_are_what_the_services_would_leave(demo):
    chaoyang, g, today = demo
    held = defaultdict(int)
    for store_id, part_id, qty in (
        PartReservation.objects.unscoped()
        .filter(status=PartReservation.HELD)
        .values_list("store_id", "part_id", "quantity")
    ):
        held[(store_id, part_id)] += qty
    stock = {(s.store_id, s.part_id): s.reserved for s in PartStock.objects.unscoped().all()}
    assert sum(held.values()) > 0
    for key, reserved in stock.items():
        assert reserved == held.get(key, 0), key
    # held reservations belong to booked visits only
    assert set(
        PartReservation.objects.unscoped()
        .filter(status=PartReservation.HELD)
        .values_list("appointment__status", flat=True)
    ) == {AppointmentStatus.BOOKED}

    # CapacityUse only for active visits from today on, as book_appointment writes them
    uses = CapacityUse.objects.for_group(g)
    assert not uses.exclude(appointment__status__in=ACTIVE_APPOINTMENT).exists()
    assert not uses.filter(date__lt=today).exists()
    future = Appointment.objects.for_group(g).filter(
        store=chaoyang, date__gte=today, status__in=ACTIVE_APPOINTMENT
    )
    assert future.count() >= 30
    for appt in future.prefetch_related("capacity_uses", "package__operations"):
        ops = (
            list(appt.package.operations.all())
            if appt.package_id
            else [selectors.diagnosis_operation(g)]
        )
        assert {u.pool: u.minutes for u in appt.capacity_uses.all()} == selectors.demand_of(ops)

    # and nothing is oversold: seats per advisor and time, minutes per pool and day
    conf = selectors.settings_for(chaoyang)
    seats = Counter(future.values_list("advisor_id", "starts_at", "mode"))
    assert max(seats.values()) <= max(conf.waiting_per_slot, conf.dropoff_per_slot)
    for day in sorted(set(future.values_list("date", flat=True))):
        for pool, p in selectors.day_capacity(chaoyang, day).pools.items():
            assert p["used"] <= p["capacity"], (day, pool, p)


def check_cars_have_plausible_service_histories_and_six_months_of_figures(demo):
    """No car is due for an item since years (the cars were serviced since they were bought),
    and the manager's six-month chart has data in every month, the current one included."""
    chaoyang, g, today = demo
    from m4s.vehicles.models import Vehicle

    cars = Vehicle.objects.for_group(g).filter(current_owner__store=chaoyang)
    assert cars.count() >= 300
    oldest_due = min(
        d.due_on
        for car in cars
        if car.purchase_date and car.purchase_date < today - dt.timedelta(days=3 * 365)
        for d in selectors.maintenance_due(car, today=today)
        if d.due_on
    )
    assert oldest_due > today - dt.timedelta(days=365), oldest_due
    assert MaintenanceRecord.objects.for_group(g).filter(repair_order__isnull=True).exists()

    this_month = today.replace(day=1)
    trend = [
        selectors.store_figures(chaoyang, add_months(this_month, -i)) for i in range(5, -1, -1)
    ]
    assert all(f.appointments for f in trend)
    assert all(f.csi is not None for f in trend[:5])

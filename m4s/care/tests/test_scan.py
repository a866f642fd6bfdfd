"""The daily care scan, kind by kind at its edges (lead-time stages, inspection years, declined
lines' days, leap-day birthdays, lunar festivals ...), and run twice: nothing written or sent
twice. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from m4s.care import handoff, scan, violations
from m4s.care.choices import Status
from m4s.care.models import (
    DrivingLicence,
    GreetingDay,
    InspectionRule,
    InsurancePolicy,
    Reminder,
    ReminderRule,
    Violation,
    WeatherWarning,
)
from m4s.core.dates import add_months
from m4s.customers.models import Customer
from m4s.notify.models import ContactDecision, Message
from m4s.vehicles.models import Vehicle

from .conftest import days


def at_noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def scan_on(day: dt.date, *kinds: str) -> dict:
    return scan.run_scan(list(kinds) or None, today=day, now=at_noon(day))


def reminders(kind: str, **filters):
    return Reminder.objects.unscoped().filter(kind=kind, **filters).order_by("id")


def set_car(w, **fields):
    Vehicle.objects.unscoped().filter(pk=w.my_car.pk).update(**fields)


# --- insurance ----------------------------------------------------------------------------------
def test_insurance_is_reminded_once_at_each_stage_60_30_7(care):
    w = care
    ends = w.today + days(70)
    set_car(w, insurance_expiry=ends, insurer="PICC")
    InsurancePolicy.objects.create(  # the same policy known twice: one reminder
        dealer_group=w.group_a, vehicle=w.my_car, customer=w.customer, insurer="PICC", ends_on=ends
    )
    seen = []
    for left in (61, 60, 59, 31, 30, 8, 7, 1, 0, -1):
        out = scan_on(ends - days(left), "insurance")
        seen.append((left, out["written"]["insurance"]))
    assert seen == [
        (61, 0),
        (60, 1),
        (59, 0),
        (31, 0),
        (30, 1),
        (8, 0),
        (7, 1),
        (1, 0),
        (0, 0),
        (-1, 0),
    ]
    cycles = list(reminders("insurance").values_list("cycle", flat=True))
    assert cycles == [f"{ends}/60", f"{ends}/30", f"{ends}/7"]
    r = reminders("insurance").first()
    assert r.customer_id == w.customer.pk and r.owner_id == w.owner.pk
    assert r.payload["insurer"] == "PICC" and r.status == Status.SENT
    assert r.action_url == f"/app/care/reminders/{r.pk}/"


def test_a_policy_renewed_through_the_store_is_reminded_no_more(care):
    from m4s.care.services import upsert_insurance_policy

    w = care
    old_end = w.today + days(30)
    set_car(w, insurance_expiry=old_end, insurer="PICC")
    InsurancePolicy.objects.create(
        dealer_group=w.group_a,
        vehicle=w.my_car,
        customer=w.customer,
        insurer="PICC",
        ends_on=old_end,
    )
    w.my_car.refresh_from_db()
    new_end = old_end + days(365)
    for _retry in range(2):  # a retried renewal writes one policy
        upsert_insurance_policy(
            w.customer, w.my_car, insurer="Ping An", ends_on=new_end, starts_on=old_end
        )
    assert InsurancePolicy.objects.unscoped().filter(ends_on=new_end).count() == 1
    car = Vehicle.objects.unscoped().get(pk=w.my_car.pk)
    assert car.insurance_expiry == new_end and car.insurer == "Ping An"
    out = scan_on(w.today, "insurance")
    assert out["written"]["insurance"] == 0  # the replaced policy ends in 30 days: no reminder
    out = scan_on(new_end - days(60), "insurance")
    assert out["written"]["insurance"] == 1
    assert reminders("insurance").get().payload["insurer"] == "Ping An"


def test_a_scan_that_missed_days_writes_the_stage_it_is_in(care):
    w = care
    set_car(w, insurance_expiry=w.today + days(20))
    scan_on(w.today, "insurance")
    assert list(reminders("insurance").values_list("cycle", flat=True)) == [
        f"{w.today + days(20)}/30"
    ]


def test_another_owners_policy_or_a_sold_car_is_not_reminded(care):
    w = care
    InsurancePolicy.objects.create(  # a policy of group B's customer on group A's car: no
        dealer_group=w.group_a,
        vehicle=w.my_car,
        customer=Customer.objects.create(
            dealer_group=w.group_a, store=w.store_a, name="Old owner", phone="+8613700000001"
        ),
        insurer="PICC",
        ends_on=w.today + days(10),
    )
    assert scan_on(w.today, "insurance")["written"]["insurance"] == 0


# --- driving licence ----------------------------------------------------------------------------
def test_licence_renewal_90_and_30_days_before(care):
    w = care
    expires = w.today + days(100)
    DrivingLicence.objects.create(dealer_group=w.group_a, customer=w.customer, expires_on=expires)
    assert scan_on(expires - days(91), "licence")["written"]["licence"] == 0
    assert scan_on(expires - days(90), "licence")["written"]["licence"] == 1
    assert scan_on(expires - days(31), "licence")["written"]["licence"] == 0
    assert scan_on(expires - days(30), "licence")["written"]["licence"] == 1
    r = reminders("licence").last()
    assert r.vehicle_id is None and r.cycle == f"{expires}/30" and r.payload["lead"] == 30


# --- annual inspection --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("years_months", "exempt"), [(72, True), (120, True), (132, False), (180, False), (186, False)]
)
def test_inspection_by_the_rule_table(care, years_months, exempt):
    w = care
    due = w.today + days(20)
    registered = add_months(due, -years_months)
    if add_months(registered, years_months) != due:
        pytest.skip("month-end date")
    set_car(w, purchase_date=registered)
    assert scan_on(w.today, "inspection")["written"]["inspection"] == 1
    r = reminders("inspection").get()
    assert r.due_on == due and r.cycle == f"{due}/30"
    assert bool(r.payload["exempt"]) is exempt and r.payload["years"] == years_months // 12
    assert "service=problem" in r.action_url


@pytest.mark.parametrize("years_months", [60, 84, 96, 108])
def test_no_inspection_in_the_exempt_years_between(care, years_months):
    w = care
    set_car(w, purchase_date=add_months(w.today + days(10), -years_months))
    assert scan_on(w.today, "inspection")["written"]["inspection"] == 0


def test_a_groups_edited_table_and_a_date_entered_on_the_car(care):
    w = care
    InspectionRule.objects.for_group(w.group_a).delete()
    InspectionRule.objects.create(dealer_group=w.group_a, from_year=0, interval_months=24)
    set_car(w, purchase_date=add_months(w.today + days(5), -48))
    assert scan_on(w.today, "inspection")["written"]["inspection"] == 1
    assert reminders("inspection").get().cycle == f"{w.today + days(5)}/7"
    # staff entered the next inspection date: it wins over the table
    set_car(w, next_inspection_date=w.today + days(25), purchase_date=add_months(w.today, -48))
    scan_on(w.today, "inspection")
    assert reminders("inspection").last().due_on == w.today + days(25)


# --- declined repair lines ----------------------------------------------------------------------
def _declined_lines(w):
    """A visit of the test owner's car: front brake pads red (3.5 mm), wipers amber; the owner
    declines both."""
    from m4s.service import workshop

    ro = workshop.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms="noise",
    )
    points = {p.name: p.pk for p in w.template.points.all()}
    results = [{"point_id": pk, "rating": "green"} for pk in points.values()]
    for res in results:
        if res["point_id"] == points["Front brake pads"]:
            res.update(rating="red", measurement="3.5")
        if res["point_id"] == points["Wipers"]:
            res.update(rating="amber")
    workshop.record_inspection(w.tech_a, ro, results)
    workshop.complete_inspection(w.tech_a, ro)
    lines = {ln.result.rating: ln for ln in ro.lines.filter(result__isnull=False)}
    for line in lines.values():
        workshop.decide_line(ro, line.pk, False, owner=w.owner)
    return ro, lines["red"], lines["amber"]


def _declined_at(line, when):
    from m4s.service.models import RepairLine

    RepairLine.objects.unscoped().filter(pk=line.pk).update(decided_at=when)


def test_declined_lines_come_back_red_after_14_days_amber_after_30(care):
    w = care
    _ro, red, amber = _declined_lines(w)
    decided = at_noon(w.today)
    _declined_at(red, decided)
    _declined_at(amber, decided)
    assert scan_on(w.today + days(13), "declined_repair")["written"]["declined_repair"] == 0
    assert scan_on(w.today + days(14), "declined_repair")["written"]["declined_repair"] == 1
    assert scan_on(w.today + days(29), "declined_repair")["written"]["declined_repair"] == 0
    assert scan_on(w.today + days(30), "declined_repair")["written"]["declined_repair"] == 1
    r = reminders("declined_repair").first()
    assert r.target_ref == f"line:{red.pk}" and r.payload["rating"] == "red"
    assert r.payload["declined_on"] == w.today.isoformat()
    assert Decimal(str(r.payload["measurement"])) == Decimal("3.5") and r.payload["unit"] == "mm"
    assert r.action_url.startswith(f"/app/service/book/?vehicle={w.my_car.pk}&service=problem")
    assert "Front+brake+pads" in r.action_url and "3.5+mm" in r.action_url
    msg = Message.objects.filter(
        owner=w.owner, kind="care.declined_repair", channel="inapp", link=r.action_url
    ).first()
    assert msg is not None and "3.5 mm" in str(msg.body)


def test_a_declined_line_done_since_or_too_old_is_not_reminded(care):
    from m4s.service.models import RepairLine

    w = care
    ro, red, amber = _declined_lines(w)
    _declined_at(red, at_noon(w.today - days(400)))  # older than a year
    _declined_at(amber, at_noon(w.today - days(40)))
    # the wipers were done on a later visit
    later = RepairLine.objects.unscoped().get(pk=amber.pk)
    from m4s.service.models import RepairOrder

    ro2 = RepairOrder.objects.unscoped().get(pk=ro.pk)
    ro2.pk, ro2.number, ro2.appointment = None, "RO-LATER", None
    ro2.checked_in_at = at_noon(w.today - days(5))
    ro2.save()
    later.pk, later.repair_order, later.approval, later.result = None, ro2, "approved", None
    later.save()
    assert scan_on(w.today, "declined_repair")["written"]["declined_repair"] == 0


# --- violations ---------------------------------------------------------------------------------
def test_a_violation_is_reminded_new_and_once_more_when_still_open(care):

    w = care
    v, created = violations.record_violation(
        w.my_car,
        violations.ViolationInput(
            occurred_at=w.now - days(2),
            description="Speeding",
            place="Ring 3",
            fine_cny="200",
            points=3,
        ),
        source="staff",
    )
    assert created
    assert scan_on(w.today, "violation")["written"]["violation"] == 1
    r = reminders("violation").get()
    assert r.cycle == "new" and r.payload["points"] == 3
    assert Decimal(str(r.payload["fine"])) == Decimal("200")
    Violation.objects.unscoped().filter(pk=v.pk).update(created_at=w.now - days(15))
    assert scan_on(w.today, "violation")["written"]["violation"] == 1
    assert list(reminders("violation").values_list("cycle", flat=True)) == ["new", "open"]
    assert scan_on(w.today, "violation")["written"]["violation"] == 0


# --- weather ------------------------------------------------------------------------------------
def test_a_weather_warning_reaches_owners_near_the_city_by_store_or_last_position(care):
    from m4s.org.models import Store
    from m4s.telematics.models import VehicleState

    w = care
    Store.objects.unscoped().filter(pk=w.store_a.pk).update(latitude=39.9, longitude=116.4)
    Store.objects.unscoped().filter(pk=w.store_b.pk).update(latitude=31.2, longitude=121.5)
    # group B's customer is in Shanghai, but their car was last seen in Beijing
    VehicleState.objects.create(
        dealer_group=w.group_b, vehicle=w.other_car, ts=w.now, lat=39.95, lon=116.3
    )
    base = dict(
        city="Beijing",
        latitude=Decimal("39.904200"),
        longitude=Decimal("116.407400"),
        radius_km=60,
        kind="rainstorm",
        severity="orange",
        starts_at=w.now - days(1),
        ends_at=w.now + days(1),
        advice="Avoid underpasses.",
        created_at=w.now,
    )
    WeatherWarning.objects.create(dealer_group=w.group_a, **base)
    WeatherWarning.objects.create(local_org=w.group_b.local_org, **base)
    scan_on(w.today, "weather")
    got = {(r.customer_id, r.vehicle_id) for r in reminders("weather")}
    assert (w.customer.pk, None) in got  # store in Beijing
    assert (w.other.pk, w.other_car.pk) in got  # last position in Beijing
    assert all(c != w.other.pk or v for c, v in got)  # not by group B's Shanghai store
    assert scan_on(w.today, "weather")["written"]["weather"] == 0
    # an ended warning reaches nobody new
    WeatherWarning.objects.update(ends_at=w.now - days(1), starts_at=w.now - days(2))
    Reminder.objects.unscoped().filter(kind="weather").delete()
    assert scan_on(w.today, "weather")["written"]["weather"] == 0


# --- greetings ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2027, 2, 28), 1),  # no 29 February in 2027: the day before March
        (dt.date(2028, 2, 28), 0),
        (dt.date(2028, 2, 29), 1),
        (dt.date(2027, 3, 1), 0),
    ],
)
def test_leap_day_birthdays(care, today, expected):
    w = care
    Customer.objects.unscoped().filter(pk=w.customer.pk).update(birthday=dt.date(2000, 2, 29))
    assert scan_on(today, "birthday")["written"]["birthday"] == expected


def test_birthday_from_the_owners_profile_with_a_gift_coupon(care):
    from m4s.loyalty.models import Coupon, CouponCode
    from m4s.owners.models import Owner

    w = care
    Owner.objects.filter(pk=w.owner.pk).update(birthday=w.today.replace(year=1990))
    coupon = Coupon.objects.create(
        dealer_group=w.group_a,
        name="Free car wash",
        kind="amount",
        value=Decimal("50"),
        valid_from=w.today,
        valid_to=w.today + days(60),
    )
    ReminderRule.objects.for_group(w.group_a).filter(kind="birthday").update(coupon=coupon)
    assert scan_on(w.today, "birthday")["written"]["birthday"] == 1
    r = reminders("birthday").get()
    code = CouponCode.objects.for_group(w.group_a).get(coupon=coupon)
    assert r.payload["coupon_code"] == code.code and code.member.customer_id == w.customer.pk
    msg = Message.objects.filter(owner=w.owner, kind="care.birthday").first()
    assert msg is not None and code.code in str(msg.body)
    # a second run: no second coupon
    scan_on(w.today, "birthday")
    assert CouponCode.objects.for_group(w.group_a).filter(coupon=coupon).count() == 1


def test_purchase_anniversary(care):
    w = care
    set_car(w, purchase_date=w.today.replace(year=w.today.year - 3))
    assert scan_on(w.today, "anniversary")["written"]["anniversary"] == 1
    r = reminders("anniversary").get()
    assert r.payload["years"] == 3 and r.cycle == str(w.today.year)
    set_car(w, purchase_date=w.today)  # bought today: no anniversary yet
    Reminder.objects.unscoped().all().delete()
    assert scan_on(w.today, "anniversary")["written"]["anniversary"] == 0


def test_festival_greetings_on_lunar_and_solar_dates_need_marketing_consent(care):
    w = care
    GreetingDay.objects.create(
        dealer_group=w.group_a,
        name="Mid-Autumn Festival",
        calendar="lunar",
        month=8,
        day=15,
        message="Happy Mid-Autumn!",
    )
    GreetingDay.objects.create(
        dealer_group=w.group_a, name="New Year", calendar="solar", month=1, day=1
    )
    mid_autumn = dt.date(2026, 9, 25)  # 15th day of the 8th lunar month of 2026
    assert scan_on(mid_autumn - days(1), "festival")["written"]["festival"] == 0
    # the test owner consented; the imported customer Zhang San did not
    assert scan_on(mid_autumn, "festival")["written"]["festival"] == 1
    assert reminders("festival").get().customer_id == w.customer.pk
    assert scan_on(dt.date(2027, 1, 1), "festival")["written"]["festival"] == 1
    assert (
        Message.objects.filter(owner=w.owner, kind="greeting.festival", channel="inapp").count()
        == 2
    )


# --- maintenance (the mileage chain) ------------------------------------------------------------
def test_maintenance_due_by_the_cars_own_pace(care):
    from m4s.service.models import MaintenanceItem, MaintenanceRecord
    from m4s.telematics.models import MaintenanceReminder, MileageForecast

    w = care
    for item in MaintenanceItem.objects.for_group(w.group_a).filter(schedule__brand="Toyota"):
        MaintenanceRecord.objects.create(  # everything served recently, tyres at 10,000 km
            dealer_group=w.group_a,
            vehicle=w.my_car,
            item=item,
            done_on=w.today - days(100),
            done_km=10000 if item.name == "Tyre rotation" else 19000,
        )
    MileageForecast.objects.create(
        dealer_group=w.group_a,
        vehicle=w.my_car,
        km_per_day=50,
        confidence=0.9,
        days=30,
        last_odometer_km=19500,
        last_date=w.today,
        computed_at=w.now,
    )
    out = scan_on(w.today, "maintenance")
    assert out["written"]["maintenance"] >= 1
    tyres = next(r for r in reminders("maintenance") if r.payload["item"]["n"] == "Tyre rotation")
    # 20,000 km due, 500 km to go at 50 km a day: 10 days
    assert tyres.due_on == w.today + days(10) and tyres.payload["by"] == "km"
    assert tyres.cycle == f"{w.today - days(100)}/21"
    assert tyres.payload["confidence"] == pytest.approx(0.9)
    assert "/app/service/book/?vehicle=" in tyres.action_url
    chain = MaintenanceReminder.objects.for_group(w.group_a).filter(
        item_id=tyres.payload["item_id"]
    )
    assert chain.get().sent_at is not None and chain.get().cycle == str(w.today - days(100))
    assert scan_on(w.today, "maintenance")["written"]["maintenance"] == 0
    assert ContactDecision.objects.filter(reason=handoff.reason_of(tyres)).exists()


def test_the_set_based_maintenance_pass_matches_the_per_car_projection(care):
    """The SQL pass gives the due date the telematics per-car projection (as on main) gives,
    item by item, for a car with a mixed history."""
    from m4s.service.models import MaintenanceItem, MaintenanceRecord
    from m4s.telematics.models import MileageForecast
    from m4s.telematics.services import projected_items

    w = care
    items = list(MaintenanceItem.objects.for_group(w.group_a).filter(schedule__brand="Toyota"))
    for n, item in enumerate(items[::2]):
        MaintenanceRecord.objects.create(
            dealer_group=w.group_a,
            vehicle=w.my_car,
            item=item,
            done_on=w.today - days(200 + 30 * n),
            done_km=12000 + 1000 * n,
        )
    forecast = MileageForecast.objects.create(
        dealer_group=w.group_a,
        vehicle=w.my_car,
        km_per_day=37.5,
        confidence=0.7,
        days=30,
        last_odometer_km=19321.6,
        last_date=w.today - days(2),
        computed_at=w.now,
    )
    ReminderRule.objects.for_group(w.group_a).filter(kind="maintenance").update(lead_days=[366])
    scan_on(w.today, "maintenance")
    got = {r.payload["item_id"]: r.due_on for r in reminders("maintenance")}
    car = Vehicle.objects.unscoped().get(pk=w.my_car.pk)
    expected = {
        p["due"].item.pk: p["projected_on"]
        for p in projected_items(car, forecast, today=w.today)
        if p["projected_on"] is not None and p["projected_on"] <= w.today + days(366)
    }
    assert got == expected and len(got) >= 3


# --- the whole scan twice, snoozing ------------------------------------------------------------
def test_the_whole_scan_twice_sends_nothing_twice(care):
    w = care
    set_car(w, insurance_expiry=w.today + days(10), purchase_date=w.today.replace(year=2020))
    Customer.objects.unscoped().filter(pk=w.customer.pk).update(birthday=w.today.replace(year=1990))
    first = scan_on(w.today)
    assert first["handed"] >= 2
    messages = Message.objects.count()
    decisions = ContactDecision.objects.count()
    second = scan_on(w.today)
    assert sum(second["written"].values()) == 0 and second["handed"] == 0
    assert Message.objects.count() == messages and ContactDecision.objects.count() == decisions


def test_a_snoozed_reminder_comes_back_when_its_day_comes(care):
    from m4s.care import services

    w = care
    set_car(w, insurance_expiry=w.today + days(40))
    scan_on(w.today, "insurance")
    r = reminders("insurance").get()
    services.snooze(w.owner, r, 3, now=at_noon(w.today))
    assert scan_on(w.today + days(2), "insurance")["handed"] == 0
    out = scan_on(w.today + days(3), "insurance")
    assert out["woken"] == 1 and out["handed"] == 1
    r.refresh_from_db()
    assert r.status == Status.SENT and r.sent_at == at_noon(w.today + days(3))
    cycles = set(
        ContactDecision.objects.filter(reason=handoff.reason_of(r)).values_list("cycle", flat=True)
    )
    assert cycles == {r.cycle, f"{r.cycle}/s{w.today + days(3)}"}


def test_a_rule_switched_off_writes_nothing(care):
    w = care
    ReminderRule.objects.for_group(w.group_a).filter(kind="insurance").update(enabled=False)
    set_car(w, insurance_expiry=w.today + days(10))
    assert scan_on(w.today, "insurance")["written"]["insurance"] == 0

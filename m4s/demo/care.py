"""Care demo data: every group's reminder rules (the built-in defaults, a birthday gift coupon and
a group calendar of greeting days), and the demo owners set up so that the daily care scan finds
one of every kind due today:

- 王伟 (first owner): the front brake pads he declined five weeks ago (amber, 3.5 mm) come back;
  his insurance ends in four weeks, the annual inspection is due, his driving licence expires in
  under three months, a speeding violation (fine and points) arrived from the traffic authority's
  feed, a rainstorm warning covers his store, and it is his birthday: a car-wash coupon comes
  with the greeting;
- Emily Chen (second): quiet hours around the build time, so her reminders are held until they
  end (never dropped);
- 김민준 (third): a violation entered by staff, and the third anniversary of buying the car;
- 刘洋 (fourth): insurance and inspection within a week and the weather warning: more care
  messages than the weekly cap allows, so the contact policy drops one; and he unsubscribed
  from offers with the one-tap link;
- 陈静 (fifth): the group's store-anniversary greeting day is today (marketing consent given).

Six months of reminders already sent to the group's other customers (half of the visits they
booked came within days of a reminder, most reminders brought nobody) give the figures a past.

`prepare_care_demo` runs before the connected-car demo (whose maintenance reminders already pass
the contact policy, so Emily's quiet hours must be set by then); `build_care_demo` afterwards
records the violations and the weather warning and runs the daily scan. Both through the care
services; a few dates of demo rows (the declined line, the owners' birthdays) are set directly."""

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from m4s.care import scan
from m4s.care import services as care
from m4s.care import violations as care_violations
from m4s.care.choices import Calendar, InsuranceCover, Kind, Severity, WeatherKind
from m4s.care.models import GreetingDay, InsurancePolicy, Reminder, ReminderRule
from m4s.care.rules import ensure_rules
from m4s.customers.models import Customer
from m4s.loyalty.choices import CouponKind
from m4s.loyalty.models import Coupon
from m4s.notify import policy
from m4s.notify import services as notify_services
from m4s.notify.choices import Category
from m4s.owners.models import Owner
from m4s.service.choices import Approval, ApprovalChannel, LineSource, Rating, RepairOrderStatus
from m4s.service.models import (
    Appointment,
    InspectionPoint,
    InspectionResult,
    RepairLine,
    RepairOrder,
)
from m4s.vehicles.models import Vehicle

DECLINED_DAYS_AGO = 35
SEED = 1414
HISTORY_MONTHS = 6
HISTORY_KINDS = (Kind.MAINTENANCE, Kind.DECLINED_REPAIR, Kind.INSURANCE, Kind.INSPECTION)
# A group's calendar: (name, translations, calendar, month, day, greeting, translations).
GREETING_DAYS = [
    (
        "春节",
        {"zh-hans": "春节", "en": "Spring Festival", "ko": "춘절"},
        Calendar.LUNAR,
        1,
        1,
        "新春快乐，万事如意！",
        {
            "zh-hans": "新春快乐，万事如意！",
            "en": "Happy Spring Festival and a year of safe driving!",
            "ko": "새해 복 많이 받으세요!",
        },
    ),
    (
        "端午节",
        {"zh-hans": "端午节", "en": "Dragon Boat Festival", "ko": "단오절"},
        Calendar.LUNAR,
        5,
        5,
        "端午安康！",
        {
            "zh-hans": "端午安康！",
            "en": "Wishing you a healthy Dragon Boat Festival!",
            "ko": "즐거운 단오절 보내세요!",
        },
    ),
    (
        "中秋节",
        {"zh-hans": "中秋节", "en": "Mid-Autumn Festival", "ko": "중추절"},
        Calendar.LUNAR,
        8,
        15,
        "中秋快乐，阖家团圆！",
        {
            "zh-hans": "中秋快乐，阖家团圆！",
            "en": "Happy Mid-Autumn Festival: safe travels home!",
            "ko": "즐거운 중추절 보내세요!",
        },
    ),
]
STORE_DAY = (
    "京城丰田店庆日",
    {
        "zh-hans": "京城丰田店庆日",
        "en": "Jingcheng Toyota's anniversary",
        "ko": "징청 토요타 창립 기념일",
    },
    "感谢您一路相伴！",
    {
        "zh-hans": "感谢您一路相伴！本周到店保养享免费洗车。",
        "en": "Thank you for driving with us! A free car wash with any service this week.",
        "ko": "함께해 주셔서 감사합니다! 이번 주 정비 시 무료 세차를 드립니다.",
    },
)


def _this_day(year: int, today: dt.date) -> dt.date:
    """Today's month and day in `year` (29 February: the 28th in a common year)."""
    try:
        return today.replace(year=year)
    except ValueError:
        return today.replace(year=year, day=28)


def _customer(group, owner) -> Customer:
    return Customer.objects.for_group(group).get(owner=owner)


def _car(customer) -> Vehicle:
    return (
        Vehicle.objects.for_group(customer.dealer_group_id)
        .filter(current_owner=customer)
        .order_by("pk")
        .first()
    )


def _rules(groups, today: dt.date) -> None:
    """Default rules for every kind; the first group's birthday greeting brings a coupon, and
    it keeps a calendar of festivals and its own anniversary (today)."""
    ensure_rules([g.pk for g in groups])
    first = groups[0]
    coupon = Coupon.objects.create(
        dealer_group=first,
        name="生日洗车券",
        name_i18n={"zh-hans": "生日洗车券", "en": "Birthday car wash", "ko": "생일 세차 쿠폰"},
        kind=CouponKind.AMOUNT,
        value=Decimal("60"),
        valid_from=today,
        valid_to=today + dt.timedelta(days=60),
    )
    ReminderRule.objects.for_group(first).filter(kind=Kind.BIRTHDAY).update(coupon=coupon)
    for group in groups:
        for name, names, calendar, month, day, message, messages in GREETING_DAYS:
            GreetingDay.objects.create(
                dealer_group=group,
                name=name,
                name_i18n=names,
                calendar=calendar,
                month=month,
                day=day,
                message=message,
                message_i18n=messages,
            )
    name, names, message, messages = STORE_DAY
    GreetingDay.objects.create(
        dealer_group=first,
        name=name,
        name_i18n=names,
        calendar=Calendar.SOLAR,
        month=today.month,
        day=today.day,
        message=message,
        message_i18n=messages,
    )


def _declined_brake_pads(customer, vehicle, advisor) -> None:
    """A repair order of the car five weeks ago: the inspection found the front brake pads
    amber (3.5 mm) and the owner declined replacing them."""
    group = customer.dealer_group_id
    at = timezone.now() - dt.timedelta(days=DECLINED_DAYS_AGO)
    store = customer.store
    point = (
        InspectionPoint.objects.for_group(group)
        .filter(template__store=store, name="Front brake pads", operation__isnull=False)
        .select_related("operation")
        .first()
    )
    if point is None:
        return
    km = max((vehicle.odometer_km or 3000) - 1500, 0)
    ro = RepairOrder.objects.create(
        dealer_group_id=group,
        number=f"RO-C{vehicle.pk:06d}",
        store=store,
        customer=customer,
        vehicle=vehicle,
        advisor=advisor,
        status=RepairOrderStatus.DELIVERED,
        odometer_in=km,
        odometer_out=km,
        fuel_pct=60,
        symptoms="刹车时有轻微异响 A light squeak when braking",
        checked_in_at=at - dt.timedelta(hours=2),
        delivered_at=at + dt.timedelta(hours=3),
    )
    result = InspectionResult.objects.create(
        dealer_group_id=group,
        repair_order=ro,
        point=point,
        rating=Rating.AMBER,
        note="3.5 mm left",
        measurement=Decimal("3.5"),
        inspected_by=advisor,
        at=ro.checked_in_at + dt.timedelta(minutes=40),
    )
    op = point.operation
    RepairLine.objects.create(
        dealer_group_id=group,
        repair_order=ro,
        operation=op,
        description=op.name,
        description_i18n=dict(op.name_i18n or {}),
        reason="Front brake pads: 3.5 mm left",
        reason_i18n={lang: f"{name}: 3.5 mm" for lang, name in (point.name_i18n or {}).items()},
        labour_list_price=Decimal("180"),
        labour_price=Decimal("180"),
        source=LineSource.INSPECTION,
        result=result,
        approval=Approval.DECLINED,
        approval_channel=ApprovalChannel.APP,
        decided_at=ro.checked_in_at + dt.timedelta(hours=1),
    )


def prepare_care_demo(*, staff: dict, owners: list, stores: dict) -> None:
    """Rules, and the demo owners' dates (before the connected-car demo's reminders go out)."""
    today = timezone.localdate()
    chaoyang = stores["chaoyang"]
    g1 = chaoyang.dealer_group
    _rules([g1, stores["fengtai"].dealer_group], today)
    wang, emily, minjun, liu, chen = owners[:5]

    # 王伟: every kind of reminder at once
    c = _customer(g1, wang)
    car = _car(c)
    ends = today + dt.timedelta(days=28)
    InsurancePolicy.objects.create(
        dealer_group=g1,
        vehicle=car,
        customer=c,
        insurer="人保财险 PICC",
        policy_number="PDAA2025110000123",
        cover=InsuranceCover.COMMERCIAL,
        starts_on=ends - dt.timedelta(days=365),
        ends_on=ends,
    )
    Vehicle.objects.for_group(g1).filter(pk=car.pk).update(
        insurance_expiry=ends,
        insurer="人保财险 PICC",
        next_inspection_date=today + dt.timedelta(days=25),
    )
    care.set_licence(c, today + dt.timedelta(days=80), "C1")
    Customer.objects.for_group(g1).filter(pk=c.pk).update(birthday=_this_day(1986, today))
    _declined_brake_pads(c, car, staff["advisor"])

    # Emily Chen: quiet hours around now, in her time zone (her reminders are held until then)
    local = timezone.localtime()
    start = (local - dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    Owner.objects.filter(pk=emily.pk).update(
        quiet_hours_start=start.time(),
        quiet_hours_end=(start + dt.timedelta(hours=10)).time(),
        time_zone="Asia/Shanghai",
    )
    c = _customer(g1, emily)
    Vehicle.objects.for_group(g1).filter(pk=_car(c).pk).update(
        insurance_expiry=today + dt.timedelta(days=55), next_inspection_date=None
    )

    # 김민준: three years with the car today
    c = _customer(g1, minjun)
    Vehicle.objects.for_group(g1).filter(pk=_car(c).pk).update(
        purchase_date=_this_day(today.year - 3, today), next_inspection_date=None
    )

    # 刘洋: more care messages this week than the cap allows
    c = _customer(g1, liu)
    Vehicle.objects.for_group(g1).filter(pk=_car(c).pk).update(
        insurance_expiry=today + dt.timedelta(days=6),
        next_inspection_date=today + dt.timedelta(days=5),
    )

    # 陈静: marketing consent, for the store-anniversary greeting
    Owner.objects.filter(pk=chen.pk).update(marketing_consent=True, marketing_consent_at=local)


def build_care_demo(*, staff: dict, owners: list, stores: dict) -> dict:
    """Violations (the authority's feed, staff), the weather warning, then the daily scan."""
    now = timezone.now()
    chaoyang = stores["chaoyang"]
    g1 = chaoyang.dealer_group
    wang, _emily, minjun = owners[:3]
    for owner, source, when, what, place, fine, points, ref in (
        (
            wang,
            "api",
            now - dt.timedelta(days=2, hours=3),
            "超速行驶（超过限速20%以上未达50%）Speeding 20-50% over the limit",
            "北京市朝阳区东四环中路 East 4th Ring Rd",
            "200",
            3,
            "BJ-JJ-2026-0001234",
        ),
        (
            minjun,
            "staff",
            now - dt.timedelta(days=5, hours=6),
            "违反禁令标志指示 Ignoring a no-entry sign",
            "北京市海淀区中关村大街 Zhongguancun St",
            "100",
            3,
            "",
        ),
    ):
        car = _car(_customer(g1, owner))
        care_violations.record_violation(
            car,
            care_violations.ViolationInput(
                occurred_at=when,
                description=what,
                place=place,
                fine_cny=fine,
                points=points,
                external_ref=ref,
            ),
            source=source,
            actor=staff["advisor"] if source == "staff" else None,
            now=now,
        )
    care.publish_warning(
        staff["editor"],
        city="北京",
        kind=WeatherKind.RAINSTORM,
        severity=Severity.ORANGE,
        starts_at=now,
        ends_at=now + dt.timedelta(hours=30),
        advice="城区有大到暴雨，请避开下穿隧道和低洼路段。",
        advice_i18n={
            "zh-hans": "城区有大到暴雨，请避开下穿隧道和低洼路段。",
            "en": "Heavy rain in the city: avoid underpasses and low-lying roads.",
            "ko": "시내에 폭우가 예상됩니다. 지하차도와 저지대 도로를 피하세요.",
        },
        latitude=chaoyang.latitude,
        longitude=chaoyang.longitude,
        radius_km=8,
        now=now,
    )
    # 刘洋 had enough of offers: one tap on the unsubscribe link of a message from the group
    liu = owners[3]
    notify_services.unsubscribe_by_token(policy.unsubscribe_token(liu, Category.MARKETING, g1))
    _history(g1, now)
    return scan.run_scan(now=now)


def _history(group, now: dt.datetime) -> None:
    """Six months of reminders already sent to the group's customers without the app, so the
    figures have a past: about half of the visits booked were booked within days of a
    reminder (converted), and twice as many reminders brought nobody (the store's customers the scan
    reminded who did not book). Written directly, like the service history."""
    rng = random.Random(SEED)
    since = now - dt.timedelta(days=30 * HISTORY_MONTHS)
    booked = list(
        Appointment.objects.for_group(group)
        .filter(created_at__gte=since, created_at__lt=now - dt.timedelta(days=2))
        .filter(customer__owner__isnull=True)
        .select_related("customer")
        .order_by("created_at")
        .values_list("customer_id", "vehicle_id", "created_at")
    )
    customers = list(
        Customer.objects.for_group(group)
        .filter(owner__isnull=True)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    rows = []

    def reminder(customer_id, vehicle_id, sent_at, converted: bool) -> None:
        n = len(rows)
        kind = HISTORY_KINDS[rng.randrange(len(HISTORY_KINDS))]
        rows.append(
            Reminder(
                dealer_group=group,
                customer_id=customer_id,
                vehicle_id=vehicle_id,
                kind=kind,
                target_ref=f"history:{n}",
                cycle=sent_at.strftime("%Y-%m"),
                due_on=timezone.localdate(sent_at) + dt.timedelta(days=rng.randint(3, 21)),
                status="done" if converted else "sent",
                payload={},
                created_at=sent_at,
                sent_at=sent_at,
                closed_at=sent_at + dt.timedelta(days=5) if converted else None,
            )
        )

    for customer_id, vehicle_id, created_at in booked:
        if rng.random() < 0.5:
            sent = created_at - dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 9))
            if sent >= since:
                reminder(customer_id, vehicle_id, sent, True)
    visits: dict[int, list[dt.datetime]] = {}
    for customer_id, _vehicle_id, created_at in booked:
        visits.setdefault(customer_id, []).append(created_at)

    def booked_after(customer_id: int, sent: dt.datetime) -> bool:
        return any(sent <= at <= sent + dt.timedelta(days=30) for at in visits.get(customer_id, []))

    for _i in range(2 * len(rows)):
        sent = since + dt.timedelta(seconds=rng.randint(0, int((now - since).total_seconds())))
        for _try in range(10):  # someone who did not book after it
            customer_id = customers[rng.randrange(len(customers))]
            if not booked_after(customer_id, sent):
                reminder(customer_id, None, sent, False)
                break
    Reminder.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)

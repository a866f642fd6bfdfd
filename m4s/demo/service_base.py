"""What the service demo's parts share: its constants (seed, time span, the problems owners
bring, wear and measures), the `Workshop` a store's visits are generated against, the `Car` of
the history, and small helpers used by both the past (`service_history`) and the future and
present (`service`)."""

import datetime as dt
import math
from collections import defaultdict
from types import SimpleNamespace

from django.utils import timezone

from m4s.org.models import BusinessHours, Holiday
from m4s.service import booking as booking_services
from m4s.service import selectors
from m4s.service.choices import (
    Rating,
    SkillLine,
)
from m4s.service.models import (
    MaintenanceSchedule,
)
from m4s.staff.choices import Role
from m4s.vehicles.models import Vehicle

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


# --- customers and cars: the car of the history ----------------------------------------------
class Car(SimpleNamespace):
    """A car of the history: vehicle, customer, owner id, kilometres per day, schedule items."""

    def odometer_on(self, day: dt.date) -> int:
        return max(0, int(self.km_now - self.km_per_day * (self.today - day).days))


# How long before the visit it was booked (a few values, so created_at is one UPDATE per value).
BOOKING_LEADS = [dt.timedelta(days=d, hours=-(d * 5 % 9), minutes=-13 * d) for d in range(1, 13)]


def _local(tz, when: dt.datetime) -> str:
    return timezone.localtime(when, tz).strftime("%Y-%m-%d %H:%M")


def _choose_service(rng, car: Car, kind: str = "any"):
    """(package code or None, problem row or None) for a visit of `car`."""
    if kind == "comeback":
        return None, None
    if kind == "diagnosis" or (kind == "any" and rng.random() < 0.3):
        return None, rng.choice(EV_PROBLEMS if car.ev else PROBLEMS)
    if car.ev:
        return "EVCK", None
    return rng.choices(["S10K", "S20K", "S40K"], weights=[55, 32, 13])[0], None

"""Complaints demo data: the default category tree and root causes, an SLA policy, customer-service
agents on the rosters, and four months of complaints in every status at the demo stores (some
breached and escalated, some reopened, most with a root cause and a corrective action, older
ones with the manager's preventive-action check), so the desk and the figures are alive at once.
The first demo owner has an open complaint being handled.

Everything goes through the complaints services with `now=` set to the moment it happened (the
services compute the business-time clocks, events, escalations and notifications themselves),
then one breach scan at the real now escalates what is overdue today. Called once by
`m4s.demo.builder.build_demo()`, inside its transaction; a fixed seed keeps it the same build
after build (relative to today, like the service demo)."""

import datetime as dt
import random

from django.db.models import Q
from django.utils import timezone

from m4s.complaints import escalation, services
from m4s.complaints.choices import DEFAULT_SLA, EscalationReason, Severity, Status
from m4s.complaints.models import Complaint, ComplaintCategory, RootCause, SlaPolicy
from m4s.customers.models import Customer
from m4s.org.business_time import BusinessCalendar
from m4s.service.models import RepairOrder, Survey
from m4s.staff.choices import Role
from m4s.staff.models import Shift
from m4s.staff.services import create_staff

from .accounts import DEMO_PASSWORD
from .service_base import FUTURE_DAYS, SHIFT, SUNDAY_SHIFT

SEED = 1212
HISTORY_DAYS = 120
# (username, role, store codes, display name)
AGENTS = [
    ("cs-haidian", Role.CUSTOMER_SERVICE, ["haidian"], "高洁 Gao Jie"),
    ("cs-huabei", Role.CUSTOMER_SERVICE, ["fengtai", "tongzhou"], "林晓 Lin Xiao"),
    ("manager-huabei", Role.STORE_MANAGER, ["fengtai", "tongzhou"], "马骏 Ma Jun"),
]
# The owner's words per category code (a complaint is in the customer's own words: not translated).
WORDS = {
    "repeat_repair": [
        "上周刚换的刹车片，现在刹车又有异响，还得再跑一趟。",
        "空调异味修过一次，三天后又回来了。",
        "方向盘抖动没有解决，第二次来店了。",
    ],
    "damage": [
        "取车时发现右后门有一道新划痕，送修前没有。",
        "座椅上有油污，车内脚垫也没放回去。",
    ],
    "price": [
        "结算金额比报价高了三百多元，事先没人告诉我。",
        "工时费和上次同样的保养差很多，请解释。",
    ],
    "waiting_time": [
        "预约了九点，十点半才开始接车，等了一个半小时。",
        "说好下午四点交车，六点才通知可以取。",
    ],
    "attitude": [
        "服务顾问打电话时很不耐烦，问题没说完就挂了。",
        "前台接待态度冷淡，没人理会。",
    ],
    "parts": [
        "配件说两天到，等了一个星期还没到货。",
        "换上的雨刮器尺寸不对，下雨天刮不干净。",
    ],
    "sales_promise": [
        "买车时承诺送两次免费保养，现在说没有这个活动。",
    ],
    "telematics": [
        "App 里车辆位置一直不更新，远程锁车也不灵。",
    ],
    "service_quality": [
        "洗车没有洗干净，车窗上还有水渍。",
        "保养后机油灯还亮着，没有复位。",
    ],
    "other": ["停车场没有车位，只能停在路边。"],
}
REPLIES = [
    "非常抱歉给您带来不便，我们已安排技术主管核实，今天内回复您。",
    "您好，已收到您的反馈，我们正在调查，请稍候。",
    "很抱歉！我们已为您预约免费复检，您看明天上午方便吗？",
]
QUESTIONS = [
    "请问您方便发一张照片给我们吗？",
    "请问您明天几点方便来店复检？",
]
OWNER_ANSWERS = ["照片已上传，请查看。", "明天上午十点可以。"]
RESOLUTIONS = {
    "process": ("已免费复检并重新施工，问题已解决。", "交车前增加由班组长签字的终检环节。"),
    "training": ("技师重新调整后试车确认无异响。", "对制动系统维修安排专项培训并考核。"),
    "communication": (
        "已当面说明费用构成，并退还多收的工时费。",
        "增项必须先获得客户确认，话术纳入晨会。",
    ),
    "capacity": ("赠送一次免费洗车作为补偿。", "周六高峰增加一名接车顾问。"),
    "parts_supply": ("已从兄弟店调货，今天完成更换。", "常用件安全库存提高到两周用量。"),
    "product": ("已提交厂家技术支持，按保修更换。", "跟踪厂家技术通报，同类车主动通知。"),
    "expectation": ("重新说明了活动条款，并赠送保养券。", "销售承诺必须写入合同附件。"),
    "not_justified": ("已向客户解释检测结果，客户表示理解。", "检测报告随车交付并当面讲解。"),
}
CAUSE_FOR = {
    "repeat_repair": ["process", "training"],
    "damage": ["process"],
    "price": ["communication", "expectation"],
    "waiting_time": ["capacity", "process"],
    "attitude": ["training", "communication"],
    "parts": ["parts_supply"],
    "sales_promise": ["expectation"],
    "telematics": ["product"],
    "service_quality": ["process", "training"],
    "other": ["capacity", "not_justified"],
}
CHANNELS = ["phone", "phone", "walk_in", "email", "social"]
# Complaints of the last days, in the state the desk shows them today: (store, days ago, category,
# severity, state). "new" ones older than their level clock are climbed by the breach scan.
LIVE = [
    ("chaoyang", 0.05, "waiting_time", Severity.NORMAL, Status.NEW),
    ("chaoyang", 0.2, "damage", Severity.CRITICAL, Status.NEW),
    ("chaoyang", 2.5, "price", Severity.NORMAL, Status.NEW),
    ("chaoyang", 4, "attitude", Severity.HIGH, Status.NEW),
    ("chaoyang", 1, "parts", Severity.NORMAL, Status.ACKNOWLEDGED),
    ("chaoyang", 2, "repeat_repair", Severity.HIGH, Status.IN_PROGRESS),
    ("chaoyang", 6, "service_quality", Severity.NORMAL, Status.IN_PROGRESS),
    ("chaoyang", 3, "damage", Severity.NORMAL, Status.WAITING_CUSTOMER),
    ("chaoyang", 5, "price", Severity.LOW, Status.RESOLVED),
    ("chaoyang", 9, "waiting_time", Severity.NORMAL, Status.RESOLVED),
    ("chaoyang", 12, "repeat_repair", Severity.NORMAL, Status.REOPENED),
    ("haidian", 0.5, "telematics", Severity.NORMAL, Status.NEW),
    ("haidian", 3, "waiting_time", Severity.NORMAL, Status.IN_PROGRESS),
    ("haidian", 7, "parts", Severity.NORMAL, Status.RESOLVED),
]


def build_complaints_demo(*, staff: dict, owners: list, stores: dict) -> None:
    """`staff`: username -> StaffUser (the agents are added); `owners`: the demo owners in phone
    order; `stores`: code -> Store."""
    now = timezone.now()
    rng = random.Random(SEED)
    _CALENDARS.clear()
    chaoyang, haidian, fengtai = stores["chaoyang"], stores["haidian"], stores["fengtai"]
    groups = {s.dealer_group_id for s in stores.values()}
    for group_id in sorted(groups):
        services.ensure_defaults(group_id)
    _sla_policy(chaoyang.dealer_group_id)
    for username, role, codes, name in AGENTS:
        first = stores[codes[0]]
        staff[username] = create_staff(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            group=first.dealer_group,
            stores=[stores[c] for c in codes],
            display_name=name,
        )
    today = timezone.localtime(now, chaoyang.tz).date()
    _rosters(
        [(staff["cs"], chaoyang), (staff["cs-haidian"], haidian)]
        + [(staff["cs-huabei"], stores[c]) for c in ("fengtai", "tongzhou")],
        today - dt.timedelta(days=HISTORY_DAYS + 5),
        HISTORY_DAYS + 5 + FUTURE_DAYS,
    )
    demo = _Demo(rng, now, staff)
    for store, n in ((chaoyang, 32), (haidian, 8)):
        for when, customer, ro in _moments(rng, store, n, now):
            demo.history(store, when, customer, ro)
    for survey in _unhappy_surveys(chaoyang, now)[:6]:
        c = services.open_from_survey(survey, now=survey.answered_at + dt.timedelta(minutes=3))
        if c is not None:
            demo.handle(c, _age_days(now, c.created_at))
    for i, customer in enumerate(
        Customer.objects.for_group(fengtai.dealer_group_id).order_by("pk")[:4]
    ):
        when = _business(fengtai, now - dt.timedelta(days=70 - 18 * i, hours=3))
        demo.recorded(fengtai, when, customer, None, staff["cs-huabei"])
    app_customers = list(
        Customer.objects.for_group(chaoyang.dealer_group_id)
        .filter(store=chaoyang, owner__isnull=False)
        .exclude(owner=owners[0])
        .order_by("-pk")[: len(LIVE)]
    )
    for (code, days, category, severity, state), customer in zip(LIVE, app_customers, strict=True):
        store = stores[code]
        demo.live(store, now - dt.timedelta(days=days), customer, category, severity, state)
    demo.first_owner(owners[0], chaoyang)
    escalation.scan(now=now)  # what is overdue today climbs now, as the job would have done


def _sla_policy(group_id: int) -> None:
    """The group's policy: the built-in targets per severity, and a stricter one for damage."""
    for severity, (fr, res, l1, l2, l3) in DEFAULT_SLA.items():
        SlaPolicy.objects.create(
            dealer_group_id=group_id,
            severity=severity,
            first_response_minutes=fr,
            resolution_minutes=res,
            level1_minutes=l1,
            level2_minutes=l2,
            level3_minutes=l3,
        )
    damage = ComplaintCategory.objects.for_group(group_id).get(code="damage")
    SlaPolicy.objects.create(
        dealer_group_id=group_id,
        severity=Severity.NORMAL,
        category=damage,
        first_response_minutes=120,
        resolution_minutes=1440,
        level1_minutes=240,
        level2_minutes=480,
        level3_minutes=960,
    )


def _rosters(people, start: dt.date, days: int) -> None:
    """Customer service works every day but Sunday (split by the store's lunch break anyway)."""
    Shift.objects.bulk_create(
        Shift(
            dealer_group_id=store.dealer_group_id,
            staff=person,
            store=store,
            date=day,
            starts_at=(SUNDAY_SHIFT if day.weekday() == 6 else SHIFT)[0],
            ends_at=(SUNDAY_SHIFT if day.weekday() == 6 else SHIFT)[1],
        )
        for day in (start + dt.timedelta(days=i) for i in range(days))
        for person, store in people
        if day.weekday() != 6
    )


_CALENDARS: dict[int, BusinessCalendar] = {}


def _calendar(store) -> BusinessCalendar:
    """The store's business calendar over the demo's window, read once per build."""
    found = _CALENDARS.get(store.pk)
    if found is None:
        today = timezone.localdate()
        found = _CALENDARS[store.pk] = BusinessCalendar.for_store(
            store, today - dt.timedelta(days=HISTORY_DAYS + 10), today + dt.timedelta(days=90)
        )
    return found


def add_business_minutes(store, start: dt.datetime, minutes: int) -> dt.datetime:
    return _calendar(store).add(start, minutes)


def business_minutes_between(store, a: dt.datetime, b: dt.datetime) -> int:
    return _calendar(store).between(a, b) if b > a else 0


def _business(store, moment: dt.datetime) -> dt.datetime:
    """The next business moment at or after `moment` (a few minutes into business time)."""
    return add_business_minutes(store, moment, 7)


def _age_days(now: dt.datetime, then: dt.datetime) -> float:
    return (now - then).total_seconds() / 86400


def _moments(rng, store, n: int, now: dt.datetime):
    """(when, customer, repair order or None) for `n` complaints over the history window: after
    a delivered repair order where the store has them, else about a customer of the store."""
    group_id = store.dealer_group_id
    since = now - dt.timedelta(days=HISTORY_DAYS)
    orders = list(
        RepairOrder.objects.for_group(group_id)
        .filter(store=store, delivered_at__gte=since, delivered_at__lt=now - dt.timedelta(hours=6))
        .filter(customer__owner__isnull=False)
        .select_related("customer", "vehicle")
        .order_by("delivered_at", "pk")
    )
    out = []
    if orders:
        for ro in sorted(rng.sample(orders, min(n, len(orders))), key=lambda r: r.delivered_at):
            when = _business(store, ro.delivered_at + dt.timedelta(hours=rng.randint(18, 70)))
            if when < now - dt.timedelta(days=10):
                out.append((when, ro.customer, ro))
        return out
    customers = list(
        Customer.objects.for_group(group_id)
        .filter(Q(store=store) | Q(owner__isnull=False))
        .order_by("pk")
    )
    for i in range(n):
        back = 12 + (HISTORY_DAYS - 12) * (n - i) / n + rng.uniform(-2, 2)
        when = _business(store, now - dt.timedelta(days=back))
        if when < now - dt.timedelta(days=10):
            out.append((when, customers[i % len(customers)], None))
    return out


def _unhappy_surveys(store, now: dt.datetime) -> list:
    since = now - dt.timedelta(days=HISTORY_DAYS)
    return [
        s
        for s in Survey.objects.for_group(store.dealer_group_id)
        .filter(store=store, answered_at__gte=since, owner__isnull=False)
        .select_related("repair_order__vehicle", "customer", "owner", "store")
        .order_by("answered_at", "pk")
        if services.is_unhappy(s)
    ]


class _Demo:
    """Walks complaints through their lives with the services, moment by moment."""

    def __init__(self, rng, now, staff):
        self.rng, self.now, self.staff = rng, now, staff
        self.causes = {}

    # --- people ---------------------------------------------------------------------------------
    def _agent(self, c):
        return c.assignee if c.assignee is not None else self._manager(c)

    def _manager(self, c):
        if c.store.code in ("chaoyang",):
            return self.staff["manager"]
        if c.dealer_group_id == self.staff["groupadmin"].dealer_group_id:
            return self.staff["groupadmin"]
        return self.staff["manager-huabei"]

    def _cause(self, c, code: str):
        key = (c.dealer_group_id, code)
        if key not in self.causes:
            self.causes[key] = RootCause.objects.for_group(c.dealer_group_id).get(code=code)
        return self.causes[key]

    def _category(self, store, code: str):
        return ComplaintCategory.objects.for_group(store.dealer_group_id).get(code=code)

    # --- time -----------------------------------------------------------------------------------
    def _later(self, c, t: dt.datetime, low: int, high: int) -> dt.datetime | None:
        """A business moment `low`..`high` business minutes after `t`; None if it is the future."""
        moment = add_business_minutes(c.store, t, self.rng.randint(low, high))
        return moment if moment < self.now else None

    def _fresh(self, c) -> Complaint:
        return (
            Complaint.objects.for_group(c.dealer_group_id)
            .select_related("store", "customer__owner", "category", "assignee")
            .get(pk=c.pk)
        )

    # --- creating -------------------------------------------------------------------------------
    def history(self, store, when, customer, ro) -> None:
        owner = customer.owner
        if owner is not None and self.rng.random() < 0.55:
            code = self.rng.choice(list(WORDS))
            c = services.file_complaint(
                owner,
                description=self.rng.choice(WORDS[code]),
                category_id=self._category(store, code).pk,
                severity=self._severity(),
                store_id=store.pk,
                repair_order_id=ro.pk if ro else None,
                now=when,
            )
            self.handle(c, _age_days(self.now, when))
        else:
            agent = self.staff["cs"] if store.code == "chaoyang" else self.staff["cs-haidian"]
            self.recorded(store, when, customer, ro, agent)

    def recorded(self, store, when, customer, ro, agent) -> None:
        code = self.rng.choice(list(WORDS))
        c = services.record_complaint(
            agent,
            customer_id=customer.pk,
            channel=self.rng.choice(CHANNELS),
            description=self.rng.choice(WORDS[code]),
            category_id=self._category(store, code).pk,
            severity=self._severity(),
            store_id=store.pk,
            vehicle_id=ro.vehicle_id if ro else None,
            repair_order_id=ro.pk if ro else None,
            now=when,
        )
        self.handle(c, _age_days(self.now, when))

    def _severity(self) -> str:
        roll = self.rng.random()
        if roll < 0.04:
            return Severity.CRITICAL
        if roll < 0.2:
            return Severity.HIGH
        if roll < 0.3:
            return Severity.LOW
        return Severity.NORMAL

    # --- a life ---------------------------------------------------------------------------------
    def handle(self, c, age: float) -> None:
        """Take the complaint as far as its age allows: recent ones stay open in every status,
        older ones are resolved, confirmed or reopened; some breach and climb on the way."""
        rng = self.rng
        if age < 0.5 or (age < 3 and rng.random() < 0.35):
            return  # new, nobody has touched it yet (the breach scan may climb it)
        late = rng.random() < 0.2
        t = c.created_at
        if late:  # nobody answered in time: the level clock ran out and it climbed
            c = self._fresh(c)
            if c.level_due_at is None or c.level_due_at >= self.now or c.level >= 3:
                return
            t = c.level_due_at + dt.timedelta(minutes=5)
            services.climb(c, c.level + 1, EscalationReason.BREACH, now=t)
            c = self._fresh(c)
        agent = self._agent(c)
        t = self._later(c, t, 10, 90)
        if t is None:
            return
        services.acknowledge(agent, c, now=t)
        t = self._later(c, t, 5, 60)
        if t is None:
            return
        if rng.random() < 0.6:
            services.reply_to_owner(agent, c, rng.choice(REPLIES), now=t)
        else:
            services.log_call(
                agent,
                c,
                summary="已电话联系客户，说明处理方案。",
                minutes=rng.randint(2, 12),
                now=t,
            )
        if age < 2 or (age < 8 and rng.random() < 0.25):
            return  # in progress
        if rng.random() < 0.25:
            t = self._later(c, t, 30, 240)
            if t is None:
                return
            services.set_waiting_for_customer(agent, c, rng.choice(QUESTIONS), now=t)
            if age < 6:
                return  # waiting for the customer
            t = self._later(c, t, 240, 900)
            if t is None:
                return
            owner = c.customer.owner
            if owner is not None:
                services.owner_reply(owner, c, rng.choice(OWNER_ANSWERS), now=t)
            else:
                services.resume(agent, c, now=t)
        if not late and c.level < 3 and rng.random() < 0.12:
            t = self._later(c, t, 30, 200)
            if t is None:
                return
            services.escalate(agent, c, note="客户要求店长出面处理。", now=t)
            c = self._fresh(c)
            agent = self._agent(c)
        t = self._later(c, t, 120, 1800)
        if t is None:
            return
        self._resolve(c, agent, t)
        self._after(c, t, age)

    def _resolve(self, c, agent, t) -> None:
        code = self.rng.choice(CAUSE_FOR.get(c.category.code, ["process"]))
        resolution, action = RESOLUTIONS[code]
        local_day = timezone.localtime(t, c.store.tz).date()
        services.resolve(
            agent,
            c,
            root_cause_id=self._cause(c, code).pk,
            resolution=resolution,
            action=action,
            responsible_id=self._manager(c).pk,
            due_date=local_day + dt.timedelta(days=self.rng.choice([7, 14, 21, 30])),
            now=t,
        )

    def _after(self, c, t, age: float) -> None:
        """The owner confirms (and rates), or reopens; the manager checks older actions."""
        rng = self.rng
        c = self._fresh(c)
        owner = c.customer.owner
        if owner is not None and (now_ok := self._later(c, t, 60, 1500)) is not None:
            if rng.random() < 0.12 and age > 20:
                services.reopen(owner, c, "问题又出现了，请再处理一下。", now=now_ok)
                c = self._fresh(c)
                agent = self._agent(c)
                t2 = self._later(c, now_ok, 60, 600)
                if t2 is None:
                    return
                services.reply_to_owner(agent, c, rng.choice(REPLIES), now=t2)
                t3 = self._later(c, t2, 240, 1500)
                if t3 is None:
                    return
                self._resolve(c, agent, t3)
                c = self._fresh(c)
                now_ok = self._later(c, t3, 60, 900)
                if now_ok is None:
                    return
            if age > 5 or rng.random() < 0.5:
                services.confirm(owner, c, now=now_ok)
                rated = self._later(c, now_ok, 5, 120)
                if rated is not None and rng.random() < 0.75:
                    services.rate(owner, c, rng.choice([5, 5, 4, 4, 4, 3, 2]), now=rated)
        elif owner is None and age > 5:
            closed = self._later(c, t, 120, 900)
            if closed is not None:
                services.close_for_customer(
                    self._agent(c), c, note="客户电话确认已解决。", now=closed
                )
        if age > 35 and rng.random() < 0.7:
            for action in c.corrective_actions.all():
                checked = self._later(c, t, 2400, 6000)
                if checked is not None:
                    services.mark_action_done(action.responsible, action.pk, now=checked)
                    services.check_preventive_action(
                        self._manager(c), action.pk, "现场抽查已落实。", now=checked
                    )

    def live(self, store, when, customer, category: str, severity: str, state: str) -> None:
        """A complaint of the last days, taken exactly to `state`."""
        owner = customer.owner
        c = services.file_complaint(
            owner,
            description=self.rng.choice(WORDS[category]),
            category_id=self._category(store, category).pk,
            severity=severity,
            store_id=store.pk,
            now=when,
        )
        if state == Status.NEW:
            return
        agent = self._agent(c)
        steps = iter(self._steps(c, when, 5))
        services.acknowledge(agent, c, now=next(steps))
        if state == Status.ACKNOWLEDGED:
            return
        services.reply_to_owner(agent, c, self.rng.choice(REPLIES), now=next(steps))
        if state == Status.IN_PROGRESS:
            services.add_note(agent, c, "已调取接车记录，等待车间主管回复。", now=next(steps))
            return
        if state == Status.WAITING_CUSTOMER:
            services.set_waiting_for_customer(agent, c, self.rng.choice(QUESTIONS), now=next(steps))
            return
        t = next(steps)
        self._resolve(self._fresh(c), agent, t)
        if state == Status.REOPENED:
            services.reopen(owner, self._fresh(c), "问题又出现了，请再处理一下。", now=next(steps))

    def _steps(self, c, start: dt.datetime, n: int) -> list[dt.datetime]:
        """`n` moments after `start`, spread over the business time until now, in order."""
        room = max(business_minutes_between(c.store, start, self.now), n * 2)
        step = max(1, room // (n + 1))
        moments, t = [], start
        for _i in range(n):
            t = add_business_minutes(c.store, t, step)
            t = min(t, self.now - dt.timedelta(seconds=60 * (n - len(moments))))
            moments.append(t)
        return moments

    # --- the first demo owner ------------------------------------------------------------------
    def first_owner(self, owner, store) -> None:
        """王伟 complained yesterday that the squeak is back after his last visit; the store's
        customer service acknowledged it and replied; he sees it being handled."""
        ro = (
            RepairOrder.objects.for_group(store.dealer_group_id)
            .filter(customer__owner=owner, delivered_at__isnull=False)
            .order_by("-delivered_at")
            .first()
        )
        start = add_business_minutes(store, self.now - dt.timedelta(days=1, hours=2), 0)
        start = min(start, self.now - dt.timedelta(hours=3))
        c = services.file_complaint(
            owner,
            description="上次保养后刹车又有异响，希望尽快复检。A squeak is back after my last visit.",
            category_id=self._category(store, "repeat_repair").pk,
            store_id=store.pk,
            repair_order_id=ro.pk if ro else None,
            now=start,
        )
        agent = self._agent(c)
        t = min(add_business_minutes(store, start, 25), self.now - dt.timedelta(minutes=20))
        services.acknowledge(agent, c, now=t)
        t = min(add_business_minutes(store, t, 15), self.now - dt.timedelta(minutes=10))
        services.reply_to_owner(
            agent,
            c,
            "王先生您好，非常抱歉！我们已为您预约明天上午的免费复检，技术主管会亲自检查。",
            now=t,
        )

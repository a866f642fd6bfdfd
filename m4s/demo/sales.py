"""Sales demo: two months of leads across the stages so the board, pipeline and forecast are
alive: sources, campaigns, follow-ups (some overdue), lost reasons, expected close dates this
month and next; assigned mostly to the demo consultant "sales"."""

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.customers.models import Customer
from m4s.sales.choices import ActivityKind, LeadSource, LostReason, Stage
from m4s.sales.models import Lead, LeadActivity

NAMES = [
    "李华",
    "张伟",
    "王芳",
    "刘强",
    "陈晨",
    "杨洋",
    "赵雷",
    "黄磊",
    "周杰",
    "吴迪",
    "徐静",
    "孙悦",
    "马超",
    "朱丽",
    "胡斌",
    "郭敏",
    "林峰",
    "何苗",
    "高远",
    "罗琳",
]
CAMPAIGNS = [
    "",
    "",
    "2026 autumn show",
    "WeChat moments ad",
    "Test-drive weekend",
    "Trade-in bonus",
]
STAGE_MIX = (
    [Stage.NEW] * 5
    + [Stage.CONTACTED] * 5
    + [Stage.TEST_DRIVE] * 4
    + [Stage.NEGOTIATION] * 3
    + [Stage.WON] * 3
    + [Stage.LOST] * 3
)


def _catalogue(group):
    try:
        from m4s.catalogue.models import Trim
    except ImportError:  # pragma: no cover
        return []
    return list(Trim.objects.for_group(group).select_related("car_model")[:20])


def _leads_for(group, stores, people, customers, count, rng, now, phone_base):
    trims = _catalogue(group)
    today = timezone.localdate()
    rows = []
    for i in range(count):
        created = now - dt.timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 9))
        stage = rng.choice(STAGE_MIX)
        trim = rng.choice(trims) if trims and rng.random() < 0.85 else None
        value = trim.dealer_price if trim else Decimal(rng.randrange(120_000, 380_000, 1000))
        customer = customers[i] if i < len(customers) else None
        store = stores[0] if rng.random() < 0.8 else rng.choice(stores)
        assigned = people[0] if people and rng.random() < 0.75 else rng.choice(people + [None])
        follow = today + dt.timedelta(days=rng.randint(-6, 10))
        close = today.replace(day=1) + dt.timedelta(days=rng.randint(0, 58))
        lead = Lead(
            dealer_group=group,
            store=store,
            customer=customer,
            name="" if customer else rng.choice(NAMES),
            phone=customer.phone if customer else f"+86139{phone_base + i:08d}",
            source=rng.choice(LeadSource.values),
            campaign=rng.choice(CAMPAIGNS),
            car_model=trim.car_model if trim else None,
            trim=trim,
            value=value,
            stage=stage,
            assigned_to=assigned,
            next_follow_up=follow if stage not in (Stage.WON, Stage.LOST) else None,
            expected_close=close,
            stage_changed_at=created,
        )
        if stage == Stage.WON:
            lead.won_at = min(now, created + dt.timedelta(days=rng.randint(3, 30)))
        if stage == Stage.LOST:
            lead.lost_at = min(now, created + dt.timedelta(days=rng.randint(3, 30)))
            lead.lost_reason = rng.choice(LostReason.values)
            lead.lost_note = "客户觉得太贵" if lead.lost_reason == LostReason.OTHER else ""
        rows.append((lead, created))
    Lead.objects.bulk_create([lead for lead, _c in rows])
    activities = []
    for lead, created in rows:
        Lead.objects.for_group(group).filter(pk=lead.pk).update(created_at=created)
        activities.append(
            LeadActivity(
                dealer_group=group,
                lead=lead,
                kind=ActivityKind.REQUEST,
                at=created,
                summary=text(
                    gettext_noop("New lead: %(source)s"), source=LeadSource(lead.source).label
                ),
            )
        )
        if lead.stage != Stage.NEW:
            activities.append(
                LeadActivity(
                    dealer_group=group,
                    lead=lead,
                    kind=ActivityKind.CALL,
                    at=created + dt.timedelta(hours=3),
                    actor=lead.assigned_to,
                    summary=text(gettext_noop("Called")),
                    note="约了周六到店试驾",
                )
            )
    LeadActivity.objects.bulk_create(activities)


def build_sales_demo(*, staff, owners, stores) -> None:
    rng = random.Random(15)
    now = timezone.now()
    chaoyang, haidian = stores["chaoyang"], stores["haidian"]
    g1 = chaoyang.dealer_group
    customers = list(Customer.objects.for_group(g1).filter(owner__in=owners).order_by("pk")[:4])
    _leads_for(
        g1,
        [chaoyang, haidian],
        [staff["sales"], staff["manager"]],
        customers,
        90,
        rng,
        now,
        10_000_000,
    )
    fengtai = stores["fengtai"]
    _leads_for(
        fengtai.dealer_group, [fengtai, stores["tongzhou"]], [], [], 25, rng, now, 20_000_000
    )

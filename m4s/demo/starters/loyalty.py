"""A starter programme for a dealer group (demo, tests, benchmarks): three tiers, earning rules,
rewards including a car wash, two missions with badges, a campaign and a partner merchant.

The programme is data (below) and one loop. A field naming another row refers to it by name:
`campaign` (the campaign), `partner` (the partner merchant), `min_tier` (a tier), `badge` (a
badge's key). Names, descriptions and tier benefits get every language from `loyalty_i18n`."""

from decimal import Decimal
from types import SimpleNamespace

from django.db import transaction

from m4s.loyalty.choices import Event, Measure, RewardKind
from m4s.loyalty.models import Badge, Campaign, EarningRule, Mission, Programme, Reward, Tier
from m4s.loyalty.partners import create_partner

from .loyalty_i18n import names

TIERS = [
    {
        "name": "Silver",
        "threshold": 0,
        "colour": "#9aa5b1",
        "benefits": "Points on every paid service.",
    },
    {
        "name": "Gold",
        "threshold": 5000,
        "earn_multiplier": Decimal("1.25"),
        "labour_discount_pct": 5,
        "colour": "#c9a227",
        "benefits": "1.25× points, 5 % off labour, free car wash every visit.",
    },
    {
        "name": "Platinum",
        "threshold": 15000,
        "earn_multiplier": Decimal("1.5"),
        "labour_discount_pct": 10,
        "colour": "#5b6b7f",
        "benefits": "1.5× points, 10 % off labour, free pick-up and delivery.",
    },
]
CAMPAIGN = {"name": "Binding welcome 2026", "budget": 200_000}
RULES = {
    "paid": {"event": Event.SERVICE_PAID, "name": "Paid service", "points_per_yuan": Decimal("1")},
    "kept": {"event": Event.APPOINTMENT_KEPT, "name": "Kept appointment", "points": 50},
    "survey": {
        "event": Event.SURVEY_COMPLETED,
        "name": "Answered the survey",
        "points": 100,
        "daily_cap": 100,
    },
    "bound": {
        "event": Event.CAR_BOUND,
        "name": "Bound a car",
        "points": 200,
        "total_cap": 600,
        "campaign": "Binding welcome 2026",
    },
    "referral": {
        "event": Event.REFERRAL,
        "name": "A friend joined",
        "points": 500,
        "total_cap": 5000,
    },
    "referral2": {
        "event": Event.REFERRAL,
        "name": "A friend's friend joined",
        "points": 100,
        "referral_level": 2,
        "total_cap": 1000,
    },
    "story": {
        "event": Event.STORY_APPROVED,
        "name": "Story approved",
        "points": 50,
        "daily_cap": 100,  # recorded by staff: at most two stories' worth a day
    },
    "like": {
        "event": Event.LIKE_RECEIVED,
        "name": "Like received",
        "points": 2,
        "daily_cap": 20,
        "qualifying": False,
    },
    "checkin": {
        "event": Event.EVENT_CHECKIN,
        "name": "Event check-in",
        "points": 30,
        "daily_cap": 60,  # recorded by staff: at most two events' worth a day
    },
}
PARTNER = {"name": "Sparkle Car Wash", "category": "car wash", "points_per_yuan": Decimal("0.5")}
REWARDS = {
    "wash": {
        "name": "Car wash",
        "kind": RewardKind.SERVICE,
        "cost": 300,
        "icon": "🚿",
        "value": Decimal("30"),
        "description": "A hand wash at the store.",
    },
    "cabin": {
        "name": "Cabin filter replacement",
        "kind": RewardKind.SERVICE,
        "cost": 1200,
        "icon": "🌬️",
        "value": Decimal("136"),
        "description": "Parts and labour included.",
    },
    "mug": {
        "name": "Travel mug",
        "kind": RewardKind.ACCESSORY,
        "cost": 800,
        "stock": 50,
        "icon": "☕",
        "value": Decimal("45"),
    },
    "detail": {
        "name": "Interior detailing",
        "kind": RewardKind.SERVICE,
        "cost": 2500,
        "icon": "✨",
        "min_tier": "Gold",
        "value": Decimal("280"),
    },
    "partner_wash": {
        "name": "Sparkle premium wash",
        "kind": RewardKind.PARTNER,
        "cost": 400,
        "icon": "🫧",
        "partner": "Sparkle Car Wash",
        "value": Decimal("40"),
    },
}
BADGES = {
    "on_time": {
        "name": "Punctual",
        "icon": "⏱️",
        "description": "Three services on time in a year.",
    },
    "explorer": {
        "name": "Explorer",
        "icon": "🧭",
        "description": "Five different partner stations in 60 days.",
    },
}
MISSIONS = {
    "on_time": {
        "name": "3 services on time in a year",
        "event": Event.APPOINTMENT_KEPT,
        "measure": Measure.COUNT,
        "target": 3,
        "window_days": 365,
        "points": 300,
        "badge": "on_time",
    },
    "explorer": {
        "name": "Visit 5 different partners in 60 days",
        "event": Event.PARTNER_PURCHASE,
        "measure": Measure.DISTINCT,
        "target": 5,
        "window_days": 60,
        "points": 500,
        "badge": "explorer",
    },
}


@transaction.atomic
def install_programme(group, *, name: str = "M4S Club") -> SimpleNamespace:
    g = getattr(group, "pk", group)
    programme = Programme.objects.create(dealer_group_id=g, name=name)
    refs = {"min_tier": {}, "campaign": {}, "partner": {}, "badge": {}}

    def create(model, spec: dict):
        fields = {k: refs[k][v] if k in refs else v for k, v in spec.items()}
        return model.objects.create(dealer_group_id=g, **fields)

    tiers = [create(Tier, spec) for spec in TIERS]
    refs["min_tier"] = {t.name: t for t in tiers}
    welcome = create(Campaign, CAMPAIGN)
    refs["campaign"] = {welcome.name: welcome}
    rules = {key: create(EarningRule, spec) for key, spec in RULES.items()}
    partner, api_key = create_partner(g, **PARTNER)
    refs["partner"] = {partner.name: partner}
    rewards = {key: create(Reward, spec) for key, spec in REWARDS.items()}
    refs["badge"] = {key: create(Badge, spec) for key, spec in BADGES.items()}
    missions = {key: create(Mission, spec) for key, spec in MISSIONS.items()}
    _translate(
        [*tiers, *rules.values(), *rewards.values(), *refs["badge"].values(), *missions.values()]
    )
    return SimpleNamespace(
        programme=programme,
        tiers=tiers,
        rules=rules,
        rewards=rewards,
        missions=missions,
        partner=partner,
        api_key=api_key,
        campaign=welcome,
    )


def _translate(rows) -> None:
    """Every starter name, description and tier benefit in all three languages."""
    for row in rows:
        fields = [f for f in ("name", "description", "benefits") if hasattr(row, f"{f}_i18n")]
        for f in fields:
            setattr(row, f"{f}_i18n", names(getattr(row, f)) if getattr(row, f) else {})
        row.save(update_fields=[f"{f}_i18n" for f in fields])

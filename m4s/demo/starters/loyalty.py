"""A starter programme for a dealer group (demo, tests, benchmarks): three tiers, earning rules,
rewards including a car wash, two missions with badges, a campaign and a partner merchant."""

from decimal import Decimal
from types import SimpleNamespace

from django.db import transaction

from m4s.loyalty.choices import Event, Measure, RewardKind
from m4s.loyalty.models import Badge, Campaign, EarningRule, Mission, Programme, Reward, Tier
from m4s.loyalty.services import create_partner

from .loyalty_i18n import names


@transaction.atomic
def install_programme(group, *, name: str = "M4S Club") -> SimpleNamespace:
    g = getattr(group, "pk", group)
    programme = Programme.objects.create(dealer_group_id=g, name=name)
    tiers = [
        Tier.objects.create(
            dealer_group_id=g,
            name="Silver",
            threshold=0,
            colour="#9aa5b1",
            benefits="Points on every paid service.",
        ),
        Tier.objects.create(
            dealer_group_id=g,
            name="Gold",
            threshold=5000,
            earn_multiplier=Decimal("1.25"),
            labour_discount_pct=5,
            colour="#c9a227",
            benefits="1.25× points, 5 % off labour, free car wash every visit.",
        ),
        Tier.objects.create(
            dealer_group_id=g,
            name="Platinum",
            threshold=15000,
            earn_multiplier=Decimal("1.5"),
            labour_discount_pct=10,
            colour="#5b6b7f",
            benefits="1.5× points, 10 % off labour, free pick-up and delivery.",
        ),
    ]
    welcome = Campaign.objects.create(
        dealer_group_id=g, name="Binding welcome 2026", budget=200_000
    )
    rules = {
        "paid": EarningRule.objects.create(
            dealer_group_id=g,
            event=Event.SERVICE_PAID,
            name="Paid service",
            points_per_yuan=Decimal("1"),
        ),
        "kept": EarningRule.objects.create(
            dealer_group_id=g, event=Event.APPOINTMENT_KEPT, name="Kept appointment", points=50
        ),
        "survey": EarningRule.objects.create(
            dealer_group_id=g,
            event=Event.SURVEY_COMPLETED,
            name="Answered the survey",
            points=100,
            daily_cap=100,
        ),
        "bound": EarningRule.objects.create(
            dealer_group_id=g,
            event=Event.CAR_BOUND,
            name="Bound a car",
            points=200,
            total_cap=600,
            campaign=welcome,
        ),
        "referral": EarningRule.objects.create(
            dealer_group_id=g,
            event=Event.REFERRAL,
            name="A friend joined",
            points=500,
            total_cap=5000,
        ),
        "referral2": EarningRule.objects.create(
            dealer_group_id=g,
            event=Event.REFERRAL,
            name="A friend's friend joined",
            points=100,
            referral_level=2,
            total_cap=1000,
        ),
        "story": EarningRule.objects.create(
            dealer_group_id=g,
            event=Event.STORY_APPROVED,
            name="Story approved",
            points=50,
            daily_cap=100,  # recorded by staff: at most two stories' worth a day
        ),
        "like": EarningRule.objects.create(
            dealer_group_id=g,
            event=Event.LIKE_RECEIVED,
            name="Like received",
            points=2,
            daily_cap=20,
            qualifying=False,
        ),
        "checkin": EarningRule.objects.create(
            dealer_group_id=g,
            event=Event.EVENT_CHECKIN,
            name="Event check-in",
            points=30,
            daily_cap=60,  # recorded by staff: at most two events' worth a day
        ),
    }
    partner, api_key = create_partner(
        g, name="Sparkle Car Wash", category="car wash", points_per_yuan=Decimal("0.5")
    )
    rewards = {
        "wash": Reward.objects.create(
            dealer_group_id=g,
            name="Car wash",
            kind=RewardKind.SERVICE,
            cost=300,
            icon="🚿",
            value=Decimal("30"),
            description="A hand wash at the store.",
        ),
        "cabin": Reward.objects.create(
            dealer_group_id=g,
            name="Cabin filter replacement",
            kind=RewardKind.SERVICE,
            cost=1200,
            icon="🌬️",
            value=Decimal("136"),
            description="Parts and labour included.",
        ),
        "mug": Reward.objects.create(
            dealer_group_id=g,
            name="Travel mug",
            kind=RewardKind.ACCESSORY,
            cost=800,
            stock=50,
            icon="☕",
            value=Decimal("45"),
        ),
        "detail": Reward.objects.create(
            dealer_group_id=g,
            name="Interior detailing",
            kind=RewardKind.SERVICE,
            cost=2500,
            icon="✨",
            min_tier=tiers[1],
            value=Decimal("280"),
        ),
        "partner_wash": Reward.objects.create(
            dealer_group_id=g,
            name="Sparkle premium wash",
            kind=RewardKind.PARTNER,
            cost=400,
            icon="🫧",
            partner=partner,
            value=Decimal("40"),
        ),
    }
    on_time = Badge.objects.create(
        dealer_group_id=g,
        name="Punctual",
        icon="⏱️",
        description="Three services on time in a year.",
    )
    explorer = Badge.objects.create(
        dealer_group_id=g,
        name="Explorer",
        icon="🧭",
        description="Five different partner stations in 60 days.",
    )
    missions = {
        "on_time": Mission.objects.create(
            dealer_group_id=g,
            name="3 services on time in a year",
            event=Event.APPOINTMENT_KEPT,
            measure=Measure.COUNT,
            target=3,
            window_days=365,
            points=300,
            badge=on_time,
        ),
        "explorer": Mission.objects.create(
            dealer_group_id=g,
            name="Visit 5 different partners in 60 days",
            event=Event.PARTNER_PURCHASE,
            measure=Measure.DISTINCT,
            target=5,
            window_days=60,
            points=500,
            badge=explorer,
        ),
    }
    _translate([*tiers, *rules.values(), *rewards.values(), on_time, explorer, *missions.values()])
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

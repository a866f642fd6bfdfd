"""Demo loyalty programme: a programme per group (tiers, rules, rewards with a car wash, two
missions, a partner with an API key) and some history for the demo owners, written through the
real ledger with past timestamps so balances, tiers, missions and the report are alive."""

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.customers.models import Customer
from m4s.loyalty import ledger, partners, rewards, services
from m4s.loyalty.choices import Event
from m4s.loyalty.models import Member

from .starters import loyalty as starter

DEMO_PARTNER_KEYS = {  # fixed so the README and `m4s demo` can show them; real keys are random
    "jingcheng": "pk_demo0001.jingcheng-partner-demo-key",
    "huabei": "pk_demo0002.huabei-partner-demo-key",
}


def install_demo_programmes(groups) -> dict:
    """A programme per group, before the service demo runs, so its live events earn points."""
    clubs = {}
    for group in groups:
        club = starter.install_programme(group)
        raw = DEMO_PARTNER_KEYS.get(group.slug)
        if raw:
            type(club.partner).objects.for_group(group.pk).filter(pk=club.partner.pk).update(
                key_prefix=raw.split(".", 1)[0], key_hash=partners.hash_key(raw)
            )
        clubs[group.slug] = club
    return clubs


def build_loyalty_history(groups, clubs, owner_phones, rng: random.Random | None = None) -> None:
    rng = rng or random.Random(2026)
    for group in groups:
        club = clubs[group.slug]
        customers = list(
            Customer.objects.for_group(group.pk)
            .select_related("owner", "store")
            .order_by("id")[:60]
        )
        now = timezone.now()
        for i, customer in enumerate(customers):
            _history(
                customer,
                club,
                now,
                rng,
                rich=customer.owner is not None and customer.owner.phone in owner_phones,
            )
            if i % 7 == 3:
                Member.objects.for_group(group.pk).filter(customer=customer).update(
                    leaderboard_name=customer.name[:1] + "**"
                )
        ledger.release_pending(now)
        for member in Member.objects.for_group(group.pk):
            services.upgrade_tier_now(member, now)
        _vouchers(group, club, owner_phones, now)


def _history(customer, club, now, rng, *, rich: bool):
    """A few months of events: paid services, kept appointments, surveys, partner purchases."""
    visits = rng.randint(3, 6) if rich else rng.randint(0, 3)
    for v in range(visits):
        at = now - dt.timedelta(days=rng.randint(20, 330))
        amount = Decimal(rng.choice([546, 726, 1280, 1890, 2640, 860]))
        src = f"demo:{customer.pk}:{v}"
        services.record_event(
            customer,
            Event.APPOINTMENT_KEPT,
            source=f"{src}:kept",
            store_id=customer.store_id,
            now=at,
        )
        services.record_event(
            customer,
            Event.SERVICE_PAID,
            source=f"{src}:paid",
            amount=amount,
            store_id=customer.store_id,
            now=at + dt.timedelta(hours=3),
        )
        if rng.random() < 0.6:
            services.record_event(
                customer,
                Event.SURVEY_COMPLETED,
                source=f"{src}:survey",
                now=at + dt.timedelta(days=1),
            )
    if rich:
        for p in range(rng.randint(2, 4)):
            services.record_event(
                customer,
                Event.PARTNER_PURCHASE,
                source=f"demo:{customer.pk}:partner:{p}",
                amount=Decimal(rng.choice([38, 45, 60])),
                key=f"partner:{p}",
                partner=club.partner,
                now=now - dt.timedelta(days=rng.randint(1, 50)),
            )
        services.record_event(
            customer,
            Event.CAR_BOUND,
            source=f"demo:{customer.pk}:bound",
            now=now - dt.timedelta(days=300),
        )


def _vouchers(group, club, owner_phones, now):
    """The first demo owner has redeemed a car wash (used) and holds one ready to use."""
    member = (
        Member.objects.for_group(group.pk)
        .filter(customer__owner__phone__in=owner_phones)
        .order_by("customer__owner__phone")
        .first()
    )
    if member is None:
        return
    ledger.credit(
        member,
        1000,
        reason=text(gettext_noop("Welcome bonus")),
        key=f"demo:welcome:{member.pk}",
        expires_at=now + dt.timedelta(days=25),
        now=now - dt.timedelta(days=340),
    )
    used, _ = rewards.redeem_reward(member, club.rewards["wash"].pk, key=f"demo:wash:{member.pk}:1")
    from m4s.loyalty.models import Voucher

    Voucher.objects.for_group(group.pk).filter(pk=used.pk).update(
        status="used", used_at=now - dt.timedelta(days=2)
    )
    rewards.redeem_reward(member, club.rewards["wash"].pk, key=f"demo:wash:{member.pk}:2")

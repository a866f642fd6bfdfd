"""Reads of the loyalty area, scoped to one dealer group (owners: the groups they belong to)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core import cache as config_cache
from m4s.core.errors import DomainError, NotFound
from m4s.core.routers import on_replica
from m4s.customers.models import Customer

from .choices import EntryKind, VoucherStatus
from .models import (
    LedgerEntry,
    Member,
    MemberBadge,
    Mission,
    MissionCompletion,
    Partner,
    Programme,
    Reward,
    Tier,
    Voucher,
)
from .services import mission_progress


@dataclass(frozen=True)
class ProgrammeConfig:
    """A group's programme and its tiers (lowest threshold first), as pages read them."""

    programme: Programme
    tiers: list[Tier]

    def tier(self, tier_id: int | None) -> Tier | None:
        return next((t for t in self.tiers if t.pk == tier_id), None)


def programme_config(group_id: int) -> ProgrammeConfig | None:
    """The group's programme and tiers from the configuration cache (None: no programme). Whoever
    writes a programme or a tier calls `config_cache.changed(config_cache.LOYALTY)`."""

    def build() -> ProgrammeConfig | None:
        programme = Programme.objects.for_group(group_id).first()
        if programme is None:
            return None
        tiers = list(Tier.objects.for_group(group_id).order_by("threshold"))
        return ProgrammeConfig(programme, tiers)

    return config_cache.get(config_cache.LOYALTY, group_id, build)


def _loyalty_customer(owner, group_id: int | None = None) -> Customer | None:
    """The owner's customer record that carries the membership, with its member row (or None)
    read in the same query (`customer.member_or_none`)."""
    customers = (
        Customer.objects.unscoped()
        .filter(owner=owner)
        .select_related("member")
        .only("dealer_group", "store", "owner", "member")
    )
    if group_id is not None:
        customers = customers.filter(dealer_group_id=group_id)
    chosen = None
    for c in customers.order_by("id"):  # the customer record at the home store's group wins
        if chosen is None or (owner.home_store_id and c.store_id == owner.home_store_id):
            chosen = c
    if chosen is None or programme_config(chosen.dealer_group_id) is None:
        return None
    chosen.member_or_none = getattr(chosen, "member", None)
    return chosen


def loyalty_customer_of_owner(owner, group_id: int | None = None) -> Customer | None:
    """The customer record that carries the owner's membership: the one at their home store's
    group (or at a given group), when that group runs a programme; None otherwise."""
    return _loyalty_customer(owner, group_id)


def membership(customer: Customer) -> Member:
    """The member row read with `loyalty_customer_of_owner`'s customer, else the service creates
    it (first use)."""
    from .services import get_or_create_member

    member = getattr(customer, "member_or_none", None)
    return member if member is not None else get_or_create_member(customer)


def member_of_owner(owner, group_id: int | None = None) -> Member | None:
    """The owner's membership at their home store's group (or a given group); None when there is
    none yet. Read only: a caller that needs the membership creates it through
    services.get_or_create_member(loyalty_customer_of_owner(owner))."""
    customer = loyalty_customer_of_owner(owner, group_id)
    return None if customer is None else customer.member_or_none  # type: ignore[attr-defined]


@dataclass
class Summary:
    member: Member
    balance: int
    pending: int
    qualifying: int
    tier: Tier | None
    next_tier: Tier | None
    to_next: int | None
    progress_pct: int
    expiring_soon: int
    expiring_on: dt.datetime | None
    value: Decimal


def summary(member: Member, now: dt.datetime | None = None, *, fresh: bool = False) -> Summary:
    """The member's points, tier progress and what expires soon. `fresh`: the member row was just
    read (else it is read again here). One ledger query; the programme and tiers are cached."""
    now = now or timezone.now()
    g = member.dealer_group_id
    if not fresh:
        member = Member.objects.for_group(g).select_related("customer").get(pk=member.pk)
    config = programme_config(g)
    programme = config.programme if config else None
    tiers = config.tiers if config else list(Tier.objects.for_group(g).order_by("threshold"))
    tier = next((t for t in tiers if t.pk == member.tier_id), None)
    if member.tier_id and tier is None:  # a tier outside the cached list (never expected)
        tier = Tier.objects.for_group(g).get(pk=member.tier_id)
    member.tier = tier
    since = now - dt.timedelta(days=365)
    warning = dt.timedelta(days=programme.expiry_warning_days if programme else 30)
    live = Q(remaining__gt=0, expires_at__gt=now)
    sums = (
        LedgerEntry.objects.for_group(g)
        .filter(member=member)
        .aggregate(
            # services.qualifying_points: earns that count towards tiers, less their reversals
            earned=Sum("points", filter=Q(qualifying=True, created_at__gt=since)),
            reversed=Sum(
                "points",
                filter=Q(
                    kind=EntryKind.REVERSE,
                    reverses__qualifying=True,
                    reverses__created_at__gt=since,
                ),
            ),
            soon=Sum("remaining", filter=live & Q(expires_at__lte=now + warning)),
            first=Min("expires_at", filter=live),
        )
    )
    qualifying = max((sums["earned"] or 0) + (sums["reversed"] or 0), 0)
    nxt = next(
        (
            t
            for t in tiers
            if t.threshold > qualifying and (tier is None or t.threshold > tier.threshold)
        ),
        None,
    )
    floor = tier.threshold if tier is not None else 0
    pct = (
        100
        if nxt is None
        else int(100 * max(qualifying - floor, 0) / max(nxt.threshold - floor, 1))
    )
    return Summary(
        member=member,
        balance=member.balance,
        pending=member.pending,
        qualifying=qualifying,
        tier=tier,
        next_tier=nxt,
        to_next=(nxt.threshold - qualifying) if nxt else None,
        progress_pct=min(pct, 100),
        expiring_soon=sums["soon"] or 0,
        expiring_on=sums["first"],
        value=(
            Decimal(member.balance) * (programme.point_value if programme else Decimal("0"))
        ).quantize(Decimal("0.01")),
    )


def ledger_of(member: Member, *, limit: int = 50, before_id: int | None = None):
    qs = (
        LedgerEntry.objects.for_group(member.dealer_group_id)
        .filter(member=member)
        .select_related("partner")
    )
    if before_id:
        qs = qs.filter(id__lt=before_id)
    return qs.order_by("-id")[:limit]


def pending_lots(member: Member):
    return (
        LedgerEntry.objects.for_group(member.dealer_group_id)
        .filter(member=member, is_pending=True, remaining__gt=0)
        .order_by("available_at")
    )


def rewards_for(member: Member, *, fresh: bool = False):
    """The catalogue with, per reward, whether this member can redeem it now. `fresh`: the member
    row was just read and its tier can come from the cached programme (else both are read)."""
    config = programme_config(member.dealer_group_id) if fresh else None
    tier = config.tier(member.tier_id) if config else None
    if tier is None and member.tier_id or not fresh:
        member = (
            Member.objects.for_group(member.dealer_group_id)
            .select_related("tier")
            .get(pk=member.pk)
        )
        tier = member.tier
    level = tier.threshold if tier is not None else -1
    out = []
    for r in (
        Reward.objects.for_group(member.dealer_group_id)
        .filter(is_active=True)
        .select_related("min_tier", "partner")
    ):
        reason = ""
        if r.min_tier_id and r.min_tier.threshold > level:
            reason = "tier"
        elif r.stock is not None and r.stock <= 0:
            reason = "stock"
        elif r.cost > member.balance:
            reason = "points"
        out.append((r, reason))
    return out


def vouchers_of(member: Member):
    return (
        Voucher.objects.for_group(member.dealer_group_id)
        .filter(member=member)
        .select_related("reward", "reward__partner")
        .order_by("-issued_at")
    )


def get_voucher_for_owner(member: Member, voucher_id: int) -> Voucher:
    v = vouchers_of(member).filter(pk=voucher_id).first()
    if v is None:
        raise NotFound(_("No such voucher."))
    return v


@dataclass
class MissionView:
    mission: Mission
    progress: int
    completed_at: dt.datetime | None

    @property
    def pct(self) -> int:
        return min(100, int(100 * self.progress / max(self.mission.target, 1)))


def missions_of(member: Member, now=None) -> list[MissionView]:
    done = dict(
        MissionCompletion.objects.for_group(member.dealer_group_id)
        .filter(member=member)
        .values_list("mission_id", "completed_at")
    )
    return [
        MissionView(
            m, m.target if m.pk in done else mission_progress(member, m, now), done.get(m.pk)
        )
        for m in Mission.objects.for_group(member.dealer_group_id)
        .filter(is_active=True)
        .select_related("badge")
    ]


def badges_of(member: Member):
    return (
        MemberBadge.objects.for_group(member.dealer_group_id)
        .filter(member=member)
        .select_related("badge")
    )


def leaderboard(group_id: int, store_id: int, month: dt.date, limit: int = 10) -> list[dict]:
    """Members of a store by points earned in a month; only those who chose a display name."""
    start = dt.datetime.combine(
        month.replace(day=1), dt.time(0), tzinfo=timezone.get_current_timezone()
    )
    from m4s.core.dates import add_months

    end = dt.datetime.combine(add_months(month.replace(day=1), 1), dt.time(0), tzinfo=start.tzinfo)
    rows = (
        LedgerEntry.objects.for_group(group_id)
        .filter(
            member__customer__store_id=store_id,
            kind=EntryKind.EARN,
            created_at__gte=start,
            created_at__lt=end,
        )
        .exclude(member__leaderboard_name="")
        .values("member_id", name=F("member__leaderboard_name"))
        .annotate(points=Sum("points"))
        .order_by("-points", "member_id")[:limit]
    )
    return list(rows)


def members_for(actor):
    return Member.objects.for_actor(actor)


def find_member(actor, q: str):
    q = (q or "").strip()
    qs = members_for(actor).select_related("customer", "tier")
    if not q:
        return qs.none()
    return qs.filter(
        Q(code=q.upper()) | Q(customer__phone__endswith=q) | Q(customer__name__icontains=q)
    )[:20]


@dataclass
class Report:
    issued: int
    redeemed: int
    expired: int
    reversed: int
    adjusted: int
    outstanding: int
    pending: int
    liability: Decimal
    top_rewards: list
    missions: list
    members: int
    by_month: list


@on_replica  # a report: its reads may go to the read replica (REPLICA_DATABASE_URL)
def programme_report(group_id: int, *, months: int = 6, now=None) -> Report:
    now = now or timezone.now()
    totals = dict(
        LedgerEntry.objects.for_group(group_id).values_list("kind").annotate(p=Sum("points"))
    )
    balances = Member.objects.for_group(group_id).aggregate(
        b=Sum("balance"), p=Sum("pending"), n=Count("id")
    )
    programme = Programme.objects.for_group(group_id).first()
    outstanding = balances["b"] or 0
    from django.db.models.functions import TruncMonth

    by_month = list(
        LedgerEntry.objects.for_group(group_id)
        .filter(created_at__gte=now - dt.timedelta(days=31 * months))
        .annotate(m=TruncMonth("created_at"))
        .values("m")
        .annotate(
            issued=Sum("points", filter=Q(kind=EntryKind.EARN)),
            redeemed=Sum("points", filter=Q(kind=EntryKind.REDEEM)),
            expired=Sum("points", filter=Q(kind=EntryKind.EXPIRE)),
        )
        .order_by("m")
    )
    return Report(
        issued=totals.get(EntryKind.EARN, 0) or 0,
        redeemed=-(totals.get(EntryKind.REDEEM, 0) or 0),
        expired=-(totals.get(EntryKind.EXPIRE, 0) or 0),
        reversed=-(totals.get(EntryKind.REVERSE, 0) or 0),
        adjusted=totals.get(EntryKind.ADJUST, 0) or 0,
        outstanding=outstanding,
        pending=balances["p"] or 0,
        liability=(
            Decimal(outstanding + (balances["p"] or 0))
            * (programme.point_value if programme else 0)
        ).quantize(Decimal("0.01")),
        top_rewards=list(
            Voucher.objects.for_group(group_id)
            .values("reward__name")
            .annotate(n=Count("id"), used=Count("id", filter=Q(status=VoucherStatus.USED)))
            .order_by("-n")[:5]
        ),
        missions=list(
            MissionCompletion.objects.for_group(group_id)
            .values("mission__name")
            .annotate(n=Count("id"))
            .order_by("-n")
        ),
        members=balances["n"] or 0,
        by_month=by_month,
    )


def partner_settlement(partner: Partner, month: dt.date) -> dict:
    """Points the partner issued and burned in a month and what is owed each way."""
    from m4s.core.dates import add_months

    if not 2000 <= month.year <= 2100:
        raise DomainError("invalid_month", _("Choose a month between 2000 and 2100."), status=422)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(month.replace(day=1), dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(add_months(month.replace(day=1), 1), dt.time(0), tzinfo=tz)
    rows = LedgerEntry.objects.for_group(partner.dealer_group_id).filter(
        partner=partner, created_at__gte=start, created_at__lt=end
    )
    agg = rows.aggregate(
        issued=Sum("points", filter=Q(kind=EntryKind.EARN)),
        burned=Sum("points", filter=Q(kind=EntryKind.REDEEM)),
        reversed=Sum("points", filter=Q(kind=EntryKind.REVERSE)),
    )
    used = (
        Voucher.objects.for_group(partner.dealer_group_id)
        .filter(used_at_partner=partner, used_at__gte=start, used_at__lt=end)
        .aggregate(n=Count("id"), value=Sum("reward__value"))
    )
    programme = Programme.objects.for_group(partner.dealer_group_id).first()
    value = programme.point_value if programme else Decimal("0")
    issued = (agg["issued"] or 0) + (agg["reversed"] or 0)
    burned = -(agg["burned"] or 0)
    return {
        "partner": partner.name,
        "month": month.replace(day=1),
        "points_issued": issued,
        "points_burned": burned,
        "vouchers_used": used["n"] or 0,
        # the partner owes the dealer for points it issued; the dealer owes the partner for
        # points burned and vouchers honoured at the partner
        "partner_owes": (Decimal(issued) * value).quantize(Decimal("0.01")),
        "dealer_owes": ((Decimal(burned) * value) + (used["value"] or Decimal("0"))).quantize(
            Decimal("0.01")
        ),
    }

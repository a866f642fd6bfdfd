"""Every write of the loyalty area: membership, earning from events under rules, caps and
budgets, tiers, rewards and vouchers, coupons, missions and badges, referrals, partners.
Points move only through `ledger.py`."""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core import idempotency
from m4s.core.audit import audit_entry
from m4s.core.errors import DomainError
from m4s.core.i18n import name_of, text, translated
from m4s.customers.models import Customer
from m4s.notify.choices import Channel
from m4s.notify.services import send_message
from m4s.service.selectors import add_months
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import ledger
from .choices import CouponKind, EntryKind, Event, Measure, VoucherStatus
from .models import (
    Campaign,
    CouponCode,
    EarningRule,
    LedgerEntry,
    Member,
    MemberBadge,
    MemberEvent,
    Mission,
    MissionCompletion,
    Partner,
    PartnerRequest,
    Programme,
    Referral,
    Reward,
    Tier,
    Voucher,
)

PENDING_EVENTS = {
    Event.SERVICE_PAID,
    Event.PARTNER_PURCHASE,
}  # refundable: pending for the return window


# --- membership ----------------------------------------------------------------------------
def programme_of(group_id: int) -> Programme | None:
    return Programme.objects.for_group(group_id).first()


def get_or_create_member(customer: Customer) -> Member:
    member = Member.objects.for_group(customer.dealer_group_id).filter(customer=customer).first()
    if member is not None:
        return member
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Member.objects.create(
                    tier=tier_for(customer.dealer_group_id, 0),  # the entry tier, if any
                    dealer_group_id=customer.dealer_group_id,
                    customer=customer,
                    code=ledger.new_code(10),
                    referral_code=ledger.new_code(6),
                )
        except IntegrityError:
            member = (
                Member.objects.for_group(customer.dealer_group_id).filter(customer=customer).first()
            )
            if member is not None:
                return member
    raise DomainError(
        "conflict", _("Could not create the membership; please try again."), status=409
    )


def _expiry(programme: Programme, now: dt.datetime) -> dt.datetime:
    return now + (add_months(now.date(), programme.expiry_months) - now.date())


# --- tiers -----------------------------------------------------------------------------------
def qualifying_points(member: Member, now: dt.datetime | None = None) -> int:
    """Qualifying points of the last 12 months: earns that count towards tiers, less their reversals."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=365)
    g = member.dealer_group_id
    earned = (
        LedgerEntry.objects.for_group(g)
        .filter(member=member, qualifying=True, created_at__gt=since)
        .aggregate(p=Sum("points"))["p"]
        or 0
    )
    reversed_ = (
        LedgerEntry.objects.for_group(g)
        .filter(
            member=member,
            kind=EntryKind.REVERSE,
            reverses__qualifying=True,
            reverses__created_at__gt=since,
        )
        .aggregate(p=Sum("points"))["p"]
        or 0
    )
    return max(earned + reversed_, 0)


def tier_for(group_id: int, points: int) -> Tier | None:
    return (
        Tier.objects.for_group(group_id)
        .filter(threshold__lte=points)
        .order_by("-threshold")
        .first()
    )


def upgrade_tier_now(member: Member, now) -> None:
    """Upgrade at once; downgrades wait for the review date (`review_tiers`)."""
    best = tier_for(member.dealer_group_id, qualifying_points(member, now))
    current = member.tier.threshold if member.tier_id else -1
    if best is not None and best.threshold > current:
        Member.objects.for_group(member.dealer_group_id).filter(pk=member.pk).update(tier=best)
        member.tier = best
        _tell(
            member,
            "loyalty.tier",
            lambda: (
                text(gettext_noop("Welcome to %(tier)s"), tier=name_of(best)),
                name_of(best, "benefits") if best.benefits else "",
            ),
            dedupe=f"tier:{member.pk}:{best.pk}:{now:%Y%m%d}",
        )


def review_tiers(now: dt.datetime | None = None) -> int:
    """On each programme's review day: every member gets the tier of their current qualifying
    points (which may be lower)."""
    now = now or timezone.now()
    changed = 0
    for programme in Programme.objects.unscoped():
        if timezone.localtime(now).timetuple().tm_yday != programme.tier_review_day:
            continue
        for member in Member.objects.for_group(programme.dealer_group_id).select_related("tier"):
            tier = tier_for(member.dealer_group_id, qualifying_points(member, now))
            if (tier.pk if tier else None) != member.tier_id:
                Member.objects.for_group(member.dealer_group_id).filter(pk=member.pk).update(
                    tier=tier
                )
                changed += 1
    return changed


# --- notifications ------------------------------------------------------------------------------
def _tell(member: Member, kind: str, compose, *, dedupe: str, link: str = "/app/loyalty/"):
    owner = (
        Customer.objects.for_group(member.dealer_group_id)
        .select_related("owner")
        .get(pk=member.customer_id)
        .owner
    )
    if owner is None:
        return
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        title, body = compose()
        send_message(
            channel=Channel.INAPP,
            owner=owner,
            group=member.dealer_group_id,
            kind=kind,
            subject=title,
            body=body or "",
            link=link,
            dedupe_key=f"loyalty:{dedupe}",
        )


# --- earning ------------------------------------------------------------------------------------
@dataclass
class Earned:
    event: MemberEvent | None
    entries: list
    completed_missions: list
    created: bool = True  # False: the source was recorded before, nothing happened now


def _rule_points(rule: EarningRule, amount: Decimal, multiplier: Decimal) -> int:
    base = Decimal(rule.points) + (Decimal(amount) * rule.points_per_yuan).to_integral_value(
        ROUND_DOWN
    )
    return int((base * multiplier).to_integral_value(ROUND_DOWN))


def _capped(rule: EarningRule, member: Member, points: int, now) -> int:
    g = member.dealer_group_id
    if rule.daily_cap is not None:
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        today = (
            LedgerEntry.objects.for_group(g)
            .filter(member=member, rule=rule, created_at__gte=start)
            .aggregate(p=Sum("points"))["p"]
            or 0
        )
        points = min(points, max(rule.daily_cap - today, 0))
    if rule.total_cap is not None:
        total = (
            LedgerEntry.objects.for_group(g)
            .filter(member=member, rule=rule)
            .aggregate(p=Sum("points"))["p"]
            or 0
        )
        points = min(points, max(rule.total_cap - total, 0))
    return points


def _draw_budget(campaign: Campaign | None, points: int, now) -> bool:
    """Take points from a campaign budget with one conditional UPDATE: never overspent."""
    if campaign is None:
        return True
    today = timezone.localtime(now).date()
    if (campaign.starts_on and today < campaign.starts_on) or (
        campaign.ends_on and today > campaign.ends_on
    ):
        return False
    return bool(
        Campaign.objects.for_group(campaign.dealer_group_id)
        .filter(pk=campaign.pk, spent__lte=F("budget") - points)
        .update(spent=F("spent") + points)
    )


@transaction.atomic
def record_event(
    customer: Customer,
    event: str,
    *,
    source: str,
    amount: Decimal = Decimal("0"),
    key: str = "",
    store_id: int | None = None,
    partner: Partner | None = None,
    rules=None,
    actor=None,
    now: dt.datetime | None = None,
) -> Earned:
    """Something good happened: earn under the group's active rules for it, then advance
    missions. Idempotent per `source` (e.g. "ro:12"): a repeat has no effect. The caps are
    counted under the member's lock, so parallel events of one member cannot both pass them."""
    if event not in Event.values:
        raise DomainError("invalid_event", _("Unknown event."))
    now = now or timezone.now()
    g = customer.dealer_group_id
    programme = programme_of(g)
    if programme is None:
        return Earned(None, [], [])
    member = get_or_create_member(customer)
    try:
        with transaction.atomic():
            ev = MemberEvent.objects.create(
                dealer_group_id=g,
                member=member,
                event=event,
                at=now,
                amount=amount,
                key=key[:60],
                store_id=store_id or customer.store_id,
                source=source[:100],
            )
    except IntegrityError:
        first = MemberEvent.objects.for_group(g).get(source=source[:100])
        if first.member_id != member.pk:
            raise DomainError(
                "idempotency_key_reused",
                _("This key or reference was already used for another member."),
                status=422,
            ) from None
        return Earned(first, [], [], created=False)
    member = (
        Member.objects.for_group(g)
        .select_for_update(of=("self",))
        .select_related("tier")
        .get(pk=member.pk)
    )
    multiplier = member.tier.earn_multiplier if member.tier_id else Decimal("1")
    if rules is None:
        rules = (
            EarningRule.objects.for_group(g)
            .filter(event=event, is_active=True)
            .select_related("campaign")
        )
    entries = []
    for rule in rules:
        points = _capped(rule, member, _rule_points(rule, amount, multiplier), now)
        if points <= 0 or not _draw_budget(rule.campaign, points, now):
            continue
        pending_until = (
            now + dt.timedelta(days=programme.pending_days) if event in PENDING_EVENTS else None
        )
        entry, _created = ledger.credit(
            member,
            points,
            reason=name_of(rule),
            key=f"{source}:rule:{rule.pk or 'default'}",
            source=(event, source),
            expires_at=_expiry(programme, now),
            available_at=pending_until,
            qualifying=rule.qualifying,
            rule=rule if rule.pk else None,  # a partner's own rate is not a stored rule
            campaign=rule.campaign,
            partner=partner,
            actor=actor,
            now=now,
        )
        entries.append(entry)
    if any(e.qualifying for e in entries):  # only qualifying points can move the tier
        upgrade_tier_now(member, now)
        total = sum(e.points for e in entries)
        _tell(
            member,
            "loyalty.earned",
            lambda: (
                text(gettext_noop("+%(n)d points"), n=total),
                [e.reason_text or {"n": e.reason} for e in entries],
            ),
            dedupe=f"earned:{g}:{source}",
        )
    completed = advance_missions(member, event, now=now)
    return Earned(ev, entries, completed)


STAFF_EVENTS = (Event.EVENT_CHECKIN, Event.STORY_APPROVED, Event.LIKE_RECEIVED)


def record_staff_event(actor, member: Member, event: str, *, source: str) -> Earned:
    """Staff record an event check-in, an approved story or a like for a member (API and
    console). Recording one hands out points, so it needs the adjust-points capability like a
    manual adjustment; the rules' caps per member per day and overall apply as to automatic
    events; every new recording is audited with who did it. Idempotent per `source`."""
    check_perm(actor, Perm.ADJUST_POINTS)
    if event not in STAFF_EVENTS:
        raise DomainError(
            "invalid_event", _("Staff can record event check-ins, approved stories and likes.")
        )
    source = (source or "").strip()
    if not source:
        raise DomainError("source_required", _("Say which event or story this is."))
    customer = Customer.objects.for_group(member.dealer_group_id).get(pk=member.customer_id)
    with transaction.atomic():
        earned = record_event(
            customer,
            event,
            source=f"staff:{member.pk}:{source}",
            store_id=customer.store_id,
            actor=actor,
        )
        if earned.created and earned.event is not None:
            audit_entry(  # on the member, next to the manual adjustments
                actor=actor,
                action="update",
                group_id=member.dealer_group_id,
                obj=member,
                changes={
                    "event": [None, event],
                    "source": [None, source],
                    "points": [None, sum(e.points for e in earned.entries)],
                },
            ).save()
    return earned


# --- missions --------------------------------------------------------------------------------
def mission_progress(member: Member, mission: Mission, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    events = MemberEvent.objects.for_group(member.dealer_group_id).filter(
        member=member,
        event=mission.event,
        at__gt=now - dt.timedelta(days=mission.window_days),
        at__lte=now,
    )
    if mission.measure == Measure.SUM:
        return int(events.aggregate(s=Sum("amount"))["s"] or 0)
    if mission.measure == Measure.DISTINCT:
        return events.exclude(key="").aggregate(n=Count("key", distinct=True))["n"]
    return events.count()


def advance_missions(member: Member, event: str, *, now=None) -> list[Mission]:
    now = now or timezone.now()
    done = set(
        MissionCompletion.objects.for_group(member.dealer_group_id)
        .filter(member=member)
        .values_list("mission_id", flat=True)
    )
    completed = []
    for mission in Mission.objects.for_group(member.dealer_group_id).filter(
        event=event, is_active=True
    ):
        if mission.pk in done or mission_progress(member, mission, now) < mission.target:
            continue
        try:
            with transaction.atomic():
                MissionCompletion.objects.create(
                    dealer_group_id=member.dealer_group_id,
                    member=member,
                    mission=mission,
                    completed_at=now,
                    store_id=member.customer.store_id,
                )
        except IntegrityError:
            continue
        programme = programme_of(member.dealer_group_id)
        if mission.points:
            ledger.credit(
                member,
                mission.points,
                reason=name_of(mission),
                key=f"mission:{mission.pk}:{member.pk}",
                source=("mission", mission.pk),
                expires_at=_expiry(programme, now),
                now=now,
            )
        if mission.badge_id:
            MemberBadge.objects.for_group(member.dealer_group_id).get_or_create(
                member=member,
                badge=mission.badge,
                defaults={"dealer_group_id": member.dealer_group_id, "awarded_at": now},
            )
        _tell(
            member,
            "loyalty.mission",
            lambda m=mission: (
                text(gettext_noop("Mission complete: %(name)s"), name=name_of(m)),
                text(gettext_noop("+%(n)d points"), n=m.points),
            ),
            dedupe=f"mission:{mission.pk}:{member.pk}",
        )
        completed.append(mission)
    return completed


# --- rewards and vouchers ------------------------------------------------------------------------
@transaction.atomic
def redeem_reward(member: Member, reward_id: int, *, key: str, now=None) -> tuple[Voucher, bool]:
    """Spend points on a reward: a voucher with a code and QR, usable at once."""
    now = now or timezone.now()
    g = member.dealer_group_id
    if not key:
        raise DomainError("idempotency_key_required", _("An Idempotency-Key is required."))
    prior = (
        LedgerEntry.objects.for_group(g)
        .filter(idempotency_key=f"redeem:{key}")
        .select_related("voucher")
        .first()
    )
    if prior is not None:
        if prior.member_id != member.pk:
            raise DomainError(
                "idempotency_key_reused", _("This key was used for another request."), status=422
            )
        return prior.voucher, False
    reward = (
        Reward.objects.for_group(g)
        .filter(pk=reward_id, is_active=True)
        .select_related("min_tier")
        .first()
    )
    if reward is None:
        raise DomainError("not_found", _("No such reward."), status=404)
    member = Member.objects.for_group(g).select_related("tier").get(pk=member.pk)
    if reward.min_tier_id and (
        member.tier is None or member.tier.threshold < reward.min_tier.threshold
    ):
        raise DomainError(
            "tier_too_low",
            _("This reward is for %(tier)s members and above.")
            % {"tier": translated(reward.min_tier, "name")},
            status=403,
        )
    if reward.stock is not None and not Reward.objects.for_group(g).filter(
        pk=reward.pk, stock__gt=0
    ).update(stock=F("stock") - 1):
        raise DomainError("out_of_stock", _("This reward is out of stock."), status=409)
    entry, created = ledger.debit(
        member,
        reward.cost,
        kind=EntryKind.REDEEM,
        reason=name_of(reward),
        key=f"redeem:{key}",
        source=("reward", reward.pk),
        partner=reward.partner,
        now=now,
    )
    if not created:  # the same request won the member lock first: replay its voucher
        if reward.stock is not None:  # give back the unit taken above
            Reward.objects.for_group(g).filter(pk=reward.pk).update(stock=F("stock") + 1)
        return Voucher.objects.for_group(g).get(entry=entry), False
    for _attempt in range(5):
        try:
            with transaction.atomic():
                voucher = Voucher.objects.create(
                    dealer_group_id=g,
                    code=ledger.new_code(10),
                    member=member,
                    reward=reward,
                    entry=entry,
                    issued_at=now,
                    expires_at=now + dt.timedelta(days=reward.valid_days),
                )
            return voucher, True
        except IntegrityError:
            continue
    raise DomainError("conflict", _("Please try again."), status=409)


@transaction.atomic
def use_voucher(code: str, *, actor=None, partner: Partner | None = None, now=None) -> Voucher:
    """Staff (or the partner whose reward it is) scan the code and mark it used, once."""
    now = now or timezone.now()
    code = (code or "").strip().upper()
    if actor is not None:
        check_perm(actor, Perm.USE_VOUCHERS)  # the desk roles, not technicians or sales
        group_id = actor.dealer_group_id
    else:
        group_id = partner.dealer_group_id
    voucher = (
        Voucher.objects.for_group(group_id)
        .select_for_update(of=("self",))
        .select_related("reward", "member")
        .filter(code=code)
        .first()
    )
    if voucher is None or (partner is not None and voucher.reward.partner_id != partner.pk):
        raise DomainError("not_found", _("No such voucher."), status=404)
    if voucher.status == VoucherStatus.USED:
        raise DomainError(
            "already_used",
            _("This voucher was already used at %(at)s.")
            % {"at": timezone.localtime(voucher.used_at).strftime("%Y-%m-%d %H:%M")},
            status=409,
        )
    if voucher.expires_at <= now:
        raise DomainError("voucher_expired", _("This voucher has expired."), status=410)
    voucher.status, voucher.used_at, voucher.used_by, voucher.used_at_partner = (
        VoucherStatus.USED,
        now,
        actor,
        partner,
    )
    voucher.save(update_fields=["status", "used_at", "used_by", "used_at_partner"])
    return voucher


# --- coupons -----------------------------------------------------------------------------------
def coupon_discount(
    code: str, group_id: int, spend: Decimal, *, member: Member | None, today=None
) -> tuple:
    """(CouponCode, discount) if the code is usable on this spend, else a DomainError."""
    today = today or timezone.localdate()
    cc = (
        CouponCode.objects.for_group(group_id)
        .select_related("coupon")
        .filter(code=(code or "").strip().upper())
        .first()
    )
    if cc is None:
        raise DomainError("invalid_coupon", _("This coupon code is not valid."))
    c = cc.coupon
    if cc.used_at is not None:
        raise DomainError("coupon_used", _("This coupon was already used."), status=409)
    if not c.valid_from <= today <= c.valid_to:
        raise DomainError("coupon_expired", _("This coupon is not valid today."))
    if cc.member_id and (member is None or cc.member_id != member.pk):
        raise DomainError("invalid_coupon", _("This coupon code is not valid."))
    if spend < c.min_spend:
        raise DomainError(
            "coupon_min_spend",
            _("This coupon needs a spend of at least ¥%(min)s.") % {"min": c.min_spend},
        )
    if (
        member is not None
        and CouponCode.objects.for_group(group_id)
        .filter(coupon=c, member=member, used_at__isnull=False)
        .count()
        >= c.per_owner_limit
    ):
        raise DomainError(
            "coupon_limit", _("You have used this coupon as often as allowed."), status=409
        )
    if c.kind == CouponKind.PERCENT:
        discount = (spend * c.value / 100).quantize(Decimal("0.01"), ROUND_DOWN)
    else:
        discount = min(c.value, spend)
    return cc, discount


@transaction.atomic
def redeem_coupon(
    code: str, group_id: int, spend: Decimal, *, member: Member | None, used_on: str
) -> Decimal:
    cc, discount = coupon_discount(code, group_id, spend, member=member)
    if (
        not CouponCode.objects.for_group(group_id)
        .filter(pk=cc.pk, used_at__isnull=True)
        .update(
            used_at=timezone.now(),
            used_on=used_on[:40],
            discount=discount,
            member=member or cc.member,
        )
    ):
        raise DomainError("coupon_used", _("This coupon was already used."), status=409)
    return discount


def redeem_coupon_at_settlement(
    code: str, *, group_id: int, customer_id: int, spend: Decimal, used_on: str
):
    """settings.SERVICE_COUPON_REDEEMER: runs inside the settlement's transaction."""
    customer = Customer.objects.for_group(group_id).get(pk=customer_id)
    member = Member.objects.for_group(group_id).filter(customer=customer).first()
    return redeem_coupon(code, group_id, spend, member=member, used_on=used_on)


def labour_discount_at_settlement(*, group_id: int, customer_id: int):
    """settings.SERVICE_MEMBER_DISCOUNT: the member's tier discount on customer-paid labour, as
    (percent, reason for the price log), or None."""
    member = (
        Member.objects.for_group(group_id)
        .select_related("tier")
        .filter(customer_id=customer_id)
        .first()
    )
    if member is None or member.tier is None or not member.tier.labour_discount_pct:
        return None
    pct = member.tier.labour_discount_pct
    return pct, _("%(tier)s member: %(pct)d%% off labour") % {"tier": member.tier.name, "pct": pct}


# --- staff adjustments and clawback -----------------------------------------------------------------
@transaction.atomic
def adjust(actor, member: Member, points: int, *, reason: str, key: str):
    """A manual correction by staff, with a reason, audited."""
    check_perm(actor, Perm.ADJUST_POINTS)
    if not reason.strip():
        raise DomainError("reason_required", _("Say why the points are adjusted."))
    if not isinstance(points, int) or points == 0 or abs(points) > 1_000_000:
        raise DomainError("invalid_points", _("Points must be a non-zero whole number."))
    programme = programme_of(member.dealer_group_id)
    if points > 0:
        entry, created = ledger.credit(
            member,
            points,
            kind=EntryKind.ADJUST,
            reason=reason,
            key=f"adjust:{key}",
            expires_at=_expiry(programme, timezone.now()),
            actor=actor,
        )
    else:
        entry, created = ledger.debit(
            member, -points, kind=EntryKind.ADJUST, reason=reason, key=f"adjust:{key}", actor=actor
        )
    if not created and entry.points != points:
        raise DomainError(
            "idempotency_key_reused",
            _("This Idempotency-Key was used for another adjustment."),
            status=422,
        )
    if created:
        audit_entry(
            actor=actor,
            action="update",
            group_id=member.dealer_group_id,
            obj=member,
            changes={"points": [None, points], "reason": [None, reason]},
        ).save()
    return entry


@transaction.atomic
def claw_back(source: str, group_id: int, *, reason: str, actor=None) -> list[LedgerEntry]:
    """Reverse every earn of a source (e.g. a refunded repair order "ro:12")."""
    out = []
    for entry in (
        LedgerEntry.objects.for_group(group_id)
        .filter(source_id=source, kind=EntryKind.EARN)
        .select_related("member")
    ):
        rev = ledger.reverse(entry, reason=reason, key=f"reverse:{entry.pk}", actor=actor)
        if rev is not None:
            out.append(rev)
    return out


# --- referrals -------------------------------------------------------------------------------------
@transaction.atomic
def attribute_referral(referee_customer: Customer, referral_code: str) -> Referral:
    """The friend signed in with a referral code. Refused: self-referral, a phone or car already
    referred, a code of another group."""
    g = referee_customer.dealer_group_id
    referrer = (
        Member.objects.for_group(g)
        .select_related("customer")
        .filter(referral_code=(referral_code or "").strip().upper())
        .first()
    )
    if referrer is None:
        raise DomainError("invalid_referral", _("This referral code is not valid."))
    referee = get_or_create_member(referee_customer)
    if (
        referrer.pk == referee.pk
        or referrer.customer.phone == referee_customer.phone
        or (referrer.customer.owner_id and referrer.customer.owner_id == referee_customer.owner_id)
    ):
        raise DomainError("self_referral", _("You cannot refer yourself."), status=409)
    if (
        Referral.objects.for_group(g)
        .filter(Q(referee=referee) | Q(phone=referee_customer.phone))
        .exists()
    ):
        raise DomainError("already_referred", _("This person was already referred."), status=409)
    if referrer.referred_by_id == referee.pk:
        raise DomainError(
            "self_referral", _("You cannot refer the person who referred you."), status=409
        )
    referral = Referral.objects.create(
        dealer_group_id=g,
        referrer=referrer,
        referee=referee,
        phone=referee_customer.phone,
        created_at=timezone.now(),
    )
    Member.objects.for_group(g).filter(pk=referee.pk).update(referred_by=referrer)
    return referral


def _reward_referral(referee: Member, vin: str, now):
    """When the referred friend binds a car: the referrer earns (level 1) and their referrer too
    (level 2), each under its rules and caps; one car can be referred once."""
    g = referee.dealer_group_id
    referral = (
        Referral.objects.for_group(g)
        .select_related("referrer__customer")
        .filter(referee=referee)
        .first()
    )
    if referral is None or referral.rewarded_at is not None:
        return
    if Referral.objects.for_group(g).filter(vin=vin).exclude(pk=referral.pk).exists():
        return  # the car was already the reason for a referral reward
    Referral.objects.for_group(g).filter(pk=referral.pk).update(vin=vin, rewarded_at=now)
    rules = list(EarningRule.objects.for_group(g).filter(event=Event.REFERRAL, is_active=True))
    chain = [referral.referrer]
    if referral.referrer.referred_by_id:
        chain.append(
            Member.objects.for_group(g)
            .select_related("customer")
            .get(pk=referral.referrer.referred_by_id)
        )
    for level, member in enumerate(chain, start=1):
        level_rules = [r for r in rules if r.referral_level == level]
        if level_rules:
            record_event(
                member.customer,
                Event.REFERRAL,
                source=f"referral:{referral.pk}:L{level}",
                key=f"referee:{referee.pk}",
                rules=level_rules,
                now=now,
            )


# --- hook receivers (settings.HOOKS) ------------------------------------------------------------------
def on_service_settled(settlement):
    customer = Customer.objects.for_group(settlement.dealer_group_id).get(pk=settlement.customer_id)
    record_event(
        customer,
        Event.SERVICE_PAID,
        source=f"ro:{settlement.repair_order_id}",
        amount=settlement.customer_pay_net,
        store_id=settlement.store_id,
        key=f"store:{settlement.store_id}",
    )


def on_service_refunded(refund):
    """A refunded repair order takes back the points it earned (as far as the member still has
    them: never below zero)."""
    claw_back(
        f"ro:{refund.repair_order_id}",
        refund.dealer_group_id,
        reason=text(gettext_noop("Repair order refunded")),
    )


def on_appointment_kept(event):
    customer = Customer.objects.for_group(event.dealer_group_id).get(pk=event.customer_id)
    record_event(customer, Event.APPOINTMENT_KEPT, source=event.source, store_id=event.store_id)


def on_survey_answered(event):
    customer = Customer.objects.for_group(event.dealer_group_id).get(pk=event.customer_id)
    record_event(customer, Event.SURVEY_COMPLETED, source=event.source, store_id=event.store_id)


def on_car_bound(bound):
    customer = Customer.objects.for_group(bound.dealer_group_id).get(pk=bound.customer_id)
    now = timezone.now()
    with transaction.atomic():
        record_event(
            customer,
            Event.CAR_BOUND,
            source=f"binding:{bound.vehicle_id}:{bound.customer_id}",
            key=f"vehicle:{bound.vehicle_id}",
            store_id=customer.store_id,
            now=now,
        )
        _reward_referral(get_or_create_member(customer), bound.vin, now)


# --- partners ---------------------------------------------------------------------------------------
def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_partner(
    group, *, name: str, category: str = "", points_per_yuan: Decimal = Decimal("1")
) -> tuple:
    """Returns (partner, api_key); the key is shown once, only its hash is stored."""
    prefix = "pk_" + secrets.token_hex(4)
    raw = f"{prefix}.{secrets.token_urlsafe(24)}"
    partner = Partner.objects.create(
        dealer_group_id=getattr(group, "pk", group),
        name=name,
        category=category,
        key_prefix=prefix,
        key_hash=hash_key(raw),
        points_per_yuan=points_per_yuan,
    )
    return partner, raw


def partner_for_key(raw: str) -> Partner | None:
    prefix = (raw or "").split(".", 1)[0]
    partner = Partner.objects.unscoped().filter(key_prefix=prefix, is_active=True).first()
    if partner is None or not secrets.compare_digest(partner.key_hash, hash_key(raw)):
        return None
    return partner


def idempotent_partner_call(partner: Partner, key: str, body: dict, run) -> tuple[int, dict]:
    """Run `run()` -> (status, response) once per Idempotency-Key; a retry with the same key and
    body gets the stored answer (a concurrent retry waits for the first call to finish), the
    same key with another body is refused."""
    if not key or len(key) > 100:
        raise DomainError(
            "idempotency_key_required",
            _("Send an Idempotency-Key header (at most 100 characters)."),
        )
    return idempotency.call_once(
        PartnerRequest.objects.for_group(partner.dealer_group_id),
        key={"partner": partner, "key": key},
        body=body,
        create={"dealer_group_id": partner.dealer_group_id},
        run=run,
    )


def member_by_code(group_id: int, code: str) -> Member:
    code = (code or "").strip().upper()
    if code.startswith("M4S:"):
        code = code[4:]
    member = (
        Member.objects.for_group(group_id)
        .select_related("tier", "customer")
        .filter(code=code)
        .first()
    )
    if member is None:
        raise DomainError("not_found", _("No such member."), status=404)
    return member


def partner_earn(partner: Partner, member: Member, amount: Decimal, reference: str) -> Earned:
    if amount <= 0 or amount > Decimal("1000000"):
        raise DomainError("invalid_amount", _("The amount must be positive."))
    source = f"partner:{partner.pk}:{reference}"
    if MemberEvent.objects.for_group(partner.dealer_group_id).filter(source=source).exists():
        raise DomainError(
            "reference_reused",
            _("This purchase reference was already used; send a new one for a new purchase."),
            status=409,
        )
    rules = list(
        EarningRule.objects.for_group(partner.dealer_group_id).filter(
            event=Event.PARTNER_PURCHASE, is_active=True
        )
    )
    if not rules:  # the partner's own rate
        rules = [
            EarningRule(
                dealer_group_id=partner.dealer_group_id,
                pk=None,
                event=Event.PARTNER_PURCHASE,
                name=partner.name,
                points_per_yuan=partner.points_per_yuan,
            )
        ]
    return record_event(
        member.customer,
        Event.PARTNER_PURCHASE,
        source=source,
        amount=amount,
        key=f"partner:{partner.pk}",
        partner=partner,
        rules=rules,
    )


def partner_redeem(partner: Partner, member: Member, points: int, reference: str) -> LedgerEntry:
    entry, created = ledger.debit(
        member,
        points,
        kind=EntryKind.REDEEM,
        reason=partner.name,
        key=f"partner:{partner.pk}:redeem:{reference}",
        source=("partner", reference),
        partner=partner,
    )
    if not created and entry.points != -points:
        raise DomainError(
            "reference_reused",
            _("This purchase reference was already used; send a new one for a new purchase."),
            status=409,
        )
    return entry


def points_for_yuan(points: int, programme: Programme) -> Decimal:
    return (Decimal(points) * programme.point_value).quantize(Decimal("0.01"))


def expire_and_warn(now: dt.datetime | None = None) -> dict:
    """Scheduled: release pending points, expire old lots, warn owners N days before expiry."""
    now = now or timezone.now()
    released = ledger.release_pending(now)
    expired = ledger.expire_lots(now)
    Voucher.objects.unscoped().filter(status=VoucherStatus.ISSUED, expires_at__lte=now).update(
        status=VoucherStatus.EXPIRED
    )
    warned = 0
    for programme in Programme.objects.unscoped():
        horizon = now + dt.timedelta(days=programme.expiry_warning_days)
        lots = LedgerEntry.objects.for_group(programme.dealer_group_id).filter(
            remaining__gt=0, expires_at__lte=horizon, expires_at__gt=now, warned_at__isnull=True
        )
        per_member = lots.values("member_id").annotate(p=Sum("remaining"))
        for row in per_member:
            member = Member.objects.for_group(programme.dealer_group_id).get(pk=row["member_id"])
            _tell(
                member,
                "loyalty.expiry",
                lambda p=row["p"], d=programme.expiry_warning_days: (
                    text(gettext_noop("%(n)d points expire soon"), n=p),
                    text(gettext_noop("Use them within %(d)d days."), d=d),
                ),
                dedupe=f"expiry:{member.pk}:{now:%Y%m%d}",
            )
            warned += 1
        lots.update(warned_at=now)
    return {"released": released, "expired": expired, "warned": warned}


# --- leaderboards ------------------------------------------------------------------------------------
LEADERBOARD_NAME_MAX = 30


def set_leaderboard_name(member: Member, name: str) -> str:
    """Opt in to the store's monthly leaderboard under a display name (stripped, at most 30
    characters); an empty name opts out. Returns the name now shown."""
    name = " ".join((name or "").split())
    if len(name) > LEADERBOARD_NAME_MAX:
        raise DomainError(
            "name_too_long",
            _("The name can have at most %(n)d characters.") % {"n": LEADERBOARD_NAME_MAX},
        )
    Member.objects.for_group(member.dealer_group_id).filter(pk=member.pk).update(
        leaderboard_name=name
    )
    member.leaderboard_name = name
    return name

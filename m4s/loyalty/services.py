"""Every write of the loyalty area: membership, earning from events under rules, caps and
budgets, tiers, missions and badges, adjustments, referrals, hook receivers, expiry.
Rewards, vouchers and coupons are in `rewards.py`, partner API services in `partners.py`.
Points move only through `ledger.py`."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.audit import audit_entry
from m4s.core.errors import DomainError
from m4s.core.i18n import name_of, text
from m4s.customers.models import Customer
from m4s.notify.choices import Channel
from m4s.notify.services import send_message
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import earning, ledger
from .choices import EntryKind, Event, Measure, VoucherStatus
from .models import (
    Campaign,
    EarningRule,
    LedgerEntry,
    Member,
    MemberBadge,
    MemberEvent,
    Mission,
    MissionCompletion,
    Partner,
    Programme,
    Referral,
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


_expiry = earning.expiry


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
    default_rules=(),
    actor=None,
    now: dt.datetime | None = None,
) -> Earned:
    """Something good happened: earn under the group's active rules for it (`default_rules`
    when it has none, e.g. a partner's own rate), in one short
    transaction (m4s/loyalty/earning.py). Idempotent per `source` (e.g. "ro:12"): a repeat has
    no effect. The caps are counted under the member's lock, so parallel events of one member
    cannot both pass them. The "+N points" message, the tier upgrade and mission progress follow
    in a batch after commit (`earning.follow_up_pending`): `completed_missions` is empty here."""
    if event not in Event.values:
        raise DomainError("invalid_event", _("Unknown event."))
    now = now or timezone.now()
    g = customer.dealer_group_id
    member = earning.lock_member(g, customer.pk)
    if member is None:  # the first earn of this customer
        if programme_of(g) is None:
            return Earned(None, [], [])
        get_or_create_member(customer)
        member = earning.lock_member(g, customer.pk)
    assert member is not None
    version = member._version  # type: ignore[attr-defined]
    if version is None:
        return Earned(None, [], [])
    cached = earning.rules_for(g, event, version)
    if cached is None:
        return Earned(None, [], [])
    programme = cached.programme
    source = source[:100]
    event_id = earning.insert_event(
        {
            "dealer_group_id": g,
            "member_id": member.pk,
            "event": event,
            "at": now,
            "amount": Decimal(amount),
            "key": key[:60],
            "store_id": store_id or customer.store_id,
            "source": source,
            "follow_up": True,
        }
    )
    if event_id is None:
        first = MemberEvent.objects.for_group(g).get(source=source)
        if first.member_id != member.pk:
            raise DomainError(
                "idempotency_key_reused",
                _("This key or reference was already used for another member."),
                status=422,
            )
        return Earned(first, [], [], created=False)
    ev = MemberEvent(
        pk=event_id,
        dealer_group_id=g,
        member=member,
        event=event,
        at=now,
        amount=amount,
        key=key[:60],
        store_id=store_id or customer.store_id,
        source=source,
        follow_up=True,
    )
    multiplier = member.tier.earn_multiplier if member.tier_id else Decimal("1")
    rules = (cached.rules or tuple(default_rules)) if rules is None else tuple(rules)
    counted = earning.capped_totals(member, rules, now)
    pending_until = (
        now + dt.timedelta(days=programme.pending_days) if event in PENDING_EVENTS else None
    )
    pending = pending_until is not None and pending_until > now
    expires_at = earning.expiry(programme, now)
    lots = []
    for rule in rules:
        points = earning.rule_points(rule, amount, multiplier)
        points = earning.cap(rule, points, counted.get(rule.pk, (0, 0)))
        if points <= 0 or not _draw_budget(rule.campaign, points, now):
            continue
        reason = cached.reasons.get(rule.pk) if rule.pk else None
        lots.append(
            LedgerEntry(
                dealer_group_id=g,
                member=member,
                kind=EntryKind.EARN,
                points=points,
                **(reason or earning.reason_columns(rule)),
                source_type=event,
                source_id=source,
                idempotency_key=f"{source}:rule:{rule.pk or 'default'}",
                partner=partner,
                rule=rule if rule.pk else None,  # a partner's own rate is not a stored rule
                campaign=rule.campaign,
                qualifying=rule.qualifying,
                created_at=now,
                available_at=pending_until or now,
                expires_at=expires_at,
                is_pending=pending,
                actor=actor,
            )
        )
    entries = ledger.credit_lots(member, lots)
    transaction.on_commit(earning.schedule_follow_up)
    return Earned(ev, entries, [])


def follow_up_event(member: Member, ev: MemberEvent) -> list[Mission]:
    """What follows an earn, as of the event's time (run in batches by
    `earning.follow_up_batch`; idempotent): the tier upgrade and the "+N points" message when it
    earned qualifying points, then mission progress."""
    g = member.dealer_group_id
    entries = list(
        LedgerEntry.objects.for_group(g)
        .filter(member=member, kind=EntryKind.EARN, source_type=ev.event, source_id=ev.source)
        .order_by("id")
    )
    if any(e.qualifying for e in entries):  # only qualifying points can move the tier
        upgrade_tier_now(member, ev.at)
        total = sum(e.points for e in entries)
        _tell(
            member,
            "loyalty.earned",
            lambda: (
                text(gettext_noop("+%(n)d points"), n=total),
                [e.reason_text or {"n": e.reason} for e in entries],
            ),
            dedupe=f"earned:{g}:{ev.source}",
        )
    return advance_missions(member, ev.event, now=ev.at)


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

"""Loyalty API: the owner's points, rewards, vouchers and missions; staff voucher use, lookups,
adjustments and the programme report; the partner-merchant API with Idempotency-Key."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import Field

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import translated
from m4s.core.types import NON_BLANK, Int, PositiveMoney, SaneDate
from m4s.customers.models import Customer
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import partners, rewards, selectors, services

owner_router = Router(tags=["owner: loyalty"], auth=owner_auth)
staff_router = Router(tags=["staff: loyalty"], auth=staff_auth)


class PartnerAuth(HttpBearer):
    def authenticate(self, request, token):
        partner = partners.partner_for_key(token)
        if partner is not None:
            request.partner = partner
        return partner


partner_router = Router(tags=["partner"], auth=PartnerAuth())


# --- schemas -----------------------------------------------------------------------------------
class TierOut(Schema):
    id: int
    name: str
    threshold: int
    earn_multiplier: Decimal
    labour_discount_pct: int
    benefits: str
    colour: str

    @staticmethod
    def resolve_name(obj) -> str:
        return translated(obj, "name")

    @staticmethod
    def resolve_benefits(obj) -> str:
        return translated(obj, "benefits")


class LoyaltyOut(Schema):
    member_code: str
    referral_code: str
    balance: int
    pending: int
    value: Decimal
    qualifying: int
    tier: TierOut | None
    next_tier: TierOut | None
    to_next: int | None
    progress_pct: int
    expiring_soon: int
    expiring_on: dt.datetime | None


class EntryOut(Schema):
    id: int
    kind: str
    points: int
    reason: str
    source_type: str
    created_at: dt.datetime
    available_at: dt.datetime | None
    expires_at: dt.datetime | None
    is_pending: bool
    partner: str | None

    @staticmethod
    def resolve_reason(obj) -> str:
        return obj.display_reason  # in the reader's language

    @staticmethod
    def resolve_partner(obj):
        return obj.partner.name if obj.partner_id else None


class RewardOut(Schema):
    id: int
    name: str
    description: str
    kind: str
    cost: int
    stock: int | None
    icon: str
    min_tier: str | None
    partner: str | None
    available: bool
    unavailable_because: str


class VoucherOut(Schema):
    id: int
    code: str
    reward: str
    status: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None
    qr: str

    @staticmethod
    def resolve_reward(obj):
        return translated(obj.reward, "name")

    @staticmethod
    def resolve_qr(obj):
        return f"/app/loyalty/vouchers/{obj.pk}/qr.svg"


class MissionOut(Schema):
    id: int
    name: str
    description: str
    measure: str
    target: int
    window_days: int
    points: int
    progress: int
    pct: int
    completed_at: dt.datetime | None
    badge: str | None


class RedeemOut(Schema):
    voucher: VoucherOut
    balance: int


class ReferralIn(Schema):
    code: str = Field(..., max_length=10)


class MemberOut(Schema):
    id: int
    code: str
    name: str
    phone: str
    balance: int
    pending: int
    tier: str | None

    @staticmethod
    def resolve_name(obj):
        return obj.customer.name

    @staticmethod
    def resolve_phone(obj):
        from m4s.owners.phones import mask_phone

        return mask_phone(obj.customer.phone)

    @staticmethod
    def resolve_tier(obj):
        return translated(obj.tier, "name") if obj.tier_id else None


class AdjustIn(Schema):
    points: Int = Field(
        ...,
        ge=-1_000_000,
        le=1_000_000,
        description="Non-zero: credit (positive) or debit (negative).",
        json_schema_extra={"not": {"const": 0}},
    )
    reason: str = Field(..., min_length=1, max_length=200, pattern=NON_BLANK)


class ClawbackIn(Schema):
    source: str = Field(..., max_length=40, description="e.g. ro:12 for a refunded repair order")
    reason: str = Field(..., min_length=1, max_length=200, pattern=NON_BLANK)


class UsedOut(Schema):
    code: str
    reward: str
    member: str
    used_at: dt.datetime


class PartnerEarnIn(Schema):
    member_code: str = Field(..., max_length=20)
    amount: PositiveMoney
    reference: str = Field(..., min_length=1, max_length=60)


class PartnerRedeemIn(Schema):
    """Either `points` (with `member_code`) or `voucher_code`."""

    model_config = {
        "json_schema_extra": {
            "oneOf": [
                {
                    "required": ["points", "member_code"],
                    "properties": {
                        "points": {"type": "integer"},
                        "member_code": {"type": "string"},
                    },
                    "not": {"required": ["voucher_code"]},
                },
                {
                    "required": ["voucher_code"],
                    "properties": {"voucher_code": {"type": "string", "minLength": 1}},
                    "not": {"required": ["points"]},
                },
            ]
        }
    }

    member_code: str | None = Field(None, max_length=20)
    points: (
        Annotated[
            Int, Field(gt=0, le=1_000_000, json_schema_extra={"minimum": 1, "maximum": 1_000_000})
        ]
        | None
    ) = None
    voucher_code: str | None = Field(None, max_length=16)
    reference: str = Field(..., min_length=1, max_length=60)


# --- owner --------------------------------------------------------------------------------------
def _member(request):
    """The owner's membership, created on first use through the service (the selector only
    reads) when the owner is a customer of a group that runs a programme."""
    customer = selectors.loyalty_customer_of_owner(request.owner)
    if customer is None:
        raise NotFound(_("You are not a member of a loyalty programme yet. Bind your car to join."))
    return selectors.membership(customer)


def _tier(t):
    return None if t is None else t


@owner_router.get("/loyalty", response=LoyaltyOut)
def my_loyalty(request):
    s = selectors.summary(_member(request), fresh=True)
    return {
        "member_code": s.member.code,
        "referral_code": s.member.referral_code,
        "balance": s.balance,
        "pending": s.pending,
        "value": s.value,
        "qualifying": s.qualifying,
        "tier": s.tier,
        "next_tier": s.next_tier,
        "to_next": s.to_next,
        "progress_pct": s.progress_pct,
        "expiring_soon": s.expiring_soon,
        "expiring_on": s.expiring_on,
    }


@owner_router.get("/loyalty/ledger", response=list[EntryOut])
def my_ledger(request, limit: int = Query(50, ge=1, le=200), before_id: int | None = None):
    return list(selectors.ledger_of(_member(request), limit=limit, before_id=before_id))


def _reward_out(reward, reason):
    return {
        "id": reward.pk,
        "name": translated(reward, "name"),
        "description": translated(reward, "description"),
        "kind": reward.kind,
        "cost": reward.cost,
        "stock": reward.stock,
        "icon": reward.icon,
        "min_tier": translated(reward.min_tier, "name") if reward.min_tier_id else None,
        "partner": reward.partner.name if reward.partner_id else None,
        "available": reason == "",
        "unavailable_because": reason,
    }


@owner_router.get("/rewards", response=list[RewardOut])
def my_rewards(request):
    return [_reward_out(r, why) for r, why in selectors.rewards_for(_member(request))]


@owner_router.post("/rewards/{int:reward_id}/redeem", response={200: RedeemOut, 201: RedeemOut})
def redeem(
    request,
    reward_id: int,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200),
):
    member = _member(request)
    voucher, created = rewards.redeem_reward(
        member,
        reward_id,
        key=f"owner:{member.pk}:{idempotency_key[:80]}" if idempotency_key else "",
    )
    member.refresh_from_db()
    return Status(201 if created else 200, {"voucher": voucher, "balance": member.balance})


@owner_router.get("/vouchers", response=list[VoucherOut])
def my_vouchers(request):
    return list(selectors.vouchers_of(_member(request))[:100])


@owner_router.get("/missions", response=list[MissionOut])
def my_missions(request):
    return [
        {
            "id": v.mission.pk,
            "name": translated(v.mission, "name"),
            "description": translated(v.mission, "description"),
            "measure": v.mission.measure,
            "target": v.mission.target,
            "window_days": v.mission.window_days,
            "points": v.mission.points,
            "progress": v.progress,
            "pct": v.pct,
            "completed_at": v.completed_at,
            "badge": translated(v.mission.badge, "name") if v.mission.badge_id else None,
        }
        for v in selectors.missions_of(_member(request))
    ]


@owner_router.post("/loyalty/referral", response={201: dict})
def claim_referral(request, payload: ReferralIn):
    member = _member(request)
    customer = Customer.objects.for_group(member.dealer_group_id).get(pk=member.customer_id)
    services.attribute_referral(customer, payload.code)
    return Status(201, {"status": "referred"})


# --- staff --------------------------------------------------------------------------------------
@staff_router.post("/vouchers/{code}/use", response=UsedOut, openapi_extra=errors(410))
def use_voucher(request, code: str):
    v = rewards.use_voucher(code, actor=request.user)
    return {
        "code": v.code,
        "reward": translated(v.reward, "name"),
        "member": v.member.code,
        "used_at": v.used_at,
    }


@staff_router.get("/loyalty/members", response=list[MemberOut])
def find_members(request, q: str = ""):
    check_perm(request.user, Perm.VIEW_CUSTOMERS)
    return list(selectors.find_member(request.user, q))


def _staff_member(request, member_id):
    member = (
        selectors.members_for(request.user)
        .select_related("customer", "tier")
        .filter(pk=member_id)
        .first()
    )
    if member is None:
        raise NotFound(_("No such member."))
    return member


@staff_router.post("/loyalty/members/{int:member_id}/adjust", response={201: EntryOut})
def adjust(
    request,
    member_id: int,
    payload: AdjustIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200),
):
    member = _staff_member(request, member_id)
    if not idempotency_key:
        raise DomainError("idempotency_key_required", _("An Idempotency-Key is required."))
    entry = services.adjust(
        request.user,
        member,
        payload.points,
        reason=payload.reason,
        key=f"staff:{request.user.pk}:{idempotency_key[:60]}",
    )
    return Status(201, entry)


class StaffEventIn(Schema):
    event: Literal["event_checkin", "story_approved", "like_received"]
    source: str = Field(..., max_length=80, description="unique per occurrence, e.g. event:12")


@staff_router.post("/loyalty/members/{int:member_id}/events", response={201: list[EntryOut]})
def record_member_event(request, member_id: int, payload: StaffEventIn):
    """Staff with the adjust-points capability record an event check-in (or an approved story,
    a like) for a member; idempotent per `source`, capped per member per day, audited."""
    check_perm(request.user, Perm.ADJUST_POINTS)
    member = _staff_member(request, member_id)
    earned = services.record_staff_event(request.user, member, payload.event, source=payload.source)
    return Status(201, earned.entries)


@staff_router.post("/loyalty/clawback", response=list[EntryOut])
def clawback(request, payload: ClawbackIn):
    check_perm(request.user, Perm.ADJUST_POINTS)
    return services.claw_back(
        payload.source, request.user.dealer_group_id, reason=payload.reason, actor=request.user
    )


@staff_router.get("/loyalty/report", response=dict)
def report(request):
    check_perm(request.user, Perm.VIEW_LOYALTY_REPORT)
    r = selectors.programme_report(request.user.dealer_group_id)
    return {
        **r.__dict__,
        "liability": str(r.liability),
        "by_month": [{**m, "m": m["m"].date().isoformat()} for m in r.by_month],
    }


# --- partner ------------------------------------------------------------------------------------
@partner_router.get("/members/{code}", response=dict)
def partner_member(request, code: str):
    member = partners.member_by_code(request.partner.dealer_group_id, code)
    return {
        "member_code": member.code,
        "balance": member.balance,
        "tier": member.tier.name if member.tier_id else None,
    }


@partner_router.post("/earn", response={200: dict, 201: dict})
def partner_earn(
    request,
    payload: PartnerEarnIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=100),
):
    partner = request.partner

    def run():
        member = partners.member_by_code(partner.dealer_group_id, payload.member_code)
        earned = partners.partner_earn(partner, member, payload.amount, payload.reference)
        member.refresh_from_db()
        points = sum(e.points for e in earned.entries)
        return 201, {
            "member_code": member.code,
            "points": points,
            "pending": member.pending,
            "balance": member.balance,
        }

    status, body = partners.idempotent_partner_call(partner, idempotency_key, payload.dict(), run)
    return Status(status, body)


@partner_router.post("/redeem", response={200: dict, 201: dict}, openapi_extra=errors(410))
def partner_redeem(
    request,
    payload: PartnerRedeemIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=100),
):
    partner = request.partner
    if bool(payload.voucher_code) == bool(payload.points):
        raise DomainError(
            "invalid_input", _("Send either points (with member_code) or voucher_code.")
        )

    def run():
        if payload.voucher_code:
            v = rewards.use_voucher(payload.voucher_code, partner=partner)
            return 201, {"voucher_code": v.code, "reward": v.reward.name, "status": v.status}
        member = partners.member_by_code(partner.dealer_group_id, payload.member_code or "")
        entry = partners.partner_redeem(partner, member, payload.points, payload.reference)
        member.refresh_from_db()
        return 201, {"member_code": member.code, "points": entry.points, "balance": member.balance}

    status, body = partners.idempotent_partner_call(partner, idempotency_key, payload.dict(), run)
    return Status(status, body)


@partner_router.get("/settlement", response=dict)
def partner_settlement(request, month: SaneDate | None = None):
    s = selectors.partner_settlement(request.partner, month or timezone.localdate())
    return {**s, "partner_owes": str(s["partner_owes"]), "dealer_owes": str(s["dealer_owes"])}

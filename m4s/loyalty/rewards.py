"""Loyalty rewards, vouchers and coupons: redeeming a reward for a voucher, using a voucher,
coupon discounts and redemption at a service settlement. Points move only through `ledger.py`."""

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.core.i18n import name_of, translated
from m4s.customers.models import Customer
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import ledger
from .choices import CouponKind, EntryKind, VoucherStatus
from .models import (
    CouponCode,
    LedgerEntry,
    Member,
    Partner,
    Reward,
    Voucher,
)


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


def issue_coupon(customer: Customer, coupon_id: int, *, today=None) -> CouponCode | None:
    """Give the customer's membership a single-use code of one of the group's coupons (a gift
    sent with a greeting): None when the coupon is not the group's, has ended, or the member
    already holds as many unused codes of it as one owner may use. Runs in the caller's
    transaction."""
    from .models import Coupon
    from .services import get_or_create_member

    today = today or timezone.localdate()
    group_id = customer.dealer_group_id
    coupon = Coupon.objects.for_group(group_id).filter(pk=coupon_id, valid_to__gte=today).first()
    if coupon is None:
        return None
    member = get_or_create_member(customer)
    held = (
        CouponCode.objects.for_group(group_id)
        .filter(coupon=coupon, member=member, used_at__isnull=True)
        .count()
    )
    if held >= coupon.per_owner_limit:
        return None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return CouponCode.objects.create(
                    dealer_group_id=group_id,
                    coupon=coupon,
                    member=member,
                    code=ledger.new_code(10),
                )
        except IntegrityError:
            continue
    raise DomainError("conflict", _("Could not issue the coupon; please try again."), status=409)

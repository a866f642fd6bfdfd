"""The service area's billing writes: settlement against the published price list (invoice),
refund by credit note, and the Settlement / Refund payloads handed to the loyalty area."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core import hooks
from m4s.core.errors import DomainError
from m4s.customers.choices import TimelineKind
from m4s.customers.services import record_timeline
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import selectors
from ._common import (
    S,
    _decimal,
    _lock_ro,
    _new_number,
    _require_status,
)
from .choices import (
    Approval,
    Payer,
)
from .models import (
    CreditNote,
    Invoice,
    PriceOverride,
    RepairLine,
    RepairOrder,
)


@dataclass(frozen=True)
class Settlement:
    """What the loyalty area (and others) get after a repair order is settled."""

    repair_order_id: int
    dealer_group_id: int
    store_id: int
    customer_id: int
    owner_id: int | None
    invoice_id: int
    customer_pay_net: Decimal  # customer-paid lines after discounts, without tax: what earns points
    settled_at: dt.datetime


@dataclass(frozen=True)
class Refund:
    """A settled repair order refunded in full: the loyalty area claws back what it earned."""

    repair_order_id: int
    dealer_group_id: int
    store_id: int
    customer_id: int
    credit_note_id: int
    reason: str
    refunded_at: dt.datetime


@transaction.atomic
def settle(
    actor,
    ro: RepairOrder,
    *,
    prices: dict | None = None,
    payers: dict | None = None,
    coupon_code: str = "",
) -> Invoice:
    """Bill approved lines at the published price. A lower price needs a reason and is logged
    with who and why; a higher one is refused. `prices` = {line_id: {"labour": x,
    "parts": {line_part_id: y}, "reason": "..."}}, `payers` = {line_id: payer}. A coupon code
    is redeemed by `settings.SERVICE_COUPON_REDEEMER` (the loyalty area) in the same
    transaction and comes off the customer's share. The customer's loyalty tier discount on
    labour (`settings.SERVICE_MEMBER_DISCOUNT`) is the default price of customer-paid labour,
    logged like any other discount."""
    check_perm(actor, Perm.SETTLE_REPAIR_ORDERS)
    ro = _lock_ro(ro)
    if Invoice.objects.for_group(ro.dealer_group_id).filter(repair_order=ro).exists():
        raise DomainError("already_settled", _("This repair order is already settled."), status=409)
    _require_status(ro, S.READY)
    prices, payers = prices or {}, payers or {}
    lines = list(
        RepairLine.objects.for_group(ro.dealer_group_id)
        .filter(repair_order=ro)
        .prefetch_related("parts__part")
    )
    approved = [ln for ln in lines if ln.approval == Approval.APPROVED]
    if any(ln.approval == Approval.PENDING for ln in lines):
        raise DomainError(
            "waiting_approval",
            _("Some items are still waiting for the owner's decision."),
            status=409,
        )
    known = {str(ln.pk) for ln in approved}
    unknown = [k for k in list(prices) + list(payers) if str(k) not in known]
    if unknown:
        raise DomainError(
            "invalid_line", _("Only approved lines of this order can be billed."), lines=unknown
        )
    now = timezone.now()
    conf = selectors.settings_for(ro.store)
    overrides = []
    by_payer: dict[str, Decimal] = {}
    labour_total = parts_total = discount_total = tax_total = Decimal("0")
    tax_by_payer: dict[str, Decimal] = {}

    def charge(line, list_amount, asked, what, reason):
        if asked is None:
            return list_amount
        amount = _decimal(asked, "invalid_price")
        if amount > list_amount:
            raise DomainError(
                "price_above_list",
                _("%(item)s cannot be charged above the published price %(p)s.")
                % {"item": what, "p": list_amount},
                status=422,
                line_id=line.pk,
                list_price=str(list_amount),
            )
        if amount < list_amount:
            if not (reason or "").strip():
                raise DomainError(
                    "discount_needs_reason",
                    _("Say why %(item)s is charged below the list price.") % {"item": what},
                    line_id=line.pk,
                )
            overrides.append(
                PriceOverride(
                    dealer_group_id=ro.dealer_group_id,
                    repair_order=ro,
                    line=line,
                    item=what[:200],
                    list_amount=list_amount,
                    charged_amount=amount,
                    reason=reason.strip()[:200],
                    by=actor,
                    at=now,
                )
            )
        return amount

    member_discount = None  # (percent, reason): the customer's loyalty tier, on their labour
    if getattr(settings, "SERVICE_MEMBER_DISCOUNT", ""):
        member_discount = import_string(settings.SERVICE_MEMBER_DISCOUNT)(
            group_id=ro.dealer_group_id, customer_id=ro.customer_id
        )
    for line in approved:
        p = prices.get(line.pk) or prices.get(str(line.pk)) or {}
        if not isinstance(p, dict):
            raise DomainError("invalid_price", _("Prices must be given per line."))
        reason = p.get("reason", "")
        payer = payers.get(line.pk) or payers.get(str(line.pk)) or line.payer
        if payer not in Payer.values:
            raise DomainError("invalid_payer", _("Unknown payer."))
        asked, labour_reason = p.get("labour"), reason
        if member_discount and payer == Payer.CUSTOMER:
            pct, why = member_discount
            member_price = (line.labour_list_price * (100 - pct) / 100).quantize(Decimal("0.01"))
            asked_amount = None if asked is None else _decimal(asked, "invalid_price")
            if member_price < line.labour_list_price and (
                asked_amount is None or member_price < asked_amount <= line.labour_list_price
            ):  # the member price, unless staff gave more off (with their own reason)
                asked, labour_reason = member_price, why  # for the labour only, not the parts
        line.labour_price = charge(
            line, line.labour_list_price, asked, line.description, labour_reason
        )
        line.payer = payer
        line.save(update_fields=["labour_price", "payer"])
        amount = line.labour_price
        labour_total += line.labour_list_price
        discount_total += line.labour_list_price - line.labour_price
        part_prices = p.get("parts") or {}
        for lp in line.parts.all():
            asked = part_prices.get(lp.pk, part_prices.get(str(lp.pk)))
            lp.unit_price = charge(line, lp.list_price, asked, lp.part.name, reason)
            lp.save(update_fields=["unit_price"])
            amount += lp.unit_price * lp.quantity
            parts_total += lp.list_price * lp.quantity
            discount_total += (lp.list_price - lp.unit_price) * lp.quantity
        by_payer[payer] = by_payer.get(payer, Decimal("0")) + amount
        line_tax = selectors.line_tax(line, conf.tax_rate)  # as the owner was shown it
        tax_total += line_tax
        tax_by_payer[payer] = tax_by_payer.get(payer, Decimal("0")) + line_tax
    PriceOverride.objects.bulk_create(overrides)
    coupon_discount = Decimal("0")
    if coupon_code.strip():
        redeemer = getattr(settings, "SERVICE_COUPON_REDEEMER", "")
        if not redeemer:
            raise DomainError("coupons_unavailable", _("Coupons are not enabled."))
        coupon_discount = import_string(redeemer)(
            coupon_code,
            group_id=ro.dealer_group_id,
            customer_id=ro.customer_id,
            spend=by_payer.get(Payer.CUSTOMER, Decimal("0")),
            used_on=f"repair_order:{ro.pk}",
        )
        discount_total += coupon_discount
        by_payer[Payer.CUSTOMER] = by_payer.get(Payer.CUSTOMER, Decimal("0")) - coupon_discount
        coupon_tax = selectors.tax_on(coupon_discount, conf.tax_rate)
        tax_total -= coupon_tax
        tax_by_payer[Payer.CUSTOMER] = tax_by_payer.get(Payer.CUSTOMER, Decimal("0")) - coupon_tax
    # The tax is the sum of each line's (as the owner saw the prices), so what the owner pays is
    # the sum of the tax-inclusive prices they approved, to the fen.
    net = labour_total + parts_total - discount_total
    tax = tax_total
    customer_net = by_payer.get(Payer.CUSTOMER, Decimal("0"))
    invoice = Invoice.objects.create(
        dealer_group_id=ro.dealer_group_id,
        repair_order=ro,
        number=_new_number("INV"),
        issued_at=now,
        issued_by=actor,
        labour_total=labour_total,
        parts_total=parts_total,
        discount_total=discount_total,
        net_total=net,
        tax_rate=conf.tax_rate,
        tax=tax,
        total=net + tax,
        customer_pay_net=customer_net,
        customer_pay_total=customer_net + tax_by_payer.get(Payer.CUSTOMER, Decimal("0")),
        by_payer={k: str(v) for k, v in by_payer.items()},
        coupon_code=coupon_code.strip().upper()[:16] if coupon_discount else "",
        coupon_discount=coupon_discount,
    )
    invoice.number = f"INV{invoice.pk:08d}"
    invoice.save(update_fields=["number"])
    ro.settled_at = now
    ro.save(update_fields=["settled_at"])
    record_timeline(
        ro.customer,
        TimelineKind.VISIT,
        gettext_noop("Settled %(number)s: %(total)s"),
        params={"number": ro.number, "total": str(invoice.total)},
        actor=actor,
        data={"repair_order": ro.pk, "invoice": invoice.pk},
    )
    settlement = Settlement(
        ro.pk,
        ro.dealer_group_id,
        ro.store_id,
        ro.customer_id,
        ro.customer.owner_id,
        invoice.pk,
        customer_net,
        now,
    )
    hooks.after_commit("service.settled", settlement)
    return invoice


@transaction.atomic
def refund(actor, ro: RepairOrder, *, reason: str) -> CreditNote:
    """Refund a settled repair order in full with a credit note (the invoice stays as issued).
    Needs a reason; a second refund is refused. After commit the "service.refunded" hook lets
    the loyalty area claw back the points the order earned."""
    check_perm(actor, Perm.REFUND_REPAIR_ORDERS)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("Say why the repair order is refunded."))
    if len(reason) > 300:
        raise DomainError("reason_too_long", _("Please keep the reason under 300 characters."))
    ro = _lock_ro(ro)
    invoice = Invoice.objects.for_group(ro.dealer_group_id).filter(repair_order=ro).first()
    if invoice is None:
        raise DomainError(
            "not_settled", _("Only a settled repair order can be refunded."), status=409
        )
    if CreditNote.objects.for_group(ro.dealer_group_id).filter(invoice=invoice).exists():
        raise DomainError(
            "already_refunded", _("This repair order is already refunded."), status=409
        )
    now = timezone.now()
    note = CreditNote.objects.create(
        dealer_group_id=ro.dealer_group_id,
        invoice=invoice,
        number=_new_number("CN"),
        amount=invoice.total,
        customer_amount=invoice.customer_pay_total,
        reason=reason,
        issued_by=actor,
        issued_at=now,
    )
    note.number = f"CN{note.pk:08d}"
    note.save(update_fields=["number"])
    record_timeline(
        ro.customer,
        TimelineKind.VISIT,
        gettext_noop("Refunded %(number)s: %(total)s"),
        params={"number": ro.number, "total": str(invoice.total)},
        actor=actor,
        data={"repair_order": ro.pk, "credit_note": note.pk},
    )
    hooks.after_commit(
        "service.refunded",
        Refund(ro.pk, ro.dealer_group_id, ro.store_id, ro.customer_id, note.pk, reason, now),
    )
    return note

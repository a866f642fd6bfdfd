"""Loyalty partner services: partner API keys, idempotent partner calls, earning and redeeming
points at a partner. Points move only through `ledger.py`."""

import hashlib
import secrets
from decimal import Decimal

from django.utils.translation import gettext as _

from m4s.core import idempotency
from m4s.core.errors import DomainError

from . import ledger
from .choices import EntryKind, Event
from .models import (
    EarningRule,
    LedgerEntry,
    Member,
    Partner,
    PartnerRequest,
    Programme,
)
from .services import Earned, record_event


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
    """Earn for a purchase at the partner: under the group's active partner-purchase rules (cached
    with the others), else at the partner's own rate. A reference is one purchase: used again,
    for this member or another, it is refused (409 reference_reused)."""
    if amount <= 0 or amount > Decimal("1000000"):
        raise DomainError("invalid_amount", _("The amount must be positive."))
    own_rate = EarningRule(
        dealer_group_id=partner.dealer_group_id,
        pk=None,
        event=Event.PARTNER_PURCHASE,
        name=partner.name,
        points_per_yuan=partner.points_per_yuan,
    )
    try:
        earned = record_event(
            member.customer,
            Event.PARTNER_PURCHASE,
            source=f"partner:{partner.pk}:{reference}",
            amount=amount,
            key=f"partner:{partner.pk}",
            partner=partner,
            default_rules=[own_rate],
        )
    except DomainError as exc:
        if exc.code != "idempotency_key_reused":
            raise
        earned = Earned(None, [], [], created=False)
    if not earned.created:
        raise DomainError(
            "reference_reused",
            _("This purchase reference was already used; send a new one for a new purchase."),
            status=409,
        )
    return earned


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

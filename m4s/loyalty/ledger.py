"""The points ledger: the one place that writes LedgerEntry, Allocation and the member's
balance projection.

Credits are lots (`remaining`, `available_at`, `expires_at`). Debits take points from lots
oldest-expiry-first and record where they came from (Allocation). Every write locks the member
row first, so two debits of one member never interleave and a balance can never be spent twice;
members never wait for each other. Invariants (proved by `m4s loyalty-check` and the
property-based tests):

    member.balance + member.pending == Σ entry.points
    member.balance == Σ remaining of released lots,  member.pending == Σ remaining of pending lots
    lot.remaining == lot.points − Σ allocations from it,  |debit.points| == Σ its allocations
"""

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError
from m4s.core.i18n import is_text, render_in, text

from .choices import EntryKind
from .models import Allocation, Campaign, EarningRule, LedgerEntry, Member, Partner

if TYPE_CHECKING:  # for annotations only
    from m4s.staff.models import StaffUser


def _lock(member: Member) -> Member:
    locked: Member = (
        Member.objects.for_group(member.dealer_group_id).select_for_update().get(pk=member.pk)
    )
    return locked


def _existing(group_id: int, key: str, member: Member) -> LedgerEntry | None:
    """The entry a repeated key already wrote; a key another member's entry used is refused
    (a client reusing an Idempotency-Key or a partner reference for someone else)."""
    entry: LedgerEntry | None = (
        LedgerEntry.objects.for_group(group_id).filter(idempotency_key=key).first()
    )
    if entry is not None and entry.member_id != member.pk:
        raise DomainError(
            "idempotency_key_reused",
            _("This key or reference was already used for another member."),
            status=422,
        )
    return entry


def reason_columns(reason: str | dict[str, Any]) -> dict[str, Any]:
    """A reason is free text (a staff member's words, kept as written) or system text
    (`m4s.core.i18n.text` / `name_of`): stored as its English rendering plus the text itself,
    so every reader sees it in their own language."""
    if is_text(reason):
        return {"reason": render_in("en", reason)[:200], "reason_text": reason}
    return {"reason": str(reason)[:200]}


def new_code(length: int = 10) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    return "".join(secrets.choice(alphabet) for _ in range(length))


@transaction.atomic
def credit(
    member: Member,
    points: int,
    *,
    kind: str = EntryKind.EARN,
    reason: str | dict[str, Any],
    key: str,
    source: tuple[str, str] = ("", ""),
    expires_at: dt.datetime | None,
    available_at: dt.datetime | None = None,
    qualifying: bool = False,
    rule: EarningRule | None = None,
    campaign: Campaign | None = None,
    partner: Partner | None = None,
    actor: "StaffUser | None" = None,
    now: dt.datetime | None = None,
) -> tuple[LedgerEntry, bool]:
    """Add a lot. Returns (entry, created); a repeated key returns the first entry."""
    if not isinstance(points, int) or points <= 0:
        raise DomainError("invalid_points", _("Points must be a positive whole number."))
    existing = _existing(member.dealer_group_id, key, member)
    if existing is not None:
        return existing, False
    now = now or timezone.now()
    member = _lock(member)
    existing = _existing(member.dealer_group_id, key, member)  # raced in meanwhile
    if existing is not None:
        return existing, False
    pending = available_at is not None and available_at > now
    entry = LedgerEntry.objects.create(
        dealer_group_id=member.dealer_group_id,
        member=member,
        kind=kind,
        points=points,
        **reason_columns(reason),
        source_type=source[0],
        source_id=str(source[1]),
        idempotency_key=key,
        partner=partner,
        rule=rule,
        campaign=campaign,
        qualifying=qualifying,
        created_at=now,
        available_at=available_at or now,
        expires_at=expires_at,
        remaining=points,
        is_pending=pending,
        actor=actor,
    )
    field = "pending" if pending else "balance"
    Member.objects.for_group(member.dealer_group_id).filter(pk=member.pk).update(
        **{field: F(field) + points}
    )
    return entry, True


def credit_lots(member: Member, lots: list[LedgerEntry]) -> list[LedgerEntry]:
    """Write earned lots of a member whose row the caller has locked (`earning.earn`): one
    INSERT for the lots and one UPDATE of the balance projection. The caller makes them new
    (their keys derive from a source recorded once in the same transaction)."""
    if not lots:
        return []
    for lot in lots:
        if not isinstance(lot.points, int) or lot.points <= 0:
            raise DomainError("invalid_points", _("Points must be a positive whole number."))
        lot.remaining = lot.points
    created: list[LedgerEntry] = LedgerEntry.objects.bulk_create(lots)
    pending = sum(lot.points for lot in lots if lot.is_pending)
    released = sum(lot.points for lot in lots if not lot.is_pending)
    Member.objects.for_group(member.dealer_group_id).filter(pk=member.pk).update(
        balance=F("balance") + released, pending=F("pending") + pending
    )
    member.balance += released
    member.pending += pending
    return created


def _open_lots(member: Member, now: dt.datetime) -> QuerySet[LedgerEntry]:
    lots: QuerySet[LedgerEntry] = (
        LedgerEntry.objects.for_group(member.dealer_group_id)
        .filter(member=member, remaining__gt=0, is_pending=False)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by(F("expires_at").asc(nulls_last=True), "id")
    )
    return lots


@transaction.atomic
def debit(
    member: Member,
    points: int,
    *,
    kind: str,
    reason: str | dict[str, Any],
    key: str,
    source: tuple[str, str] = ("", ""),
    lots: Iterable[LedgerEntry] | None = None,
    partner: Partner | None = None,
    actor: "StaffUser | None" = None,
    allow_partial: bool = False,
    now: dt.datetime | None = None,
) -> tuple[LedgerEntry | None, bool]:
    """Take points from lots, oldest expiry first (or from `lots`, in that order). Refuses
    (`insufficient_points`) rather than going below zero unless `allow_partial`, which takes
    what there is (clawbacks; `(None, False)` when there was nothing left to take)."""
    if not isinstance(points, int) or points <= 0:
        raise DomainError("invalid_points", _("Points must be a positive whole number."))
    existing = _existing(member.dealer_group_id, key, member)
    if existing is not None:
        return existing, False
    now = now or timezone.now()
    member = _lock(member)
    existing = _existing(member.dealer_group_id, key, member)
    if existing is not None:
        return existing, False
    if lots is not None:  # re-read under the lock, keeping the caller's order
        ids = [lot.pk for lot in lots]
        fresh = LedgerEntry.objects.for_group(member.dealer_group_id).in_bulk(ids)
        candidates = [fresh[i] for i in ids if i in fresh and fresh[i].member_id == member.pk]
    else:
        candidates = list(_open_lots(member, now))
    available = sum(lot.remaining for lot in candidates)
    if available < points:
        if not allow_partial:
            raise DomainError(
                "insufficient_points",
                _("Not enough points: %(have)d available, %(need)d needed.")
                % {"have": available, "need": points},
                status=409,
                balance=member.balance,
            )
        points = available
    if points == 0:
        return None, False
    entry = LedgerEntry.objects.create(
        dealer_group_id=member.dealer_group_id,
        member=member,
        kind=kind,
        points=-points,
        **reason_columns(reason),
        source_type=source[0],
        source_id=str(source[1]),
        idempotency_key=key,
        partner=partner,
        created_at=now,
        actor=actor,
    )
    need, allocations, from_pending = points, [], 0
    for lot in candidates:
        if need == 0:
            break
        take = min(lot.remaining, need)
        if take <= 0:
            continue
        updated = (
            LedgerEntry.objects.for_group(member.dealer_group_id)
            .filter(pk=lot.pk, remaining__gte=take)
            .update(remaining=F("remaining") - take)
        )
        if not updated:  # cannot happen under the member lock; refuse rather than overspend
            raise DomainError(
                "conflict", _("Points changed meanwhile; please try again."), status=409
            )
        allocations.append(
            Allocation(dealer_group_id=member.dealer_group_id, debit=entry, lot=lot, points=take)
        )
        if lot.is_pending:
            from_pending += take
        need -= take
    Allocation.objects.bulk_create(allocations)
    Member.objects.for_group(member.dealer_group_id).filter(pk=member.pk).update(
        balance=F("balance") - (points - from_pending), pending=F("pending") - from_pending
    )
    return entry, True


@transaction.atomic
def reverse(
    entry: LedgerEntry,
    *,
    reason: str | dict[str, Any],
    key: str,
    actor: "StaffUser | None" = None,
    now: dt.datetime | None = None,
) -> LedgerEntry | None:
    """Claw back an earn entry (a refunded repair order): take its own lot first, then whatever
    else the member has, never below zero. Points of the lot that already expired are gone
    and are not taken again from other lots."""
    g = entry.dealer_group_id
    lot_first = [LedgerEntry.objects.for_group(g).get(pk=entry.pk)]
    now = now or timezone.now()
    expired = (
        Allocation.objects.for_group(g)
        .filter(lot_id=entry.pk, debit__kind=EntryKind.EXPIRE)
        .aggregate(p=Sum("points"))["p"]
        or 0
    )
    if entry.points - expired <= 0:
        return None
    others = [lot for lot in _open_lots(entry.member, now) if lot.pk != entry.pk]
    reversal, _created = debit(
        entry.member,
        entry.points - expired,
        kind=EntryKind.REVERSE,
        reason=reason,
        key=key,
        source=(entry.source_type, entry.source_id),
        lots=lot_first + others,
        partner=entry.partner,
        actor=actor,
        allow_partial=True,
        now=now,
    )
    if reversal is not None and reversal.reverses_id is None:
        LedgerEntry.objects.for_group(entry.dealer_group_id).filter(pk=reversal.pk).update(
            reverses=entry
        )
    return reversal


def release_pending(now: dt.datetime | None = None) -> int:
    """Move lots whose return window has closed from `pending` to `balance`."""
    now = now or timezone.now()
    released = 0
    due = LedgerEntry.objects.unscoped().filter(is_pending=True, available_at__lte=now)
    for member_id, group_id in (
        due.order_by().values_list("member_id", "dealer_group_id").distinct()
    ):
        with transaction.atomic():
            member = Member.objects.for_group(group_id).select_for_update().get(pk=member_id)
            lots = LedgerEntry.objects.for_group(group_id).filter(
                member=member, is_pending=True, available_at__lte=now
            )
            points = lots.aggregate(p=Sum("remaining"))["p"] or 0
            lots.update(is_pending=False)
            Member.objects.for_group(group_id).filter(pk=member.pk).update(
                balance=F("balance") + points, pending=F("pending") - points
            )
            released += points
    return released


def expire_lots(now: dt.datetime | None = None) -> int:
    """Write one expiry entry per member for lots past their date (idempotent per day)."""
    now = now or timezone.now()
    expired = 0
    due = LedgerEntry.objects.unscoped().filter(remaining__gt=0, expires_at__lte=now)
    for member_id, group_id in (
        due.order_by().values_list("member_id", "dealer_group_id").distinct()
    ):
        member = Member.objects.for_group(group_id).get(pk=member_id)
        lots = list(
            LedgerEntry.objects.for_group(group_id)
            .filter(member=member, remaining__gt=0, expires_at__lte=now)
            .order_by("expires_at", "id")
        )
        points = sum(lot.remaining for lot in lots)
        if points <= 0:
            continue
        try:
            entry, _created = debit(
                member,
                points,
                kind=EntryKind.EXPIRE,
                reason=text(gettext_noop("Points expired")),
                key=f"expire:{member.pk}:{now:%Y%m%d%H%M%S%f}",
                lots=lots,
                allow_partial=True,
                now=now,
            )
        except IntegrityError:  # pragma: no cover - another worker expired them first
            continue
        expired += -entry.points if entry else 0
    return expired


def check_member(member: Member) -> list[str]:
    """Every invariant of one member's ledger; an empty list means it is consistent."""
    g = member.dealer_group_id
    member = Member.objects.for_group(g).get(pk=member.pk)
    entries = list(LedgerEntry.objects.for_group(g).filter(member=member))
    allocated = dict(
        Allocation.objects.for_group(g)
        .filter(lot__member=member)
        .values_list("lot_id")
        .annotate(s=Sum("points"))
    )
    by_debit = dict(
        Allocation.objects.for_group(g)
        .filter(debit__member=member)
        .values_list("debit_id")
        .annotate(s=Sum("points"))
    )
    problems = []
    total = sum(e.points for e in entries)
    if member.balance + member.pending != total:
        problems.append(f"balance {member.balance} + pending {member.pending} != ledger {total}")
    released = sum(e.remaining for e in entries if e.points > 0 and not e.is_pending)
    pending = sum(e.remaining for e in entries if e.points > 0 and e.is_pending)
    if member.balance != released:
        problems.append(f"balance {member.balance} != open lots {released}")
    if member.pending != pending:
        problems.append(f"pending {member.pending} != pending lots {pending}")
    for e in entries:
        if e.points > 0 and e.remaining != e.points - allocated.get(e.pk, 0):
            problems.append(
                f"lot {e.pk}: remaining {e.remaining} != {e.points} - {allocated.get(e.pk, 0)}"
            )
        if e.points < 0 and -e.points != by_debit.get(e.pk, 0):
            problems.append(f"debit {e.pk}: {e.points} allocated {by_debit.get(e.pk, 0)}")
        if e.remaining < 0:
            problems.append(f"lot {e.pk} below zero")
    return problems

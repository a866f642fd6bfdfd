"""The ledger's invariants under random sequences of earn / redeem / expire / reverse / release,
and the member lock under parallel redemptions."""

import datetime as dt
import itertools
import threading

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m4s.core.errors import DomainError
from m4s.customers.models import Customer
from m4s.loyalty import ledger, services
from m4s.loyalty.choices import EntryKind
from m4s.loyalty.models import Allocation, LedgerEntry, Member

T0 = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
_phones = itertools.count()

ops = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 500), st.integers(1, 400), st.booleans()),
        st.tuples(st.just("redeem"), st.integers(1, 800)),
        st.tuples(st.just("reverse"), st.integers(0, 20)),
        st.tuples(st.just("tick"), st.integers(1, 200)),
    ),
    min_size=1,
    max_size=25,
)


def _member(group, store):
    c = Customer.objects.create(
        dealer_group=group, store=store, name="P", phone=f"+8613666{next(_phones):06d}"
    )
    return services.get_or_create_member(c)


def _fifo_ok(debit: LedgerEntry, now) -> bool:
    """A debit took from a lot only when every lot expiring earlier was used up at that time."""
    taken = list(
        Allocation.objects.for_group(debit.dealer_group_id)
        .filter(debit=debit)
        .select_related("lot")
    )
    if not taken:
        return True
    latest = max(a.lot.expires_at for a in taken)
    earlier_left = LedgerEntry.objects.for_group(debit.dealer_group_id).filter(
        member_id=debit.member_id,
        remaining__gt=0,
        is_pending=False,
        expires_at__gt=now,
        expires_at__lt=latest,
    )
    return not earlier_left.exists()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=ops)
def test_random_sequences_keep_every_invariant(world, sequence):
    member = _member(world.group_a, world.store_a)
    now = T0
    earns = []
    for step, op in enumerate(sequence):
        kind = op[0]
        if kind == "earn":
            _k, points, days_to_expiry, pending = op
            entry, _ = ledger.credit(
                member,
                points,
                reason="earn",
                key=f"e{member.pk}:{step}",
                expires_at=now + dt.timedelta(days=days_to_expiry),
                available_at=now + dt.timedelta(days=3) if pending else None,
                now=now,
            )
            earns.append(entry)
        elif kind == "redeem":
            before = Member.objects.for_group(world.group_a).get(pk=member.pk).balance
            try:
                entry, _ = ledger.debit(
                    member,
                    op[1],
                    kind=EntryKind.REDEEM,
                    reason="r",
                    key=f"r{member.pk}:{step}",
                    now=now,
                )
            except DomainError as e:
                assert e.code == "insufficient_points" and op[1] > before
            else:
                assert op[1] <= before
                assert _fifo_ok(entry, now)
        elif kind == "reverse" and earns:
            ledger.reverse(
                earns[op[1] % len(earns)],
                reason="refund",
                key=f"v{member.pk}:{earns[op[1] % len(earns)].pk}",
                now=now,
            )
        elif kind == "tick":
            now += dt.timedelta(days=op[1])
            ledger.release_pending(now)
            ledger.expire_lots(now)
        m = Member.objects.for_group(world.group_a).get(pk=member.pk)
        assert m.balance >= 0 and m.pending >= 0
        assert ledger.check_member(m) == [], sequence[: step + 1]
        assert (
            not LedgerEntry.objects.for_group(world.group_a)
            .filter(member=m, remaining__lt=0)
            .exists()
        )


def test_fifo_takes_the_oldest_expiry_first(world):
    m = _member(world.group_a, world.store_a)
    late, _ = ledger.credit(
        m, 100, reason="late", key="late", expires_at=T0 + dt.timedelta(days=300), now=T0
    )
    early, _ = ledger.credit(
        m, 100, reason="early", key="early", expires_at=T0 + dt.timedelta(days=30), now=T0
    )
    debit, _ = ledger.debit(m, 150, kind=EntryKind.REDEEM, reason="r", key="d", now=T0)
    early.refresh_from_db()
    late.refresh_from_db()
    assert (early.remaining, late.remaining) == (0, 50)
    assert sorted(
        Allocation.objects.for_group(world.group_a)
        .filter(debit=debit)
        .values_list("lot_id", "points")
    ) == sorted([(early.pk, 100), (late.pk, 50)])
    # Expiry writes an entry for what is left of expired lots only.
    assert ledger.expire_lots(T0 + dt.timedelta(days=301)) == 50
    m.refresh_from_db()
    assert m.balance == 0 and ledger.check_member(m) == []


def test_a_repeated_key_has_one_effect(world):
    m = _member(world.group_a, world.store_a)
    a, created = ledger.credit(m, 100, reason="x", key="same", expires_at=None, now=T0)
    b, again = ledger.credit(m, 100, reason="x", key="same", expires_at=None, now=T0)
    assert created and not again and a.pk == b.pk
    d1, _ = ledger.debit(m, 30, kind=EntryKind.REDEEM, reason="r", key="spend", now=T0)
    d2, again = ledger.debit(m, 30, kind=EntryKind.REDEEM, reason="r", key="spend", now=T0)
    assert d1.pk == d2.pk and not again
    m.refresh_from_db()
    assert m.balance == 70


@pytest.mark.django_db(transaction=True)
def test_parallel_redemptions_never_overspend(world):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race is meaningful on PostgreSQL")
    m = _member(world.group_a, world.store_a)
    ledger.credit(m, 500, reason="x", key="seed", expires_at=None)
    barrier, results = threading.Barrier(8), []

    def spend(i):
        barrier.wait()
        try:
            ledger.debit(m, 100, kind=EntryKind.REDEEM, reason="r", key=f"p{i}")
            results.append("ok")
        except DomainError as e:
            results.append(e.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 5 and results.count("insufficient_points") == 3
    m.refresh_from_db()
    assert m.balance == 0 and ledger.check_member(m) == []


def test_loyalty_check_command_finds_a_tampered_balance(world, capsys):
    from django.core.management import CommandError, call_command

    m = _member(world.group_a, world.store_a)
    ledger.credit(m, 100, reason="x", key="k", expires_at=None)
    call_command("loyalty_check", verbosity=0)
    Member.objects.for_group(world.group_a).filter(pk=m.pk).update(balance=999)
    with pytest.raises(CommandError):
        call_command("loyalty_check", verbosity=0)
    assert "balance 999" in capsys.readouterr().err

"""The loan calculator: an equal-instalment schedule in Decimals, against a hand-computed example,
refusals with codes, zero-rate products, and properties (principal parts add up to the amount
financed to the fen, balances never negative and end at zero)."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m4s.catalogue.services import quote_loan
from m4s.core.errors import DomainError


def test_hand_computed_example():
    # 100,000.00 over 12 months at 6 % a year: monthly rate r = 0.005.
    # Instalment A = P·r / (1 − (1 + r)^−12) = 500 / (1 − 0.941905340) = 8,606.6429… → 8,606.64.
    # Month 1: interest 100,000.00 × 0.005 = 500.00, principal 8,106.64, balance 91,893.36;
    # month 2: interest 459.4668 → 459.47, principal 8,147.17, balance 83,746.19;
    # … months 3–11: interest 418.73, 377.79, 336.65, 295.30, 253.74, 211.98, 170.00, 127.82, 85.43
    # (each balance × 0.005 rounded half-up), balance after month 11: 8,563.87;
    # month 12: interest 8,563.87 × 0.005 = 42.81935 → 42.82, principal 8,563.87 (all that is
    # left), instalment 8,606.69 (the last absorbs the rounding).
    # Total interest = 500.00 + 459.47 + 418.73 + 377.79 + 336.65 + 295.30 + 253.74 + 211.98
    #                + 170.00 + 127.82 + 85.43 + 42.82 = 3,279.73.
    q = quote_loan(price=D("100000.00"), down_payment=D("0"), term_months=12, annual_rate=D("6"))
    assert q.monthly_instalment == D("8606.64")
    assert [r.interest for r in q.schedule] == [
        D(x)
        for x in [
            "500.00",
            "459.47",
            "418.73",
            "377.79",
            "336.65",
            "295.30",
            "253.74",
            "211.98",
            "170.00",
            "127.82",
            "85.43",
            "42.82",
        ]
    ]
    assert q.schedule[1].balance == D("83746.19")
    assert q.last_instalment == D("8606.69")
    assert q.total_interest == D("3279.73")
    assert q.total_instalments == D("103279.73") == sum(r.instalment for r in q.schedule)
    assert q.total_paid == D("103279.73")


def test_down_payment_and_fee():
    q = quote_loan(
        price=D("150000"),
        down_payment=D("50000"),
        term_months=12,
        annual_rate=D("6"),
        fee=D("800"),
    )
    assert q.amount_financed == D("100000.00") and q.total_interest == D("3279.73")
    assert q.total_paid == D("50000") + D("103279.73") + D("800")


def test_zero_rate_product():
    q = quote_loan(price=D("100000"), down_payment=D("0"), term_months=36, annual_rate=D("0"))
    # 100,000 / 36 = 2,777.777… → 2,777.78; 35 × 2,777.78 = 97,222.30; the last is 2,777.70.
    assert q.monthly_instalment == D("2777.78") and q.last_instalment == D("2777.70")
    assert q.total_interest == D("0.00") and q.total_paid == D("100000.00")


@pytest.mark.parametrize(
    "kw,code",
    [
        ({"term_months": 0}, "invalid_term"),
        ({"term_months": -12}, "invalid_term"),
        ({"down_payment": D("-1")}, "invalid_down_payment"),
        ({"down_payment": D("100000")}, "invalid_down_payment"),
        ({"down_payment": D("120000")}, "invalid_down_payment"),
        ({"annual_rate": D("-0.5")}, "invalid_rate"),
        ({"price": D("0")}, "invalid_price"),
        ({"fee": D("-1")}, "invalid_fee"),
    ],
)
def test_refusals(kw, code):
    args = {
        "price": D("100000"),
        "down_payment": D("0"),
        "term_months": 12,
        "annual_rate": D("6"),
        **kw,
    }
    with pytest.raises(DomainError) as exc:
        quote_loan(**args)
    assert exc.value.code == code and exc.value.status == 422


money = st.decimals(min_value=D("0.01"), max_value=D("5000000"), places=2)


@settings(max_examples=300, deadline=None)
@given(
    price=money,
    down_share=st.decimals(min_value=D("0"), max_value=D("0.99"), places=2),
    term=st.integers(min_value=1, max_value=120),
    rate=st.decimals(min_value=D("0"), max_value=D("30"), places=2),
)
def test_principal_adds_up_to_the_amount_financed(price, down_share, term, rate):
    down = (price * down_share).quantize(D("0.01"))
    if down >= price:
        down = D("0")
    q = quote_loan(price=price, down_payment=down, term_months=term, annual_rate=rate)
    assert len(q.schedule) == term
    assert sum(r.principal for r in q.schedule) == q.amount_financed == price - down
    assert q.schedule[-1].balance == 0
    assert all(r.balance >= 0 and r.principal >= 0 and r.interest >= 0 for r in q.schedule)
    assert q.total_interest == sum(r.interest for r in q.schedule)
    assert all(r.instalment == r.principal + r.interest for r in q.schedule)
    assert all(r.instalment.as_tuple().exponent == -2 for r in q.schedule)
    # every instalment but the last is the same (unless a few fen run out a month early)
    running = [r.instalment for r in q.schedule[:-1] if r.balance > 0]
    assert len(set(running)) <= 1
    if rate == 0:
        assert q.total_interest == 0

"""New-car catalogue and finance: every write (staff edits from the console) and the loan
calculator. The calculator works in Decimals only: an equal-instalment (annuity) schedule,
rounded half-up to the fen, the last instalment absorbing the rounding so that the principal
parts add up exactly to the amount financed."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.core.uploads import clean_image

from .choices import MAX_PICTURES, MAX_PRICE, MAX_TERM
from .models import Brand, CarModel, Colour, FinanceProduct, Insurer, ModelPicture, Trim

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


# --- the loan calculator --------------------------------------------------------------------------
@dataclass(frozen=True)
class LoanRow:
    month: int
    instalment: Decimal
    principal: Decimal
    interest: Decimal
    balance: Decimal  # what is still owed after this instalment


@dataclass(frozen=True)
class LoanQuote:
    price: Decimal
    down_payment: Decimal
    amount_financed: Decimal
    term_months: int
    annual_rate: Decimal
    monthly_instalment: Decimal  # every instalment but (perhaps) the last
    last_instalment: Decimal
    total_interest: Decimal
    total_instalments: Decimal  # amount financed + total interest
    fee: Decimal
    total_paid: Decimal  # down payment + instalments + fee
    schedule: list[LoanRow] = field(default_factory=list)


def _bad(code: str, message: str) -> DomainError:
    return DomainError(code, message, status=422)


def quote_loan(
    *,
    price: Decimal,
    down_payment: Decimal,
    term_months: int,
    annual_rate: Decimal,
    fee: Decimal = Decimal(0),
) -> LoanQuote:
    """The equal-instalment schedule of a car loan. Refuses (422): a term of 0 or less
    (`invalid_term`), a negative down payment or one that is not below the price
    (`invalid_down_payment`), a negative rate (`invalid_rate`), a price of 0 or less
    (`invalid_price`), a negative fee (`invalid_fee`)."""
    price, down_payment, annual_rate, fee = (
        Decimal(v) for v in (price, down_payment, annual_rate, fee)
    )
    if not all(v.is_finite() for v in (price, down_payment, annual_rate, fee)):
        raise _bad("invalid_price", _("Give the amounts as numbers."))
    if isinstance(term_months, bool) or not isinstance(term_months, int) or term_months <= 0:
        raise _bad("invalid_term", _("The term must be at least one month."))
    if term_months > MAX_TERM:
        raise _bad("invalid_term", _("The term may be at most %(n)d months.") % {"n": MAX_TERM})
    if price <= 0 or price > MAX_PRICE:
        raise _bad("invalid_price", _("The price must be more than zero."))
    if down_payment < 0:
        raise _bad("invalid_down_payment", _("The down payment cannot be negative."))
    if down_payment >= price:
        raise _bad("invalid_down_payment", _("The down payment must be less than the price."))
    if annual_rate < 0 or annual_rate > 100:
        raise _bad("invalid_rate", _("The rate cannot be negative."))
    if fee < 0:
        raise _bad("invalid_fee", _("The fee cannot be negative."))
    price, down_payment, fee = fen(price), fen(down_payment), fen(fee)
    amount = price - down_payment
    if amount <= 0:
        raise _bad("invalid_down_payment", _("The down payment must be less than the price."))
    n = term_months
    with localcontext() as ctx:
        ctx.prec = 40
        r = annual_rate / Decimal(12) / Decimal(100)
        instalment = fen(amount / n) if r == 0 else fen(amount * r / (1 - (1 + r) ** -n))
        rows: list[LoanRow] = []
        balance = amount
        for month in range(1, n + 1):
            interest = fen(balance * r)
            last = month == n
            principal = balance if last else min(max(instalment - interest, ZERO), balance)
            balance -= principal
            rows.append(LoanRow(month, principal + interest, principal, interest, balance))
    total_interest = sum((row.interest for row in rows), ZERO)
    total_instalments = amount + total_interest
    return LoanQuote(
        price=price,
        down_payment=down_payment,
        amount_financed=amount,
        term_months=n,
        annual_rate=annual_rate,
        monthly_instalment=rows[0].instalment if n > 1 else rows[-1].instalment,
        last_instalment=rows[-1].instalment,
        total_interest=total_interest,
        total_instalments=total_instalments,
        fee=fee,
        total_paid=down_payment + total_instalments + fee,
        schedule=rows,
    )


def quote_product(
    product: FinanceProduct,
    *,
    price: Decimal,
    down_payment: Decimal,
    term_months: int,
) -> LoanQuote:
    """A quote with a finance product: its rate and fee, a term it allows (`term_not_offered`)
    and a down payment inside its range (`down_payment_out_of_range`), all 422."""
    if not product.active:
        raise DomainError("not_found", _("No such finance product."), status=404)
    if term_months not in product.allowed_terms:
        raise _bad(
            "term_not_offered",
            _("This product offers terms of %(terms)s months.")
            % {"terms": ", ".join(str(t) for t in product.allowed_terms)},
        )
    price = Decimal(price)
    if price.is_finite() and price > 0:
        low = fen(price * product.min_down_payment_pct / 100)
        high = fen(price * product.max_down_payment_pct / 100)
        down = Decimal(down_payment)
        if down.is_finite() and down >= 0 and not low <= down <= high:
            raise _bad(
                "down_payment_out_of_range",
                _("The down payment must be between %(low)s and %(high)s.")
                % {"low": f"{low:,.2f}", "high": f"{high:,.2f}"},
            )
    return quote_loan(
        price=price,
        down_payment=down_payment,
        term_months=term_months,
        annual_rate=product.annual_rate,
        fee=product.fee,
    )


# --- staff writes -----------------------------------------------------------------------------------
def _group_of(actor, group=None):
    group_id = getattr(group, "pk", group) or getattr(actor, "dealer_group_id", None)
    if not group_id:
        raise DomainError(
            "no_group", _("Only a dealer group's staff can edit its catalogue."), status=422
        )
    return group_id


def _save(obj, fields: dict):
    for name, value in fields.items():
        setattr(obj, name, value)
    try:
        obj.full_clean(exclude=["dealer_group"])
    except Exception as exc:  # django ValidationError → 422 with the first message
        messages = getattr(exc, "messages", None) or [str(exc)]
        raise _bad("invalid", "; ".join(str(m) for m in messages)) from None
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise _bad("invalid", _("These values contradict each other or exist already.")) from None
    return obj


@transaction.atomic
def save_brand(actor, brand: Brand | None = None, **fields) -> Brand:
    brand = brand or Brand(dealer_group_id=_group_of(actor))
    return _save(brand, fields)


@transaction.atomic
def save_model(actor, car_model: CarModel | None = None, **fields) -> CarModel:
    brand = fields.get("brand")
    group_id = car_model.dealer_group_id if car_model else _group_of(actor)
    if brand is not None and brand.dealer_group_id != group_id:
        raise DomainError("not_found", _("No such brand."), status=404)
    car_model = car_model or CarModel(dealer_group_id=group_id)
    return _save(car_model, fields)


@transaction.atomic
def set_published(actor, car_model: CarModel, published: bool) -> CarModel:
    if published and not car_model.trims.filter(active=True).exists():
        raise DomainError(
            "no_trims", _("Add at least one trim on sale before publishing."), status=409
        )
    car_model.published = published
    car_model.save(update_fields=["published", "updated_at"])
    return car_model


@transaction.atomic
def save_trim(actor, car_model: CarModel, trim: Trim | None = None, **fields) -> Trim:
    trim = trim or Trim(dealer_group_id=car_model.dealer_group_id, car_model=car_model)
    msrp, price = fields.get("msrp", trim.msrp), fields.get("dealer_price", trim.dealer_price)
    if msrp is not None and price is not None and price > msrp:
        raise _bad("price_above_msrp", _("The dealer price cannot be above the MSRP."))
    return _save(trim, fields)


@transaction.atomic
def save_colour(actor, car_model: CarModel, colour: Colour | None = None, **fields) -> Colour:
    colour = colour or Colour(dealer_group_id=car_model.dealer_group_id, car_model=car_model)
    return _save(colour, fields)


@transaction.atomic
def add_pictures(actor, car_model: CarModel, uploads, caption: str = "") -> list[ModelPicture]:
    """Pictures of a model (each a real JPEG/PNG/WebP: else 422 `invalid_image`, nothing kept)."""
    cleaned = [clean_image(f) for f in uploads if f]
    have = car_model.pictures.count()
    if have + len(cleaned) > MAX_PICTURES:
        raise _bad("too_many_photos", _("At most %(n)d pictures.") % {"n": MAX_PICTURES})
    out = []
    for i, image in enumerate(cleaned):
        picture = ModelPicture(
            dealer_group_id=car_model.dealer_group_id,
            car_model=car_model,
            caption=caption[:120],
            sort=have + i,
        )
        picture.image.save(image.name or "image.png", image, save=False)
        picture.save()
        out.append(picture)
    return out


@transaction.atomic
def set_cover(actor, car_model: CarModel, upload) -> CarModel:
    image = clean_image(upload)
    car_model.cover.save(image.name or "image.png", image, save=False)
    car_model.save(update_fields=["cover", "updated_at"])
    return car_model


@transaction.atomic
def delete_picture(actor, picture: ModelPicture) -> None:
    if picture.image:
        picture.image.delete(save=False)
    picture.delete()


@transaction.atomic
def save_finance_product(actor, product: FinanceProduct | None = None, **fields) -> FinanceProduct:
    terms = fields.get("terms")
    if terms is not None:
        terms = sorted({int(t) for t in terms})
        if not terms or any(t <= 0 or t > MAX_TERM for t in terms):
            raise _bad("invalid_term", _("Give at least one term between 1 and 120 months."))
        fields["terms"] = terms
    low = fields.get("min_down_payment_pct", product.min_down_payment_pct if product else 0)
    high = fields.get("max_down_payment_pct", product.max_down_payment_pct if product else 80)
    if low > high:
        raise _bad(
            "invalid_down_payment",
            _("The minimum down payment cannot be above the maximum."),
        )
    product = product or FinanceProduct(dealer_group_id=_group_of(actor))
    return _save(product, fields)


@transaction.atomic
def save_insurer(actor, insurer: Insurer | None = None, **fields) -> Insurer:
    insurer = insurer or Insurer(dealer_group_id=_group_of(actor))
    return _save(insurer, fields)

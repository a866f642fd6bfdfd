"""The owner app's new cars at /app/catalogue/: the published models of my dealer groups (cards
with cover, from-price, energy badge; filter chips), a model's page (gallery, colours, trims with
the MSRP struck through when the dealer's price is lower, key specs, test drive / enquiry /
finance buttons) and the finance calculator (htmx: the quote is redrawn as the owner changes
product, trim, down payment or term). Another group's or an unpublished model: 404."""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from m4s.catalogue import selectors, services
from m4s.catalogue.choices import MAX_PRICE, EnergyType
from m4s.core import charts
from m4s.core.errors import DomainError
from m4s.owners.decorators import owner_required


def _int(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 12 else None


def _money(raw) -> Decimal | None:
    raw = (raw or "").strip().replace(",", "")
    if not raw or len(raw) > 16:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_PRICE:
        return None
    return value.quantize(Decimal("0.01"))


@owner_required
@require_GET
def models(request):
    ids = selectors.owner_group_ids(request.owner)
    energy = request.GET.get("energy") or ""
    energy = energy if energy in EnergyType.values else ""
    brand = _int(request.GET.get("brand"))
    every = list(selectors.published_models(ids))
    shown = [
        m
        for m in every
        if (not energy or m.energy_type == energy) and (not brand or m.brand_id == brand)
    ]
    energies = [e for e in EnergyType if any(m.energy_type == e for m in every)]
    brands = {m.brand_id: m.brand for m in every}
    return render(
        request,
        "catalogue/app/list.html",
        {
            "models": shown,
            "energies": energies,
            "brands": list(brands.values()),
            "energy": energy,
            "brand": brand,
        },
    )


@owner_required
@require_GET
def model(request, model_id: int):
    ids = selectors.owner_group_ids(request.owner)
    try:
        car = selectors.get_published_model(ids, model_id)
    except DomainError as exc:
        raise Http404(exc.message) from None
    trims = list(car.trims.all())
    return render(
        request,
        "catalogue/app/model.html",
        {
            "car": car,
            "trims": trims,
            "colours": list(car.colours.all()),
            "pictures": [p for p in car.pictures.all() if p.image],
            "key": trims[0] if trims else None,
            "from_price": selectors.from_price(car),
        },
    )


def _balance_chart(quote):
    n = quote.term_months
    balances = [float(quote.amount_financed), *(float(r.balance) for r in quote.schedule)]
    marks = sorted({0, n // 2, n})
    return charts.line_chart(
        [charts.Series(_("Balance"), balances, colour=charts.BRAND)],
        xs=list(range(n + 1)),
        x_labels=[(m, _("%(n)d mo.") % {"n": m}) for m in marks],
        width=360,
        height=200,
        pad=(58, 16, 16, 26),
        y_min=0,
        area=True,
        value_format=lambda v: f"{v / 1000:,.0f}k" if v >= 10000 else f"{v:,.0f}",
    )


def _default_down(product, price: Decimal, low: Decimal, high: Decimal) -> Decimal:
    pct = min(max(Decimal(30), product.min_down_payment_pct), product.max_down_payment_pct)
    return min(max((price * pct / 100).quantize(Decimal("1"), rounding=ROUND_CEILING), low), high)


@owner_required
@require_GET
def finance(request):
    ids = selectors.owner_group_ids(request.owner)
    products = list(selectors.finance_products(ids))
    cars = list(selectors.published_models(ids))
    trims = [(m, t) for m in cars for t in m.trims.all()]
    ctx: dict = {"products": products, "cars": cars, "trims": trims}
    if not products:
        return render(request, "catalogue/app/finance.html", {**ctx, "product": None})
    product = next((p for p in products if p.pk == _int(request.GET.get("product"))), products[0])
    trim_id = _int(request.GET.get("trim"))
    model_id = _int(request.GET.get("model"))
    asked_price = _money(request.GET.get("price"))
    trim = None
    if trim_id:
        trim = next((t for _m, t in trims if t.pk == trim_id), None)
    elif model_id:
        trim = next((t for m, t in trims if m.pk == model_id), None)
    elif asked_price is None and "trim" not in request.GET:
        trim = trims[0][1] if trims else None
    if trim is not None and trim.dealer_group_id != product.dealer_group_id:
        same = [p for p in products if p.dealer_group_id == trim.dealer_group_id]
        product = same[0] if same else product
    price = trim.dealer_price if trim else (asked_price or Decimal("150000.00"))
    terms = product.allowed_terms or [12]
    asked_term = _int(request.GET.get("term"))
    term = asked_term if asked_term in terms and asked_term else (36 if 36 in terms else terms[-1])
    low = (price * product.min_down_payment_pct / 100).quantize(Decimal("1"), ROUND_CEILING)
    high = (price * product.max_down_payment_pct / 100).quantize(Decimal("1"), ROUND_FLOOR)
    down = _money(request.GET.get("down"))
    if down is None:
        down = _default_down(product, price, low, high)
    quote, error = None, ""
    try:
        quote = services.quote_product(product, price=price, down_payment=down, term_months=term)
    except DomainError as exc:
        error = exc.message
    ctx.update(
        product=product,
        trim=trim,
        price=price,
        down=down,
        term=term,
        terms=terms,
        low=low,
        high=high,
        step=max(Decimal(1), (price / 200).quantize(Decimal("100")) or Decimal(100)),
        quote=quote,
        error=error,
        chart=_balance_chart(quote) if quote else None,
    )
    template = (
        "catalogue/app/_calc.html"
        if request.headers.get("HX-Request")
        else "catalogue/app/finance.html"
    )
    return render(request, template, ctx)

"""New-car catalogue and finance products: the API. Transport only: every write is a service,
every read a selector.

The catalogue is marketing material: `GET /catalogue/models` answers anybody who names a dealer
group (`?group=<slug>`); with an owner's token and no group it answers the catalogues of the
groups the owner is a customer of. An unpublished model, another group's model or product: 404."""

from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from m4s.core.api import errors
from m4s.core.auth import owner_auth, resolve_token, staff_auth
from m4s.core.errors import DomainError
from m4s.core.uploads import media_url

from . import selectors, services
from .choices import BodyType, Drive, EnergyType
from .schemas import (
    CatalogueModelOut,
    FinanceProductOut,
    FinanceQuoteIn,
    FinanceQuoteOut,
    Slug,
)

owner_router = Router(tags=["owner: catalogue"], auth=owner_auth)
staff_router = Router(tags=["staff: catalogue"], auth=staff_auth)
public_router = Router(tags=["catalogue"])

# Refusals of schema-valid input that depend on the product or the trim (not on the input's shape).
DATA_CODES = {
    "invalid_price",
    "invalid_down_payment",
    "down_payment_out_of_range",
    "term_not_offered",
}


class CatalogueFilter(Schema):
    group: Slug | None = None
    energy: EnergyType | None = None
    brand: int | None = Field(None, ge=1, le=2**63 - 1)


class FinanceProductFilter(Schema):
    group: Slug | None = None


# --- who is asking ---------------------------------------------------------------------------------
def _viewer_groups(request, group: str | None) -> set[int]:
    """The groups whose catalogue this request reads: the named group (anybody), else the
    signed-in owner's groups (a Bearer token is optional). Neither: 401."""
    if group:
        return {selectors.group_by_slug(group).pk}
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, key = header.partition(" ")
    owner = None
    if scheme.lower() == "bearer" and key.strip():
        token = resolve_token(key.strip())
        owner = getattr(token, "owner", None) if token is not None and token.owner_id else None
    if owner is None:
        raise DomainError(
            "unauthenticated",
            _("Sign in as an owner or name a dealer group (?group=<slug>)."),
            status=401,
        )
    request.owner = owner
    return selectors.owner_group_ids(owner)


# --- shaping answers ---------------------------------------------------------------------------------
def trim_out(t) -> dict:
    return {
        "id": t.pk,
        "name": t.t("name"),
        "msrp": t.msrp,
        "dealer_price": t.dealer_price,
        "discount": t.msrp - t.dealer_price,
        "power_kw": t.power_kw,
        "torque_nm": t.torque_nm,
        "acceleration_s": t.acceleration_s,
        "fuel_l_100km": t.fuel_l_100km,
        "electric_range_km": t.electric_range_km,
        "battery_kwh": t.battery_kwh,
        "seats": t.seats,
        "length_mm": t.length_mm,
        "drive": t.drive,
        "drive_label": str(Drive(t.drive).label),
    }


def model_out(m, slugs: dict[int, str]) -> dict:
    return {
        "id": m.pk,
        "group": slugs.get(m.dealer_group_id, ""),
        "brand": {
            "id": m.brand.pk,
            "name": m.brand.t("name"),
            "logo_url": media_url(m.brand, "logo") if m.brand.logo else "",
        },
        "name": m.t("name"),
        "body_type": m.body_type,
        "body_type_label": str(BodyType(m.body_type).label),
        "energy_type": m.energy_type,
        "energy_label": str(EnergyType(m.energy_type).label),
        "tagline": m.t("tagline"),
        "description": m.t("description"),
        "cover_url": media_url(m, "cover") if m.cover else "",
        "from_price": selectors.from_price(m),
        "trims": [trim_out(t) for t in m.trims.all()],
        "colours": [
            {"id": c.pk, "name": c.t("name"), "hex": c.hex, "extra_price": c.extra_price}
            for c in m.colours.all()
        ],
        "pictures": [
            {"id": p.pk, "url": media_url(p, "image"), "caption": p.t("caption")}
            for p in m.pictures.all()
            if p.image
        ],
    }


def product_out(p, slugs: dict[int, str]) -> dict:
    return {
        "id": p.pk,
        "group": slugs.get(p.dealer_group_id, ""),
        "name": p.t("name"),
        "description": p.t("description"),
        "annual_rate": p.annual_rate,
        "min_down_payment_pct": p.min_down_payment_pct,
        "max_down_payment_pct": p.max_down_payment_pct,
        "terms": p.allowed_terms,
        "fee": p.fee,
    }


def quote_out(q, *, product_id: int, trim_id: int | None) -> dict:
    return {
        "product_id": product_id,
        "trim_id": trim_id,
        "price": q.price,
        "down_payment": q.down_payment,
        "amount_financed": q.amount_financed,
        "term_months": q.term_months,
        "annual_rate": q.annual_rate,
        "monthly_instalment": q.monthly_instalment,
        "last_instalment": q.last_instalment,
        "total_interest": q.total_interest,
        "total_instalments": q.total_instalments,
        "fee": q.fee,
        "total_paid": q.total_paid,
        "schedule": [
            {
                "month": r.month,
                "instalment": r.instalment,
                "principal": r.principal,
                "interest": r.interest,
                "balance": r.balance,
            }
            for r in q.schedule
        ],
    }


# --- public (an owner's token optional) ---------------------------------------------------------------
@public_router.get(
    "/catalogue/models", response=list[CatalogueModelOut], openapi_extra=errors(401, 404)
)
def catalogue_models(request, filters: Query[CatalogueFilter]):
    """Published new-car models with their trims on sale (MSRP and dealer price), colours and
    pictures. `group`: a dealer group's slug (anybody); without it, an owner's token (Bearer)
    answers the catalogues of the owner's groups. Filters: `energy`, `brand` (id)."""
    ids = _viewer_groups(request, filters.group)
    slugs = selectors.group_slugs(ids)
    return [
        model_out(m, slugs)
        for m in selectors.published_models(ids, energy=filters.energy or "", brand=filters.brand)[
            :200
        ]
    ]


@public_router.get(
    "/catalogue/models/{int:model_id}",
    response=CatalogueModelOut,
    openapi_extra=errors(401, 404),
)
def catalogue_model(request, model_id: int, group: Slug | None = None):
    """One published model (see the list for who may read what)."""
    ids = _viewer_groups(request, group)
    return model_out(selectors.get_published_model(ids, model_id), selectors.group_slugs(ids))


@public_router.get(
    "/finance/products", response=list[FinanceProductOut], openapi_extra=errors(401, 404)
)
def finance_products(request, filters: Query[FinanceProductFilter]):
    """The active finance products (rate, down-payment range, terms, fee)."""
    ids = _viewer_groups(request, filters.group)
    slugs = selectors.group_slugs(ids)
    return [product_out(p, slugs) for p in selectors.finance_products(ids)]


@public_router.post("/finance/quote", response=FinanceQuoteOut, openapi_extra=errors(401, 404, 409))
def finance_quote(request, payload: FinanceQuoteIn):
    """The equal-instalment schedule of a loan with a finance product: for a trim (its dealer
    price) or a `price`. The down payment must be below the price and inside the product's range
    (409 `invalid_down_payment` / `down_payment_out_of_range`), the term one the product offers
    (409 `term_not_offered`); neither trim nor price: 409 `price_required`."""
    ids = _viewer_groups(request, payload.group)
    product = selectors.get_finance_product(ids, payload.product_id)
    price: Decimal | None = payload.price
    if payload.trim_id is not None:
        trim = selectors.get_trim({product.dealer_group_id}, payload.trim_id)
        price = trim.dealer_price
    if price is None:
        raise DomainError("price_required", _("Pick a trim or give a price."), status=409)
    try:
        q = services.quote_product(
            product,
            price=price,
            down_payment=payload.down_payment,
            term_months=payload.term_months,
        )
    except DomainError as exc:
        if exc.code in DATA_CODES:
            raise DomainError(exc.code, exc.message, status=409) from None
        raise
    return quote_out(q, product_id=product.pk, trim_id=payload.trim_id)

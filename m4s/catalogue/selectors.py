"""Scoped reads of the catalogue. Owners see the published models, active trims and active
finance products of the dealer groups they are a customer of (and their home store's group);
an anonymous visitor names a group by its slug; staff see their group's (platform admins all).
Another group's row, an unpublished model or an inactive product is a NotFound (404)."""

from decimal import Decimal

from django.db.models import Min, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from m4s.core.errors import NotFound
from m4s.customers.models import Customer
from m4s.org.models import DealerGroup

from .models import Brand, CarModel, Colour, FinanceProduct, Insurer, ModelPicture, Trim


def owner_group_ids(owner) -> set[int]:
    """The dealer groups whose catalogue an owner sees."""
    if not owner or getattr(owner, "pk", None) is None:
        return set()
    ids = set(Customer.objects.for_owner(owner).values_list("dealer_group_id", flat=True))
    store = getattr(owner, "home_store", None)
    if store is not None:
        ids.add(store.dealer_group_id)
    return ids


def group_by_slug(slug: str) -> DealerGroup:
    group = DealerGroup.objects.filter(slug=slug).first() if slug else None
    if group is None:
        raise NotFound(_("No such dealer group."))
    return group


def _with_parts(qs: QuerySet, *, only_active: bool = True) -> QuerySet:
    trims = Trim.objects.unscoped().order_by("sort", "dealer_price", "id")
    if only_active:
        trims = trims.filter(active=True)
    return qs.select_related("brand").prefetch_related(
        Prefetch("trims", queryset=trims),
        Prefetch("colours", queryset=Colour.objects.unscoped().order_by("sort", "id")),
        Prefetch("pictures", queryset=ModelPicture.objects.unscoped().order_by("sort", "id")),
    )


def published_models(group_ids, *, energy: str = "", brand: int | None = None) -> QuerySet:
    """Published models of these groups with their active trims, colours and pictures, each
    annotated with `from_price` (its lowest dealer price on sale)."""
    qs = CarModel.objects.unscoped().filter(dealer_group_id__in=list(group_ids), published=True)
    if energy:
        qs = qs.filter(energy_type=energy)
    if brand:
        qs = qs.filter(brand_id=brand)
    qs = qs.annotate(from_price=Min("trims__dealer_price", filter=Q(trims__active=True)))
    return _with_parts(qs).order_by("dealer_group_id", "brand__sort", "sort", "name", "id")


def get_published_model(group_ids, model_id: int) -> CarModel:
    model = published_models(group_ids).filter(pk=model_id).first()
    if model is None:
        raise NotFound(_("No such car model."))
    return model


def brands_of(group_ids) -> QuerySet:
    return Brand.objects.unscoped().filter(dealer_group_id__in=list(group_ids))


def get_trim(group_ids, trim_id: int) -> Trim:
    """An active trim of a published model of these groups."""
    trim = (
        Trim.objects.unscoped()
        .filter(
            pk=trim_id,
            dealer_group_id__in=list(group_ids),
            active=True,
            car_model__published=True,
        )
        .select_related("car_model", "car_model__brand")
        .first()
    )
    if trim is None:
        raise NotFound(_("No such trim."))
    return trim


def finance_products(group_ids) -> QuerySet:
    return FinanceProduct.objects.unscoped().filter(
        dealer_group_id__in=list(group_ids), active=True
    )


def get_finance_product(group_ids, product_id: int) -> FinanceProduct:
    product = finance_products(group_ids).filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("No such finance product."))
    return product


def insurers(group_ids) -> QuerySet:
    """The active insurers the groups work with."""
    return Insurer.objects.unscoped().filter(dealer_group_id__in=list(group_ids), active=True)


# --- for other areas (one group) -----------------------------------------------------------------
def get_model_of_group(group_id: int, model_id: int, *, published_only: bool = True) -> CarModel:
    qs = CarModel.objects.for_group(group_id).select_related("brand").filter(pk=model_id)
    if published_only:
        qs = qs.filter(published=True)
    model = qs.first()
    if model is None:
        raise NotFound(_("No such car model."))
    return model


def models_of_group(group_id: int, *, published_only: bool = True) -> QuerySet:
    qs = CarModel.objects.for_group(group_id).select_related("brand")
    return qs.filter(published=True) if published_only else qs


# --- staff -------------------------------------------------------------------------------------------
def models_for_staff(user) -> QuerySet:
    return (
        CarModel.objects.for_actor(user)
        .select_related("brand")
        .annotate(from_price=Min("trims__dealer_price", filter=Q(trims__active=True)))
        .order_by("brand__sort", "brand__name", "sort", "name", "id")
    )


def get_model_for_staff(user, model_id: int) -> CarModel:
    model = (
        _with_parts(CarModel.objects.for_actor(user), only_active=False).filter(pk=model_id).first()
    )
    if model is None:
        raise NotFound(_("No such car model."))
    return model


def brands_for_staff(user) -> QuerySet:
    return Brand.objects.for_actor(user)


def get_brand_for_staff(user, brand_id: int) -> Brand:
    brand = Brand.objects.for_actor(user).filter(pk=brand_id).first()
    if brand is None:
        raise NotFound(_("No such brand."))
    return brand


def get_trim_for_staff(user, model: CarModel, trim_id: int) -> Trim:
    trim = model.trims.filter(pk=trim_id).first()
    if trim is None:
        raise NotFound(_("No such trim."))
    return trim


def get_colour_for_staff(user, model: CarModel, colour_id: int) -> Colour:
    colour = model.colours.filter(pk=colour_id).first()
    if colour is None:
        raise NotFound(_("No such colour."))
    return colour


def get_picture_for_staff(user, model: CarModel, picture_id: int) -> ModelPicture:
    picture = model.pictures.filter(pk=picture_id).first()
    if picture is None:
        raise NotFound(_("No such picture."))
    return picture


def products_for_staff(user) -> QuerySet:
    return FinanceProduct.objects.for_actor(user)


def get_product_for_staff(user, product_id: int) -> FinanceProduct:
    product = FinanceProduct.objects.for_actor(user).filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("No such finance product."))
    return product


def insurers_for_staff(user) -> QuerySet:
    return Insurer.objects.for_actor(user)


def get_insurer_for_staff(user, insurer_id: int) -> Insurer:
    insurer = Insurer.objects.for_actor(user).filter(pk=insurer_id).first()
    if insurer is None:
        raise NotFound(_("No such insurer."))
    return insurer


def group_slugs(group_ids) -> dict[int, str]:
    return dict(DealerGroup.objects.filter(pk__in=list(group_ids)).values_list("pk", "slug"))


def from_price(model) -> Decimal | None:
    """The lowest dealer price on sale (annotated by the list selectors), to the fen."""
    value = getattr(model, "from_price", None)
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))

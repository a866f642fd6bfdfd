"""The published price list as owners read it: the service area's prices in force today (the same
`published_prices` settlement enforces), with tax as owners pay it, names in the reader's
language. Read-only: nothing here writes, and nothing here knows another price than service's."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import NotFound
from m4s.core.i18n import translated
from m4s.customers.models import Customer
from m4s.org.models import Store
from m4s.service import selectors as service
from m4s.service.choices import PartKind
from m4s.service.models import LabourOperation, MaintenanceSchedule, Part


@dataclass
class PricedRow:
    kind: str  # package | operation | part | accessory
    id: int
    code: str
    name: str
    price: Decimal  # with tax, as the owner pays it
    net: Decimal
    unit: str = ""
    detail: str = ""


@dataclass
class ModelPrices:
    brand: str
    model: str  # "" = every model of the brand
    rows: list[PricedRow] = field(default_factory=list)


@dataclass
class PriceBook:
    store: Store
    on: dt.date
    tax_rate: Decimal
    packages: list[PricedRow]
    operations: list[PricedRow]
    parts: list[PricedRow]
    accessories: list[PricedRow]
    by_model: list[ModelPrices]

    @property
    def is_empty(self) -> bool:
        return not (self.packages or self.operations or self.parts or self.accessories)


def owner_group_ids(owner) -> list[int]:
    """The dealer groups the owner is a customer of."""
    return list(
        Customer.objects.unscoped()
        .filter(owner=owner)
        .values_list("dealer_group_id", flat=True)
        .distinct()
    )


def stores_for_owner(owner) -> list[Store]:
    """The active stores of the owner's groups, the home store first."""
    stores = list(
        Store.objects.unscoped()
        .filter(is_active=True, dealer_group_id__in=owner_group_ids(owner))
        .order_by("name", "pk")
    )
    if owner.home_store_id and not any(s.pk == owner.home_store_id for s in stores):
        home = Store.objects.unscoped().filter(pk=owner.home_store_id, is_active=True).first()
        if home is not None:
            stores.insert(0, home)
    return sorted(stores, key=lambda s: s.pk != owner.home_store_id)


def store_for_owner(owner, store_id: int) -> Store:
    """A store of a group the owner is a customer of (or their home store); else 404."""
    for store in stores_for_owner(owner):
        if store.pk == store_id:
            return store
    raise NotFound(_("No such store."))


def price_book(
    store: Store,
    on: dt.date | None = None,
    *,
    model: str = "",
    cars: list[tuple[str, str]] | None = None,
) -> PriceBook:
    """Packages (with their published total), common operations and parts/accessories, each with
    its published price in force on `on` (today), and the maintenance items by car model (one
    `model`, or the owner's `cars`, else every model). An item without a published price is not
    listed (settlement would refuse it too)."""
    on = on or timezone.localdate()
    group_id = store.dealer_group_id
    rate = service.tax_rate_for(store)
    operations = list(LabourOperation.objects.for_group(group_id).filter(is_active=True))
    parts = list(Part.objects.for_group(group_id).filter(is_active=True))
    prices = service.published_prices(
        group_id, on, operations=[o.pk for o in operations], parts=[p.pk for p in parts]
    )

    def row(kind, obj, code, net, **kw) -> PricedRow:
        return PricedRow(
            kind=kind,
            id=obj.pk,
            code=code,
            name=translated(obj, "name"),
            price=service.with_tax(net, rate),
            net=net,
            **kw,
        )

    op_rows = [
        row("operation", o, o.code, prices[("op", o.pk)])
        for o in operations
        if ("op", o.pk) in prices and o.code != "DIAG"
    ]
    diag = [
        row("operation", o, o.code, prices[("op", o.pk)])
        for o in operations
        if ("op", o.pk) in prices and o.code == "DIAG"
    ]
    part_rows, accessory_rows = [], []
    for p in parts:
        if ("part", p.pk) not in prices:
            continue
        target = accessory_rows if p.kind == PartKind.ACCESSORY else part_rows
        target.append(
            row(
                "accessory" if p.kind == PartKind.ACCESSORY else "part",
                p,
                p.part_number,
                prices[("part", p.pk)],
                unit=p.unit,
            )
        )

    package_rows: dict[int, PricedRow] = {}
    for package in service.list_packages(group_id):
        ops = list(package.operations.all())
        pparts = [(pp.part, pp.quantity) for pp in package.parts.all()]
        if any(("op", o.pk) not in prices for o in ops) or any(
            ("part", p.pk) not in prices for p, _q in pparts
        ):
            continue  # not bookable at a published price
        items = [prices[("op", o.pk)] for o in ops] + [
            prices[("part", p.pk)] * q for p, q in pparts
        ]
        net = sum(items, Decimal("0"))
        gross = sum((service.with_tax(a, rate) for a in items), Decimal("0"))
        package_rows[package.pk] = PricedRow(
            kind="package",
            id=package.pk,
            code=package.code,
            name=translated(package, "name"),
            price=gross,
            net=net,
            detail=translated(package, "description"),
        )

    by_op = {r.id: r for r in op_rows + diag}
    schedules = (
        MaintenanceSchedule.objects.for_group(group_id)
        .prefetch_related("items")
        .order_by("brand", "model")
    )
    if model:
        schedules = schedules.filter(Q(model__iexact=model) | Q(model=""))
    if cars is not None:  # only the schedules of these (brand, model) cars
        wanted = Q(pk__in=[])
        for brand, car_model in cars:
            wanted |= Q(brand__iexact=brand) & (Q(model__iexact=car_model) | Q(model=""))
        schedules = schedules.filter(wanted)
    by_model = []
    for schedule in schedules:
        rows = []
        for item in schedule.items.all():
            found = package_rows.get(item.package_id) if item.package_id else None
            found = found or by_op.get(item.operation_id)
            if found is None:
                continue
            rows.append(
                PricedRow(
                    kind=found.kind,
                    id=found.id,
                    code=found.code,
                    name=translated(item, "name"),
                    price=found.price,
                    net=found.net,
                    detail=found.name,
                )
            )
        if rows:
            by_model.append(ModelPrices(brand=schedule.brand, model=schedule.model, rows=rows))
    return PriceBook(
        store=store,
        on=on,
        tax_rate=rate,
        packages=sorted(package_rows.values(), key=lambda r: r.code),
        operations=sorted(diag + op_rows, key=lambda r: (r.code != "DIAG", r.code)),
        parts=part_rows,
        accessories=accessory_rows,
        by_model=by_model,
    )

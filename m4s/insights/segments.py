"""Segments: a definition of which customers (validated by `Definition`), read in ONE query from
the customer insight table (features, RFM segment, churn band, tier, home store) joined to the
customer, their app account and their cars (EXISTS subqueries; never a query per row).

The filters (each optional; all given ones must hold):
- `rfm_segments`, `risk_bands`, `tiers`: any of the listed values;
- `car_models`: owns (is the current owner of) a car whose model is one of these;
- `car_age_min_years` / `car_age_max_years`: the customer's oldest car's age (insight table);
- `mileage_min_km` / `mileage_max_km`: owns a car whose odometer is in the range - the connected
  car's latest telematics reading when there is one, else the odometer recorded on the car;
- `last_paid_visit_after` / `last_paid_visit_before` (dates) and `not_visited_months` (no paid
  visit in the last N months, never-visited included);
- `city`: the customer's address or their home store's address contains it;
- `store_ids`: home store one of these (a store manager: only their stores, and always limited
  to them);
- `marketing_consent`: only customers who agreed to marketing (their app account's consent when
  they have one, else the consent the store recorded). A campaign always forces it on.
"""

import datetime as dt
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from m4s.core.errors import DomainError
from m4s.staff.choices import Perm

from .choices import RiskBand
from .choices import Segment as RfmSegment
from .models import CustomerInsight, Segment

Str40 = Field(max_length=40)


class SegmentDefinition(BaseModel):
    """Which customers a segment holds (every filter optional)."""

    model_config = ConfigDict(extra="forbid")

    rfm_segments: list[RfmSegment] = Field(default_factory=list, max_length=10)
    risk_bands: list[RiskBand] = Field(default_factory=list, max_length=3)
    tiers: list[str] = Field(default_factory=list, max_length=20)
    car_models: list[str] = Field(default_factory=list, max_length=20)
    car_age_min_years: int | None = Field(default=None, ge=0, le=50)
    car_age_max_years: int | None = Field(default=None, ge=0, le=50)
    mileage_min_km: int | None = Field(default=None, ge=0, le=2_000_000)
    mileage_max_km: int | None = Field(default=None, ge=0, le=2_000_000)
    last_paid_visit_after: dt.date | None = None
    last_paid_visit_before: dt.date | None = None
    not_visited_months: int | None = Field(default=None, ge=1, le=120)
    city: str = Field(default="", max_length=80)
    store_ids: list[int] = Field(default_factory=list, max_length=50)
    marketing_consent: bool = False

    @model_validator(mode="after")
    def _clean(self) -> "SegmentDefinition":
        for name in ("tiers", "car_models"):
            values = [v.strip()[:60] for v in getattr(self, name) if v and v.strip()]
            setattr(self, name, sorted(set(values)))
        self.city = self.city.strip()
        self.store_ids = sorted({s for s in self.store_ids if 0 < s < 2**62})
        return self

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


Definition = SegmentDefinition


def parse(raw: Any) -> Definition:
    """A definition from JSON (a dict), or a 422 `invalid_segment` naming the field."""
    try:
        return raw if isinstance(raw, Definition) else Definition.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        raise DomainError(
            "invalid_segment",
            _("This filter of the segment is not valid: %(field)s.") % {"field": field},
            status=422,
            field=field,
        ) from exc


def allowed_store_ids(user) -> set[int] | None:
    """The stores whose customers the user may target: None = every store of the group."""
    if user.has_perm_m4s(Perm.VIEW_ALL_STORES):
        return None
    return set(user.store_ids())


def scoped(user, definition: Definition) -> Definition:
    """The definition limited to the user's stores: a store not theirs (or of another group) is
    a 404; a store manager's definition without stores gets their stores."""
    from m4s.org.models import Store

    allowed = allowed_store_ids(user)
    if definition.store_ids:
        known = set(
            Store.objects.for_group(user.dealer_group_id)
            .filter(pk__in=definition.store_ids)
            .values_list("pk", flat=True)
        )
        wanted = set(definition.store_ids)
        if known != wanted or (allowed is not None and not wanted <= allowed):
            raise Http404
    elif allowed is not None:
        definition = definition.model_copy(update={"store_ids": sorted(allowed)})
    return definition


def _months_ago(today: dt.date, months: int) -> dt.date:
    return today - relativedelta(months=months)


def customers(
    group_id: int, definition: Definition, *, today: dt.date | None = None
) -> "QuerySet[CustomerInsight]":
    """The CustomerInsight rows of the group the definition selects (one query when read)."""
    from m4s.vehicles.models import Vehicle

    today = today or timezone.localdate()
    d = definition
    qs = CustomerInsight.objects.for_group(group_id)
    if d.rfm_segments:
        qs = qs.filter(segment__in=[s.value for s in d.rfm_segments])
    if d.risk_bands:
        qs = qs.filter(risk_band__in=[b.value for b in d.risk_bands])
    if d.tiers:
        qs = qs.filter(tier__in=d.tiers)
    if d.car_age_min_years is not None:
        qs = qs.filter(car_age_months__gte=d.car_age_min_years * 12)
    if d.car_age_max_years is not None:  # "up to 5 years" = less than 6 years old
        qs = qs.filter(car_age_months__lt=(d.car_age_max_years + 1) * 12)
    if d.last_paid_visit_after is not None:
        qs = qs.filter(last_paid_visit__gte=d.last_paid_visit_after)
    if d.last_paid_visit_before is not None:
        qs = qs.filter(last_paid_visit__lt=d.last_paid_visit_before)
    if d.not_visited_months is not None:
        cut = _months_ago(today, d.not_visited_months)
        qs = qs.filter(Q(last_paid_visit__isnull=True) | Q(last_paid_visit__lt=cut))
    if d.city:
        qs = qs.filter(Q(customer__address__icontains=d.city) | Q(store__address__icontains=d.city))
    if d.store_ids:
        qs = qs.filter(store_id__in=d.store_ids)
    if d.marketing_consent:
        qs = qs.filter(
            Q(customer__owner__isnull=True, customer__marketing_consent=True)
            | Q(customer__owner__isnull=False, customer__owner__marketing_consent=True)
        )
    if d.car_models or d.mileage_min_km is not None or d.mileage_max_km is not None:
        cars = Vehicle.objects.for_group(group_id).filter(current_owner_id=OuterRef("customer_id"))
        if d.car_models:
            cars = cars.filter(model__in=d.car_models)
        if d.mileage_min_km is not None or d.mileage_max_km is not None:
            cars = cars.annotate(
                km=Coalesce(F("state__odometer_km"), Cast("odometer_km", FloatField()))
            )
            if d.mileage_min_km is not None:
                cars = cars.filter(km__gte=d.mileage_min_km)
            if d.mileage_max_km is not None:
                cars = cars.filter(km__lte=d.mileage_max_km)
        qs = qs.filter(Exists(cars))
    return qs


def count(group_id: int, definition: Definition, *, today: dt.date | None = None) -> int:
    """How many customers the definition selects now (one COUNT query)."""
    return customers(group_id, definition, today=today).count()


def create_segment(actor, *, name: str, definition: Any) -> Segment:
    name = (name or "").strip()
    if not name:
        raise DomainError("invalid_name", _("A segment needs a name."), status=422)
    d = scoped(actor, parse(definition))
    return Segment.objects.create(
        dealer_group_id=actor.dealer_group_id,
        name=name[:80],
        definition=d.as_json(),
        created_by=actor,
    )


def visible_segments(user) -> "QuerySet[Segment]":
    """The group's segments; a store manager sees those limited to their stores."""
    qs = Segment.objects.for_group(user.dealer_group_id)
    allowed = allowed_store_ids(user)
    if allowed is None:
        return qs
    ok = [
        s.pk
        for s in qs.only("pk", "definition")
        if (s.definition or {}).get("store_ids") and set(s.definition["store_ids"]) <= allowed
    ]
    return qs.filter(pk__in=ok)


def get_segment(user, segment_id: int) -> Segment:
    segment = visible_segments(user).filter(pk=segment_id).first()
    if segment is None:
        raise Http404
    return segment

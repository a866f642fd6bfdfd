"""Tenant-scoped reads of customers: search, the customer 360, timelines, binding rates."""

import re

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _

from m4s.org.models import Store
from m4s.staff.choices import Perm, Role
from m4s.vehicles.models import Vehicle
from m4s.vehicles.validation import plate_search_key

from .models import Attribution, Binding, Customer, TimelineEvent, TransferRequest

FRONT_LINE = {Role.SALES_CONSULTANT, Role.SERVICE_ADVISOR, Role.CUSTOMER_SERVICE, Role.TECHNICIAN}
PHONE_CHARS = re.compile(r"^[+\d\s\-()]+$")
VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def customers_for(actor):
    """Customers the acting staff member may see: their group; their stores only when the group
    limits front-line staff to their own store."""
    if (
        actor is None
        or not getattr(actor, "is_authenticated", False)
        or not actor.has_perm_m4s(Perm.VIEW_CUSTOMERS)
    ):
        return Customer.objects.for_group(None)
    qs = Customer.objects.for_actor(actor)
    if (
        actor.dealer_group_id
        and actor.role in FRONT_LINE
        and actor.dealer_group.limit_front_line_to_own_store
    ):
        qs = qs.filter(store_id__in=actor.store_ids())
    return qs


def vehicles_for(actor):
    customers = customers_for(actor)
    return Vehicle.objects.for_actor(actor).filter(
        Q(current_owner__isnull=True) | Q(current_owner__in=customers.values("pk"))
    )


def classify_query(q: str) -> tuple[str, str]:
    """What the staff member typed.

    phone: a full mobile number · last4: four digits · phone_tail: 5-10 digits · vin: 17 VIN
    characters · plate: starts with a province character (full or partial plate) · code: letters
    and digits mixed (part of a plate or the end of a VIN) · name: anything else.
    """
    text = (q or "").strip()
    if not text:
        return "empty", ""
    compact = re.sub(r"[\s\-()·.]", "", text)
    digits = compact.lstrip("+")
    if PHONE_CHARS.match(text) and digits.isdigit():
        if len(digits) == 11:
            return "phone", "+86" + digits
        if len(digits) > 11:
            return "phone", "+" + digits
        if len(digits) == 4:
            return "last4", digits
        if len(digits) >= 5:
            return "phone_tail", digits
        return "code", digits
    upper = compact.upper()
    if VIN_RE.match(upper):
        return "vin", upper
    if re.match(r"^[\u4e00-\u9fff][A-Z][A-Z0-9\u4e00-\u9fff]{0,6}$", upper):
        return "plate", plate_search_key(text)
    if upper.isascii() and upper.isalnum() and any(c.isdigit() for c in upper):
        return "code", upper
    return "name", text


def search_customers(actor, q: str, limit: int = 20):
    """Find customers by name, phone (full, last four digits or a tail), plate (full or partial) or VIN."""
    base = customers_for(actor)
    kind, value = classify_query(q)
    if kind == "empty":
        return base.none()
    if kind == "phone":
        qs = base.filter(Q(phone=value) | Q(phone2=value))
    elif kind == "last4":
        qs = base.filter(Q(phone_last4=value) | Q(phone2_last4=value))
    elif kind == "phone_tail":
        by_phone = Q(phone__endswith=value) | Q(phone2__endswith=value)
        if len(value) == 6:  # six digits may also be the end of a VIN
            by_phone |= Q(
                pk__in=Vehicle.objects.for_actor(actor)
                .filter(vin__endswith=value)
                .values("current_owner")
            )
        qs = base.filter(by_phone)
    elif kind == "vin":
        qs = base.filter(
            pk__in=Vehicle.objects.for_actor(actor).filter(vin=value).values("current_owner")
        )
    elif kind == "plate":
        vehicles = Vehicle.objects.for_actor(actor)
        if len(value) >= 7:
            vehicles = vehicles.filter(plate=value)
        else:
            vehicles = vehicles.filter(plate__contains=value)
        qs = base.filter(pk__in=vehicles.values("current_owner"))
    elif kind == "code":
        vehicles = Vehicle.objects.for_actor(actor).filter(
            Q(plate__contains=value) | Q(vin__endswith=value)
        )
        qs = base.filter(pk__in=vehicles.values("current_owner"))
    else:
        qs = (
            base.filter(name__startswith=value)
            if len(value) <= 3
            else base.filter(name__contains=value)
        )
    return qs.select_related("store").order_by("name", "pk")[:limit]


def get_customer(actor, customer_id: int) -> Customer:
    customer = (
        customers_for(actor)
        .select_related("store", "owner", "sales_consultant", "service_advisor", "cs_agent")
        .prefetch_related(
            Prefetch("vehicles", queryset=Vehicle.objects.for_actor(actor).order_by("plate")),
            Prefetch(
                "bindings",
                queryset=Binding.objects.for_actor(actor)
                .select_related("vehicle", "staff", "store")
                .order_by("-created_at"),
            ),
        )
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


def list_timeline(customer: Customer, *, limit: int = 50, before_id: int | None = None):
    qs = (
        TimelineEvent.objects.for_group(customer.dealer_group_id)
        .filter(customer=customer)
        .select_related("actor")
    )
    if before_id:
        qs = qs.filter(pk__lt=before_id)
    return qs.order_by("-at", "-id")[:limit]


def get_transfer(actor, transfer_id: int) -> TransferRequest:
    """A transfer request the actor may see: their group and, where the group limits front-line
    staff to their store, a claimant they can see."""
    transfer = (
        TransferRequest.objects.for_actor(actor)
        .filter(pk=transfer_id, to_customer__in=customers_for(actor).values("pk"))
        .select_related("vehicle", "from_customer", "to_customer", "invitation")
        .first()
    )
    if transfer is None:
        raise Http404(_("No such transfer request."))
    return transfer


def list_open_transfers(actor):
    return (
        TransferRequest.objects.for_actor(actor)
        .filter(status="open", to_customer__in=customers_for(actor).values("pk"))
        .select_related("vehicle", "from_customer", "to_customer")
        .order_by("requested_at")
    )


def search_vehicles(actor, q: str, limit: int = 20):
    kind, value = classify_query(q)
    qs = vehicles_for(actor)
    if kind == "vin":
        qs = qs.filter(vin=value)
    elif kind in ("plate", "code"):
        qs = qs.filter(
            Q(plate=value) if len(value) >= 7 else Q(plate__contains=value) | Q(vin__endswith=value)
        )
    elif kind in ("last4", "phone_tail", "phone"):
        qs = qs.filter(vin__endswith=value) if kind != "phone" else qs.none()
    else:
        return qs.none()
    return qs.select_related("current_owner").order_by("plate")[:limit]


def vehicles_of_owner(owner):
    """Every car this owner has bound, in any group (it is their own data)."""
    return (
        Vehicle.objects.unscoped()
        .filter(bindings__owner=owner, bindings__ended_at__isnull=True)
        .select_related("current_owner__store")
        .order_by("plate")
        .distinct()
    )


def consultants_of_owner(owner):
    """The owner's three people at their home store's group (empty until they are a customer)."""
    if owner.home_store_id is None:
        return None
    return (
        Customer.objects.for_group(owner.home_store.dealer_group_id)
        .select_related("sales_consultant", "service_advisor", "cs_agent", "store")
        .filter(owner=owner)
        .first()
    )


def binding_rates(actor, *, by: str = "staff"):
    """Invited (opened the link) → signed in → bound, per staff member or per store."""
    key = "invitation__staff" if by == "staff" else "invitation__store"
    rows = (
        Attribution.objects.for_actor(actor)
        .values(key)
        .annotate(
            invited=Count("id"),
            signed_in=Count("id", filter=Q(signed_in_at__isnull=False)),
            bound=Count("id", filter=Q(bound_at__isnull=False)),
        )
        .order_by(key)
    )
    rows = [r for r in rows if r[key] is not None]
    names = {}
    if by == "staff":
        from m4s.staff.models import StaffUser

        names = {s.pk: str(s) for s in StaffUser.objects.filter(pk__in=[r[key] for r in rows])}
    else:
        names = {
            s.pk: s.name
            for s in Store.objects.for_actor(actor).filter(pk__in=[r[key] for r in rows])
        }
    return [
        {
            "id": r[key],
            "name": names.get(r[key], "?"),
            "invited": r["invited"],
            "signed_in": r["signed_in"],
            "bound": r["bound"],
            "rate": round(100 * r["bound"] / r["invited"]) if r["invited"] else 0,
        }
        for r in rows
    ]


def can_see_staff_photo(request, person) -> bool:
    """Who may see a staff photo (the `access` of `StaffUser.photo`): colleagues of the same group, and owners whose consultant this person is."""
    from m4s.core.uploads import requesting_owner, requesting_staff
    from m4s.staff.selectors import list_staff

    staff, owner = requesting_staff(request), requesting_owner(request)
    if staff is not None and list_staff(staff).filter(pk=person.pk).exists():
        return True
    if owner is None or person.dealer_group_id is None:
        return False
    return (
        Customer.objects.for_group(person.dealer_group_id)
        .filter(owner_id=owner.pk)
        .filter(Q(sales_consultant=person) | Q(service_advisor=person) | Q(cs_agent=person))
        .exists()
    )

"""Scoped reads of online-service requests: an owner sees their own requests (every group);
staff see their group's, of their stores unless they see every store. Another group's or
another owner's request is a NotFound (404)."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from m4s.core.errors import NotFound
from m4s.staff.choices import Perm

from .models import RequestEvent, RequestKindSetting, RequestQuote, ServiceRequest


# --- owner ---------------------------------------------------------------------------------------
def requests_for_owner(owner) -> QuerySet:
    return ServiceRequest.objects.for_owner(owner).select_related("store", "vehicle")


def get_request_for_owner(owner, request_id: int) -> ServiceRequest:
    r = requests_for_owner(owner).filter(pk=request_id).first()
    if r is None:
        raise NotFound(_("No such request."))
    return r


def owner_events(request: ServiceRequest) -> list[RequestEvent]:
    return list(request.events.filter(visible_to_owner=True).order_by("at", "id"))


def quotes_of(request: ServiceRequest) -> list[RequestQuote]:
    return list(request.quotes.order_by("created_at", "id"))


# --- staff ---------------------------------------------------------------------------------------
def staff_store_ids(actor) -> set[int] | None:
    """None: every store of the actor's group."""
    if actor.has_perm_m4s(Perm.VIEW_ALL_STORES):
        return None
    return set(actor.store_ids())


def requests_for_staff(actor) -> QuerySet:
    qs = ServiceRequest.objects.for_actor(actor).select_related(
        "store", "customer", "vehicle", "assigned_to"
    )
    stores = staff_store_ids(actor)
    if stores is not None:
        qs = qs.filter(store_id__in=stores)
    return qs


def get_request_for_staff(actor, request_id: int) -> ServiceRequest:
    r = requests_for_staff(actor).filter(pk=request_id).first()
    if r is None:
        raise NotFound(_("No such request."))
    return r


def staff_queue(actor, *, kind: str = "", status: str = "", scope: str = "") -> QuerySet:
    """The queue: open requests by due time (overdue first), filtered by kind, status and
    `mine` / `unassigned`."""
    from .choices import OPEN_STATUSES

    qs = requests_for_staff(actor)
    if kind:
        qs = qs.filter(kind=kind)
    qs = qs.filter(status=status) if status else qs.filter(status__in=OPEN_STATUSES)
    if scope == "mine":
        qs = qs.filter(assigned_to=actor)
    elif scope == "unassigned":
        qs = qs.filter(assigned_to__isnull=True)
    return qs.order_by("due_at", "created_at", "id")


def staff_events(request: ServiceRequest) -> list[RequestEvent]:
    return list(request.events.select_related("actor").order_by("at", "id"))


def kind_setting(group_id: int, kind: str) -> RequestKindSetting | None:
    return RequestKindSetting.objects.for_group(group_id).filter(kind=kind).first()


def stores_for_owner(owner) -> list:
    """Stores an owner may send a request to: every store of the groups they are a customer
    of, and of their home store's group."""
    from m4s.customers.models import Customer
    from m4s.org.models import Store

    if not owner or getattr(owner, "pk", None) is None:
        return []
    groups = set(Customer.objects.for_owner(owner).values_list("dealer_group_id", flat=True))
    home = getattr(owner, "home_store", None)
    if home is not None:
        groups.add(home.dealer_group_id)
    stores = list(Store.objects.unscoped().filter(dealer_group_id__in=groups).order_by("name"))
    if home is not None:
        stores.sort(key=lambda s: s.pk != home.pk)
    return stores

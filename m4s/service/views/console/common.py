"""Plumbing shared by the service console pages: the capability check, the page context, ids,
dates, stores, photos and the customer and car pickers. Objects of another dealer group are 404
through the scoped selectors; a missing capability is 403."""

import datetime as dt
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.core.types import in_calendar
from m4s.core.uploads import clean_images
from m4s.customers import selectors as customer_selectors
from m4s.customers.models import Customer
from m4s.notify import selectors as inbox
from m4s.org.selectors import list_stores
from m4s.service import selectors
from m4s.service.choices import (
    RepairOrderStatus,
)
from m4s.staff.choices import Perm
from m4s.vehicles.models import Vehicle

S = RepairOrderStatus
# Reading an appointment, an order or its invoice: anyone who works in the service area.
SERVICE_READERS = (
    Perm.WORK_REPAIR_ORDERS,
    Perm.BOOK_SERVICE,
    Perm.SETTLE_REPAIR_ORDERS,
    Perm.VIEW_SERVICE_FIGURES,
)
MAX_PHOTOS = 12


# --- plumbing ------------------------------------------------------------------------------------
def service_page(*perms):
    """Sign-in required, then any one of the capabilities (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_perm_m4s(p) for p in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _ctx(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), "nav": "service", **extra}


def _or_404(read, *args):
    """Run a scoped selector; its 'not found' (another group's object) becomes the 404 page."""
    try:
        return read(*args)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        raise


def _id(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _whole_number(raw, message: str) -> int:
    value = _id(raw)
    if value is None:
        raise DomainError("invalid_number", message)
    return value


def _stores(user) -> list:
    """The stores this user works in (every store of the group with VIEW_ALL_STORES)."""
    stores = list_stores(user)
    ids = selectors.store_ids_for(user)
    if ids is not None:
        stores = stores.filter(pk__in=ids)
    return list(stores)


def _pick_store(user, raw, stores, preferred=None):
    store_id = _id(raw)
    if store_id is not None:
        return _or_404(selectors.store_for_actor, user, store_id)
    if preferred is not None and any(s.pk == preferred for s in stores):
        return next(s for s in stores if s.pk == preferred)
    return stores[0] if stores else None


def _store_today(store) -> dt.date:
    return timezone.localtime(timezone.now(), store.tz).date()


def _date(raw, default: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return default
    return day if in_calendar(day) else default


def _photos(files) -> list:
    """Uploaded photos, checked to be images (bad input changes nothing)."""
    if len(files) > MAX_PHOTOS:
        raise DomainError(
            "too_many_photos", _("At most %(n)d photos at a time.") % {"n": MAX_PHOTOS}
        )
    return clean_images(files, limit=MAX_PHOTOS)


def _customer(user, raw) -> Customer:
    customer_id = _id(raw)
    if customer_id is None:
        raise Http404(_("No such customer."))
    qs = (
        customer_selectors.customers_for(user)
        if user.has_perm_m4s(Perm.VIEW_CUSTOMERS)
        else Customer.objects.for_actor(user)
    )
    customer = qs.select_related("store").filter(pk=customer_id).first()
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


def _cars_of(user, customer) -> list:
    return list(Vehicle.objects.for_actor(user).filter(current_owner=customer).order_by("plate"))


def _car(cars, raw):
    car_id = _id(raw)
    car = next((v for v in cars if v.pk == car_id), None)
    if car is None:
        raise DomainError("invalid_car", _("Choose one of the customer's cars."))
    return car

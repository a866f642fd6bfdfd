"""Helpers shared by the service area's write modules (booking, workshop, billing, surveys):
notifications, amounts, uploads, store access, repair-order locking and status moves, and the
ServiceEvent payload the loyalty area receives."""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.core.uploads import clean_images
from m4s.notify.services import tell_customer, tell_staff
from m4s.staff.choices import Perm
from m4s.staff.models import StaffUser

from .choices import RepairOrderStatus
from .models import RepairOrder

S = RepairOrderStatus


_tell_owner = tell_customer


def _tell_staff(
    staff: StaffUser, group_id: int, kind: str, compose, *, link: str = "", dedupe: str
):
    """One staff member, with the caller's full dedupe key (see `tell_staff`)."""
    tell_staff([staff], kind, compose, group_id=group_id, link=link, dedupe=lambda _p: dedupe)


def _decimal(value, code: str) -> Decimal:
    try:
        d = Decimal(str(value))
        if not d.is_finite() or d < 0 or d >= 10**9:
            raise ValueError
        return d.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(code, _("Not a valid amount: %(v)s") % {"v": value}) from None


def checked_images(files, *, limit: int = 12) -> list:
    """Uploaded photos, each verified to be a JPEG, PNG or WebP of at most 10 MB and re-encoded
    without EXIF (no GPS position); bad input raises `invalid_image` and stores nothing."""
    return clean_images(files, limit=limit)


def _check_store_access(actor, store):
    if actor.dealer_group_id != store.dealer_group_id and not actor.is_platform_admin:
        raise DomainError("not_found", _("No such store."), status=404)
    if not actor.has_perm_m4s(Perm.VIEW_ALL_STORES) and store.pk not in actor.store_ids():
        raise DomainError("not_found", _("No such store."), status=404)


def _new_number(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def _lock_ro(ro: RepairOrder) -> RepairOrder:
    return (
        RepairOrder.objects.for_group(ro.dealer_group_id)
        .select_for_update(of=("self",))
        .select_related("store", "customer__owner", "vehicle", "advisor")
        .get(pk=ro.pk)
    )


def _require_status(ro: RepairOrder, *allowed):
    if ro.status not in allowed:
        raise DomainError(
            "wrong_status",
            _("Not possible while the repair order is “%(status)s”.")
            % {"status": ro.get_status_display()},
            status=409,
            status_now=ro.status,
        )


def _move(ro: RepairOrder, status: str):
    ro.status = status
    ro.save(update_fields=["status"])


@dataclass(frozen=True)
class ServiceEvent:
    """A kept appointment or an answered survey, for the loyalty area."""

    dealer_group_id: int
    store_id: int
    customer_id: int
    source: str  # e.g. "appointment:12", "survey:7": unique, so receivers can be idempotent
    at: dt.datetime

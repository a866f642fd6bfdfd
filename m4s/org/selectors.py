"""Reads of the organisation tree, always scoped to the acting staff member's group."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _

from .business_time import BusinessCalendar
from .models import EmergencyNumber, Store


def list_stores(actor):
    return Store.objects.for_actor(actor).filter(is_active=True).order_by("name")


def get_store(actor, store_id: int) -> Store:
    store = Store.objects.for_actor(actor).filter(pk=store_id).first()
    if store is None:
        raise Http404(_("No such store."))
    return store


def get_store_for_owner_app(store_id: int | None) -> Store | None:
    """The store whose branding and SOS numbers an owner sees (prefetched for one render)."""
    if store_id is None:
        return None
    return (
        Store.objects.unscoped()
        .select_related("dealer_group")
        .prefetch_related(
            Prefetch(
                "emergency_numbers",
                queryset=EmergencyNumber.objects.unscoped().order_by("position", "id"),
            ),
            "splash_pictures",
        )
        .filter(pk=store_id, is_active=True)
        .first()
    )


@dataclass(frozen=True)
class DaySchedule:
    date: dt.date
    periods: list[tuple[dt.time, dt.time]]
    holiday: str | None

    @property
    def is_open(self) -> bool:
        return bool(self.periods) and self.holiday is None


def get_day_schedule(store: Store, date: dt.date) -> DaySchedule:
    """One local date of a store, as the business-time engine sees it: a store holiday or (for a
    store that observes them) a statutory holiday closes it; a make-up working day keeps the
    Monday hours (m4s/org/business_time.py)."""
    rule = BusinessCalendar.for_store(store, date).day(date)
    return DaySchedule(date=date, periods=list(rule.periods), holiday=rule.holiday)


def is_store_open_at(store: Store, moment: dt.datetime) -> bool:
    local = moment.astimezone(store.tz)
    return BusinessCalendar.for_store(store, local.date()).is_open(moment)

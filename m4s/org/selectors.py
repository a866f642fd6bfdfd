"""Reads of the organisation tree, always scoped to the acting staff member's group."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _

from .models import BusinessHours, EmergencyNumber, Holiday, Store


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
    holiday = (
        Holiday.objects.for_group(store.dealer_group_id).filter(store=store, date=date).first()
    )
    periods = [
        (h.opens_at, h.closes_at)
        for h in BusinessHours.objects.for_group(store.dealer_group_id).filter(
            store=store, weekday=date.weekday()
        )
    ]
    return DaySchedule(
        date=date,
        periods=periods if holiday is None else [],
        holiday=holiday.name if holiday else None,
    )


def is_store_open_at(store: Store, moment: dt.datetime) -> bool:
    local = moment.astimezone(store.tz)
    schedule = get_day_schedule(store, local.date())
    return any(opens <= local.time() < closes for opens, closes in schedule.periods)

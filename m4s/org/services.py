"""Writes to the organisation tree."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError

from .choices import EmergencyKind, StatutoryHoliday, StatutoryKind, StatutorySource
from .models import (
    BusinessHours,
    DealerGroup,
    EmergencyNumber,
    Headquarters,
    Holiday,
    LocalOrganisation,
    StatutoryDay,
    Store,
)


def ensure_headquarters(name: str = "M4S Platform") -> Headquarters:
    hq = Headquarters.objects.order_by("id").first()
    return hq or Headquarters.objects.create(name=name)


def create_local_organisation(*, name: str, city: str) -> LocalOrganisation:
    return LocalOrganisation.objects.create(
        headquarters=ensure_headquarters(), name=name, city=city
    )


def create_dealer_group(*, local_org: LocalOrganisation, name: str, slug: str) -> DealerGroup:
    return DealerGroup.objects.create(local_org=local_org, name=name, slug=slug)


def create_store(*, group: DealerGroup, name: str, code: str, **fields) -> Store:
    store = Store(dealer_group=group, name=name, code=code, **fields)
    store.full_clean()
    store.save()
    return store


def _validate_periods(periods: list[tuple[dt.time, dt.time]]) -> list[tuple[dt.time, dt.time]]:
    ordered = sorted(periods)
    for opens, closes in ordered:
        if closes <= opens:
            raise DomainError(
                "invalid_hours",
                _("A period must close after it opens (%(opens)s-%(closes)s).")
                % {"opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}"},
            )
    for (_first_open, first_close), (second_open, _second_close) in zip(
        ordered, ordered[1:], strict=False
    ):
        if second_open < first_close:
            raise DomainError(
                "overlapping_hours", _("Opening periods of one day must not overlap.")
            )
    return ordered


@transaction.atomic
def set_business_hours(
    store: Store, weekday: int, periods: list[tuple[dt.time, dt.time]]
) -> list[BusinessHours]:
    """Replace a weekday's opening periods; an empty list closes the store that day."""
    if weekday not in range(7):
        raise DomainError("invalid_weekday", _("Weekday must be 0 (Monday) to 6 (Sunday)."))
    ordered = _validate_periods(periods)
    BusinessHours.objects.for_group(store.dealer_group_id).filter(
        store=store, weekday=weekday
    ).delete()
    return BusinessHours.objects.bulk_create(
        BusinessHours(
            dealer_group_id=store.dealer_group_id,
            store=store,
            weekday=weekday,
            opens_at=o,
            closes_at=c,
        )
        for o, c in ordered
    )


def add_holiday(store: Store, date: dt.date, name: str) -> Holiday:
    holiday, _created = Holiday.objects.for_group(store.dealer_group_id).update_or_create(
        store=store, date=date, defaults={"name": name, "dealer_group_id": store.dealer_group_id}
    )
    return holiday


def add_emergency_number(
    store: Store, kind: EmergencyKind, phone: str, label: str = "", position: int = 0
) -> EmergencyNumber:
    number = EmergencyNumber(
        dealer_group_id=store.dealer_group_id,
        store=store,
        kind=kind,
        phone=phone,
        label=label,
        position=position,
    )
    number.full_clean()
    number.save()
    return number


# --- China's statutory holidays and make-up working days (调休)


def published_statutory_days(
    until_year: int | None = None,
) -> dict[dt.date, tuple[str, str]]:
    """{date: (StatutoryKind, StatutoryHoliday)} as the chinesecalendar library publishes them."""
    from chinese_calendar import constants

    codes = {h.value: h.name for h in constants.Holiday}
    valid = set(StatutoryHoliday.values)

    def code(name: str) -> str:
        c = codes.get(name, "")
        return c if c in valid else StatutoryHoliday.OTHER

    days = {d: (StatutoryKind.HOLIDAY.value, code(n)) for d, n in constants.holidays.items()}
    days.update({d: (StatutoryKind.WORKDAY.value, code(n)) for d, n in constants.workdays.items()})
    if until_year is not None:
        days = {d: v for d, v in days.items() if d.year <= until_year}
    return days


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    kept_edits: int = 0


def sync_statutory_days(*, until_year: int | None = None, model=StatutoryDay) -> SyncResult:
    """Bring the statutory days in line with the library; idempotent (a second run changes
    nothing). Days edited in the back office are kept as they are; days the library dropped are
    deleted, but only within the years it covers (an older library never erases newer years).
    `model` lets the data migration pass its historical model."""
    published = published_statutory_days(until_year)
    years = {d.year for d in published}
    result = SyncResult()
    with transaction.atomic():
        existing = {row.date: row for row in model.objects.select_for_update()}
        new, changed = [], []
        for date, (kind, holiday) in sorted(published.items()):
            row = existing.get(date)
            if row is None:
                new.append(
                    model(date=date, kind=kind, holiday=holiday, source=StatutorySource.LIBRARY)
                )
            elif row.source != StatutorySource.LIBRARY:
                result.kept_edits += 1
            elif (row.kind, row.holiday) != (kind, holiday):
                row.kind, row.holiday = kind, holiday
                changed.append(row)
            else:
                result.unchanged += 1
        gone = [
            row.pk
            for date, row in existing.items()
            if row.source == StatutorySource.LIBRARY
            and date.year in years
            and date not in published
        ]
        model.objects.bulk_create(new, batch_size=500)
        for row in changed:
            row.save(update_fields=["kind", "holiday", "updated_at"])
        if gone:
            model.objects.filter(pk__in=gone).delete()
        result.created, result.updated, result.deleted = len(new), len(changed), len(gone)
    return result

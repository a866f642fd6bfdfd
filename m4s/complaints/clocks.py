"""The complaint's SLA clocks: targets from the group's policy, due moments from the one
business-time engine (m4s.org.business_time). A store without opening hours counts wall-clock
minutes rather than refusing a complaint."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from m4s.core.errors import DomainError
from m4s.org.business_time import BusinessCalendar, add_business_minutes, business_minutes_between

from .choices import DEFAULT_SLA, Level
from .models import Complaint, SlaPolicy


@dataclass(frozen=True)
class Targets:
    first_response: int
    resolution: int
    levels: tuple[int, int, int]

    def level_minutes(self, level: int) -> int:
        return self.levels[max(1, min(level, 3)) - 1]


def _targets(row: SlaPolicy | None, severity: str) -> Targets:
    if row is None:
        fr, res, l1, l2, l3 = DEFAULT_SLA.get(severity, DEFAULT_SLA["normal"])
        return Targets(fr, res, (l1, l2, l3))
    return Targets(
        row.first_response_minutes,
        row.resolution_minutes,
        (row.level1_minutes, row.level2_minutes, row.level3_minutes),
    )


def targets_for(group_id: int, severity: str, category) -> Targets:
    """The policy of this severity for the category, else its parent's, else the severity's
    default row, else the built-in defaults."""
    wanted = [c for c in (category, getattr(category, "parent", None)) if c is not None]
    rows = {
        r.category_id: r
        for r in SlaPolicy.objects.for_group(group_id).filter(severity=severity)
        if r.category_id is None or r.category_id in {c.pk for c in wanted}
    }
    for key in [c.pk for c in wanted] + [None]:
        if key in rows:
            return _targets(rows[key], severity)
    return _targets(None, severity)


class PolicyBook:
    """Every policy of some groups, read once (for the breach scan)."""

    def __init__(self, group_ids: Iterable[int]):
        self.rows: dict[tuple[int, str, int | None], SlaPolicy] = {}
        for row in SlaPolicy.objects.unscoped().filter(dealer_group_id__in=set(group_ids)):
            self.rows[(row.dealer_group_id, row.severity, row.category_id)] = row

    def targets(self, group_id: int, severity: str, category_id: int | None, parent_id=None):
        for key in (category_id, parent_id, None):
            if key is None and (group_id, severity, None) not in self.rows:
                continue
            row = self.rows.get((group_id, severity, key))
            if row is not None:
                return _targets(row, severity)
        return _targets(None, severity)


def add_minutes(store, start: dt.datetime, minutes: int, calendar: BusinessCalendar | None = None):
    """`start` + business minutes of the store (wall-clock minutes if it has no hours)."""
    try:
        if calendar is not None:
            return calendar.add(start, minutes)
        return add_business_minutes(store, start, minutes)
    except DomainError:
        return start + dt.timedelta(minutes=minutes)


def minutes_between(store, a: dt.datetime, b: dt.datetime, calendar=None) -> int:
    """Business minutes from a to b; negative when b is before a."""
    if b < a:
        return -minutes_between(store, b, a, calendar)
    try:
        if calendar is not None:
            return calendar.between(a, b)
        return business_minutes_between(store, a, b)
    except DomainError:
        return int((b - a).total_seconds() // 60)


def start_clocks(complaint: Complaint, now: dt.datetime) -> None:
    """Set the three due moments of a new complaint (unsaved)."""
    t = targets_for(complaint.dealer_group_id, complaint.severity, complaint.category)
    store = complaint.store
    complaint.first_response_due_at = add_minutes(store, now, t.first_response)
    complaint.resolution_due_at = add_minutes(store, now, t.resolution)
    start_level_clock(complaint, now, t)


def start_level_clock(complaint: Complaint, now: dt.datetime, t: Targets | None = None) -> None:
    t = t or targets_for(complaint.dealer_group_id, complaint.severity, complaint.category)
    complaint.level_started_at = now
    complaint.level_due_at = add_minutes(complaint.store, now, t.level_minutes(complaint.level))


def restart_clocks(complaint: Complaint, now: dt.datetime) -> None:
    """After a change of severity or category: the targets are counted again from receipt
    (time already waited for the customer added), the level clock from when the level began."""
    t = targets_for(complaint.dealer_group_id, complaint.severity, complaint.category)
    store, held = complaint.store, complaint.held_minutes
    start = complaint.created_at
    if complaint.first_responded_at is None:
        complaint.first_response_due_at = add_minutes(store, start, t.first_response + held)
    complaint.resolution_due_at = add_minutes(store, start, t.resolution + held)
    complaint.level_due_at = add_minutes(
        store, complaint.level_started_at or start, t.level_minutes(complaint.level)
    )


def pause(complaint: Complaint, now: dt.datetime) -> None:
    complaint.paused_at = now


def resume_clocks(complaint: Complaint, now: dt.datetime) -> int:
    """Unpause: each due moment still ahead at the pause keeps the business minutes it had
    left, counted from now; the hold is added to `held_minutes`. Returns the minutes held."""
    paused_at, store = complaint.paused_at, complaint.store
    if paused_at is None:
        return 0
    held = max(0, minutes_between(store, paused_at, now))
    for field in ("first_response_due_at", "resolution_due_at", "level_due_at"):
        due = getattr(complaint, field)
        if due is None or due <= paused_at:
            continue  # already overdue when paused: stays overdue
        if field == "first_response_due_at" and complaint.first_responded_at is not None:
            continue
        left = minutes_between(store, paused_at, due)
        setattr(complaint, field, add_minutes(store, now, left))
    complaint.held_minutes += held
    complaint.paused_at = None
    return held


__all__ = ["Level", "PolicyBook", "Targets", "add_minutes", "minutes_between", "targets_for"]

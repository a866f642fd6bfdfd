"""Thin tasks of the care area. Safe to run twice or on parallel workers: the scan writes each
reminder once (unique key) and hands each over once (rows locked while handed)."""

from django_tasks import task

from . import scan


@task()
def daily_scan_task() -> dict:
    """The daily care scan (m4s/schedule.py)."""
    return scan.run_scan()


@task()
def scan_kinds_task(kinds: list[str], group_ids: list[int] | None = None) -> dict:
    """Some kinds at once (a violation just recorded, a weather warning just published)."""
    return scan.run_scan(kinds, group_ids=group_ids)

"""Conversation figures for store and group managers at /console/conversations/figures/: first
response and resolution in business minutes per staff member and per store, conversations per
consultant, the owners' ratings, and calls made without an owner's request (never cold: each
one is counted and named). Charts from the one chart module, m4s.core.charts."""

import datetime as dt
import re

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from m4s.conversations import selectors
from m4s.conversations.views.common import whole
from m4s.core import charts
from m4s.core.dates import add_months
from m4s.core.types import in_calendar
from m4s.staff.choices import Perm

from .common import conversations_page, ctx, minutes_text, my_stores

MONTHS_BACK = 24
TOP = 12  # people shown in a per-staff chart


def _month(raw, default: dt.date) -> dt.date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", (raw or "").strip())
    if not match:
        return default
    try:
        first = dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return default
    return first if in_calendar(first) and first.year > 2000 else default


def _weighted(rows, n_key: str, mean_key: str) -> float | None:
    total = sum(r[n_key] for r in rows if r[mean_key] is not None)
    if not total:
        return None
    return sum(r[n_key] * r[mean_key] for r in rows if r[mean_key] is not None) / total


def _charts(f: dict) -> dict:
    staff = f["first_response_by_staff"][:TOP]
    stores = f["by_store"]
    consultants = f["per_consultant"][:TOP]
    distribution = f["ratings"]["distribution"]
    unsolicited = f["calls"]["unsolicited_by_staff"][:TOP]
    return {
        "staff_chart": charts.bar_chart(
            [
                charts.Series(
                    _("First response"),
                    [r["mean_minutes"] for r in staff],
                    key="first-response",
                )
            ],
            labels=[r["name"] for r in staff],
            width=480,
            height=240,
        ),
        "staff_resolution_chart": charts.bar_chart(
            [
                charts.Series(
                    _("Resolution time"),
                    [r["mean_resolution_minutes"] for r in staff],
                    colour="#2e7d32",
                    key="resolution",
                )
            ],
            labels=[r["name"] for r in staff],
            width=480,
            height=240,
        ),
        "store_chart": charts.bar_chart(
            [
                charts.Series(
                    _("First response"),
                    [r["mean_first_response_minutes"] for r in stores],
                    key="first-response",
                ),
                charts.Series(
                    _("Resolution time"),
                    [r["mean_resolution_minutes"] for r in stores],
                    colour="#2e7d32",
                    key="resolution",
                ),
            ],
            labels=[r["name"] for r in stores],
            width=480,
            height=240,
        ),
        "consultant_chart": charts.bar_chart(
            [
                charts.Series(
                    _("Conversations"),
                    [r["conversations"] for r in consultants],
                    colour="#8e44ad",
                    key="conversations",
                )
            ],
            labels=[r["name"] for r in consultants],
            width=480,
            height=240,
        ),
        "rating_chart": charts.bar_chart(
            [
                charts.Series(
                    _("Ratings"),
                    [distribution.get(score, 0) for score in range(1, 6)],
                    colour="#e0a100",
                    key="ratings",
                )
            ],
            labels=[f"{score}★" for score in range(1, 6)],
            width=480,
            height=220,
        ),
        "unsolicited_chart": charts.bar_chart(
            [
                charts.Series(
                    _("Unsolicited calls"),
                    [r["calls"] for r in unsolicited],
                    colour="#c0392b",
                    key="unsolicited",
                )
            ],
            labels=[r["name"] for r in unsolicited],
            width=480,
            height=220,
        ),
    }


@conversations_page(Perm.VIEW_CONVERSATION_FIGURES)
@require_GET
def figures(request):
    user = request.user
    stores = my_stores(user)
    store_id = whole(request.GET.get("store"))
    if store_id is not None and not any(s.pk == store_id for s in stores):
        store_id = None
    this_month = timezone.localdate().replace(day=1)
    month = _month(request.GET.get("month"), this_month)
    f = selectors.figures(user, store=store_id, month=month)
    first_response = _weighted(
        f["by_store"], "responses", "mean_first_response_minutes"
    ) or _weighted(f["first_response_by_staff"], "responses", "mean_minutes")
    resolution = _weighted(f["by_store"], "closed", "mean_resolution_minutes")
    for r in f["first_response_by_staff"]:
        r["mean_text"] = minutes_text(r["mean_minutes"]) if r["mean_minutes"] is not None else "—"
        r["worst_text"] = (
            minutes_text(r["worst_minutes"]) if r["worst_minutes"] is not None else "—"
        )
        r["resolution_text"] = (
            minutes_text(r["mean_resolution_minutes"])
            if r["mean_resolution_minutes"] is not None
            else "—"
        )
    for r in f["by_store"]:
        r["first_text"] = (
            minutes_text(r["mean_first_response_minutes"])
            if r["mean_first_response_minutes"] is not None
            else "—"
        )
        r["resolution_text"] = (
            minutes_text(r["mean_resolution_minutes"])
            if r["mean_resolution_minutes"] is not None
            else "—"
        )
    return render(
        request,
        "conversations/console/figures.html",
        ctx(
            request,
            nav="conversation_figures",
            stores=stores,
            store_id=store_id,
            month=month,
            months=[add_months(this_month, -i) for i in range(MONTHS_BACK)],
            f=f,
            first_response=minutes_text(first_response) if first_response is not None else None,
            resolution=minutes_text(resolution) if resolution is not None else None,
            **_charts(f),
        ),
    )

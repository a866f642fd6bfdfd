"""Care figures for store and group managers at /console/care/figures/: a month's reminders sent
per kind and how many brought a booking within 30 days (conversion), services done elsewhere,
what the contact policy held or dropped and why, and unsubscribes per category; the conversion
over the last six months. Charts from the shared chart module."""

import datetime as dt
import re

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from django.views.decorators.http import require_GET

from m4s.care import selectors
from m4s.care.choices import Kind
from m4s.care.views.common import care_page, ctx, my_stores, whole
from m4s.core import charts
from m4s.core.dates import add_months
from m4s.core.types import in_calendar
from m4s.notify.choices import Category, Outcome, Why
from m4s.staff.choices import Perm

TREND_MONTHS = 6
# Short names under the bars (ten kinds side by side).
SHORT = {
    Kind.MAINTENANCE: pgettext_lazy("care kind, short", "Maintenance"),
    Kind.DECLINED_REPAIR: pgettext_lazy("care kind, short", "Declined"),
    Kind.INSURANCE: pgettext_lazy("care kind, short", "Insurance"),
    Kind.INSPECTION: pgettext_lazy("care kind, short", "Inspection"),
    Kind.LICENCE: pgettext_lazy("care kind, short", "Licence"),
    Kind.VIOLATION: pgettext_lazy("care kind, short", "Violation"),
    Kind.WEATHER: pgettext_lazy("care kind, short", "Weather"),
    Kind.BIRTHDAY: pgettext_lazy("care kind, short", "Birthday"),
    Kind.ANNIVERSARY: pgettext_lazy("care kind, short", "Anniversary"),
    Kind.FESTIVAL: pgettext_lazy("care kind, short", "Festival"),
}


def _month(raw, default: dt.date) -> dt.date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", (raw or "").strip())
    if not match:
        return default
    try:
        first = dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return default
    return first if in_calendar(first) and first.year > 2000 and first <= default else default


def _pct(part: int, whole_: int) -> int | None:
    return round(100 * part / whole_) if whole_ else None


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _policy(decisions: list[dict]) -> tuple[list[dict], dict]:
    """(rows per reason {why, label, held, dropped}, totals {sent, held, dropped})."""
    totals = {Outcome.SENT.value: 0, Outcome.HELD.value: 0, Outcome.DROPPED.value: 0}
    by_why: dict[str, dict] = {}
    for d in decisions:
        outcome, n = d.get("outcome"), int(d.get("n") or 0)
        if outcome in totals:
            totals[outcome] += n
        if outcome in (Outcome.HELD, Outcome.DROPPED):
            why = d.get("why") or ""
            row = by_why.setdefault(
                why, {"why": why, "label": _label(Why, why), "held": 0, "dropped": 0}
            )
            row[outcome] += n
    rows = sorted(by_why.values(), key=lambda r: -(r["held"] + r["dropped"]))
    return rows, totals


def _charts(f, policy_rows, unsubscribes, trend) -> dict:
    shown = [k for k in f.by_kind if k.sent or k.booked]
    return {
        "kind_chart": charts.bar_chart(
            [
                charts.Series(_("Reminders sent"), [k.sent for k in shown], key="sent"),
                charts.Series(
                    _("Booked within 30 days"),
                    [k.booked for k in shown],
                    colour="#2e7d32",
                    key="booked",
                ),
            ],
            labels=[str(SHORT.get(k.kind, k.label)) for k in shown],
            width=860,
            height=280,
        ),
        "policy_chart": charts.bar_chart(
            [
                charts.Series(
                    pgettext("contact policy", "Held"),
                    [r["held"] for r in policy_rows],
                    colour="#e0a100",
                    key="held",
                ),
                charts.Series(
                    pgettext("contact policy", "Dropped"),
                    [r["dropped"] for r in policy_rows],
                    colour="#c0392b",
                    key="dropped",
                ),
            ],
            labels=[r["label"] for r in policy_rows],
            width=520,
            height=260,
        ),
        "unsubscribe_chart": charts.bar_chart(
            [
                charts.Series(
                    _("Unsubscribes"),
                    [n for _c, n in unsubscribes],
                    colour="#8e44ad",
                    key="unsubscribes",
                )
            ],
            labels=[_label(Category, c) for c, _n in unsubscribes],
            width=520,
            height=240,
        ),
        "trend_chart": charts.line_chart(
            [
                charts.Series(
                    _("Booked within 30 days, per cent"), [p for _m, p in trend], key="conversion"
                )
            ],
            labels=[m.strftime("%Y-%m") for m, _p in trend],
            width=520,
            height=240,
            y_min=0,
            y_max=100,
            y_step=25,
            point_labels=True,
        ),
    }


@care_page(Perm.VIEW_CARE_FIGURES)
@require_GET
def figures(request):
    user = request.user
    stores = my_stores(user)
    store_id = whole(request.GET.get("store"))
    store = next((s for s in stores if s.pk == store_id), None)
    this_month = timezone.localdate().replace(day=1)
    month = _month(request.GET.get("month"), this_month)
    f = selectors.figures(user, month, store=store)
    policy_rows, totals = _policy(f.decisions)
    unsubscribes = list(f.unsubscribes)
    trend = []
    for i in range(TREND_MONTHS - 1, -1, -1):
        m = add_months(month, -i)
        g = f if m == month else selectors.figures(user, m, store=store)
        sent = sum(k.sent for k in g.by_kind)
        trend.append((m, _pct(sum(k.booked for k in g.by_kind), sent)))
    sent = sum(k.sent for k in f.by_kind)
    booked = sum(k.booked for k in f.by_kind)
    pcts = {k.kind: _pct(k.booked, k.sent) for k in f.by_kind}
    return render(
        request,
        "care/console/figures.html",
        ctx(
            request,
            tab="figures",
            nav="care_figures",
            stores=stores,
            store=store,
            month=month,
            months=[add_months(this_month, -i) for i in range(24)],
            f=f,
            kinds=[(k, pcts[k.kind]) for k in f.by_kind if k.sent or k.booked or k.done_elsewhere],
            sent=sent,
            booked=booked,
            conversion=_pct(booked, sent),
            elsewhere=sum(k.done_elsewhere for k in f.by_kind),
            totals=totals,
            policy_rows=policy_rows,
            unsubscribes=[(_label(Category, c), n) for c, n in unsubscribes],
            unsubscribed=sum(n for _c, n in unsubscribes),
            **_charts(f, policy_rows, unsubscribes, trend),
        ),
    )

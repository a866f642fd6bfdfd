"""A group's reminder rules and their words: the built-in defaults (written for a group the first
time they are needed), the annual-inspection rule table turned into due dates, and each kind's
title and text (built-in and translated, or the group's own template per language) filled in
with a reminder's parameters."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from m4s.core.dates import add_months
from m4s.core.i18n import language_codes, render, render_in, text

from .choices import (
    CHINA_PRIVATE_CAR_INSPECTION,
    DEFAULT_RULES,
    INSPECTION_HORIZON_YEARS,
    Kind,
)
from .models import InspectionRule, ReminderRule


# --- rules -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleView:
    """What the scan needs of a rule, hashable so that groups with the same rule share a pass."""

    kind: str
    enabled: bool
    lead_days: tuple[int, ...]
    params: tuple[tuple[str, Any], ...] = field(default=())

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    @property
    def max_lead(self) -> int:
        return max(self.lead_days) if self.lead_days else 0


def clean_lead_days(value: Any) -> list[int]:
    """Whole days between 0 and 366, largest first, no repeats."""
    try:
        days = {int(v) for v in (value or [])}
    except (TypeError, ValueError):
        return [0]
    days = {d for d in days if 0 <= d <= 366}
    return sorted(days, reverse=True) or [0]


def default_rule(group_id: int, kind: str) -> ReminderRule:
    lead, params, action = DEFAULT_RULES[kind]
    return ReminderRule(
        dealer_group_id=group_id,
        kind=kind,
        enabled=True,
        lead_days=list(lead),
        params=dict(params),
        action=action,
    )


def ensure_rules(group_ids: Iterable[int] | None = None) -> None:
    """Give every group (or these) a rule of every kind and the default inspection table: rows
    it already has are kept as they are."""
    from m4s.org.models import DealerGroup

    ids = list(group_ids) if group_ids is not None else None
    if ids is None:
        ids = list(DealerGroup.objects.values_list("pk", flat=True))
    if not ids:
        return
    have = set(
        ReminderRule.objects.unscoped()
        .filter(dealer_group_id__in=ids)
        .values_list("dealer_group_id", "kind")
    )
    missing = [default_rule(g, k) for g in ids for k in Kind.values if (g, k) not in have]
    if missing:
        ReminderRule.objects.bulk_create(missing, ignore_conflicts=True)
    with_table = set(
        InspectionRule.objects.unscoped()
        .filter(dealer_group_id__in=ids)
        .values_list("dealer_group_id", flat=True)
    )
    table = [
        InspectionRule(
            dealer_group_id=g,
            from_year=a,
            to_year=b,
            interval_months=months,
            exempt_years=list(exempt),
        )
        for g in ids
        if g not in with_table
        for a, b, months, exempt in CHINA_PRIVATE_CAR_INSPECTION
    ]
    if table:
        InspectionRule.objects.bulk_create(table, ignore_conflicts=True)


def rule_for(group_id: int, kind: str) -> ReminderRule:
    ensure_rules([group_id])
    return ReminderRule.objects.for_group(group_id).get(kind=kind)


def rule_views(group_ids: Iterable[int] | None = None) -> dict[int, dict[str, RuleView]]:
    """{group id: {kind: RuleView}} for every group (or these), defaults written first."""
    ensure_rules(group_ids)
    qs = ReminderRule.objects.unscoped()
    if group_ids is not None:
        qs = qs.filter(dealer_group_id__in=list(group_ids))
    out: dict[int, dict[str, RuleView]] = {}
    for r in qs.only("dealer_group_id", "kind", "enabled", "lead_days", "params"):
        params = r.params if isinstance(r.params, dict) else {}
        out.setdefault(r.dealer_group_id, {})[r.kind] = RuleView(
            kind=r.kind,
            enabled=r.enabled,
            lead_days=tuple(clean_lead_days(r.lead_days)),
            params=tuple(sorted((k, _hashable(v)) for k, v in params.items())),
        )
    return out


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


def int_param(rule: RuleView, name: str, default: int, *, low: int = 0, high: int = 3650) -> int:
    try:
        value = int(rule.param(name, default))
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high)


def groups_by_rule(views: dict[int, dict[str, RuleView]], kind: str) -> dict[RuleView, list[int]]:
    """The groups with this kind switched on, grouped by identical rules (one SQL pass each)."""
    out: dict[RuleView, list[int]] = {}
    for group_id, kinds in views.items():
        rule = kinds.get(kind)
        if rule is not None and rule.enabled:
            out.setdefault(rule, []).append(group_id)
    return out


# --- annual inspection -------------------------------------------------------------------------
@dataclass(frozen=True)
class TableRow:
    from_year: int
    to_year: int | None
    interval_months: int
    exempt_years: tuple[int, ...]


def table_rows(rows: Iterable[Any]) -> tuple[TableRow, ...]:
    out = []
    for r in rows:
        exempt = r.exempt_years if isinstance(r.exempt_years, list) else []
        out.append(
            TableRow(
                int(r.from_year),
                int(r.to_year) if r.to_year is not None else None,
                int(r.interval_months or 0),
                tuple(sorted({int(y) for y in exempt if isinstance(y, int) and 0 < y <= 60})),
            )
        )
    return tuple(sorted(out, key=lambda r: r.from_year))


def default_table() -> tuple[TableRow, ...]:
    return tuple(TableRow(a, b, m, tuple(e)) for a, b, m, e in CHINA_PRIVATE_CAR_INSPECTION)


def inspection_events(rows: tuple[TableRow, ...]) -> list[tuple[int, bool]]:
    """(months after registration, is an inspection-exempt label) of every due date the table
    makes, in order. A row covers [from_year, to_year): an inspection every interval_months from
    its start, and a label (instead of an inspection) in each of its exempt years."""
    events: dict[int, bool] = {}
    horizon = INSPECTION_HORIZON_YEARS * 12
    for r in rows:
        start = r.from_year * 12
        end = min(r.to_year * 12 if r.to_year is not None else horizon, horizon)
        if r.interval_months > 0:
            for m in range(start, end, r.interval_months):
                if m > 0:
                    events.setdefault(m, False)
        for year in r.exempt_years:
            if r.from_year <= year and (r.to_year is None or year <= r.to_year):
                events[year * 12] = True
    return sorted(events.items())


def next_inspection(registered_on: dt.date, rows: tuple[TableRow, ...], after: dt.date):
    """(due date, exempt label) of the first due date on or after `after`, or None."""
    for months, exempt in inspection_events(rows):
        due = add_months(registered_on, months)
        if due >= after:
            return due, exempt
    return None


def inspection_pairs(
    rows: tuple[TableRow, ...], today: dt.date, max_lead: int
) -> list[tuple[dt.date, dt.date, bool, int]]:
    """Every (registration date, due date, exempt, months) whose due date falls in [today,
    today + max_lead]: the scan joins cars on their registration date with these (an equality
    join, so one pass over the cars whatever their number)."""
    until = today + dt.timedelta(days=max_lead)
    out = []
    for months, exempt in inspection_events(rows):
        # registration dates that land in the window after `months` (end-of-month clamping
        # maps up to 3 dates onto one, hence the margin)
        first = add_months(today, -months) - dt.timedelta(days=3)
        last = add_months(until, -months) + dt.timedelta(days=3)
        day = first
        while day <= last:
            due = add_months(day, months)
            if today <= due <= until:
                out.append((day, due, exempt, months))
            day += dt.timedelta(days=1)
    return out


# --- words -------------------------------------------------------------------------------------
# Built-in titles and texts per kind (variants for exempt labels, measured lines ...). The
# placeholders each kind offers a group's own template are listed in PLACEHOLDERS.
TEXTS: dict[str, tuple[str, str]] = {
    "maintenance": (
        gettext_noop("%(item)s is due around %(date)s"),
        gettext_noop("Book in one tap, at a time that suits you."),
    ),
    "declined_repair": (
        gettext_noop("Time to look at %(item)s again"),
        gettext_noop("You declined %(item)s on %(declined_on)s. Book it in one tap."),
    ),
    "declined_repair.measured": (
        gettext_noop("Time to look at %(item)s again"),
        gettext_noop(
            "You declined %(item)s on %(declined_on)s (%(measurement)s). Book it in one tap."
        ),
    ),
    "insurance": (
        gettext_noop("Your car insurance ends on %(date)s"),
        gettext_noop("%(plate)s: ask us for a renewal quote in one tap."),
    ),
    "inspection": (
        gettext_noop("Annual inspection due on %(date)s"),
        gettext_noop("%(plate)s: book the inspection in one tap."),
    ),
    "inspection.exempt": (
        gettext_noop("Inspection-exempt label due on %(date)s"),
        gettext_noop("%(plate)s needs no inspection this time: apply for the label; we can help."),
    ),
    "licence": (
        gettext_noop("Your driving licence expires on %(date)s"),
        gettext_noop("Renew it in time: you can apply up to 90 days before it expires."),
    ),
    "violation": (
        gettext_noop("Traffic violation on %(plate)s"),
        gettext_noop(
            "%(when)s, %(place)s: %(what)s. Fine %(fine)s CNY, %(points)s points. "
            "Have the store clear it in one tap."
        ),
    ),
    "violation.open": (
        gettext_noop("Still open: traffic violation on %(plate)s"),
        gettext_noop(
            "%(when)s, %(place)s: %(what)s. Fine %(fine)s CNY, %(points)s points. "
            "Have the store clear it in one tap."
        ),
    ),
    "weather": (
        gettext_noop("Weather warning for %(city)s: %(warning)s"),
        gettext_noop(
            "Until %(until)s. %(advice)s Check your car: tyres, wipers and lights; park away "
            "from trees and low ground."
        ),
    ),
    "birthday": (
        gettext_noop("Happy birthday, %(name)s!"),
        gettext_noop("Best wishes from all of us at %(store)s."),
    ),
    "anniversary": (
        gettext_noop("%(years)s years with your %(car)s"),
        gettext_noop("Thank you for driving with us since %(date)s."),
    ),
    "festival": (
        gettext_noop("%(day)s"),
        gettext_noop("%(message)s"),
    ),
}
GIFT = gettext_noop("%(text)s A gift for you: %(coupon)s (code %(code)s).")
WARNING = gettext_noop("%(severity)s %(kind)s warning")

PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "maintenance": ("item", "date", "plate"),
    "declined_repair": ("item", "declined_on", "measurement", "plate"),
    "insurance": ("date", "insurer", "plate", "lead"),
    "inspection": ("date", "plate", "years", "lead"),
    "licence": ("date", "lead"),
    "violation": ("plate", "when", "place", "what", "fine", "points"),
    "weather": ("city", "warning", "until", "advice"),
    "birthday": ("name", "store"),
    "anniversary": ("years", "car", "date", "plate"),
    "festival": ("day", "message", "name"),
}

SAMPLES: dict[str, dict[str, Any]] = {
    "maintenance": {"item": "Engine oil and filter", "date": "2026-11-20", "plate": "京A12345"},
    "declined_repair": {
        "item": "Front brake pads",
        "declined_on": "2026-11-03",
        "measurement": "3.5 mm",
        "plate": "京A12345",
    },
    "insurance": {"date": "2026-12-31", "insurer": "PICC", "plate": "京A12345", "lead": 30},
    "inspection": {"date": "2026-12-01", "plate": "京A12345", "years": 6, "exempt": True},
    "licence": {"date": "2027-02-01", "lead": 90},
    "violation": {
        "plate": "京A12345",
        "when": "2026-11-02 08:15",
        "place": "Chang'an Avenue",
        "what": "Speeding",
        "fine": "200",
        "points": 3,
    },
    "weather": {
        "city": "Beijing",
        "warning_kind": "rainstorm",
        "severity": "orange",
        "until": "2026-07-21 20:00",
        "advice": "",
    },
    "birthday": {"name": "Li Wei", "store": "M4S Beijing"},
    "anniversary": {"years": 3, "car": "Geely Monjaro", "date": "2023-11-20", "plate": "京A1"},
    "festival": {"day": "Mid-Autumn Festival", "message": "Happy Mid-Autumn!", "name": "Li Wei"},
}


def _variant(kind: str, payload: dict) -> str:
    if kind == "declined_repair" and payload.get("measurement"):
        return "declined_repair.measured"
    if kind == "inspection" and payload.get("exempt"):
        return "inspection.exempt"
    if kind == "violation" and payload.get("open"):
        return "violation.open"
    return kind


def _measurement(payload: dict) -> str:
    value, unit = payload.get("measurement"), payload.get("unit") or ""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return str(value)
    shown = f"{number:f}"
    return f"{shown} {unit}".strip()


def params_of(kind: str, payload: dict) -> dict[str, Any]:
    """The template parameters of a reminder (values may be stored texts: rendered per reader)."""
    from .choices import Severity, WeatherKind

    p: dict[str, Any] = {k: v for k, v in payload.items() if not isinstance(v, list)}
    p.setdefault("plate", "")
    if kind == "declined_repair":
        p["measurement"] = _measurement(payload)
    if kind == "weather":
        kind_value = payload.get("warning_kind") or ""
        severity = payload.get("severity") or ""
        p["warning"] = text(
            WARNING,
            severity=Severity(severity).label if severity in Severity.values else severity,
            kind=WeatherKind(kind_value).label if kind_value in WeatherKind.values else kind_value,
        )
        p.setdefault("advice", "")
    if kind == "violation":
        p["fine"] = _money(payload.get("fine"))
    for key, value in list(p.items()):
        if value is None:
            p[key] = ""
    return p


def _money(value: Any) -> str:
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value or "0")
    return f"{number:f}".removesuffix(".00")


def _fill(template: str, params: dict[str, Any], language: str) -> str:
    values = {
        k: render_in(language, v, str(v)) if isinstance(v, dict) else v for k, v in params.items()
    }
    try:
        return template % values
    except (KeyError, TypeError, ValueError):
        return template


def _custom(source: str, translations: Any, params: dict[str, Any]) -> dict[str, object] | None:
    """A group's own template: filled in for every language now (a stored text that renders in
    the reader's language), or None when the group has none."""
    translations = translations if isinstance(translations, dict) else {}
    if not source.strip() and not any(
        isinstance(v, str) and v.strip() for v in translations.values()
    ):
        return None
    default_language = settings.LANGUAGE_CODE
    i18n = {
        code: _fill(translations[code], params, code)
        for code in language_codes()
        if isinstance(translations.get(code), str) and translations[code].strip()
    }
    fallback = _fill(source, params, default_language) if source.strip() else ""
    if not fallback:
        fallback = next(iter(i18n.values()), "")
    return {"n": fallback, "i18n": i18n}


def compose(rule: ReminderRule | None, kind: str, payload: dict) -> tuple[dict, dict]:
    """(title, body) as stored texts for a reminder of this kind: the group's own templates
    where it wrote them, else the built-in words; a gift coupon is mentioned in the body."""
    payload = payload if isinstance(payload, dict) else {}
    params = params_of(kind, payload)
    title_id, body_id = TEXTS[_variant(kind, payload)]
    title = (_custom(rule.title, rule.title_i18n, params) if rule else None) or text(
        title_id, **params
    )
    body = (_custom(rule.body, rule.body_i18n, params) if rule else None) or text(body_id, **params)
    if payload.get("coupon") and payload.get("coupon_code"):
        body = text(GIFT, text=body, coupon=payload["coupon"], code=payload["coupon_code"])
    return title, body


def preview(rule: ReminderRule, language: str, sample: dict | None = None) -> tuple[str, str]:
    """The rule's title and text in one language, filled in with a sample (the back office's
    preview)."""
    payload = dict(SAMPLES.get(rule.kind, {}))
    payload.update(sample or {})
    title, body = compose(rule, rule.kind, payload)
    with translation.override(language):
        return render(title), render(body)


def local_today() -> dt.date:
    return timezone.localdate()

"""The daily care scan: one set-based pass per reminder kind over every car and customer, then the
hand-off of the reminders it wrote to the contact policy.

Each pass is one `INSERT … SELECT … ON CONFLICT DO NOTHING` per distinct rule (groups whose rule
for the kind is the same share the statement): the database finds what is due, the unique key
(customer, kind, target, cycle) makes a second run - or a second worker - write nothing. Rows are
never built in Python. A due date with several lead times is reminded once per stage (60, 30, 7
days before: cycle "<date>/<lead>"); a scan that missed days writes the stage the due date is in
now, not the ones it missed.

The hand-off (handoff.py) then takes the reminders not yet handed over in batches (PostgreSQL: `FOR UPDATE SKIP
LOCKED`, so two workers share them without overlap) and passes each to
`m4s.notify.policy.contact`, which decides (consent, unsubscribes, caps, quiet hours, dedupe)
and records its decision.
"""

import datetime as dt
import json
import logging
import math
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .choices import HANDOFF_BATCH, Kind, Status
from .models import GreetingDay, Reminder, Violation, WeatherWarning
from .rules import (
    RuleView,
    default_table,
    groups_by_rule,
    inspection_pairs,
    int_param,
    rule_views,
    table_rows,
)

log = logging.getLogger(__name__)

T_REMINDER = Reminder._meta.db_table
INSERT_COLUMNS = (
    "dealer_group_id, customer_id, owner_id, vehicle_id, kind, target_ref, cycle, due_on, "
    "status, action_url, payload, created_at"
)


# --- SQL that differs between PostgreSQL and SQLite --------------------------------------------
def _pg() -> bool:
    return connection.vendor == "postgresql"


def _json(pairs: Sequence[tuple[str, str]]) -> str:
    """A JSON object built in SQL from (key, expression) pairs."""
    fn = "jsonb_build_object" if _pg() else "json_object"
    args = ", ".join(f"'{k}', {expr}" for k, expr in pairs)
    return f"{fn}({args})"


def _json_col(expr: str) -> str:
    """A JSON column nested in a built object."""
    return expr if _pg() else f"json({expr})"


def _txt(expr: str) -> str:
    return f"CAST({expr} AS TEXT)"


def _md(expr: str) -> str:
    """A date's month and day as 'MM-DD'."""
    return f"to_char({expr}, 'MM-DD')" if _pg() else f"strftime('%%m-%%d', {expr})"


def _year(expr: str) -> str:
    return (
        f"CAST(EXTRACT(YEAR FROM {expr}) AS INTEGER)"
        if _pg()
        else (f"CAST(strftime('%%Y', {expr}) AS INTEGER)")
    )


def _add_months(expr: str, months: str) -> str:
    """`expr` + `months` months, clamped to the month's end like m4s.core.dates.add_months."""
    if _pg():
        return f"CAST({expr} + make_interval(months => CAST({months} AS INTEGER)) AS DATE)"
    plain = f"date({expr}, ({months}) || ' months')"
    return (
        f"(CASE WHEN strftime('%%d', {plain}) = strftime('%%d', {expr}) THEN {plain} "
        f"ELSE date({plain}, 'start of month', '-1 day') END)"
    )


def _add_days(expr: str, days: str) -> str:
    if _pg():
        return f"CAST({expr} + CAST({days} AS INTEGER) AS DATE)"
    return f"date({expr}, ({days}) || ' days')"


def _days_between(later: str, earlier: str) -> str:
    if _pg():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _local(expr: str, fmt: str) -> str:
    """A timestamp shown in the platform's time zone: fmt 'date' or 'minute'."""
    if _pg():
        pattern = "YYYY-MM-DD" if fmt == "date" else "YYYY-MM-DD HH24:MI"
        return f"to_char({expr} AT TIME ZONE '{settings.TIME_ZONE}', '{pattern}')"
    offset = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    pattern = "%%Y-%%m-%%d" if fmt == "date" else "%%Y-%%m-%%d %%H:%%M"
    return f"strftime('{pattern}', {expr}, '{minutes:+d} minutes')"


def _ceil(expr: str) -> str:
    return (
        f"CEIL({expr})"
        if _pg()
        else (f"(CAST({expr} AS INTEGER) + (({expr}) > CAST({expr} AS INTEGER)))")
    )


def _ids(ids: Iterable[int]) -> str:
    """A list of ids inlined into SQL (ints only, so safe)."""
    values = sorted({int(i) for i in ids})
    return ", ".join(str(i) for i in values) or "NULL"


def _date(day: dt.date) -> str:
    """A date written into SQL (made here from a date object, never from input)."""
    return f"DATE '{day.isoformat()}'" if _pg() else f"'{day.isoformat()}'"


def _json_param() -> str:
    """A JSON value passed as a parameter (a dumped string)."""
    return "CAST(%s AS jsonb)" if _pg() else "json(%s)"


def _bool(value: bool) -> str:
    if _pg():
        return "true" if value else "false"
    return "json('true')" if value else "json('false')"


def _stage(expr: str, rule: RuleView, today: dt.date) -> str:
    """The lead-time stage a due date `expr` is in: the smallest lead it is within."""
    leads = sorted(rule.lead_days)
    if len(leads) == 1:
        return str(leads[0])
    parts = [
        f"WHEN {expr} <= {_date(today + dt.timedelta(days=lead))} THEN {lead}"
        for lead in leads[:-1]
    ]
    return f"(CASE {' '.join(parts)} ELSE {leads[-1]} END)"


def _adapt(params: Sequence[Any]) -> list[Any]:
    """Dates and times as the database stores them (the cursor is used without the ORM)."""
    ops = connection.ops
    out: list[Any] = []
    for value in params:
        if isinstance(value, dt.datetime):
            out.append(ops.adapt_datetimefield_value(value))
        elif isinstance(value, dt.date):
            out.append(ops.adapt_datefield_value(value))
        else:
            out.append(value)
    return out


def _execute(sql: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, _adapt(params))
        return max(cur.rowcount, 0)


def _fresh(kind: str, customer: str, target: str, cycle: str) -> str:
    """Only rows not written before: checked before the row is built (its JSON payload is the
    costly part), so a day's scan pays for what is new, not for every candidate again."""
    return (
        f"NOT EXISTS (SELECT 1 FROM {T_REMINDER} x WHERE x.customer_id = {customer} "  # noqa: S608
        f"AND x.kind = '{kind}' AND x.target_ref = {target} AND x.cycle = {cycle})"
    )


def _insert(select_sql: str, params: list) -> int:
    sql = f"INSERT INTO {T_REMINDER} ({INSERT_COLUMNS}) {select_sql} ON CONFLICT DO NOTHING"  # noqa: S608
    return _execute(sql, params)


def _t(model_path: str) -> str:
    from django.apps import apps

    return apps.get_model(model_path)._meta.db_table


# --- the passes ---------------------------------------------------------------------------------
def _insurance(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    until = today + dt.timedelta(days=rule.max_lead)
    v, c = _t("vehicles.Vehicle"), _t("customers.Customer")
    p = _t("care.InsurancePolicy")
    target = f"'vehicle:' || {_txt('v.id')}"
    params: list[Any] = []
    stage_p = _stage("p.ends_on", rule, today)
    sql_policies = f"""
        SELECT v.dealer_group_id, c.id, c.owner_id, v.id, '{Kind.INSURANCE}',
               'vehicle:' || {_txt("v.id")}, {_txt("p.ends_on")} || '/' || {_txt(stage_p)},
               p.ends_on, '{Status.DUE}', '',
               {_json([("date", _txt("p.ends_on")), ("insurer", "p.insurer"), ("plate", "v.plate"), ("lead", stage_p)])},
               %s
        FROM {p} p JOIN {v} v ON v.id = p.vehicle_id JOIN {c} c ON c.id = v.current_owner_id
        WHERE p.dealer_group_id IN ({_ids(groups)}) AND p.customer_id = v.current_owner_id
          AND p.ends_on BETWEEN %s AND %s
          AND NOT EXISTS (SELECT 1 FROM {p} later WHERE later.vehicle_id = p.vehicle_id
                          AND later.cover = p.cover AND later.ends_on > p.ends_on)
          AND {_fresh(Kind.INSURANCE, "c.id", target, _txt("p.ends_on") + " || '/' || " + _txt(stage_p))}"""  # noqa: S608
    params += [now, today, until]
    stage_v = _stage("v.insurance_expiry", rule, today)
    sql_cars = f"""
        SELECT v.dealer_group_id, c.id, c.owner_id, v.id, '{Kind.INSURANCE}',
               'vehicle:' || {_txt("v.id")}, {_txt("v.insurance_expiry")} || '/' || {_txt(stage_v)},
               v.insurance_expiry, '{Status.DUE}', '',
               {_json([("date", _txt("v.insurance_expiry")), ("insurer", "v.insurer"), ("plate", "v.plate"), ("lead", stage_v)])},
               %s
        FROM {v} v JOIN {c} c ON c.id = v.current_owner_id
        WHERE v.dealer_group_id IN ({_ids(groups)})
          AND v.insurance_expiry BETWEEN %s AND %s
          AND NOT EXISTS (SELECT 1 FROM {p} later WHERE later.vehicle_id = v.id
                          AND later.ends_on > v.insurance_expiry)
          AND {_fresh(Kind.INSURANCE, "c.id", target, _txt("v.insurance_expiry") + " || '/' || " + _txt(stage_v))}"""  # noqa: S608
    params += [now, today, until]
    return _insert(f"{sql_policies} UNION ALL {sql_cars}", params)


def _licence(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    until = today + dt.timedelta(days=rule.max_lead)
    v, c, lic = _t("vehicles.Vehicle"), _t("customers.Customer"), _t("care.DrivingLicence")
    params: list[Any] = []
    stage_l = _stage("l.expires_on", rule, today)
    sql_licences = f"""
        SELECT c.dealer_group_id, c.id, c.owner_id, CAST(NULL AS BIGINT), '{Kind.LICENCE}', 'licence',
               {_txt("l.expires_on")} || '/' || {_txt(stage_l)}, l.expires_on, '{Status.DUE}', '',
               {_json([("date", _txt("l.expires_on")), ("lead", stage_l)])}, %s
        FROM {lic} l JOIN {c} c ON c.id = l.customer_id
        WHERE l.dealer_group_id IN ({_ids(groups)}) AND l.expires_on BETWEEN %s AND %s
          AND {_fresh(Kind.LICENCE, "c.id", "'licence'", _txt("l.expires_on") + " || '/' || " + _txt(stage_l))}"""  # noqa: S608
    params += [now, today, until]
    stage_v = _stage("v.driver_licence_expiry", rule, today)
    sql_cars = f"""
        SELECT v.dealer_group_id, c.id, c.owner_id, CAST(NULL AS BIGINT), '{Kind.LICENCE}', 'licence',
               {_txt("v.driver_licence_expiry")} || '/' || {_txt(stage_v)}, v.driver_licence_expiry,
               '{Status.DUE}', '',
               {_json([("date", _txt("v.driver_licence_expiry")), ("lead", stage_v)])}, %s
        FROM {v} v JOIN {c} c ON c.id = v.current_owner_id
        WHERE v.dealer_group_id IN ({_ids(groups)})
          AND v.driver_licence_expiry BETWEEN %s AND %s
          AND {_fresh(Kind.LICENCE, "c.id", "'licence'", _txt("v.driver_licence_expiry") + " || '/' || " + _txt(stage_v))}"""  # noqa: S608
    params += [now, today, until]
    return _insert(f"{sql_licences} UNION ALL {sql_cars}", params)


def _inspection(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    """Cars whose next inspection (or exempt label) from the registration date falls within the
    lead time, by the group's rule table; a date staff entered on the car wins over the table."""
    from .models import InspectionRule

    v, c = _t("vehicles.Vehicle"), _t("customers.Customer")
    target = f"'vehicle:' || {_txt('v.id')}"
    tables: dict[tuple, list[int]] = {}
    rows_by_group: dict[int, list] = {}
    for r in InspectionRule.objects.unscoped().filter(dealer_group_id__in=groups):
        rows_by_group.setdefault(r.dealer_group_id, []).append(r)
    for g in groups:
        rows = table_rows(rows_by_group[g]) if g in rows_by_group else default_table()
        tables.setdefault(rows, []).append(g)
    inserted = 0
    until = today + dt.timedelta(days=rule.max_lead)
    for rows, table_groups in tables.items():
        pairs = inspection_pairs(rows, today, rule.max_lead)
        if not pairs:
            continue
        params: list[Any] = []
        for registered, due, exempt, months in pairs:
            params += [registered, due, 1 if exempt else 0, months // 12]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(pairs))
        stage = _stage("e.due", rule, today)
        exempt_json = (
            "(e.exempt = 1)"
            if _pg()
            else "json(CASE WHEN e.exempt = 1 THEN 'true' ELSE 'false' END)"
        )
        sql = f"""
            WITH e (registered, due, exempt, years) AS (VALUES {values})
            SELECT v.dealer_group_id, c.id, c.owner_id, v.id, '{Kind.INSPECTION}',
                   'vehicle:' || {_txt("v.id")}, {_txt("e.due")} || '/' || {_txt(stage)}, e.due,
                   '{Status.DUE}', '',
                   {_json([("date", _txt("e.due")), ("plate", "v.plate"), ("exempt", exempt_json), ("years", "e.years"), ("lead", stage)])},
                   %s
            FROM {v} v JOIN e ON v.purchase_date = e.registered
            JOIN {c} c ON c.id = v.current_owner_id
            WHERE v.dealer_group_id IN ({_ids(table_groups)}) AND v.next_inspection_date IS NULL
              AND {_fresh(Kind.INSPECTION, "c.id", target, _txt("e.due") + " || '/' || " + _txt(stage))}"""  # noqa: S608
        params.append(now)
        inserted += _insert(sql, params)
    # a date entered on the car
    params = []
    stage = _stage("v.next_inspection_date", rule, today)
    sql = f"""
        SELECT v.dealer_group_id, c.id, c.owner_id, v.id, '{Kind.INSPECTION}',
               'vehicle:' || {_txt("v.id")}, {_txt("v.next_inspection_date")} || '/' || {_txt(stage)},
               v.next_inspection_date, '{Status.DUE}', '',
               {_json([("date", _txt("v.next_inspection_date")), ("plate", "v.plate"), ("lead", stage)])},
               %s
        FROM {v} v JOIN {c} c ON c.id = v.current_owner_id
        WHERE v.dealer_group_id IN ({_ids(groups)})
          AND v.next_inspection_date BETWEEN %s AND %s
          AND {_fresh(Kind.INSPECTION, "c.id", target, _txt("v.next_inspection_date") + " || '/' || " + _txt(stage))}"""  # noqa: S608
    params += [now, today, until]
    return inserted + _insert(sql, params)


def _declined(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    """Declined amber and red inspection lines, N days after they were declined (red sooner),
    unless the same job has been done on the car since."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    amber = int_param(rule, "amber_days", 30, high=3650)
    red = int_param(rule, "red_days", 14, high=3650)
    oldest = int_param(rule, "max_age_days", 365, high=3650)

    def cut(days: int) -> dt.datetime:  # declined on or before today - days (local dates)
        return dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tz)

    line, ro, res = (
        _t("service.RepairLine"),
        _t("service.RepairOrder"),
        _t("service.InspectionResult"),
    )
    point, v, c = _t("service.InspectionPoint"), _t("vehicles.Vehicle"), _t("customers.Customer")
    unit = "(CASE pt.measure WHEN 'battery_v' THEN 'V' WHEN '' THEN '' ELSE 'mm' END)"
    sql = f"""
        SELECT l.dealer_group_id, c.id, c.owner_id, v.id, '{Kind.DECLINED_REPAIR}',
               'line:' || {_txt("l.id")}, '1', %s, '{Status.DUE}', '',
               {
        _json(
            [
                (
                    "item",
                    _json([("n", "l.description"), ("i18n", _json_col("l.description_i18n"))]),
                ),
                ("declined_on", _local("l.decided_at", "date")),
                ("rating", "r.rating"),
                ("measurement", _txt("r.measurement")),
                ("unit", unit),
                ("line", "l.id"),
                ("operation", "l.operation_id"),
                ("plate", "v.plate"),
            ]
        )
    },
               %s
        FROM {line} l
        JOIN {ro} ro ON ro.id = l.repair_order_id
        JOIN {res} r ON r.id = l.result_id
        JOIN {point} pt ON pt.id = r.point_id
        JOIN {v} v ON v.id = ro.vehicle_id
        JOIN {c} c ON c.id = v.current_owner_id
        WHERE l.dealer_group_id IN ({_ids(groups)}) AND l.approval = 'declined'
          AND l.decided_at >= %s
          AND ((r.rating = 'red' AND l.decided_at < %s) OR (r.rating = 'amber' AND l.decided_at < %s))
          AND {_fresh(Kind.DECLINED_REPAIR, "c.id", "'line:' || " + _txt("l.id"), "'1'")}
          AND NOT EXISTS (
              SELECT 1 FROM {line} l2 JOIN {ro} ro2 ON ro2.id = l2.repair_order_id
              WHERE ro2.vehicle_id = ro.vehicle_id AND l2.operation_id = l.operation_id
                AND l2.approval = 'approved' AND ro2.checked_in_at > l.decided_at
          )"""  # noqa: S608
    params = [today, now, cut(oldest), cut(red), cut(amber)]
    return _insert(sql, params)


def _violations(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    """A new violation once; one still open after N days once more."""
    vi, v, c = _t("care.Violation"), _t("vehicles.Vehicle"), _t("customers.Customer")
    after = int_param(rule, "remind_open_after_days", 14, low=1, high=365)

    def select(cycle: str, is_open: bool) -> str:
        return f"""
        SELECT vi.dealer_group_id, c.id, c.owner_id, v.id, '{Kind.VIOLATION}',
               'violation:' || {_txt("vi.id")}, '{cycle}', %s, '{Status.DUE}', '',
               {
            _json(
                [
                    ("plate", "v.plate"),
                    ("when", _local("vi.occurred_at", "minute")),
                    ("place", "vi.place"),
                    ("what", "vi.description"),
                    ("fine", _txt("vi.fine_cny")),
                    ("points", "vi.points"),
                    ("violation", "vi.id"),
                    ("open", _bool(is_open)),
                ]
            )
        },
               %s
        FROM {vi} vi JOIN {v} v ON v.id = vi.vehicle_id JOIN {c} c ON c.id = vi.customer_id
        WHERE vi.dealer_group_id IN ({_ids(groups)}) AND vi.status = 'open'
          AND {_fresh(Kind.VIOLATION, "c.id", "'violation:' || " + _txt("vi.id"), f"'{cycle}'")}
          AND vi.created_at >= %s{" AND vi.created_at < %s" if is_open else ""}"""  # noqa: S608

    recent = now - dt.timedelta(days=30)
    sql = f"{select('new', False)} UNION ALL {select('open', True)}"
    params = [
        today,
        now,
        recent,
        today,
        now,
        now - dt.timedelta(days=after + 30),
        now - dt.timedelta(days=after),
    ]
    return _insert(sql, params)


def _birthdays(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    c, o, s = _t("customers.Customer"), _t("owners.Owner"), _t("org.Store")
    days = _month_days(today)
    sql = f"""
        SELECT c.dealer_group_id, c.id, c.owner_id, CAST(NULL AS BIGINT), '{Kind.BIRTHDAY}', 'birthday', %s, %s,
               '{Status.DUE}', '',
               {_json([("name", "c.name"), ("store", "COALESCE(NULLIF(s.app_title, ''), s.name)")])},
               %s
        FROM {c} c JOIN {s} s ON s.id = c.store_id LEFT JOIN {o} o ON o.id = c.owner_id
        WHERE c.dealer_group_id IN ({_ids(groups)})
          AND {_md("COALESCE(c.birthday, o.birthday)")} IN ({", ".join(["%s"] * len(days))})"""  # noqa: S608
    return _insert(sql, [str(today.year), today, now, *days])


def _anniversaries(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    v, c = _t("vehicles.Vehicle"), _t("customers.Customer")
    days = _month_days(today)
    years = f"(%s - {_year('v.purchase_date')})"
    sql = f"""
        SELECT v.dealer_group_id, c.id, c.owner_id, v.id, '{Kind.ANNIVERSARY}',
               'vehicle:' || {_txt("v.id")}, %s, %s, '{Status.DUE}', '',
               {
        _json(
            [
                ("years", years),
                ("car", "TRIM(v.brand || ' ' || v.model)"),
                ("date", _txt("v.purchase_date")),
                ("plate", "v.plate"),
            ]
        )
    },
               %s
        FROM {v} v JOIN {c} c ON c.id = v.current_owner_id
        WHERE v.dealer_group_id IN ({_ids(groups)}) AND v.purchase_date < %s
          AND {_md("v.purchase_date")} IN ({", ".join(["%s"] * len(days))})"""  # noqa: S608
    return _insert(sql, [str(today.year), today, today.year, now, dt.date(today.year, 1, 1), *days])


def _month_days(today: dt.date) -> list[str]:
    """'MM-DD' of today, and 29 February on 28 February of a year without one."""
    days = [today.strftime("%m-%d")]
    if today.month == 2 and today.day == 28:
        try:
            dt.date(today.year, 2, 29)
        except ValueError:
            days.append("02-29")
    return days


def greeting_date(day: GreetingDay, year: int) -> dt.date | None:
    """The day's date in a Gregorian year (a lunar date converted; None if it has none)."""
    from .choices import Calendar

    try:
        if day.calendar == Calendar.LUNAR:
            from lunardate import LunarDate

            return LunarDate(year, day.month, day.day).to_solar_date()
        return dt.date(year, day.month, day.day)
    except (ValueError, IndexError, TypeError):
        return None


def _festivals(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    """Greeting days falling today, to customers with marketing consent (the policy checks it
    again; those without are not even written)."""
    c, o = _t("customers.Customer"), _t("owners.Owner")
    inserted = 0
    days = GreetingDay.objects.unscoped().filter(dealer_group_id__in=groups, is_active=True)
    for day in days:
        # lunar dates of a Gregorian year: the lunar year starting in it, or the one before
        if not any(greeting_date(day, y) == today for y in (today.year, today.year - 1)):
            continue
        sql = f"""
            SELECT c.dealer_group_id, c.id, c.owner_id, CAST(NULL AS BIGINT), '{Kind.FESTIVAL}',
                   %s, %s, %s, '{Status.DUE}', '',
                   {
            _json(
                [
                    ("day", _json([("n", "%s"), ("i18n", _json_param())])),
                    ("message", _json([("n", "%s"), ("i18n", _json_param())])),
                    ("name", "c.name"),
                    ("greeting", "%s"),
                ]
            )
        },
                   %s
            FROM {c} c LEFT JOIN {o} o ON o.id = c.owner_id
            WHERE c.dealer_group_id = %s AND (c.marketing_consent OR o.marketing_consent)"""  # noqa: S608
        params = [
            f"festival:{day.pk}",
            str(today.year),
            today,
            day.name,
            json.dumps(day.name_i18n or {}),
            day.message,
            json.dumps(day.message_i18n or {}),
            day.pk,
            now,
            day.dealer_group_id,
        ]
        inserted += _insert(sql, params)
    return inserted


def _weather(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    """Warnings in force (or starting within 12 hours) to the customers whose store, or whose
    car's last known position, is near the city (within the warning's radius; a warning without
    a centre: every store of the groups of a local organisation of that city)."""
    from m4s.org.models import DealerGroup

    c, s, v = _t("customers.Customer"), _t("org.Store"), _t("vehicles.Vehicle")
    st = _t("telematics.VehicleState")
    inserted = 0
    group_set = set(groups)
    warnings = WeatherWarning.objects.filter(
        ends_at__gt=now, starts_at__lte=now + dt.timedelta(hours=12)
    ).select_related("local_org")
    for w in warnings:
        if w.dealer_group_id:
            targets = [w.dealer_group_id] if w.dealer_group_id in group_set else []
        else:
            targets = [
                g
                for g in DealerGroup.objects.filter(local_org_id=w.local_org_id).values_list(
                    "pk", flat=True
                )
                if g in group_set
            ]
        if not targets:
            continue
        payload = _json(
            [
                ("city", "%s"),
                ("warning_kind", "%s"),
                ("severity", "%s"),
                ("until", "%s"),
                ("advice", _json([("n", "%s"), ("i18n", _json_param())])),
                ("warning", "%s"),
            ]
        )
        until = timezone.localtime(w.ends_at).strftime("%Y-%m-%d %H:%M")
        fresh = _fresh(Kind.WEATHER, "c.id", f"'warning:{int(w.pk)}'", "'1'")
        head = [f"warning:{w.pk}", "1", today]
        body = [
            w.city,
            w.kind,
            w.severity,
            until,
            w.advice,
            json.dumps(w.advice_i18n or {}),
            w.pk,
            now,
        ]
        cols = f"""'{Kind.WEATHER}', %s, %s, %s, '{Status.DUE}', '', {payload}, %s"""
        if w.latitude is not None and w.longitude is not None:
            lat, lon = float(w.latitude), float(w.longitude)
            dlat = w.radius_km / 111.0
            dlon = w.radius_km / (111.0 * max(math.cos(math.radians(lat)), 0.05))
            box = [lat - dlat, lat + dlat, lon - dlon, lon + dlon]
            sql = f"""
                SELECT c.dealer_group_id, c.id, c.owner_id, CAST(NULL AS BIGINT), {cols}
                FROM {c} c JOIN {s} s ON s.id = c.store_id
                WHERE c.dealer_group_id IN ({_ids(targets)})
                  AND s.latitude BETWEEN %s AND %s AND s.longitude BETWEEN %s AND %s
                  AND {fresh}
                UNION ALL
                SELECT c.dealer_group_id, c.id, c.owner_id, v.id, {cols}
                FROM {st} st JOIN {v} v ON v.id = st.vehicle_id JOIN {c} c ON c.id = v.current_owner_id
                WHERE st.dealer_group_id IN ({_ids(targets)})
                  AND st.lat BETWEEN %s AND %s AND st.lon BETWEEN %s AND %s
                  AND {fresh}"""  # noqa: S608
            params = [*head, *body, *box, *head, *body, *box]
        else:
            if w.local_org is None or w.local_org.city.strip().lower() != w.city.strip().lower():
                continue
            sql = f"""
                SELECT c.dealer_group_id, c.id, c.owner_id, CAST(NULL AS BIGINT), {cols}
                FROM {c} c WHERE c.dealer_group_id IN ({_ids(targets)}) AND {fresh}"""  # noqa: S608
            params = [*head, *body]
        inserted += _insert(sql, params)
    return inserted


def _maintenance(rule: RuleView, groups: list[int], today: dt.date, now: dt.datetime) -> int:
    """The mileage chain, set-based: for every car with a mileage forecast, each item of its
    maintenance schedule falls due at the earlier of its date rule (last service + months) and
    the day the car reaches its kilometres at its own pace (MileageForecast, kept by
    telematics); items due within the lead time get a reminder once per service cycle. The
    telematics MaintenanceReminder row (the advisor's "due from driving" panel) is written from
    the same set."""
    f, v = _t("telematics.MileageForecast"), _t("vehicles.Vehicle")
    sch, item, rec = (
        _t("service.MaintenanceSchedule"),
        _t("service.MaintenanceItem"),
        _t("service.MaintenanceRecord"),
    )
    c, mr = _t("customers.Customer"), _t("telematics.MaintenanceReminder")
    ids = _ids(groups)
    lead = rule.max_lead
    days_to_km = f"(CASE WHEN d.km_left > 0 THEN {_ceil('d.km_left / d.km_per_day')} ELSE 0 END)"
    by_km = (
        "CASE WHEN d.due_km IS NOT NULL AND d.km_per_day > 0.5 THEN "
        f"{_add_days('COALESCE(d.last_date, %s)', days_to_km)} "
        "WHEN d.due_km IS NOT NULL AND d.km_left <= 0 THEN %s END"
    )
    candidates = f"""
        WITH last AS (
            SELECT vehicle_id, item_id, done_on, done_km FROM (
                SELECT r.vehicle_id, r.item_id, r.done_on, r.done_km,
                       ROW_NUMBER() OVER (PARTITION BY r.vehicle_id, r.item_id
                                          ORDER BY r.done_on DESC, r.id DESC) AS rn
                FROM {rec} r WHERE r.dealer_group_id IN ({ids})
            ) x WHERE x.rn = 1
        ), cars AS (
            SELECT v.id AS vehicle_id, v.dealer_group_id, v.current_owner_id AS customer_id,
                   v.purchase_date, v.plate, f.km_per_day, f.confidence, f.last_date,
                   CAST(f.last_odometer_km AS INTEGER) AS odometer,
                   COALESCE(s1.id, s2.id) AS schedule_id
            FROM {f} f JOIN {v} v ON v.id = f.vehicle_id
            LEFT JOIN {sch} s1 ON s1.dealer_group_id = v.dealer_group_id
                 AND UPPER(s1.brand) = UPPER(v.brand) AND UPPER(s1.model) = UPPER(v.model)
                 AND s1.model <> ''
            LEFT JOIN {sch} s2 ON s2.dealer_group_id = v.dealer_group_id
                 AND UPPER(s2.brand) = UPPER(v.brand) AND s2.model = ''
            WHERE f.dealer_group_id IN ({ids}) AND v.current_owner_id IS NOT NULL
        ), items AS (
            -- per item: the last service date that can fall due by the end of the lead time
            -- (3 days' slack for month ends; the exact date is computed below)
            SELECT i.id, i.schedule_id, i.package_id, i.interval_km, i.interval_months,
                   CASE WHEN i.interval_months > 0 THEN
                        {_add_days(_add_months(_date(today + dt.timedelta(days=lead)), "-i.interval_months"), "3")} END AS date_cut
            FROM {item} i
        ), due AS (
            SELECT k.vehicle_id, k.dealer_group_id, k.customer_id, k.plate, k.km_per_day,
                   k.confidence, k.last_date, k.odometer, i.id AS item_id, i.package_id,
                   l.done_on AS last_on, l.done_km AS last_km,
                   CASE WHEN i.interval_months > 0
                             AND COALESCE(l.done_on, k.purchase_date) IS NOT NULL
                        THEN {_add_months("COALESCE(l.done_on, k.purchase_date)", "i.interval_months")}
                   END AS by_date,
                   CASE WHEN i.interval_km > 0 AND (l.vehicle_id IS NULL OR l.done_km IS NOT NULL)
                        THEN COALESCE(l.done_km, 0) + i.interval_km END AS due_km
            FROM cars k JOIN items i ON i.schedule_id = k.schedule_id
            LEFT JOIN last l ON l.vehicle_id = k.vehicle_id AND l.item_id = i.id
            -- only pairs that can fall due within the lead time, by date or by kilometres,
            -- and were not reminded in this service cycle yet
            WHERE (COALESCE(l.done_on, k.purchase_date) <= i.date_cut
               OR (i.interval_km > 0 AND (l.vehicle_id IS NULL OR l.done_km IS NOT NULL)
                   AND COALESCE(l.done_km, 0) + i.interval_km - k.odometer
                       <= CASE WHEN k.km_per_day > 0 THEN k.km_per_day ELSE 0 END
                          * ({lead} + 2 + {_days_between(_date(today), f"COALESCE(k.last_date, {_date(today)})")})))
              AND NOT EXISTS (
                  SELECT 1 FROM {mr} m WHERE m.vehicle_id = k.vehicle_id AND m.item_id = i.id
                     AND m.cycle = CASE WHEN l.done_on IS NOT NULL THEN {_txt("l.done_on")}
                                        WHEN l.done_km IS NOT NULL THEN {_txt("l.done_km")}
                                        ELSE 'new' END)
        ), d AS (
            SELECT due.*, due.due_km - due.odometer AS km_left FROM due
        ), p AS (
            SELECT d.*, {by_km} AS by_km FROM d
        ), cand AS (
            SELECT p.*,
                   CASE WHEN p.by_km IS NULL THEN p.by_date
                        WHEN p.by_date IS NULL OR p.by_km < p.by_date THEN p.by_km
                        ELSE p.by_date END AS projected,
                   CASE WHEN p.last_on IS NOT NULL THEN {_txt("p.last_on")}
                        WHEN p.last_km IS NOT NULL THEN {_txt("p.last_km")}
                        ELSE 'new' END AS base_cycle
            FROM p
        )"""  # noqa: S608
    window = "cand.projected IS NOT NULL AND cand.projected <= %s"
    target = f"'maint:' || {_txt('cand.vehicle_id')} || ':' || {_txt('cand.item_id')}"
    cycle = f"cand.base_cycle || '/' || '{lead}'"
    cand_params = [today, today]
    confidence = (
        "CASE WHEN cand.by_km IS NOT NULL AND cand.projected = cand.by_km "
        "THEN cand.confidence ELSE 1.0 END"
    )
    select_care = f"""
        SELECT cand.dealer_group_id, cand.customer_id, cu.owner_id, cand.vehicle_id,
               '{Kind.MAINTENANCE}',
               {target}, {cycle}, cand.projected, '{Status.DUE}', '',
               {
        _json(
            [
                ("item", _json([("n", "it.name"), ("i18n", _json_col("it.name_i18n"))])),
                ("item_id", "cand.item_id"),
                ("package", "cand.package_id"),
                ("date", _txt("cand.projected")),
                ("by", "CASE WHEN cand.projected = cand.by_km THEN 'km' ELSE 'date' END"),
                ("confidence", confidence),
                ("plate", "cand.plate"),
            ]
        )
    },
               %s
        FROM cand JOIN {c} cu ON cu.id = cand.customer_id JOIN {item} it ON it.id = cand.item_id
        WHERE {window}
          AND {_fresh(Kind.MAINTENANCE, "cand.customer_id", target, cycle)}"""  # noqa: S608
    select_chain = f"""
        SELECT cand.dealer_group_id, cand.vehicle_id, cand.item_id, cand.base_cycle,
               cand.projected, {confidence}, %s
        FROM cand WHERE {window} AND NOT EXISTS (
            SELECT 1 FROM {mr} m WHERE m.vehicle_id = cand.vehicle_id
               AND m.item_id = cand.item_id AND m.cycle = cand.base_cycle
        )"""  # noqa: S608
    until = today + dt.timedelta(days=lead)
    chain_cols = "dealer_group_id, vehicle_id, item_id, cycle, due_on, confidence, created_at"
    if _pg():
        return _execute(
            f"""{candidates}, chain AS (
                INSERT INTO {mr} ({chain_cols}) {select_chain} ON CONFLICT DO NOTHING
            )
            INSERT INTO {T_REMINDER} ({INSERT_COLUMNS}) {select_care}
            ON CONFLICT DO NOTHING""",  # noqa: S608
            [*cand_params, now, until, now, until],
        )
    # SQLite: two statements over the same candidates, the reminders first (the candidates
    # leave out pairs the chain's table already holds)
    written = _execute(
        f"INSERT INTO {T_REMINDER} ({INSERT_COLUMNS}) {candidates} {select_care} "  # noqa: S608
        "ON CONFLICT DO NOTHING",
        [*cand_params, now, until],
    )
    _execute(
        f"INSERT INTO {mr} ({chain_cols}) {candidates} {select_chain} ON CONFLICT DO NOTHING",  # noqa: S608
        [*cand_params, now, until],
    )
    return written


PASSES = {
    Kind.MAINTENANCE.value: _maintenance,
    Kind.DECLINED_REPAIR.value: _declined,
    Kind.INSURANCE.value: _insurance,
    Kind.INSPECTION.value: _inspection,
    Kind.LICENCE.value: _licence,
    Kind.VIOLATION.value: _violations,
    Kind.WEATHER.value: _weather,
    Kind.BIRTHDAY.value: _birthdays,
    Kind.ANNIVERSARY.value: _anniversaries,
    Kind.FESTIVAL.value: _festivals,
}


def write_due(
    kinds: Iterable[str] | None = None,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    group_ids: Iterable[int] | None = None,
) -> dict[str, int]:
    """Write every reminder now due (one pass per kind); {kind: reminders written}."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    views = rule_views(group_ids)
    out: dict[str, int] = {}
    for kind in kinds or Kind.values:
        passes = groups_by_rule(views, kind)
        n = 0
        for rule, groups in passes.items():
            with transaction.atomic():
                n += PASSES[kind](rule, groups, today, now)
        out[kind] = n
    return out


def wake_snoozed(today: dt.date) -> int:
    """Snoozed reminders whose day has come are handed over again."""
    return (
        Reminder.objects.unscoped()
        .filter(status=Status.SNOOZED, snoozed_until__lte=today)
        .update(status=Status.DUE, sent_at=None)
    )


def run_scan(
    kinds: Iterable[str] | None = None,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    group_ids: Iterable[int] | None = None,
    batch_size: int = HANDOFF_BATCH,
) -> dict[str, Any]:
    """The daily care scan: write what is due, wake snoozed reminders, hand them all over."""
    from .handoff import hand_off

    now = now or timezone.now()
    today = today or timezone.localdate(now)
    kinds = list(kinds) if kinds else None
    written = write_due(kinds, today=today, now=now, group_ids=group_ids)
    woken = wake_snoozed(today)
    handed = hand_off(now=now, batch_size=batch_size, kinds=kinds)
    return {"written": written, "woken": woken, **handed}


__all__ = ["Violation", "greeting_date", "run_scan", "write_due"]

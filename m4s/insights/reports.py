"""The monthly service report of a store, as a PDF (WeasyPrint; m4s/insights/pdf.py).

* `collect(store, month)`: the month's figures: the KPIs (part A's `kpis.month`, else the service
  figures of m4s/service/selectors.py), a six-month CSI/NPS trend, the unhappy revisits (answered
  surveys that asked for a follow-up, or a detractor's NPS) and what was done about them, the top
  complaint root causes with their corrective actions, and the care reminders sent per kind with
  how many brought a booking within 30 days (care's definition). Months without data give empty
  figures (shown as "—"), never an error.
* `generate(store, month, language)`: renders the figures (a Django template, in the report's
  language) to PDF and stores it (models/reports.py: one current report per store, month and
  language; generating again replaces it with an audit entry and a new version).
* `ensure(...)`: the existing report, or a new one.
* `send_due(today)`: from the 1st, last month's report of every active store, generated once and
  sent through the outbox (an in-app message linking the download) to the store's managers and
  the group's admins, each in their own language; running it again sends nothing new.
"""

import datetime as dt
import logging
import re
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core import charts
from m4s.core.audit import record_audit
from m4s.core.dates import add_months
from m4s.core.i18n import text

from .models import ServiceReport
from .pdf import render_pdf

logger = logging.getLogger("m4s.insights")

LANGUAGES = [code for code, _name in settings.LANGUAGES]
TREND_MONTHS = 6
TOP_CAUSES = 5
MAX_UNHAPPY = 30  # rows in the table; the count shows them all
DETRACTOR_NPS = 6
MESSAGE_KIND = "insights.service_report"
INK, ORANGE, GREEN = "#0b6bcb", "#e67e22", "#2e7d32"  # print colours (no CSS variables in a PDF)


def language_of(value: str | None) -> str:
    """One of the supported languages (zh-hans, en, ko); anything else → the site default."""
    value = (value or "").lower()
    if value in LANGUAGES:
        return value
    if value.startswith("zh"):
        return "zh-hans"
    base = value.split("-")[0]
    return base if base in LANGUAGES else settings.LANGUAGE_CODE


def first_of(month: dt.date) -> dt.date:
    return month.replace(day=1)


# --- figures -------------------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return round(float(value), 4)
    except (TypeError, ValueError):
        return None


def _fallback_kpis(store, month: dt.date) -> list[dict[str, Any]]:
    """The service figures of m4s/service/selectors.py (used until/unless part A's kpis exist)."""
    from m4s.service.selectors import store_figures

    f = store_figures(store, month)
    pct = lambda v: None if v is None else v * 100  # noqa: E731
    return [
        {"code": "csi", "label": _("CSI"), "unit": "", "value": _number(f.csi)},
        {"code": "nps", "label": _("NPS"), "unit": "", "value": _number(f.nps)},
        {
            "code": "show_rate",
            "label": _("Show rate"),
            "unit": "%",
            "value": _number(pct(f.show_rate)),
        },
        {"code": "ftfr", "label": _("First-time fix"), "unit": "%", "value": _number(pct(f.ftfr))},
        {"code": "surveys", "label": _("Surveys answered"), "unit": "n", "value": f.surveys},
        {"code": "delivered", "label": _("Cars delivered"), "unit": "n", "value": f.delivered},
    ]


def _kpis(store, month: dt.date) -> list[dict[str, Any]]:
    try:
        from . import kpis  # part A: kpis.month(group, month, store_id), kpis.KPIS
    except ImportError:
        return _fallback_kpis(store, month)
    try:
        values = kpis.month(store.dealer_group, month, store.pk)
    except NotImplementedError:
        return _fallback_kpis(store, month)
    out = []
    for code, label, unit in kpis.KPIS:
        out.append(
            {
                "code": code,
                "label": str(label),
                "unit": str(unit or ""),
                "value": _number(values.get(code)),
            }
        )
    return out


def _trend(store, month: dt.date) -> dict[str, Any]:
    """CSI and NPS of the last six months: part A's `kpis.trend` (nightly facts) when present,
    else the service figures month by month."""
    months = [add_months(month, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    labels = [m.strftime("%Y-%m") for m in months]
    try:
        from . import kpis
    except ImportError:
        kpis = None  # type: ignore[assignment]
    if kpis is not None:
        try:
            values = kpis.trend(store.dealer_group, months, store.pk)
            return {
                "months": labels,
                "csi": [_number(v) for v in values.get("csi", [None] * len(months))],
                "nps": [_number(v) for v in values.get("nps", [None] * len(months))],
            }
        except NotImplementedError:
            pass
    from m4s.service.selectors import store_figures

    csi, nps = [], []
    for m in months:
        f = store_figures(store, m)
        csi.append(_number(f.csi))
        nps.append(_number(f.nps))
    return {"months": labels, "csi": csi, "nps": nps}


def _bounds(store, month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    from m4s.service.selectors import month_bounds

    return month_bounds(store, month)


def masked(name: str) -> str:
    """A customer's name as the report keeps it: its first character only (王小明 → 王**), so
    a stored report holds no owner's full name (an erased owner stays unnamed in old reports);
    the repair order number leads staff to the case."""
    name = (name or "").strip()
    return f"{name[0]}**" if name else ""


def _unhappy(store, month: dt.date) -> dict[str, Any]:
    from m4s.service.choices import SurveyStatus
    from m4s.service.models import Survey

    start, end = _bounds(store, month)
    qs = (
        Survey.objects.for_group(store.dealer_group_id)
        .filter(
            store=store, status=SurveyStatus.ANSWERED, answered_at__gte=start, answered_at__lt=end
        )
        .filter(Q(needs_follow_up=True) | Q(nps__lte=DETRACTOR_NPS))
        .select_related("customer", "followed_up_by", "repair_order")
        .order_by("answered_at", "pk")
    )
    rows = []
    total = followed = 0
    for s in qs:
        total += 1
        followed += s.followed_up_at is not None
        if len(rows) < MAX_UNHAPPY:
            rows.append(
                {
                    "date": timezone.localtime(s.answered_at, store.tz).date().isoformat(),
                    "customer": masked(s.customer.name if s.customer_id else ""),
                    "order": s.repair_order.number if s.repair_order_id else "",
                    "nps": s.nps,
                    "comment": (s.comment or "")[:200],
                    "done": (s.follow_up_note or "")[:300],
                    "done_at": (
                        timezone.localtime(s.followed_up_at, store.tz).date().isoformat()
                        if s.followed_up_at
                        else ""
                    ),
                    "by": (s.followed_up_by.get_full_name() or s.followed_up_by.username)
                    if s.followed_up_by_id
                    else "",
                }
            )
    return {"total": total, "followed_up": followed, "open": total - followed, "rows": rows}


def _causes(store, month: dt.date) -> dict[str, Any]:
    from m4s.complaints.models import Complaint, CorrectiveAction, RootCause

    start, end = _bounds(store, month)
    group_id = store.dealer_group_id
    in_month = Complaint.objects.for_group(group_id).filter(
        store=store, created_at__gte=start, created_at__lt=end
    )
    total = in_month.count()
    counts = list(
        in_month.filter(root_cause__isnull=False)
        .values("root_cause_id")
        .annotate(n=Count("id"))
        .order_by("-n", "root_cause_id")[:TOP_CAUSES]
    )
    causes = {
        c.pk: c
        for c in RootCause.objects.for_group(group_id).filter(
            pk__in=[r["root_cause_id"] for r in counts]
        )
    }
    actions = defaultdict(list)
    for a in (
        CorrectiveAction.objects.for_group(group_id)
        .filter(store=store, root_cause_id__in=list(causes))
        .filter(Q(created_at__gte=start, created_at__lt=end) | Q(complaint__in=in_month))
        .select_related("responsible")
        .order_by("due_date", "pk")
    ):
        actions[a.root_cause_id].append(
            {
                "action": a.action[:300],
                "owner": a.responsible.get_full_name() or a.responsible.username,
                "due": a.due_date.isoformat(),
                "done": bool(a.done_at),
                "checked": bool(a.checked_at),
            }
        )
    rows = [
        {
            "cause": causes[r["root_cause_id"]].t() if r["root_cause_id"] in causes else "",
            "count": r["n"],
            "actions": actions.get(r["root_cause_id"], [])[:5],
        }
        for r in counts
    ]
    return {"total": total, "without_cause": total - sum(r["n"] for r in counts if r), "rows": rows}


def _reminders(store, month: dt.date) -> dict[str, Any]:
    """Care reminders handed to the contact policy in the month for the store's customers, and
    how many brought a booking within CONVERSION_DAYS (the definition of m4s/care/selectors.py)."""
    from m4s.care.choices import Kind
    from m4s.care.models import Reminder
    from m4s.care.selectors import CONVERSION_DAYS
    from m4s.service.models import Appointment

    start, end = _bounds(store, month)
    group_id = store.dealer_group_id
    booked = Appointment.objects.for_group(group_id).filter(
        customer_id=OuterRef("customer_id"),
        created_at__gte=OuterRef("sent_at"),
        created_at__lte=OuterRef("sent_at") + dt.timedelta(days=CONVERSION_DAYS),
    )
    found = {
        r["kind"]: r
        for r in Reminder.objects.for_group(group_id)
        .filter(customer__store_id=store.pk, sent_at__gte=start, sent_at__lt=end)
        .annotate(was_booked=Exists(booked))
        .values("kind")
        .annotate(sent=Count("id"), booked=Count("id", filter=Q(was_booked=True)))
    }
    rows = [
        {
            "kind": kind.value,
            "label": str(kind.label),
            "sent": found[kind.value]["sent"],
            "booked": found[kind.value]["booked"],
            "rate": round(found[kind.value]["booked"] * 100 / found[kind.value]["sent"], 1),
        }
        for kind in Kind
        if kind.value in found and found[kind.value]["sent"]
    ]
    sent = sum(r["sent"] for r in rows)
    booked_n = sum(r["booked"] for r in rows)
    return {
        "sent": sent,
        "booked": booked_n,
        "rate": round(booked_n * 100 / sent, 1) if sent else None,
        "rows": rows,
    }


def collect(store, month: dt.date) -> dict[str, Any]:
    """The month's figures, JSON-ready, labels in the active language (the report's)."""
    month = first_of(month)
    return {
        "month": month.strftime("%Y-%m"),
        "store": store.name,
        "group": store.dealer_group.name,
        "kpis": _kpis(store, month),
        "trend": _trend(store, month),
        "unhappy": _unhappy(store, month),
        "causes": _causes(store, month),
        "reminders": _reminders(store, month),
    }


# --- rendering -----------------------------------------------------------------------------------
def _shown(value: Any, unit: str) -> str:
    """A KPI value for a tile; units of `kpis.KPIS` (pct 0..100, score, minutes, count, points,
    money) and of the fallback ("%", "n", "")."""
    if value is None:
        return "—"
    if unit in ("n", "count", "points"):
        return f"{int(round(value)):,}"
    if unit in ("%", "pct"):
        return f"{value:.1f} %"
    if unit == "money":
        return f"¥{value:,.0f}"
    if unit == "minutes":
        return f"{value:,.0f} min"
    return f"{value:,.1f}" if abs(value - round(value)) > 1e-9 else f"{int(round(value)):,}"


def context(figures: dict[str, Any], *, generated_at: dt.datetime | None = None) -> dict[str, Any]:
    trend = figures.get("trend") or {}
    months = trend.get("months") or []
    trend_chart = None
    if any(v is not None for v in (trend.get("csi") or []) + (trend.get("nps") or [])):
        trend_chart = charts.line_chart(
            [
                charts.Series(_("CSI"), trend.get("csi") or [], colour=INK, key="csi"),
                charts.Series(_("NPS"), trend.get("nps") or [], colour=ORANGE, key="nps"),
            ],
            labels=months,
            y_min=min([0.0] + [v for v in trend.get("nps") or [] if v is not None]),
            y_max=100,
            point_labels=True,
            width=520,
            height=220,
        )
    rem = figures.get("reminders") or {}
    reminder_chart = None
    if rem.get("rows"):
        reminder_chart = charts.bar_chart(
            [
                charts.Series(_("Sent"), [r["sent"] for r in rem["rows"]], colour=INK, key="sent"),
                charts.Series(
                    _("Booked within 30 days"),
                    [r["booked"] for r in rem["rows"]],
                    colour=GREEN,
                    key="booked",
                ),
            ],
            labels=[r["label"] for r in rem["rows"]],
            width=680,
            height=220,
        )
    causes = figures.get("causes") or {}
    cause_chart = None
    if causes.get("rows"):
        cause_chart = charts.bar_chart(
            [
                charts.Series(
                    _("Complaints"),
                    [r["count"] for r in causes["rows"]],
                    colour=ORANGE,
                    key="causes",
                )
            ],
            labels=[r["cause"] for r in causes["rows"]],
            width=680,
            height=200,
        )
    return {
        "f": figures,
        "tiles": [
            {**k, "shown": _shown(k.get("value"), k.get("unit", ""))}
            for k in figures.get("kpis") or []
        ],
        "trend_chart": trend_chart,
        "reminder_chart": reminder_chart,
        "cause_chart": cause_chart,
        "reminder_rate": _shown(rem.get("rate"), "%"),
        "generated_at": generated_at,
    }


# WeasyPrint draws inline SVG with its own renderer, which reads a <style> inside the <svg> but
# not the page's stylesheet: the shared chart templates' classes are styled here, per chart.
SVG_STYLE = (
    "<style>"
    ".grid-line{stroke:#e1e7ed;stroke-width:1}.grid-line.zero{stroke:#9aa6b2}"
    ".axis{font-size:11px;fill:#5a6876}.line{fill:none;stroke-width:2.5}"
    ".val{font-size:10px;fill:#1d2733}.dot{fill:#fff;stroke-width:2}.last{font-size:10px}"
    "text{font-family:'Noto Sans CJK SC','Noto Sans CJK KR',sans-serif}"
    "</style>"
)
_SVG_OPEN = re.compile(r'(<svg class="m4s-chart[^>]*>)')


def render_html(figures: dict[str, Any], language: str, *, generated_at=None) -> str:
    with translation.override(language):
        html = render_to_string(
            "insights/report/service.html",
            {**context(figures, generated_at=generated_at), "LANGUAGE_CODE": language},
        )
    return _SVG_OPEN.sub(lambda m: m[1] + SVG_STYLE, html)


# --- generating ----------------------------------------------------------------------------------
def _store_pdf(data: bytes) -> str:
    return default_storage.save(f"service-reports/{get_random_string(32)}.pdf", ContentFile(data))


def _delete_later(name: str) -> None:
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def generate(store, month: dt.date, language: str | None = None, *, actor=None) -> ServiceReport:
    """Render and store the store's report for `month` in `language` (default: the site's).
    An existing report is replaced: new PDF and figures, version + 1, an audit entry."""
    month = first_of(month)
    language = language_of(language or settings.LANGUAGE_CODE)
    now = timezone.now()
    with translation.override(language):
        figures = collect(store, month)
        title = _("Monthly service report") + f" · {store.name} · {month:%Y-%m}"
    html = render_html(figures, language, generated_at=now)
    rendered = render_pdf(html, title=title)
    name = _store_pdf(rendered.data)
    try:
        with transaction.atomic():
            report = (
                ServiceReport.objects.for_group(store.dealer_group_id)
                .select_for_update()
                .filter(store=store, month=month, language=language)
                .first()
            )
            fields = {
                "file": name,
                "size": len(rendered.data),
                "pages": rendered.pages,
                "figures": figures,
                "generated_at": now,
                "generated_by": actor,
            }
            if report is None:
                report = ServiceReport.objects.create(
                    dealer_group_id=store.dealer_group_id,
                    store=store,
                    month=month,
                    language=language,
                    **fields,
                )
                return report
            before = {
                "file": report.file,
                "version": report.version,
                "generated_at": report.generated_at.isoformat(),
            }
            old = report.file
            for key, value in fields.items():
                setattr(report, key, value)
            report.version += 1
            report.save()
            record_audit(
                actor=actor,
                action="update",
                obj=report,
                before=before,
                after={"file": name, "version": report.version, "generated_at": now.isoformat()},
            )
            _delete_later(old)
            return report
    except Exception:
        default_storage.delete(name)
        raise


def ensure(store, month: dt.date, language: str | None = None, *, actor=None) -> ServiceReport:
    """The store's report for the month in the language, generated if missing."""
    month = first_of(month)
    language = language_of(language or settings.LANGUAGE_CODE)
    found = (
        ServiceReport.objects.for_group(store.dealer_group_id)
        .filter(store=store, month=month, language=language)
        .first()
    )
    if found is not None and found.file and default_storage.exists(found.file):
        return found  # (a file lost from storage is made again)
    try:
        return generate(store, month, language, actor=actor)
    except IntegrityError:  # generated at the same moment by another worker
        return ServiceReport.objects.for_group(store.dealer_group_id).get(
            store=store, month=month, language=language
        )


def preview_pdf(store, month: dt.date, language: str | None = None) -> bytes:
    """The report of a month not yet over (or to come) as of now: rendered, not kept."""
    month = first_of(month)
    language = language_of(language or settings.LANGUAGE_CODE)
    with translation.override(language):
        figures = collect(store, month)
    return render_pdf(render_html(figures, language, generated_at=timezone.now())).data


def read_pdf(report: ServiceReport) -> bytes:
    with default_storage.open(report.file, "rb") as handle:
        return handle.read()


# --- who may read, who gets it --------------------------------------------------------------------
def can_read(user, report_or_store) -> bool:
    """A signed-in staff member of the group with VIEW_INSIGHTS who sees the store (a manager of
    that store, or a group-wide manager)."""
    from m4s.org.selectors import list_stores
    from m4s.staff.choices import Perm

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.has_perm_m4s(Perm.VIEW_INSIGHTS):
        return False
    store_id = getattr(report_or_store, "store_id", None) or report_or_store.pk
    return list_stores(user).filter(pk=store_id).exists()


def recipients(store) -> list:
    """The store's managers and the group's admins (active), each once."""
    from m4s.staff.choices import Role
    from m4s.staff.models import StaffUser

    return list(
        StaffUser.objects.filter(dealer_group_id=store.dealer_group_id, is_active=True)
        .filter(Q(role=Role.GROUP_ADMIN) | Q(role=Role.STORE_MANAGER, stores=store))
        .distinct()
        .order_by("pk")
    )


def download_path(report: ServiceReport) -> str:
    return reverse("console-insights-report-download", kwargs={"pk": report.pk})


def _compose(store_name: str, label: str):
    """(title, body) of the message announcing a report, as system text (re-rendered in the
    reader's language by the inbox)."""
    return lambda: (
        text(
            gettext_noop("Monthly service report: %(store)s, %(month)s"),
            store=store_name,
            month=label,
        ),
        text(
            gettext_noop(
                "The service report of %(store)s for %(month)s is ready: KPIs, unhappy "
                "revisits, complaint causes and reminders."
            ),
            store=store_name,
            month=label,
        ),
    )


def send_due(today: dt.date | None = None) -> int:
    """From the 1st: last month's report of every active store, generated once per language its
    recipients read, and an in-app message to each recipient linking it. Idempotent: reports
    already sent are skipped and each message has a dedupe key. Returns messages written."""
    from m4s.notify.services import tell_staff
    from m4s.org.models import Store

    today = today or timezone.localdate()
    month = add_months(today.replace(day=1), -1)
    already = set(
        ServiceReport.objects.unscoped()
        .filter(month=month, sent_at__isnull=False)
        .values_list("store_id", "language")
    )
    written = 0
    stores = Store.objects.unscoped().filter(is_active=True, dealer_group__is_active=True)
    for store in stores.select_related("dealer_group").order_by("pk"):
        by_language: dict[str, list] = defaultdict(list)
        for person in recipients(store):
            by_language[language_of(person.language)].append(person)
        if not by_language:
            by_language[language_of(settings.LANGUAGE_CODE)] = []
        for language, people in sorted(by_language.items()):
            if (store.pk, language) in already:
                continue
            try:
                report = ensure(store, month, language)
            except Exception:  # one store's failure must not stop the others; retried in 6 h
                logger.exception("service report of store %s for %s failed", store.pk, month)
                continue
            if not people:
                continue
            label = month.strftime("%Y-%m")
            with transaction.atomic():
                sent = tell_staff(
                    people,
                    MESSAGE_KIND,
                    _compose(store.name, label),
                    group_id=store.dealer_group_id,
                    link=download_path(report),
                    dedupe=f"service-report:{store.pk}:{label}",
                )
                written += len(sent)
                ServiceReport.objects.unscoped().filter(pk=report.pk).update(sent_at=timezone.now())
    return written

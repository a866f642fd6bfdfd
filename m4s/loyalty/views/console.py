"""Console pages of the loyalty area: the voucher desk (scan or type a code, mark it used), the
member lookup and member page with the manual adjustment, and the programme report with a
server-side chart.

Thin, like every page: parse the form, call one service or selector, show the service's refusal
message with its 4xx status (never a 500). Members and vouchers of another dealer group are not
found through the scoped selectors; a missing capability is 403.
"""

import datetime as dt
import re
import uuid
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from m4s.core import charts
from m4s.core.dates import add_months
from m4s.core.errors import DomainError
from m4s.loyalty import rewards, selectors, services
from m4s.loyalty.choices import Event, VoucherStatus
from m4s.loyalty.models import Voucher
from m4s.notify import selectors as inbox
from m4s.owners.phones import mask_phone
from m4s.staff.choices import Perm
from m4s.staff.permissions import staff_page

KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
POINTS_RE = re.compile(r"^[+-]?\d{1,7}$")
CHART_MONTHS = 6


def _ctx(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), "nav": "loyalty", **extra}


def _annotate_members(user, members) -> list:
    """Masked phone and the number of vouchers ready to use, in one query for the whole list."""
    members = list(members)
    ready = dict(
        Voucher.objects.for_actor(user)
        .filter(
            member__in=[m.pk for m in members],
            status=VoucherStatus.ISSUED,
            expires_at__gt=timezone.now(),
        )
        .values("member_id")
        .annotate(n=Count("id"))
        .values_list("member_id", "n")
    )
    for m in members:
        m.phone_masked = mask_phone(m.customer.phone)
        m.ready_vouchers = ready.get(m.pk, 0)
    return members


# --- voucher desk and lookup ---------------------------------------------------------------------
@staff_page(Perm.USE_CONSOLE)
@require_http_methods(["GET", "POST"])
def desk(request):
    user = request.user
    can_use = user.has_perm_m4s(Perm.USE_VOUCHERS)  # the desk roles
    can_look_up = user.has_perm_m4s(Perm.VIEW_CUSTOMERS)
    if not can_use and (request.method == "POST" or not can_look_up):
        raise DjangoPermissionDenied
    status, used, error, code = 200, None, "", ""
    if request.method == "POST":
        code = (request.POST.get("code") or "").strip().upper()[:32]
        try:
            if not code:
                raise DomainError("code_required", _("Scan or type the voucher code."))
            used = rewards.use_voucher(code, actor=user)
        except DomainError as exc:
            status, error = exc.status, exc.message
        else:
            used.member_name = used.member.customer.name
    q = (request.GET.get("q") or "").strip()[:60]
    found = _annotate_members(user, selectors.find_member(user, q)) if q and can_look_up else []
    return render(
        request,
        "loyalty/console/desk.html",
        _ctx(
            request,
            sub="desk",
            code=code,
            used=used,
            error=error,
            q=q,
            found=found,
            can_look_up=can_look_up,
            can_use=can_use,
        ),
        status=status,
    )


def _member_for(user, member_id: int):
    member = (
        selectors.members_for(user).select_related("customer", "tier").filter(pk=member_id).first()
    )
    if member is None:
        raise Http404(_("No such member."))
    return member


def _member_page(request, member, *, status: int = 200, error: str = "", form=None):
    user = request.user
    now = timezone.now()
    vouchers = list(selectors.vouchers_of(member)[:30])
    for v in vouchers:
        v.state = (
            VoucherStatus.EXPIRED
            if v.status == VoucherStatus.ISSUED and v.expires_at <= now
            else v.status
        )
        v.state_label = VoucherStatus(v.state).label
    return render(
        request,
        "loyalty/console/member.html",
        _ctx(
            request,
            sub="desk",
            member=_annotate_members(user, [member])[0],
            s=selectors.summary(member),
            vouchers=vouchers,
            entries=list(selectors.ledger_of(member, limit=30).select_related("actor")),
            pending=list(selectors.pending_lots(member)[:10]),
            can_adjust=user.has_perm_m4s(Perm.ADJUST_POINTS),
            staff_events=[(e.value, e.label) for e in services.STAFF_EVENTS],
            form=form or {},
            key=uuid.uuid4().hex,
            error=error,
        ),
        status=status,
    )


@staff_page(Perm.VIEW_CUSTOMERS)
def member(request, member_id: int):
    return _member_page(request, _member_for(request.user, member_id))


@staff_page(Perm.ADJUST_POINTS)
@require_POST
def adjust(request, member_id: int):
    user = request.user
    target = _member_for(user, member_id)
    raw_points = (request.POST.get("points") or "").strip().replace(" ", "")
    reason = (request.POST.get("reason") or "").strip()[:200]
    key = (request.POST.get("key") or "").strip()
    form = {"points": raw_points, "reason": reason}
    try:
        if not KEY_RE.match(key):
            raise DomainError(
                "idempotency_key_required", _("Please reload the page and try again.")
            )
        if not POINTS_RE.match(raw_points):
            raise DomainError(
                "invalid_points", _("Points must be a non-zero whole number, e.g. 200 or -150.")
            )
        entry = services.adjust(
            user, target, int(raw_points), reason=reason, key=f"staff:{user.pk}:{key}"
        )
    except DomainError as exc:
        return _member_page(request, target, status=exc.status, error=exc.message, form=form)
    messages.success(
        request,
        _("Adjusted by %(points)+d points: %(reason)s")
        % {"points": entry.points, "reason": entry.reason},
    )
    return redirect("console-loyalty-member", member_id=target.pk)


@staff_page(Perm.ADJUST_POINTS)
@require_POST
def record_event(request, member_id: int):
    """An event check-in, approved story or like recorded by staff: the same service, rule,
    caps and audit as the API."""
    user = request.user
    target = _member_for(user, member_id)
    event = (request.POST.get("event") or "").strip()
    source = (request.POST.get("source") or "").strip()[:80]
    try:
        earned = services.record_staff_event(user, target, event, source=source)
    except DomainError as exc:
        return _member_page(
            request, target, status=exc.status, error=exc.message, form={"source": source}
        )
    if earned.created:
        messages.success(
            request,
            _("%(event)s recorded: %(points)+d points")
            % {"event": Event(event).label, "points": sum(e.points for e in earned.entries)},
        )
    else:
        messages.info(request, _("This was already recorded."))
    return redirect("console-loyalty-member", member_id=target.pk)


# --- programme report --------------------------------------------------------------------------------
def _month_of(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def _bar_chart(by_month: list, *, months: int = CHART_MONTHS, today=None) -> dict:
    """Grouped bars (issued, redeemed, expired) for the last `months` months through the shared
    chart module; months without entries show as zero."""
    today = today or timezone.localdate()
    first = add_months(today.replace(day=1), -(months - 1))
    keys = [add_months(first, i) for i in range(months)]
    rows = {k: (0, 0, 0) for k in keys}
    for row in by_month:
        key = _month_of(row["m"])
        if key in rows:
            rows[key] = (
                row["issued"] or 0,
                -(row["redeemed"] or 0),
                -(row["expired"] or 0),
            )
    series = [
        charts.Series(name, [rows[k][i] for k in keys], colour=colour, key=key)
        for i, (key, name, colour) in enumerate(
            (
                ("issued", _("Issued"), "#2e7d32"),
                ("redeemed", _("Redeemed"), "#0b6bcb"),
                ("expired", _("Expired"), "#e0a100"),
            )
        )
    ]
    return charts.bar_chart(series, labels=[k.strftime("%Y-%m") for k in keys])


@staff_page(Perm.VIEW_LOYALTY_REPORT)
def report(request):
    group_id = request.user.dealer_group_id
    r = selectors.programme_report(group_id, months=CHART_MONTHS)
    programme = services.programme_of(group_id) if group_id else None
    top = max([row["n"] for row in r.top_rewards] + [1])
    for row in r.top_rewards:
        row["pct"] = round(100 * row["n"] / top)
        row["used_pct"] = round(100 * row["used"] / top)
    redemption_pct = round(100 * r.redeemed / r.issued) if r.issued else None
    return render(
        request,
        "loyalty/console/report.html",
        _ctx(
            request,
            sub="report",
            r=r,
            programme=programme,
            outstanding_value=(
                (Decimal(r.outstanding) * programme.point_value).quantize(Decimal("0.01"))
                if programme
                else Decimal("0.00")
            ),
            redemption_pct=redemption_pct,
            chart=_bar_chart(r.by_month),
        ),
    )

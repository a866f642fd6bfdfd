"""Service console: the repair-order workbench (inspection, lines, approval, clocking, status,
settlement, delivery, refund) and the printable invoice."""

from collections import defaultdict
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from m4s.core.errors import DomainError
from m4s.core.i18n import translated
from m4s.service import billing, selectors, workshop
from m4s.service.choices import (
    RO_FLOW,
    Approval,
    Payer,
    PhotoKind,
    Rating,
    staff_status_label,
)
from m4s.service.models import (
    InspectionPoint,
    LabourOperation,
    Part,
    TechnicianProfile,
)
from m4s.staff.choices import Perm
from m4s.staff.selectors import list_staff

from .common import (
    SERVICE_READERS,
    S,
    _ctx,
    _id,
    _or_404,
    _photos,
    _whole_number,
    service_page,
)


# --- 3. the workbench -----------------------------------------------------------------------------
def _workbench(request, ro):
    user = request.user
    group_id = ro.dealer_group_id
    can_work = user.has_perm_m4s(Perm.WORK_REPAIR_ORDERS)
    can_settle = user.has_perm_m4s(Perm.SETTLE_REPAIR_ORDERS)
    invoice = getattr(ro, "invoice", None)
    here = RO_FLOW.index(ro.status)
    steps = [
        {
            "label": staff_status_label(value),
            "state": "done" if i < here else "current" if i == here else "todo",
        }
        for i, value in enumerate(S.values)
    ]
    results = {r.point_id: r for r in ro.inspection.all()}
    results_by_pk = {r.pk: r for r in results.values()}
    points = list(
        InspectionPoint.objects.for_group(group_id)
        .filter(Q(template__store_id=ro.store_id, template__is_active=True) | Q(pk__in=results))
        .order_by("template_id", "position", "pk")
    )
    lines = list(ro.lines.all())
    deciders = {
        s.pk: s
        for s in list_staff(user).filter(pk__in={ln.approval_staff_id for ln in lines} - {None})
    }
    is_technician = (
        can_work and TechnicianProfile.objects.for_group(group_id).filter(staff=user).exists()
    )
    # What may be clocked on and off is the service's rule (one open clock per technician:
    # while on a job, the other jobs offer no "Clock on").
    clock_on, clock_off = selectors.clockable_lines(ro, user)
    rows = []
    for line in lines:
        entries = list(line.time_entries.all())
        open_entries = [e for e in entries if e.ended_at is None]
        mine = next((e for e in open_entries if e.technician_id == user.pk), None)
        result = results_by_pk.get(line.result_id)
        parts = list(line.parts.all())
        rows.append(
            {
                "line": line,
                "parts": parts,
                "amount": selectors.line_amount(line),
                "rating": result.rating if result else "",
                "decider": deciders.get(line.approval_staff_id),
                "working": [e.technician for e in open_entries],
                "clocked_minutes": sum(
                    int(((e.ended_at or timezone.now()) - e.started_at).total_seconds() // 60)
                    for e in entries
                ),
                "mine": mine,
                "can_clock": is_technician and line.pk in clock_on,
                "can_clock_off": line.pk in clock_off,
                "pending": line.approval == Approval.PENDING and can_work,
            }
        )
    operations = list(
        LabourOperation.objects.for_group(group_id).filter(is_active=True).order_by("code")
    )
    catalogue_parts = list(Part.objects.for_group(group_id).filter(is_active=True))
    prices = selectors.published_prices(
        group_id,
        timezone.localdate(),
        operations=[o.pk for o in operations],
        parts=[p.pk for p in catalogue_parts],
    )
    for o in operations:
        o.list_price = prices.get(("op", o.pk))
    for p in catalogue_parts:
        p.list_price = prices.get(("part", p.pk))
    photos = list(ro.photos.all())
    owner_photos = list(ro.appointment.photos.all()) if ro.appointment_id else []
    approved = [r for r in rows if r["line"].approval == Approval.APPROVED]
    return render(
        request,
        "service/console/order.html",
        _ctx(
            request,
            ro=ro,
            invoice=invoice,
            steps=steps,
            inspection=[{"point": p, "result": results.get(p.pk)} for p in points],
            inspection_open=can_work and ro.status in (S.CHECKED_IN, S.INSPECTING),
            walk_round=[p for p in photos if p.kind == PhotoKind.WALK_ROUND],
            owner_photos=owner_photos,
            rows=rows,
            approved_rows=approved,
            totals=selectors.ro_totals(ro),
            operations=operations,
            catalogue_parts=catalogue_parts,
            payers=Payer.choices,
            ratings=Rating.choices,
            can_work=can_work,
            can_settle=can_settle,
            is_technician=is_technician,
            can_add_line=can_work
            and ro.status
            in (S.CHECKED_IN, S.INSPECTING, S.WAITING_APPROVAL, S.IN_REPAIR, S.QUALITY_CHECK),
            can_advance=can_work
            and (
                ro.status == S.QUALITY_CHECK
                or (ro.status == S.IN_REPAIR and selectors.work_finished(lines))
            ),
            status_label=staff_status_label(ro.status),
            show_settle=can_settle and ro.status == S.READY and invoice is None,
            show_deliver=can_settle and ro.status == S.READY and invoice is not None,
            credit_note=getattr(invoice, "credit_note", None) if invoice is not None else None,
            can_refund=invoice is not None and user.has_perm_m4s(Perm.REFUND_REPAIR_ORDERS),
            pending_count=sum(r["line"].approval == Approval.PENDING for r in rows),
        ),
    )


def _load_ro(request, ro_id):
    return _or_404(selectors.get_repair_order, request.user, ro_id)


def _back_to(ro, anchor=""):
    return redirect(
        reverse("console-service-order", args=[ro.pk]) + (f"#{anchor}" if anchor else "")
    )


@service_page(*SERVICE_READERS)
def order(request, ro_id: int):
    return _workbench(request, _load_ro(request, ro_id))


def _ro_action(perm, anchor):
    """POST actions on an order: load it scoped (404), run the step, show the outcome."""

    def decorator(step):
        @service_page(perm)
        @require_POST
        @wraps(step)
        def view(request, ro_id: int, **kwargs):
            ro = _load_ro(request, ro_id)
            try:
                with transaction.atomic():
                    notice = step(request, ro, **kwargs)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                if notice:
                    messages.success(request, notice)
            return _back_to(ro, anchor)

        return view

    return decorator


@_ro_action(Perm.WORK_REPAIR_ORDERS, "inspection")
def order_inspection(request, ro):
    post, user = request.POST, request.user
    points = {
        p.pk: p
        for p in InspectionPoint.objects.for_group(ro.dealer_group_id).filter(
            template__store_id=ro.store_id
        )
    }
    existing = {r.point_id: r for r in ro.inspection.all()}
    results, uploads = [], {}
    for point_id, point in points.items():
        rating = post.get(f"rating_{point_id}", "")
        note = post.get(f"note_{point_id}", "").strip()
        measurement = post.get(f"measure_{point_id}", "").strip()
        photo = request.FILES.get(f"photo_{point_id}")
        if rating:
            results.append(
                {"point_id": point_id, "rating": rating, "note": note, "measurement": measurement}
            )
        elif (note or measurement or photo) and point_id not in existing:
            raise DomainError(
                "rating_required",
                _("Rate “%(item)s” green, amber or red first.")
                % {"item": translated(point, "name")},
            )
        if photo:
            uploads[point_id] = _photos([photo])[0]
    saved = {r.point_id: r for r in workshop.record_inspection(user, ro, results)}
    for point_id, image in uploads.items():
        result = saved.get(point_id) or existing.get(point_id)
        workshop.add_inspection_photo(user, ro, result.pk, image)
    if post.get("action") == "complete":
        ro = workshop.complete_inspection(user, ro)
        if ro.status == S.WAITING_APPROVAL:
            return _("Inspection finished; the owner is asked to approve the recommended work.")
        return _("Inspection finished; nothing needs the owner's approval.")
    return _("Inspection saved.")


@_ro_action(Perm.WORK_REPAIR_ORDERS, "lines")
def order_add_line(request, ro):
    post = request.POST
    operation_id = _id(post.get("operation"))
    if operation_id is None:
        raise DomainError("invalid_operation", _("Choose the work to add."))
    parts = []
    part_id = _id(post.get("part"))
    if part_id is not None:
        parts.append(
            {
                "part_id": part_id,
                "quantity": _whole_number(
                    post.get("quantity") or "1", _("The quantity is a whole number.")
                ),
            }
        )
    line = workshop.add_line(
        request.user,
        ro,
        operation_id=operation_id,
        parts=parts,
        reason=post.get("reason", "")[:300],
        payer=post.get("payer") or Payer.CUSTOMER,
    )
    return _("Added “%(item)s”; it waits for the owner's approval.") % {
        "item": translated(line, "description")
    }


@_ro_action(Perm.WORK_REPAIR_ORDERS, "lines")
def order_decide(request, ro, line_id: int):
    approve = request.POST.get("approve") == "1"
    line = workshop.decide_line(
        ro, line_id, approve, actor=request.user, reason=request.POST.get("reason", "")[:200]
    )
    if approve:
        return _("Recorded: the owner approved “%(item)s”.") % {
            "item": translated(line, "description")
        }
    return _("Recorded: the owner declined “%(item)s”.") % {"item": translated(line, "description")}


@_ro_action(Perm.WORK_REPAIR_ORDERS, "lines")
def order_clock(request, ro, line_id: int):
    action = request.POST.get("action")
    if action == "on":
        workshop.clock_on(request.user, ro, line_id)
        return _("Clocked on.")
    if action in ("off", "done"):
        workshop.clock_off(request.user, ro, line_id, done=action == "done")
        return _("Clocked off; the job is done.") if action == "done" else _("Clocked off.")
    raise DomainError("invalid_action", _("Unknown action."))


@_ro_action(Perm.WORK_REPAIR_ORDERS, "")
def order_status(request, ro):
    to = request.POST.get("to", "")
    ro = workshop.advance(request.user, ro, to)
    return _("Status: %(status)s.") % {"status": staff_status_label(ro.status)}


@_ro_action(Perm.SETTLE_REPAIR_ORDERS, "settle")
def order_settle(request, ro):
    post = request.POST
    prices, payers = {}, {}
    for line in ro.lines.all():
        if line.approval != Approval.APPROVED:
            continue
        entry = {}
        labour = post.get(f"labour_{line.pk}", "").strip()
        if labour:
            entry["labour"] = labour
        part_prices = {
            lp.pk: post.get(f"part_{lp.pk}", "").strip()
            for lp in line.parts.all()
            if post.get(f"part_{lp.pk}", "").strip()
        }
        if part_prices:
            entry["parts"] = part_prices
        reason = post.get(f"reason_{line.pk}", "").strip()
        if reason:
            entry["reason"] = reason[:200]
        if entry:
            prices[line.pk] = entry
        if post.get(f"payer_{line.pk}"):
            payers[line.pk] = post[f"payer_{line.pk}"]
    invoice = billing.settle(
        request.user,
        ro,
        prices=prices,
        payers=payers,
        coupon_code=request.POST.get("coupon_code", "")[:16],
    )
    return _("Settled: invoice %(number)s, total ¥%(total)s.") % {
        "number": invoice.number,
        "total": invoice.total,
    }


@_ro_action(Perm.SETTLE_REPAIR_ORDERS, "")
def order_deliver(request, ro):
    odometer = _whole_number(request.POST.get("odometer"), _("Enter the odometer reading in km."))
    workshop.deliver(request.user, ro, odometer=odometer)
    return _("Delivered. The revisit survey is scheduled.")


@_ro_action(Perm.REFUND_REPAIR_ORDERS, "settle")
def order_refund(request, ro):
    note = billing.refund(request.user, ro, reason=request.POST.get("reason", "")[:300])
    return _("Refunded: credit note %(number)s, ¥%(amount)s back to the customer.") % {
        "number": note.number,
        "amount": note.customer_amount,
    }


# --- 4. invoice -----------------------------------------------------------------------------------
@service_page(*SERVICE_READERS)
def invoice(request, ro_id: int):
    ro = _load_ro(request, ro_id)
    inv = getattr(ro, "invoice", None)
    if inv is None:
        messages.error(request, _("This repair order is not settled yet."))
        return _back_to(ro, "settle")
    payer_labels = dict(Payer.choices)
    groups = defaultdict(list)
    for line in ro.lines.all():
        if line.approval != Approval.APPROVED:
            continue
        parts = [
            {
                "part": lp.part,
                "quantity": lp.quantity,
                "list_price": lp.list_price,
                "list_amount": lp.list_price * lp.quantity,
                "discount": (lp.list_price - lp.unit_price) * lp.quantity,
            }
            for lp in line.parts.all()
        ]
        groups[line.payer].append(
            {
                "line": line,
                "parts": parts,
                "labour_discount": line.labour_list_price - line.labour_price,
                "list_amount": selectors.line_amount(line, list_prices=True),
                "net": selectors.line_amount(line),
            }
        )
    by_payer = []
    for payer in Payer.values:
        rows = groups.get(payer)
        if not rows:
            continue
        listed = sum((r["list_amount"] for r in rows), Decimal("0"))
        net = sum((r["net"] for r in rows), Decimal("0"))
        tax = sum((selectors.line_tax(r["line"], inv.tax_rate) for r in rows), Decimal("0"))
        by_payer.append(
            {
                "payer": payer,
                "label": payer_labels[payer],
                "rows": rows,
                "list_total": listed,
                "discount": listed - net,
                "net": net,
                "tax": tax,
                "gross": net + tax,
            }
        )
    return render(
        request,
        "service/console/invoice.html",
        _ctx(
            request,
            ro=ro,
            invoice=inv,
            credit_note=getattr(inv, "credit_note", None),
            by_payer=by_payer,
            overrides=list(ro.price_overrides.select_related("by").order_by("at", "pk")),
            tax_pct=f"{inv.tax_rate * 100:.2f}".rstrip("0").rstrip("."),
        ),
    )

"""The customers behind a KPI: for one store (or the reader's stores) and one month, the
population a KPI counts, each with whether they count in its numerator. Bounded to the month (and
store); paged by the caller. Definitions: m4s/insights/facts.py."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, Subquery

from m4s.core.dates import add_months
from m4s.insights import kpis
from m4s.insights.facts import _activity, _at, paid_invoices

DRILLS = set(kpis.CODES)


def visible_stores(user) -> list:
    """The stores the reader may see: every active store of the group with VIEW_ALL_STORES
    (group admins), else their own (a store manager)."""
    from m4s.org.selectors import list_stores
    from m4s.staff.choices import Perm

    stores = list(list_stores(user))
    if user.has_perm_m4s(Perm.VIEW_ALL_STORES):
        return stores
    mine = user.store_ids()
    return [s for s in stores if s.pk in mine]


def drill(group_id: int, code: str, month: dt.date, store_ids: list[int]):
    """(queryset of Customer with a boolean `hit` annotation, ordered by name). `hit`: the
    customer counts in the KPI's numerator (retained, shown, promoter, on time ...)."""
    from m4s.care.choices import Kind, Status
    from m4s.care.models import Reminder
    from m4s.complaints.models import Complaint
    from m4s.conversations.choices import AuthorKind
    from m4s.conversations.models import Message
    from m4s.customers.models import Binding, Customer
    from m4s.loyalty.models import LedgerEntry
    from m4s.requests.models import ServiceRequest
    from m4s.sales.models import Lead
    from m4s.service.choices import AppointmentStatus, SurveyStatus
    from m4s.service.models import Appointment, Invoice, RepairOrder, Survey
    from m4s.vehicles.models import Vehicle

    g = group_id
    month = month.replace(day=1)
    end_day = add_months(month, 1)
    lo, hi = _at(month), _at(end_day)
    customers = Customer.objects.for_group(g)
    home = customers.filter(store_id__in=store_ids)

    def of(qs, field="customer_id", hit=None):
        """Customers appearing in `qs` (their id in `field`); hit: a Q on qs for the numerator."""
        ids = qs.values(field)
        base = customers.filter(pk__in=Subquery(ids))
        if hit is None:
            return base.annotate(hit=Exists(qs.filter(**{field: OuterRef("pk")})))
        return base.annotate(hit=Exists(qs.filter(hit, **{field: OuterRef("pk")})))

    paid = paid_invoices(g)
    if code == "retention":
        before = paid.filter(
            repair_order__customer_id=OuterRef("pk"),
            issued_at__gte=_at(add_months(end_day, -24)),
            issued_at__lt=_at(add_months(end_day, -12)),
        )
        last = paid.filter(
            repair_order__customer_id=OuterRef("pk"),
            issued_at__gte=_at(add_months(end_day, -12)),
            issued_at__lt=hi,
        )
        qs = home.filter(Exists(before)).annotate(hit=Exists(last))
    elif code == "warranty_return":
        cars = Vehicle.objects.for_group(g).filter(
            current_owner__store_id__in=store_ids,
            warranty_end__gte=add_months(end_day, -24),
            warranty_end__lt=add_months(end_day, -12),
        )
        returned = paid.filter(
            repair_order__vehicle_id=OuterRef("pk"),
            issued_at__date__gt=OuterRef("warranty_end"),
            issued_at__lt=hi,
        )
        qs = of(cars.annotate(_r=Exists(returned)), "current_owner_id", Q(_r=True))
    elif code in ("maint_booked", "maint_done", "maint_elsewhere"):
        rem = Reminder.objects.for_group(g).filter(
            kind=Kind.MAINTENANCE,
            due_on__gte=month,
            due_on__lt=end_day,
            customer__store_id__in=store_ids,
        )
        if code == "maint_booked":
            booked = (
                Appointment.objects.for_group(g)
                .filter(
                    vehicle_id=OuterRef("vehicle_id"),
                    date__gte=month - dt.timedelta(days=30),
                    date__lt=end_day + dt.timedelta(days=60),
                )
                .exclude(status=AppointmentStatus.CANCELLED)
            )
            qs = of(rem.annotate(_b=Exists(booked)), hit=Q(_b=True))
        else:
            done = Status.DONE if code == "maint_done" else Status.DONE_ELSEWHERE
            qs = of(rem, hit=Q(status=done))
    elif code == "show_rate":
        qs = of(
            Appointment.objects.for_group(g).filter(
                store_id__in=store_ids,
                date__gte=month,
                date__lt=end_day,
                status__in=[AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW],
            ),
            hit=Q(status=AppointmentStatus.CHECKED_IN),
        )
    elif code in ("csi", "nps"):
        qs = of(
            Survey.objects.for_group(g).filter(
                store_id__in=store_ids,
                status=SurveyStatus.ANSWERED,
                answered_at__gte=lo,
                answered_at__lt=hi,
            ),
            hit=Q(nps__gte=9),
        )
    elif code == "ftf":
        ros = RepairOrder.objects.for_group(g).filter(
            store_id__in=store_ids, delivered_at__gte=lo, delivered_at__lt=hi
        )
        comeback = RepairOrder.objects.for_group(g).filter(
            vehicle_id=OuterRef("vehicle_id"),
            checked_in_at__gt=OuterRef("delivered_at"),
        )
        qs = of(ros.annotate(_cb=Exists(comeback)), hit=Q(_cb=False))
    elif code in ("complaint_fr_sla", "complaint_res_sla", "complaint_handling"):
        cq = Complaint.objects.for_group(g).filter(store_id__in=store_ids)
        if code == "complaint_fr_sla":
            from django.db.models import F

            qs = of(
                cq.filter(first_responded_at__gte=lo, first_responded_at__lt=hi),
                hit=Q(first_responded_at__lte=F("first_response_due_at")),
            )
        else:
            from django.db.models import F

            qs = of(
                cq.filter(resolved_at__gte=lo, resolved_at__lt=hi),
                hit=Q(resolved_at__lte=F("resolution_due_at")),
            )
    elif code == "first_response":
        qs = of(
            Message.objects.for_group(g).filter(
                conversation__store_id__in=store_ids,
                author_kind=AuthorKind.STAFF,
                response_minutes__isnull=False,
                created_at__gte=lo,
                created_at__lt=hi,
            ),
            "conversation__customer_id",
        )
    elif code == "request_sla":
        from django.db.models import F

        qs = of(
            ServiceRequest.objects.for_group(g).filter(
                store_id__in=store_ids,
                accepted_at__gte=lo,
                accepted_at__lt=hi,
                due_at__isnull=False,
            ),
            hit=Q(accepted_at__lte=F("due_at")),
        )
    elif code == "binding_rate":
        bound = Binding.objects.for_group(g).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gte=hi),
            customer_id=OuterRef("pk"),
            created_at__lt=hi,
        )
        qs = home.filter(created_at__lt=hi).annotate(hit=Exists(bound))
    elif code == "reminder_conversion":
        qs = of(
            Reminder.objects.for_group(g).filter(
                customer__store_id__in=store_ids, sent_at__gte=lo, sent_at__lt=hi
            ),
            hit=Q(status=Status.DONE),
        )
    elif code == "lead_conversion":
        qs = of(
            Lead.objects.for_group(g).filter(
                Q(won_at__gte=lo, won_at__lt=hi) | Q(lost_at__gte=lo, lost_at__lt=hi),
                store_id__in=store_ids,
                customer__isnull=False,
            ),
            hit=Q(won_at__isnull=False),
        )
    elif code == "points_liability":
        qs = of(
            LedgerEntry.objects.for_group(g).filter(
                member__customer__store_id__in=store_ids, created_at__lt=hi
            ),
            "member__customer_id",
        )
    elif code == "active_owners":
        ids = {c for c, s, _d in _activity(g, lo, hi) if s in store_ids}
        qs = home.filter(pk__in=sorted(ids)[:5000]).annotate(
            hit=Exists(customers.filter(pk=OuterRef("pk")))
        )
    elif code in ("paid_visits", "revenue"):
        inv = Invoice.objects.for_group(g).filter(
            repair_order__store_id__in=store_ids, issued_at__gte=lo, issued_at__lt=hi
        )
        qs = of(inv, "repair_order__customer_id", Q(customer_pay_total__gt=0))
    else:
        raise KeyError(code)
    return qs.order_by("name", "pk")

"""The insight demo's two years of history: both groups, paid and warranty visits, declined
work, no-shows, surveys, complaints, reminders and leads, customers who drift away; the same
seed gives the same history, written in bulk (a bounded number of queries)."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from m4s.care.models import Reminder
from m4s.complaints.models import Complaint
from m4s.core.tests.factories import build_world
from m4s.customers.models import Binding, Customer
from m4s.demo import history
from m4s.demo.starters import service as starter
from m4s.sales.models import Lead
from m4s.service.choices import AppointmentStatus, Approval, SurveyStatus
from m4s.service.models import Appointment, Invoice, RepairLine, RepairOrder, Survey
from m4s.vehicles.models import Vehicle


@pytest.fixture
def world(db):
    w = build_world()
    today = timezone.localdate()
    for group, store, advisor in (
        (w.group_a, w.store_a, w.advisor_a),
        (w.group_b, w.store_b, w.advisor_b),
    ):
        catalogue = starter.install_catalogue(group, today=today)
        starter.install_workshop(store, catalogue, advisors=[advisor], days=0)
    w.today = today
    return w


def _counts(groups):
    out = {}
    for g in groups:
        out[g.pk] = (
            RepairOrder.objects.for_group(g.pk).count(),
            Invoice.objects.for_group(g.pk).filter(customer_pay_total=0).count(),
            RepairLine.objects.for_group(g.pk).filter(approval=Approval.DECLINED).count(),
            Survey.objects.for_group(g.pk).filter(status=SurveyStatus.ANSWERED).count(),
            Complaint.objects.for_group(g.pk).count(),
            Reminder.objects.for_group(g.pk).count(),
        )
    return out


def test_two_years_of_history_for_both_groups(world, django_assert_max_num_queries):
    groups = [world.group_a, world.group_b]
    started = time.monotonic()
    with django_assert_max_num_queries(400):  # set-based: bulk writes, not a query per row
        made = history.build_history(groups, today=world.today)
    print(f"history built in {time.monotonic() - started:.1f} s: {dict(made.counts)}")  # noqa: T201
    today = world.today
    for g in groups:
        orders = RepairOrder.objects.for_group(g.pk)
        span = orders.aggregate(first=Min("checked_in_at"), last=Max("checked_in_at"))
        first, last = span["first"].date(), span["last"].date()
        assert first >= today - dt.timedelta(days=history.DAYS + 1)
        assert first <= today - dt.timedelta(days=660)  # about 24 months back
        assert last >= today - dt.timedelta(days=30)
        invoices = Invoice.objects.for_group(g.pk)
        assert invoices.filter(customer_pay_total__gt=0).count() > 100  # paid visits
        assert invoices.filter(customer_pay_total=0).exists()  # warranty visits
        assert orders.count() == invoices.count()
        declined = RepairLine.objects.for_group(g.pk).filter(approval=Approval.DECLINED)
        assert declined.filter(result__rating="red").exists()
        assert declined.filter(result__rating="amber").exists()
        assert Appointment.objects.for_group(g.pk).filter(status=AppointmentStatus.NO_SHOW).exists()
        answered = Survey.objects.for_group(g.pk).filter(status=SurveyStatus.ANSWERED)
        assert answered.filter(nps__lte=6).exists() and answered.filter(nps__gte=9).exists()
        assert answered.filter(quality__isnull=False).count() == answered.count()
        complaints = Complaint.objects.for_group(g.pk)
        assert complaints.filter(status="closed").exists()
        assert complaints.exclude(status__in=["closed", "resolved"]).exists()  # unresolved
        reminders = Reminder.objects.for_group(g.pk).filter(sent_at__isnull=False)
        assert reminders.filter(status="done").exists() and reminders.exclude(status="done")
        leads = Lead.objects.for_group(g.pk)
        assert leads.filter(stage="won").exists() and leads.filter(stage="lost").exists()
        customers = Customer.objects.for_group(g.pk)
        assert 100 <= customers.count() <= 800  # one store here; ~450 a group in the demo
        assert Binding.objects.for_group(g.pk).exists()
        assert customers.filter(owner__isnull=True).exists()  # some without the app
        assert Vehicle.objects.for_group(g.pk).count() >= customers.count()
        # churners: customers whose last paid visit is more than a year ago, beside regulars
        last_paid = dict(
            invoices.filter(customer_pay_total__gt=0)
            .values_list("repair_order__customer_id")
            .annotate(last=Max("issued_at"))
        )
        year_ago = timezone.now() - dt.timedelta(days=365)
        gone = [c for c, at in last_paid.items() if at < year_ago]
        recent = [c for c, at in last_paid.items() if at >= timezone.now() - dt.timedelta(days=200)]
        assert len(gone) > 10 and len(recent) > 40
    assert made.counts["churners"] > 30


def test_same_seed_same_history(world):
    groups = [world.group_a, world.group_b]
    runs = []
    for _ in range(2):
        with transaction.atomic():
            history.build_history(groups, today=world.today, scale=0.3)
            runs.append(_counts(groups))
            transaction.set_rollback(True)
    assert runs[0] == runs[1]
    assert all(n > 0 for n in runs[0][world.group_a.pk][:1])


def test_add_paid_visit_for_the_campaign_demo(world):
    store, advisor = world.store_a, world.advisor_a
    history.build_history([world.group_a], today=world.today, scale=0.2)
    customer = Customer.objects.for_group(world.group_a.pk).order_by("pk").first()
    vehicle = Vehicle.objects.for_group(world.group_a.pk).get(current_owner=customer)
    day = world.today - dt.timedelta(days=5)
    assert history.add_paid_visit(customer, vehicle, store, day, Decimal("880.00"), advisor) == 1
    invoice = (
        Invoice.objects.for_group(world.group_a.pk)
        .filter(repair_order__customer=customer, repair_order__appointment__date=day)
        .get()
    )
    assert invoice.customer_pay_total == Decimal("880.00")
    assert invoice.repair_order.status == "delivered" and invoice.repair_order.delivered_at
    assert invoice.net_total + invoice.tax == invoice.total
    assert invoice.repair_order.number.startswith("RO")


def test_the_churn_model_learns_from_the_history(world):
    """Part B's model trained on the demo history by its time split (features before as_of −
    365 days, label = no paid visit in the next 365) beats chance clearly on held-out customers."""
    from m4s.insights import churn

    history.build_history([world.group_a], today=world.today, scale=3)
    model = churn.train_group(world.group_a, as_of=world.today)
    assert model is not None
    print(
        f"churn model {model.kind}: AUC {model.auc:.3f} {model.aucs}, recency-only {model.recency_auc:.3f}, {model.n_train} train / {model.n_valid} valid"
    )  # noqa: E501, T201
    assert model.auc > 0.6
    assert churn.score_group(world.group_a) > 0

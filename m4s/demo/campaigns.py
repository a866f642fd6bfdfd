"""The insight demo's finished campaign: a "we miss you" message to the group's drifting
customers who agreed to marketing, launched about 100 days before `as_of` with a 10 % random
control group, sent through the contact policy as the real launch does, and a measurable
effect: after the launch some treated members book and come back for a paid visit (the demo
history gives both arms the same baseline; only the treated arm gets these extra visits), so the
result page shows an uplift with its confidence interval. Deterministic (a seeded random)."""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from m4s.insights import campaigns, segments
from m4s.insights.models import Arm, Campaign, CampaignMember, CampaignStatus

SEED = 19_05
DRIFTING = ["at_risk", "cant_lose", "hibernating", "need_attention", "lost"]
P_TREATED = 0.22  # the share of treated members the message brings back within 90 days
NAME = "We miss you (demo)"


def _paid_visit(group_id, customer, car, store, advisor, booked_at, at, amount, key) -> None:
    from m4s.service.models import Appointment, Invoice, RepairOrder

    appt = Appointment.objects.create(
        dealer_group_id=group_id,
        store=store,
        customer=customer,
        vehicle=car,
        owner=customer.owner,
        advisor=advisor,
        starts_at=at,
        date=timezone.localtime(at).date(),
        status="checked_in",
        channel="app" if customer.owner_id else "phone",
    )
    Appointment.objects.unscoped().filter(pk=appt.pk).update(created_at=booked_at)
    ro = RepairOrder.objects.create(
        dealer_group_id=group_id,
        number=f"CMP{key}",
        store=store,
        customer=customer,
        vehicle=car,
        appointment=appt,
        advisor=advisor,
        status="delivered",
        odometer_in=car.odometer_km or 30000,
        fuel_pct=60,
        checked_in_at=at,
        settled_at=at + dt.timedelta(hours=3),
        delivered_at=at + dt.timedelta(hours=4),
    )
    net = (amount / Decimal("1.13")).quantize(Decimal("0.01"))
    Invoice.objects.create(
        dealer_group_id=group_id,
        repair_order=ro,
        number=f"CMPI{key}",
        issued_at=at + dt.timedelta(hours=3),
        issued_by=advisor,
        labour_total=(net * Decimal("0.4")).quantize(Decimal("0.01")),
        parts_total=net - (net * Decimal("0.4")).quantize(Decimal("0.01")),
        discount_total=0,
        net_total=net,
        tax_rate=Decimal("0.13"),
        tax=amount - net,
        total=amount,
        customer_pay_net=net,
        customer_pay_total=amount,
        by_payer={"customer": str(net)},
    )


def build_campaigns_demo(group, staff, as_of: dt.date | None = None) -> Campaign | None:
    """The finished demo campaign of `group`, launched by `staff` (a group admin); safe to run
    twice (an existing demo campaign is returned). None when the group has no consenting
    customer with an insight row yet (run facts/RFM first)."""
    from m4s.org.models import Store
    from m4s.staff.models import StaffUser
    from m4s.vehicles.models import Vehicle

    as_of = as_of or timezone.localdate()
    existing = Campaign.objects.for_group(group).filter(name=NAME).first()
    if existing is not None:
        return existing
    definition = {"rfm_segments": DRIFTING, "marketing_consent": True}
    if segments.count(group.pk, segments.parse(definition), today=as_of) < 60:
        definition = {"marketing_consent": True}
        if segments.count(group.pk, segments.parse(definition), today=as_of) < 10:
            return None
    rng = random.Random(SEED + group.pk)
    launched = timezone.make_aware(
        dt.datetime.combine(as_of - dt.timedelta(days=100), dt.time(10, 0))
    )
    with transaction.atomic():
        seg = segments.create_segment(
            staff, name="Drifting, agreed to marketing", definition=definition
        )
        draft = campaigns.create_campaign(
            staff, segment_id=seg.pk, name=NAME, template="we_miss_you", control_pct=10
        )
        Campaign.objects.for_group(group).filter(pk=draft.pk).update(created_at=launched)
    campaign = campaigns.launch_campaign(staff, draft.pk, seed=SEED, now=launched)
    campaigns.send_campaign(campaign.pk, now=launched)
    # the treated members the message brought back: a booking, then a paid visit
    treated = list(
        CampaignMember.objects.for_group(group)
        .filter(campaign=campaign, arm=Arm.TREATED)
        .select_related("customer__owner")
        .order_by("customer_id")
    )
    back = [m for m in treated if rng.random() < P_TREATED]
    cars = {
        v.current_owner_id: v
        for v in Vehicle.objects.for_group(group).filter(
            current_owner_id__in=[m.customer_id for m in back]
        )
    }
    stores = list(Store.objects.for_group(group).filter(is_active=True).order_by("pk"))
    advisors = list(
        StaffUser.objects.filter(dealer_group_id=group.pk, role="service_advisor", is_active=True)
    ) or [staff]
    with transaction.atomic():
        for i, m in enumerate(back):
            car = cars.get(m.customer_id)
            if car is None:
                continue
            store = next((s for s in stores if s.pk == m.customer.store_id), stores[0])
            day = rng.randint(4, 80)
            booked_at = launched + dt.timedelta(days=day, hours=rng.randint(0, 9))
            at = launched + dt.timedelta(days=day + rng.randint(1, 8), hours=rng.randint(0, 7))
            amount = Decimal(rng.randint(380, 2400))
            advisor = advisors[i % len(advisors)]
            _paid_visit(
                group.pk,
                m.customer,
                car,
                store,
                advisor,
                booked_at,
                at,
                amount,
                f"{campaign.pk}-{i}",
            )
    Campaign.objects.for_group(group).filter(pk=campaign.pk).update(
        status=CampaignStatus.FINISHED,
        finished_at=launched + dt.timedelta(days=90),
    )
    campaign.refresh_from_db()
    return campaign

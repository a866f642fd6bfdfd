"""Demo rescue: each demo group's directory of tow partners and insurers (claims desks), and on
the first demo owner's car a past SOS case handled end to end (tow dispatched, on the way, at the
car, delivered to the store; the insurer notified with a first notice of loss), so the console's
case page, the directory and the owner's case page are alive at first sight.

Called from m4s/demo/telematics.py after the telematics history exists. Written as history
(rows with past times), like the other demo moments: no message or e-mail is sent."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.telematics.choices import Alarm
from m4s.telematics.models import AlarmEvent, Insurer, RescueCase, TowPartner
from m4s.telematics.rescue import add_step
from m4s.telematics.rescue_choices import StepKind, TowStatus
from m4s.vehicles.models import Vehicle

TOW_PARTNERS = [
    (
        "京城道路救援 Jingcheng Road Rescue",
        "010-6789 1234",
        "北京 Beijing: 朝阳, 东城, 海淀",
        "dispatch@jingcheng-rescue.example",
    ),
    (
        "顺安拖车 Shun'an Towing",
        "010-8456 2200",
        "北京 Beijing: 丰台, 大兴, 通州",
        "ops@shunan-tow.example",
    ),
    ("浦江救援 Pujiang Rescue", "021-5566 7788", "上海 Shanghai", "jobs@pujiang-rescue.example"),
]
INSURERS = [
    ("中国人保 PICC Property & Casualty", "95518", "全国 China", "claims@picc.example"),
    ("平安产险 Ping An P&C", "95511", "全国 China", "fnol@pingan.example"),
    ("太平洋产险 CPIC", "95500", "全国 China", "claims@cpic.example"),
]


def build_directory(group_id: int) -> None:
    if TowPartner.objects.for_group(group_id).exists():
        return
    TowPartner.objects.bulk_create(
        TowPartner(dealer_group_id=group_id, name=n, phone=p, service_area=a, email=e)
        for n, p, a, e in TOW_PARTNERS
    )
    Insurer.objects.bulk_create(
        Insurer(dealer_group_id=group_id, name=n, phone=p, service_area=a, email=e)
        for n, p, a, e in INSURERS
    )


def build_rescue_demo(vehicle_id: int) -> None:
    vehicle = Vehicle.objects.unscoped().select_related("current_owner__store").get(pk=vehicle_id)
    group = vehicle.dealer_group_id
    build_directory(group)
    customer = vehicle.current_owner
    if customer is None or RescueCase.objects.for_group(group).filter(kind="sos").exists():
        return
    if not vehicle.insurer:
        Vehicle.objects.unscoped().filter(pk=vehicle.pk).update(insurer="中国人保 PICC")
    tow = TowPartner.objects.for_group(group).order_by("pk").first()
    insurer = Insurer.objects.for_group(group).order_by("pk").first()
    store = customer.store
    advisor = customer.service_advisor
    t0 = timezone.now() - dt.timedelta(days=9, hours=3)
    AlarmEvent.objects.create(
        dealer_group_id=group,
        vehicle=vehicle,
        kind="sos",
        ts=t0,
        lat=39.9087,
        lon=116.3975,
        speed_kmh=0,
        source=f"demo:sos:{vehicle.pk}",
    )
    at = lambda minutes: t0 + dt.timedelta(minutes=minutes)  # noqa: E731
    case = RescueCase.objects.create(
        dealer_group_id=group,
        vehicle=vehicle,
        customer=customer,
        store=store,
        kind="sos",
        status="closed",
        opened_at=t0,
        alarm_at=t0,
        lat=39.9087,
        lon=116.3975,
        speed_kmh=0,
        acknowledged_at=at(1),
        acknowledged_by=advisor,
        tow=tow,
        tow_partner=tow.name[:80],
        tow_status=TowStatus.DELIVERED,
        tow_dispatched_at=at(3),
        tow_eta_at=at(38),
        destination=store,
        insurer=insurer,
        insurer_asked_at=at(6),
        insurer_notified_at=at(6),
        insurer_reference=f"M4S-DEMO-{vehicle.pk:06d}",
        note="Flat tyre and a dented wheel on the ring road; towed to the store.",
        closed_at=at(150),
    )
    steps = [
        (
            0,
            StepKind.OPENED,
            "",
            gettext_noop("Case opened: %(alarm)s"),
            {"alarm": Alarm.SOS.label},
            None,
        ),
        (1, StepKind.ACKNOWLEDGED, "", gettext_noop("Acknowledged"), {}, advisor),
        (
            3,
            StepKind.TOW,
            TowStatus.DISPATCHED,
            gettext_noop(
                "Tow dispatched: %(partner)s, at the car in about %(eta)s min, to %(store)s"
            ),
            {"partner": tow.name, "eta": 35, "store": store.name},
            advisor,
        ),
        (
            6,
            StepKind.INSURER,
            "",
            gettext_noop("Insurer notified: %(insurer)s, reference %(reference)s"),
            {"insurer": insurer.name, "reference": case.insurer_reference},
            None,
        ),
        (
            12,
            StepKind.TOW,
            TowStatus.ON_THE_WAY,
            gettext_noop("Tow on the way, at the car in about %(eta)s min"),
            {"eta": 26},
            advisor,
        ),
        (36, StepKind.TOW, TowStatus.ARRIVED, gettext_noop("Tow arrived at the car"), {}, advisor),
        (
            95,
            StepKind.TOW,
            TowStatus.DELIVERED,
            gettext_noop("Car delivered to %(store)s"),
            {"store": store.name},
            advisor,
        ),
        (150, StepKind.CLOSED, "", gettext_noop("Case closed"), {}, advisor),
    ]
    for minutes, kind, status, code, params, actor in steps:
        add_step(case, kind, code, actor=actor, status=status, at=at(minutes), **params)

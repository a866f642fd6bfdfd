"""Alarms on the console's live channel (m4s/notify/live.py): a crash or SOS case tells every
open console page of the store at once (and its on-duty staff get a notice); a geofence crossing
reaches the store only when the owner asked it to watch; the other group hears nothing."""

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone

from m4s.notify import live
from m4s.notify.models import LiveEvent, Message
from m4s.telematics import services
from m4s.telematics.models import RescueCase, VehicleState
from m4s.telematics.writer import write_batch

pytestmark = pytest.mark.django_db


def _msg(device, seq, ts, **kw):
    return {"device_id": device.device_id, "seq": seq, "ts": ts.isoformat(), **kw}


@pytest.mark.parametrize("alarm", ["crash", "sos"])
def test_a_rescue_case_reaches_the_stores_console_pages_of_its_group_only(fleet, alarm):
    w = fleet
    ts = timezone.now() - dt.timedelta(seconds=20)
    with TestCase.captureOnCommitCallbacks(execute=True):
        write_batch(
            w.device_a,
            [_msg(w.device_a, 1, ts, lat=39.95, lon=116.45, speed_kmh=40, alarm=alarm)],
            via="http",
        )
    case = RescueCase.objects.for_group(w.group_a).get(vehicle=w.car)
    rescue = LiveEvent.objects.get(kind="rescue.opened")
    assert rescue.dealer_group_id == w.group_a.pk and rescue.store_id == case.store_id
    assert rescue.data == {"case": case.pk, "alarm": alarm, "plate": w.car.plate}
    # the store's staff hear the case; the advisor also gets their own notice of it
    heard = live.Audience(w.advisor_a).events_after(0)
    assert rescue in heard
    notices = [e for e in heard if e.kind == "notice" and e.data["about"] == "rescue.opened"]
    assert len(notices) == 1 and notices[0].staff_id == w.advisor_a.pk
    assert notices[0].pk > rescue.pk  # the banner event comes first
    assert live.Audience(w.advisor_b).events_after(rescue.pk - 1) == []  # the other group
    # a technician of the store is not told by name, but their console shows the case
    assert live.Audience(w.tech_a).events_after(rescue.pk - 1) == [rescue]


def test_a_geofence_crossing_reaches_the_store_only_when_the_owner_asked(fleet):
    w = fleet
    services.set_geofence(w.owner, w.car, name="Home", lat=39.9, lon=116.4, radius_m=500)
    t0 = timezone.now() - dt.timedelta(minutes=30)
    write_batch(w.device_a, [_msg(w.device_a, 1, t0, lat=39.9, lon=116.4)], via="http")
    write_batch(
        w.device_a,
        [_msg(w.device_a, 2, t0 + dt.timedelta(minutes=5), lat=39.95, lon=116.45)],
        via="http",
    )
    assert not Message.objects.filter(kind="car.geofence", staff__isnull=False).exists()
    VehicleState.objects.for_group(w.group_a).filter(vehicle=w.car).update(
        notify_store_on_theft=True
    )
    write_batch(
        w.device_a,
        [_msg(w.device_a, 3, t0 + dt.timedelta(minutes=9), lat=39.9005, lon=116.4)],
        via="http",
    )
    told = Message.objects.filter(kind="car.geofence", staff__isnull=False)
    assert told.exists() and all(m.dealer_group_id == w.group_a.pk for m in told)
    assert told.first().texts["subject"]["t"] == "%(plate)s entered %(name)s"
    assert LiveEvent.objects.filter(kind="notice", data__about="car.geofence").count() == len(told)
    assert all(
        e.dealer_group_id == w.group_b.pk for e in live.Audience(w.advisor_b).events_after(0)
    )

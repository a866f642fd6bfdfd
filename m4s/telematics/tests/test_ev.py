"""New-energy vehicles: charging sessions cut from the charging-state reports (set-based,
idempotent), the low-charge and battery-alarm reminders through the contact policy (quiet hours
hold them), and the state of charge on the owner's health record and the console's car page."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from m4s.notify.models import ContactDecision
from m4s.owners.middleware import SESSION_KEY
from m4s.telematics import ev, services
from m4s.telematics.models import ChargingSession, EvSettings, Telemetry, VehicleState
from m4s.telematics.writer import write_batch


@pytest.fixture
def ev_car(workshop):
    from m4s.owners.models import Owner
    from m4s.owners.services import update_owner_profile

    w = workshop
    w.owner = update_owner_profile(w.owner, {"telematics_consent": True})
    Owner.objects.filter(pk=w.owner.pk).update(quiet_hours_start=None, quiet_hours_end=None)
    w.owner.refresh_from_db()
    w.device, _ = services.register_device(
        w.admin_a, device_id="ev-1", protocol="http", vehicle=w.my_car
    )
    return w


def _msg(seq, when, **kw):
    return {"device_id": "ev-1", "seq": seq, "ts": when.isoformat(), **kw}


def _charge_trace(t0):
    """Driving, parked and charging 20 → 50 % at 7.2 kW for 3 x 20 minutes, then unplugged."""
    out = [_msg(1, t0, soc_pct=25, charge_state=3, ignition=True, pack_v=360.0, pack_a=30.0)]
    out.append(_msg(2, t0 + dt.timedelta(minutes=30), soc_pct=20, charge_state=3, ignition=False))
    for i in range(4):
        out.append(
            _msg(
                3 + i,
                t0 + dt.timedelta(minutes=60 + 20 * i),
                soc_pct=20 + 10 * i,
                charge_state=1,
                ignition=False,
                pack_v=360.0,
                pack_a=-20.0,
                lat=31.23,
                lon=121.47,
            )
        )
    out.append(_msg(7, t0 + dt.timedelta(minutes=140), soc_pct=51, charge_state=4, ignition=False))
    return out


def test_a_charge_becomes_one_session_and_recutting_changes_nothing(ev_car):
    w = ev_car
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=5)
    write_batch(w.device, _charge_trace(t0), via="http")
    assert Telemetry.objects.for_group(w.group_a).filter(charge_state=1).count() == 4
    assert ev.cut_charging_sessions([w.my_car.pk]) == 1
    s = ChargingSession.objects.for_group(w.group_a).get()
    assert s.vehicle_id == w.my_car.pk
    assert s.started_at == t0 + dt.timedelta(minutes=60)
    assert s.ended_at == t0 + dt.timedelta(minutes=140)  # the first report not charging
    assert (s.start_soc, s.end_soc) == (20, 51)
    assert s.kwh == pytest.approx(360 * 20 * 1.0 / 1000)  # 7.2 kW for the hour between reports
    assert (s.lat, s.lon, s.while_driving) == (31.23, 121.47, False)
    assert ev.cut_charging_sessions([w.my_car.pk]) == 1
    assert ChargingSession.objects.for_group(w.group_a).count() == 1
    # the other group sees nothing of it
    assert not ChargingSession.objects.for_group(w.group_b).exists()


def test_an_open_session_is_extended_by_later_reports(ev_car):
    w = ev_car
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    trace = _charge_trace(t0)
    write_batch(w.device, trace[:4], via="http")  # plugged in, still charging
    ev.cut_charging_sessions([w.my_car.pk])
    s = ChargingSession.objects.for_group(w.group_a).get()
    assert s.ended_at is None and s.end_soc == 30
    write_batch(w.device, trace[4:], via="http")
    ev.cut_charging_sessions([w.my_car.pk])
    s = ChargingSession.objects.for_group(w.group_a).get()
    assert s.ended_at is not None and s.end_soc == 51


def test_the_writer_cuts_sessions_after_the_commit(ev_car, django_capture_on_commit_callbacks):
    w = ev_car
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        write_batch(w.device, _charge_trace(t0), via="http")
    assert ChargingSession.objects.for_group(w.group_a).count() == 1


def _decisions(w, kind):
    return list(ContactDecision.objects.filter(owner=w.owner, kind=kind))


def test_low_charge_reminder_through_the_contact_policy_once_per_parking(ev_car):
    w = ev_car
    now = timezone.now().replace(microsecond=0)
    write_batch(
        w.device,
        [_msg(1, now - dt.timedelta(minutes=10), soc_pct=12, charge_state=3, ignition=False)],
        via="http",
    )
    assert ev.remind(w.my_car.pk) == ["low_charge"]
    first = _decisions(w, "care.ev_low_charge")
    assert first and {d.category for d in first} == {"care"}
    assert any(d.outcome == "sent" for d in first)
    ev.remind(w.my_car.pk)  # a second scan of the same parking: the policy's dedupe
    assert len(_decisions(w, "care.ev_low_charge")) == len(first)
    # above a group's own threshold of 10 %: no reminder
    EvSettings.objects.create(dealer_group=w.group_a, low_charge_pct=10)
    assert ev.remind(w.my_car.pk) == []


def test_no_low_charge_reminder_while_charging_or_driving(ev_car):
    w = ev_car
    now = timezone.now().replace(microsecond=0)
    write_batch(
        w.device,
        [_msg(1, now - dt.timedelta(minutes=9), soc_pct=8, charge_state=1, ignition=False)],
        via="http",
    )
    assert ev.remind(w.my_car.pk) == []
    write_batch(
        w.device,
        [_msg(2, now - dt.timedelta(minutes=8), soc_pct=8, charge_state=3, ignition=True)],
        via="http",
    )
    assert ev.remind(w.my_car.pk) == []


def test_quiet_hours_hold_the_battery_alarm_and_the_low_charge_reminder(ev_car):
    from m4s.owners.models import Owner

    w = ev_car
    Owner.objects.filter(pk=w.owner.pk).update(
        quiet_hours_start=dt.time(0, 0), quiet_hours_end=dt.time(23, 59)
    )
    now = timezone.now().replace(microsecond=0)
    write_batch(
        w.device,
        [
            _msg(
                1,
                now - dt.timedelta(minutes=3),
                soc_pct=9,
                charge_state=3,
                ignition=False,
                alarm="battery",
                alarm_level=3,
            )
        ],
        via="http",
    )
    assert w.my_car.alarms.get().kind == "battery"
    assert ev.remind(w.my_car.pk) == ["low_charge", "battery"]
    battery = _decisions(w, "car.ev_battery")
    low = _decisions(w, "care.ev_low_charge")
    assert {d.category for d in battery} == {"service"}
    for decisions in (battery, low):
        outside = [d for d in decisions if d.channel != "inapp"]
        assert outside and all(d.outcome == "held" for d in outside), decisions
        assert all(d.why == "quiet_hours" for d in outside)


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_owner_and_console_pages_show_the_charge_and_sessions(ev_car, client):
    w = ev_car
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=5)
    write_batch(w.device, _charge_trace(t0), via="http")
    ev.cut_charging_sessions([w.my_car.pk])
    state = VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car)
    assert (state.soc_pct, state.charge_state) == (51, 4)
    page = owner_client(w.owner).get(f"/app/cars/{w.my_car.pk}/health/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="ev-soc"' in html and "51%" in html
    assert "Charging complete" in html
    assert 'data-testid="soc-chart"' in html and 'data-testid="charging-sessions"' in html
    assert "20% → 51%" in html
    # another owner: 404
    assert owner_client(w.owner_b).get(f"/app/cars/{w.my_car.pk}/health/").status_code == 404
    client.force_login(w.advisor_a)
    staff = client.get(f"/console/telematics/vehicles/{w.my_car.pk}/")
    if staff.status_code == 404:  # the console's car page path
        from django.urls import reverse

        staff = client.get(reverse("console-telematics-vehicle", args=[w.my_car.pk]))
    assert staff.status_code == 200 and 'data-testid="ev-soc"' in staff.content.decode()


def test_demo_ev_reports_over_gb32960_with_two_charging_sessions(ev_car):
    from m4s.demo.ev import build_ev_demo

    w = ev_car
    device = build_ev_demo(w.my_car.pk)
    assert device is not None and device.protocol == "gb32960"
    rows = Telemetry.objects.for_group(w.group_a).filter(device_id=device.pk)
    assert rows.count() > 200 and not rows.filter(soc_pct__isnull=True).exists()
    sessions = list(ChargingSession.objects.for_group(w.group_a).filter(vehicle=w.my_car))
    assert len(sessions) == 2 and all(s.kwh and s.end_soc > s.start_soc for s in sessions)
    build_ev_demo(w.my_car.pk)  # again: nothing added
    assert ChargingSession.objects.for_group(w.group_a).count() == 2
    assert rows.count() == Telemetry.objects.for_group(w.group_a).filter(device=device).count()

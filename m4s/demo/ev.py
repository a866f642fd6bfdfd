"""Demo new-energy car: one demo owner's car gets a GB/T 32960 terminal and two days of reports
- commutes, parking, a charge at home each evening from 22:00 (and a fast charge at noon when
the charge is low) - built as GB/T 32960 frames
by the codec and decoded back, so the Vehicle Health Record shows the state of charge, its chart
and two charging sessions at first sight. `m4s simulate --via gb32960` then keeps it reporting
over TCP when `m4s gb32960` runs."""

import datetime as dt

from django.utils import timezone

from m4s.core.errors import DomainError
from m4s.telematics import ev, gb32960, services
from m4s.telematics.choices import Protocol
from m4s.telematics.models import Device
from m4s.telematics.simulator import group_admins
from m4s.telematics.writer import write_batch
from m4s.vehicles.models import Vehicle

STEP = dt.timedelta(minutes=10)
HOME = (39.9087, 116.3975)


def _plan(now: dt.datetime) -> list[tuple[dt.datetime, float, int, float, float, bool]]:
    """(ts, soc, charge state, pack current, speed, ignition) every 10 minutes for 48 hours:
    driving uses about 0.1 % a minute, a home charge from 22:00 adds ~0.35 % a minute (7 kW),
    the noon fast charge ~1 % a minute."""
    start = (now - dt.timedelta(hours=48)).replace(second=0, microsecond=0)
    soc, out, t = 62.0, [], start
    while t <= now - dt.timedelta(minutes=5):
        local = timezone.localtime(t)
        hour = local.hour + local.minute / 60
        day_before = local.date() < timezone.localdate(now)
        if day_before and (hour >= 22 or hour < 1.5) and soc < 90:
            state, amps, speed, ignition = gb32960.CHARGING_PARKED, -20.0, 0.0, False
            soc = min(90.0, soc + 3.5)
        elif not day_before and 12 <= hour < 12.7 and soc < 85:
            state, amps, speed, ignition = gb32960.CHARGING_PARKED, -150.0, 0.0, False
            soc = min(85.0, soc + 10.0)
        elif 7.5 <= hour < 9 or 17.5 <= hour < 19 or 11 <= hour < 12:
            state, amps, speed, ignition = gb32960.NOT_CHARGING, 40.0, 38.0, True
            soc = max(8.0, soc - 1.2)
        else:
            state, amps, speed, ignition = gb32960.NOT_CHARGING, 1.0, 0.0, False
        out.append((t, round(soc), state, amps, speed, ignition))
        t += STEP
    return out


def _device(vehicle: Vehicle) -> Device | None:
    device = Device.objects.unscoped().filter(vehicle=vehicle, protocol=Protocol.GB32960).first()
    if device is not None:
        return device
    admin = group_admins().get(vehicle.dealer_group_id)
    if admin is None:
        return None
    try:
        device, _secret = services.register_device(
            admin, device_id=f"ev-{vehicle.pk}", protocol=Protocol.GB32960, vehicle=vehicle
        )
    except DomainError:
        return None
    return device


def build_ev_demo(vehicle_id: int) -> Device | None:
    """The car reports over GB/T 32960 for the last two days (idempotent: the writer's dedupe
    and the sessions' recut keep a second run from adding anything)."""
    vehicle = Vehicle.objects.unscoped().filter(pk=vehicle_id).first()
    if vehicle is None or len(vehicle.vin or "") != 17:
        return None
    device = _device(vehicle)
    if device is None:
        return None
    now = timezone.now()
    odometer = float(vehicle.odometer_km or 8000)
    raws = []
    for ts, soc, state, amps, speed, ignition in _plan(now):
        odometer += speed * STEP.total_seconds() / 3600
        frame = gb32960.encode_report(
            vehicle.vin,
            gb32960.Report(
                ts=ts,
                vehicle=gb32960.VehicleData(
                    state=gb32960.STARTED if ignition else gb32960.STOPPED,
                    charge_state=state,
                    speed_kmh=speed,
                    odometer_km=round(odometer, 1),
                    total_v=352.0 + soc * 0.4,
                    total_a=amps,
                    soc_pct=soc,
                ),
                position=gb32960.Position(True, *HOME),
                alarm=gb32960.AlarmData(level=0),
            ),
        )
        report = gb32960.decode_data(gb32960.decode_frame(frame))  # through the codec
        raws.append(gb32960.to_message(report, device.device_id).as_dict())
    for start in range(0, len(raws), 100):
        write_batch(device, raws[start : start + 100], via=Protocol.GB32960)
    ev.cut_charging_sessions([vehicle.pk], since=now - dt.timedelta(days=3))
    return device

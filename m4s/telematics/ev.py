"""New-energy vehicles: charging sessions cut from the charging-state reports, the low-charge and
battery-alarm reminders (through the one contact policy, m4s/notify/policy.py) and what the
Vehicle Health Record shows of the traction battery.

`after_reports(vehicle_id)` runs after the writer committed reports carrying a charging state
(a task, enqueued on commit): it recuts the car's recent sessions and asks for the reminders.
Both are idempotent: sessions are keyed on (car, start) and recut from telemetry; the policy's
dedupe sends each reminder once per episode (the parking episode, the alarm)."""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from m4s.core import charts
from m4s.core.i18n import text
from m4s.notify.services import tell_customer

from .choices import CHARGING_STATES, Alarm, ChargeState
from .models import AlarmEvent, ChargingSession, EvSettings, Telemetry, VehicleState

DEFAULT_LOW_CHARGE_PCT = 15
SESSION_GAP = dt.timedelta(hours=1)  # charging reports further apart than this: two sessions
RECUT_WINDOW = dt.timedelta(days=3)
ALARM_FRESH = dt.timedelta(hours=24)


# --- charging sessions --------------------------------------------------------------------------
def _runs(rows: list[tuple]) -> list[dict]:
    """Consecutive charging reports (ts, soc, charge_state, pack_v, pack_a, lat, lon) of one car
    → sessions. A session ends at the first report that is not charging (or stays open)."""
    out: list[dict] = []
    cur: dict | None = None
    prev = None
    for ts, soc, state, volts, amps, lat, lon in rows:
        charging = state in CHARGING_STATES
        if cur is not None and (not charging or ts - cur["last_report_at"] > SESSION_GAP):
            cur["ended_at"] = ts if not charging else cur["last_report_at"]
            if soc is not None and not charging:
                cur["end_soc"] = soc
            out.append(cur)
            cur = None
        if charging:
            if cur is None:
                cur = {
                    "started_at": ts,
                    "ended_at": None,
                    "last_report_at": ts,
                    "start_soc": soc,
                    "end_soc": soc,
                    "wh": None,
                    "lat": lat,
                    "lon": lon,
                    "while_driving": state == ChargeState.DRIVING,
                }
            else:
                if prev is not None and prev[3] is not None and prev[4] is not None:
                    hours = (ts - prev[0]).total_seconds() / 3600
                    wh = abs(prev[3] * min(prev[4], 0.0)) * hours
                    cur["wh"] = (cur["wh"] or 0.0) + wh
                cur["last_report_at"] = ts
                if soc is not None:
                    cur["end_soc"] = soc
                if cur["lat"] is None:
                    cur["lat"], cur["lon"] = lat, lon
                cur["while_driving"] |= state == ChargeState.DRIVING
        prev = (ts, soc, state, volts, amps) if charging else None
    if cur is not None:
        out.append(cur)
    return out


@transaction.atomic
def cut_charging_sessions(vehicle_ids: list[int], *, since: dt.datetime | None = None) -> int:
    """Recut the sessions of these cars from their telemetry since `since` (default: the
    start of each car's newest session, or RECUT_WINDOW ago): one read of the reports, one read
    of the sessions, one bulk insert and one bulk update. Returns the sessions written."""
    if not vehicle_ids:
        return 0
    default_since = since or timezone.now() - RECUT_WINDOW
    # sessions still open, or ended inside the window, are recut from their own start
    starts = list(
        ChargingSession.objects.unscoped()
        .filter(vehicle_id__in=vehicle_ids)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=default_since))
        .values_list("started_at", flat=True)
    )
    start = min([default_since, *starts])
    rows = (
        Telemetry.objects.unscoped()
        .filter(vehicle_id__in=vehicle_ids, ts__gte=start, charge_state__isnull=False)
        .order_by("vehicle_id", "ts")
        .values_list(
            "vehicle_id",
            "dealer_group_id",
            "ts",
            "soc_pct",
            "charge_state",
            "pack_v",
            "pack_a",
            "lat",
            "lon",
        )
    )
    by_car: dict[int, list] = {}
    groups: dict[int, int] = {}
    for vehicle_id, group_id, *rest in rows:
        by_car.setdefault(vehicle_id, []).append(tuple(rest))
        groups[vehicle_id] = group_id
    made = []
    for vehicle_id, car_rows in by_car.items():
        for run in _runs(car_rows):
            wh = run.pop("wh")
            made.append(
                ChargingSession(
                    dealer_group_id=groups[vehicle_id],
                    vehicle_id=vehicle_id,
                    kwh=round(wh / 1000, 2) if wh else None,
                    **run,
                )
            )
    if not made:
        return 0
    existing = {
        (s.vehicle_id, s.started_at): s
        for s in ChargingSession.objects.unscoped().filter(
            vehicle_id__in=list(by_car), started_at__in=[m.started_at for m in made]
        )
    }
    fields = ["ended_at", "last_report_at", "start_soc", "end_soc", "kwh", "lat", "lon"]
    updates = []
    for m in made:
        old = existing.get((m.vehicle_id, m.started_at))
        if old is not None:
            for name in [*fields, "while_driving"]:
                setattr(old, name, getattr(m, name))
            updates.append(old)
    new = [m for m in made if (m.vehicle_id, m.started_at) not in existing]
    ChargingSession.objects.bulk_create(new, ignore_conflicts=True)
    if updates:
        ChargingSession.objects.unscoped().bulk_update(updates, [*fields, "while_driving"])
    return len(made)


# --- reminders ----------------------------------------------------------------------------------
def low_charge_pct(group_id: int) -> int:
    row = EvSettings.objects.for_group(group_id).first()
    return row.low_charge_pct if row else DEFAULT_LOW_CHARGE_PCT


def _parked(state: VehicleState) -> bool:
    return state.ignition is False or (state.ignition is None and not state.speed_kmh)


def remind(vehicle_id: int, *, now: dt.datetime | None = None) -> list[str]:
    """Ask the contact policy for the low-charge reminder (charge below the group's threshold,
    parked, not charging: once per parking episode) and the battery-alarm one (a level-3 alarm
    in the last day: once per alarm). Returns the kinds asked."""
    now = now or timezone.now()
    state = (
        VehicleState.objects.unscoped()
        .filter(vehicle_id=vehicle_id)
        .select_related("vehicle__current_owner")
        .first()
    )
    if state is None:
        return []
    vehicle = state.vehicle
    customer = vehicle.current_owner
    if customer is None:
        return []
    asked = []
    threshold = low_charge_pct(state.dealer_group_id)
    if (
        state.soc_pct is not None
        and state.soc_pct < threshold
        and _parked(state)
        and state.charge_state not in CHARGING_STATES
    ):
        episode = (state.ignition_off_at or state.ts).isoformat()
        soc = int(state.soc_pct)
        tell_customer(
            customer,
            "care.ev_low_charge",
            lambda: (
                text(gettext_noop("Your car's charge is low: %(soc)s%%"), soc=soc),
                text(
                    gettext_noop("%(plate)s is parked with %(soc)s%% left. Plug it in soon."),
                    plate=vehicle.plate,
                    soc=soc,
                ),
            ),
            dedupe=f"ev:low_charge:{vehicle.pk}",
            cycle=episode[:40],
            link=f"/app/cars/{vehicle.pk}/health/",
        )
        asked.append("low_charge")
    alarm = (
        AlarmEvent.objects.unscoped()
        .filter(vehicle_id=vehicle.pk, kind=Alarm.BATTERY, ts__gte=now - ALARM_FRESH)
        .order_by("-ts")
        .first()
    )
    if alarm is not None:
        at = timezone.localtime(alarm.ts).strftime("%H:%M")
        tell_customer(
            customer,
            "car.ev_battery",
            lambda: (
                text(gettext_noop("Battery alarm: have your car checked")),
                text(
                    gettext_noop(
                        "%(plate)s reported a serious high-voltage battery or drive fault at "
                        "%(time)s. Stop safely and call your store."
                    ),
                    plate=vehicle.plate,
                    time=at,
                ),
            ),
            dedupe=f"ev:battery:{vehicle.pk}",
            cycle=str(alarm.pk),
            sms=True,
            link=f"/app/cars/{vehicle.pk}/health/",
        )
        asked.append("battery")
    return asked


def after_reports(vehicle_id: int) -> None:
    """After reports with a charging state were committed: sessions, then reminders."""
    cut_charging_sessions([vehicle_id])
    with transaction.atomic():
        remind(vehicle_id)


def enqueue_after_reports(vehicle_id: int) -> None:
    from .tasks import ev_task

    ev_task.enqueue(vehicle_id)


# --- what the health record shows ---------------------------------------------------------------
def soc_chart(vehicle_id: int, group_id: int, *, hours: int = 48) -> dict | None:
    """The state of charge over the last `hours` (at most ~200 points, one per slot)."""
    since = timezone.now() - dt.timedelta(hours=hours)
    rows = list(
        Telemetry.objects.for_group(group_id)
        .filter(vehicle_id=vehicle_id, ts__gte=since, soc_pct__isnull=False)
        .order_by("ts")
        .values_list("ts", "soc_pct")
    )
    if len(rows) < 2:
        return None
    step = max(1, len(rows) // 200)
    rows = rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else [])
    t0 = rows[0][0]
    xs = [(ts - t0).total_seconds() / 3600 for ts, _soc in rows]
    span = max(xs[-1], 1.0)

    def label(h: float) -> str:
        return timezone.localtime(t0 + dt.timedelta(hours=h)).strftime("%d %H:%M")

    return charts.line_chart(
        [charts.Series(_("Charge"), [soc for _ts, soc in rows], colour=charts.BRAND)],
        xs=xs,
        x_labels=[(0, label(0)), (span / 2, label(span / 2)), (span, label(span))],
        width=340,
        height=150,
        pad=(34, 14, 12, 24),
        y_min=0,
        y_max=100,
        y_step=25,
        area=True,
        last_label=f"{rows[-1][1]:.0f}%",
    )


def ev_panel(vehicle, state) -> dict | None:
    """The traction battery on the health record: charge, charging state, pack, sessions."""
    if state is None or (state.charge_state is None and state.pack_v is None):
        return None
    g = vehicle.dealer_group_id
    sessions = list(ChargingSession.objects.for_group(g).filter(vehicle=vehicle)[:5])
    return {
        "soc": state.soc_pct,
        "charge_state": state.charge_state,
        "charge_label": ChargeState(state.charge_state).label if state.charge_state else "",
        "charging": state.charge_state in CHARGING_STATES,
        "pack_v": state.pack_v,
        "pack_a": state.pack_a,
        "alarm_level": state.alarm_level,
        "low_threshold": low_charge_pct(g),
        "chart": soc_chart(vehicle.pk, g),
        "sessions": sessions,
    }

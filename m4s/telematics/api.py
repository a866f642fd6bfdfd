"""Connected-car API: HTTP ingest for terminals, the owner's health record and forecast,
parked mode and geofences; staff terminals, health and rescue cases."""

import json
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import Field

from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import DomainError
from m4s.core.i18n import translated
from m4s.core.types import NON_BLANK, Bool, DbId
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import selectors, services
from .batcher import shared as shared_batcher
from .choices import Alarm, OdometerSource
from .consent import audit_staff_reads
from .writer import dead_letter

MAX_BATCH = 5000


def _number(low, high, description):
    return {"type": "number", "minimum": low, "maximum": high, "description": description}


# The ingest body, documented. It is parsed by hand (m4s/telematics/messages.py, fast and
# per message): a message that breaks these rules is dead-lettered with its reason and the rest
# of the batch is stored; only a body that is not an array of 1..MAX_BATCH is refused.
TELEMETRY_MESSAGE = {
    "type": "object",
    "title": "TelemetryMessage",
    "required": ["device_id", "seq", "ts"],
    "properties": {
        "device_id": {"type": "string", "minLength": 1, "maxLength": 40},
        "seq": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
        "ts": {
            "description": "ISO 8601 with a time zone, or Unix seconds; at most 30 days old.",
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
        },
        "lat": _number(-90, 90, "Degrees; comes with lon."),
        "lon": _number(-180, 180, "Degrees; comes with lat."),
        "speed_kmh": _number(0, 400, "km/h"),
        "heading": _number(0, 360, "Degrees"),
        "odometer_km": _number(0, 3_000_000, "km; needs odometer_source."),
        "odometer_source": {"type": "string", "enum": [v for v in OdometerSource.values if v]},
        "ignition": {"type": "boolean"},
        "fuel_pct": _number(0, 100, "%"),
        "soc_pct": _number(0, 100, "%"),
        "battery_v": _number(0, 60, "V"),
        "dtcs": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 8}},
        "alarm": {"type": "string", "enum": list(Alarm.values)},
    },
}
INGEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH,
                "items": TELEMETRY_MESSAGE,
            }
        }
    },
}


class DeviceAuth(HttpBearer):
    """`Authorization: Bearer <key>.<secret>`: per-device credentials. The key is the device's
    global, server-issued key (for devices registered before keys existed, their device id)."""

    def authenticate(self, request, token):
        key, _sep, secret = (token or "").rpartition(".")
        device = services.device_for_secret(key, secret) if key else None
        if device is not None:
            request.device = device
        return device


ingest_router = Router(tags=["terminals"], auth=DeviceAuth())
owner_router = Router(tags=["owner: car health"], auth=owner_auth)
staff_router = Router(tags=["staff: connected car"], auth=staff_auth)


@ingest_router.post("/ingest", response={200: dict}, openapi_extra={"requestBody": INGEST_BODY})
def ingest(request):
    """A JSON array of messages from this terminal. Answers after the batch is committed:
    `accepted`, `duplicates`, `dead_lettered` with the reason of each refused message.
    Concurrent requests of this process are written together (batcher.py)."""
    batcher = shared_batcher("http")
    with batcher.arriving():
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            dead_letter(
                request.body[:2000].decode("utf-8", "replace"),
                "bad_json",
                "body is not JSON",
                via="http",
                device=request.device,
            )
            raise DomainError("bad_json", _("The body must be a JSON array of messages.")) from None
        if not isinstance(body, list) or not 1 <= len(body) <= MAX_BATCH:
            raise DomainError(
                "bad_batch", _("Send a JSON array of 1 to %(n)d messages.") % {"n": MAX_BATCH}
            )
    return batcher.submit(request.device, body).as_dict()


# --- owner --------------------------------------------------------------------------------------
def _state_out(state):
    if state is None:
        return None
    return {
        "ts": state.ts,
        "lat": state.lat,
        "lon": state.lon,
        "speed_kmh": state.speed_kmh,
        "odometer_km": state.odometer_km,
        "odometer_source": state.odometer_source,
        "ignition": state.ignition,
        "fuel_pct": state.fuel_pct,
        "soc_pct": state.soc_pct,
        "battery_v": state.battery_v,
        "parked_armed": state.parked_armed,
        "auto_arm_minutes": state.auto_arm_minutes,
    }


def _health_out(h):
    v, store = h["vehicle"], h["store"]
    return {
        "vehicle": {"id": v.pk, "plate": v.plate, "brand": v.brand, "model": v.model},
        "online": h["online"],
        # False: the owner has not consented, so no positions or trips are collected
        "telematics_consent": h["telematics_consent"],
        "state": _state_out(h["state"]),
        "dtcs": h["dtcs"],
        "odometer": [{"date": d.isoformat(), "km": km} for d, km in h["odometer_series"]],
        "alarms": [
            {"kind": a.kind, "ts": a.ts.isoformat(), "lat": a.lat, "lon": a.lon}
            for a in h["alarms"]
        ],
        "service_history": [
            {
                "repair_order": ro.number,
                "delivered_at": ro.delivered_at.isoformat(),
                "odometer_km": ro.odometer_out,
                "store": ro.store.name,
                "work": [
                    translated(ln, "description")
                    for ln in ro.lines.all()
                    if ln.approval == "approved"
                ],
            }
            for ro in h["service_history"]
        ],
        "store": {"name": store.name, "lat": float(store.latitude), "lon": float(store.longitude)}
        if store and store.latitude is not None
        else None,
    }


def _forecast_out(f):
    forecast = f["forecast"]
    return {
        "km_per_day": round(forecast.km_per_day, 1) if forecast else None,
        "confidence": forecast.confidence if forecast else None,
        "days_of_data": forecast.days if forecast else 0,
        "items": [
            {
                "item": translated(p["due"].item, "name"),
                "projected_on": p["projected_on"].isoformat() if p["projected_on"] else None,
                "by": p["by"],
                "confidence": p["confidence"],
                "due_km": p["due"].due_km,
                "due_on": p["due"].due_on.isoformat() if p["due"].due_on else None,
                "package_id": p["due"].item.package_id,
            }
            for p in f["items"]
        ],
    }


@owner_router.get("/vehicles/{int:vehicle_id}/health", response=dict)
def my_health(request, vehicle_id: int):
    return _health_out(selectors.health_record(selectors.owner_vehicle(request.owner, vehicle_id)))


@owner_router.get("/vehicles/{int:vehicle_id}/forecast", response=dict)
def my_forecast(request, vehicle_id: int):
    return _forecast_out(selectors.forecast_of(selectors.owner_vehicle(request.owner, vehicle_id)))


class ParkedIn(Schema):
    armed: Bool
    auto_arm_minutes: int | None = Field(None, ge=5, le=1440)
    notify_store: Bool | None = None


@owner_router.post("/vehicles/{int:vehicle_id}/parked", response=dict)
def parked(request, vehicle_id: int, payload: ParkedIn):
    vehicle = selectors.owner_vehicle(request.owner, vehicle_id)
    state = services.arm_parked(
        request.owner,
        vehicle,
        armed=payload.armed,
        auto_arm_minutes=payload.auto_arm_minutes,
        notify_store=payload.notify_store,
    )
    return _state_out(state)


class GeofenceIn(Schema):
    name: str = Field(..., min_length=1, max_length=40, pattern=NON_BLANK)
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)
    radius_m: int = Field(..., ge=50, le=100_000)


@owner_router.post("/vehicles/{int:vehicle_id}/geofences", response={201: dict})
def add_geofence(request, vehicle_id: int, payload: GeofenceIn):
    vehicle = selectors.owner_vehicle(request.owner, vehicle_id)
    fence = services.set_geofence(request.owner, vehicle, **payload.dict())
    return Status(201, {"id": fence.pk, "name": fence.name, "radius_m": fence.radius_m})


@owner_router.get("/vehicles/{int:vehicle_id}/geofences", response=list[dict])
def list_geofences(request, vehicle_id: int):
    vehicle = selectors.owner_vehicle(request.owner, vehicle_id)
    return [
        {
            "id": f.pk,
            "name": f.name,
            "lat": f.lat,
            "lon": f.lon,
            "radius_m": f.radius_m,
            "inside": f.inside,
        }
        for f in selectors.geofences_of(vehicle)
    ]


@owner_router.delete("/vehicles/{int:vehicle_id}/geofences/{int:fence_id}", response={204: None})
def delete_geofence(request, vehicle_id: int, fence_id: int):
    vehicle = selectors.owner_vehicle(request.owner, vehicle_id)
    services.remove_geofence(request.owner, vehicle, fence_id)
    return Status(204, None)


# --- staff -------------------------------------------------------------------------------------
class DeviceIn(Schema):
    model_config = {
        "json_schema_extra": {
            "if": {"properties": {"protocol": {"const": "jt808"}}},
            "then": {
                "required": ["terminal_phone"],
                "properties": {"terminal_phone": {"pattern": "^[0-9]{11,20}$"}},
            },
        }
    }

    device_id: str = Field(..., min_length=1, max_length=40, pattern=r"^\s*[^/+#\s][^/+#]*$")
    protocol: Literal["http", "mqtt", "jt808", "gb32960"]
    vehicle_id: DbId | None = None
    terminal_phone: str = Field("", max_length=20)


@staff_router.post("/telematics/devices", response={201: dict})
def register(request, payload: DeviceIn):
    vehicle = (
        selectors.staff_vehicle(request.user, payload.vehicle_id) if payload.vehicle_id else None
    )
    device, secret = services.register_device(
        request.user,
        device_id=payload.device_id,
        protocol=payload.protocol,
        vehicle=vehicle,
        terminal_phone=payload.terminal_phone,
    )
    return Status(
        201,
        {
            "device_id": device.device_id,
            "key": device.key,
            "token": services.token_for(device, secret),
            "mqtt_topic": f"m4s/v1/{device.key}/up/telemetry",
            "note": "Shown once; only its hash is stored.",
        },
    )


@staff_router.get("/telematics/devices", response=list[dict])
def devices(request):
    check_perm(request.user, Perm.VIEW_CUSTOMERS)
    return [
        {
            "device_id": d.device_id,
            "protocol": d.protocol,
            "vehicle_id": d.vehicle_id,
            "last_seen_at": d.last_seen_at,
            "online": services.is_online(d),
        }
        for d in selectors.devices_for(request.user)[:500]
    ]


@staff_router.get("/vehicles/{int:vehicle_id}/health", response=dict)
def staff_health(request, vehicle_id: int):
    check_perm(request.user, Perm.VIEW_CUSTOMERS)
    vehicle = selectors.staff_vehicle(request.user, vehicle_id)
    record = selectors.health_record(vehicle)
    audit_staff_reads(request.user, record)
    return {
        **_health_out(record),
        "forecast": _forecast_out(selectors.forecast_of(vehicle)),
    }


def _case_out(c):
    return {
        "id": c.pk,
        "kind": c.kind,
        "status": c.status,
        "opened_at": c.opened_at,
        "alarm_at": c.alarm_at,
        "lat": c.lat,
        "lon": c.lon,
        "speed_kmh": c.speed_kmh,
        "repeats": c.repeats,
        "plate": c.vehicle.plate,
        "customer": c.customer.name if c.customer else None,
        "phone": c.customer.phone if c.customer else None,
        "store": c.store.name,
        "acknowledged_by": c.acknowledged_by.username if c.acknowledged_by else None,
        "acknowledged_at": c.acknowledged_at,
        "tow_partner": c.tow_partner,
        "repair_order_id": c.repair_order_id,
    }


@staff_router.get("/telematics/cases", response=list[dict])
def open_cases(request):
    check_perm(request.user, Perm.USE_CONSOLE)
    return [_case_out(c) for c in selectors.open_cases_for(request.user)[:100]]


class AckIn(Schema):
    tow_partner: str = Field("", max_length=80)
    note: str = Field("", max_length=300)


class CloseIn(Schema):
    repair_order_id: DbId | None = None
    note: str = Field("", max_length=300)


@staff_router.post("/telematics/cases/{int:case_id}/acknowledge", response=dict)
def acknowledge(request, case_id: int, payload: AckIn):
    case = selectors.get_case(request.user, case_id)
    return _case_out(
        services.acknowledge_case(
            request.user, case, tow_partner=payload.tow_partner, note=payload.note
        )
    )


@staff_router.post("/telematics/cases/{int:case_id}/close", response=dict)
def close(request, case_id: int, payload: CloseIn):
    case = selectors.get_case(request.user, case_id)
    return _case_out(
        services.close_case(
            request.user, case, repair_order_id=payload.repair_order_id, note=payload.note
        )
    )

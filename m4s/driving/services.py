"""Every write of the driving area: cutting trips from telemetry (incremental, set-based,
idempotent), the loyalty hand-off of smooth kilometres, the owner's insurer consent, the
insurer export.

Cutting: `cut_new_telemetry` (the periodic job `driving.cut_trips`) finds the cars that reported
since their cut point, with one query, plus the cars with an open trip (which may have to be
closed because reports stopped); per car it reads the rows from the cut point in one streamed
query, cuts them (m4s/driving/trips.py), upserts the trips on (vehicle, started_at) and moves the
cut point: to the start of the car's open trip (read again next time and extended in place,
never duplicated), else to its last report. A run repeated, or two at once, write the same rows.
Rows that arrive later than the cut point they belong before are not cut (documented limit).
Cars whose owner has not given telematics consent are not cut (ingest keeps no positions for
them anyway)."""

import csv
import datetime as dt
import io
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm
from m4s.telematics.consent import has_consent, vehicles_without_consent
from m4s.telematics.models import Telemetry, VehicleState

from . import choices as c
from . import scoring
from .models import CutPoint, DrivingPolicy, InsurerExport, InsurerShareConsent, Trip
from .trips import Limits, Point, cut, measure

TRIP_FIELDS = (
    "ended_at",
    "start_lat",
    "start_lon",
    "end_lat",
    "end_lon",
    "distance_km",
    "duration_s",
    "avg_kmh",
    "top_kmh",
    "night_min",
    "harsh_accel",
    "harsh_brake",
    "harsh_corner",
    "speeding_s",
    "band",
    "points",
    "route",
    "end_reason",
    "is_open",
    "score",
    "reasons",
)
ROW_FIELDS = (
    "ts",
    "lat",
    "lon",
    "fix_valid",
    "speed_kmh",
    "heading",
    "odometer_km",
    "ignition",
    "alarm",
)


def limits_for(group_id: int, policy: DrivingPolicy | None = None) -> Limits:
    policy = policy or DrivingPolicy.objects.for_group(group_id).first()
    if policy is None:
        return Limits()
    return Limits(
        stop_s=policy.stop_minutes * 60,
        urban=policy.urban_kmh,
        arterial=policy.arterial_kmh,
        highway=policy.highway_kmh,
    )


def tz_of(vehicle):
    customer = vehicle.current_owner if vehicle.current_owner_id else None
    store = customer.store if customer is not None else vehicle.purchase_store
    return store.tz if store is not None else zoneinfo.ZoneInfo(settings.TIME_ZONE)


def trip_row(measured: dict, *, group_id: int, vehicle_id: int) -> Trip:
    value, reasons = scoring.score(scoring.counts_of(measured))
    fields = {k: measured[k] for k in TRIP_FIELDS if k in measured}
    return Trip(
        dealer_group_id=group_id,
        vehicle_id=vehicle_id,
        started_at=measured["started_at"],
        score=value,
        reasons=reasons,
        **fields,
    )


def _points(rows, last: list):
    for ts, lat, lon, fix, speed, heading, odo, ignition, alarm in rows:
        last[0] = ts
        if fix is False:
            lat = lon = None
        yield Point(ts, lat, lon, speed, heading, odo, ignition, alarm or "none")


def store_trips(group_id: int, vehicle_id: int, cuts, limits: Limits, tz) -> list[Trip]:
    """Upsert the trips of these cuts (short ones dropped): one statement."""
    rows = []
    for piece in cuts:
        measured = measure(piece, limits, tz)
        if measured["distance_km"] < c.MIN_TRIP_KM:
            continue
        rows.append(trip_row(measured, group_id=group_id, vehicle_id=vehicle_id))
    if rows:
        Trip.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["vehicle", "started_at"],
            update_fields=list(TRIP_FIELDS),
        )
    return rows


def cut_vehicle(vehicle, *, limits: Limits | None = None, now=None) -> int:
    """Cut the car's reports since its cut point; returns the trips written (new or extended).
    Queries: a constant handful, whatever the number of rows."""
    now = now or timezone.now()
    g = vehicle.dealer_group_id
    limits = limits or limits_for(g)
    tz = tz_of(vehicle)
    with transaction.atomic():
        cursor = CutPoint.objects.for_group(g).filter(vehicle_id=vehicle.pk).first()
        qs = Telemetry.objects.for_group(g).filter(vehicle_id=vehicle.pk)
        if cursor is not None:
            qs = qs.filter(ts__gte=cursor.resume_at)
        last: list = [None]
        rows = qs.order_by("ts", "seq").values_list(*ROW_FIELDS).iterator(chunk_size=5000)
        cuts = cut(_points(rows, last), limits, now=now)
        written = store_trips(g, vehicle.pk, cuts, limits, tz)
        resume = cuts[-1].points[0].ts if cuts and cuts[-1].end_reason == "open" else last[0]
        if resume is not None:
            CutPoint.objects.for_group(g).update_or_create(
                dealer_group_id=g, vehicle_id=vehicle.pk, defaults={"resume_at": resume}
            )
        record_smooth_km(vehicle)
    return len(written)


def cut_new_telemetry(*, now=None, limit: int | None = None) -> dict:
    """The periodic job: every car with reports since its cut point, or with an open trip."""
    from m4s.vehicles.models import Vehicle

    now = now or timezone.now()
    resume = (
        CutPoint.objects.unscoped()
        .filter(vehicle_id=OuterRef("vehicle_id"))
        .values("resume_at")[:1]
    )
    fresh = (
        VehicleState.objects.unscoped()
        .annotate(resume=Subquery(resume))
        .filter(Q(resume__isnull=True) | Q(ts__gt=F("resume")))
        .values_list("vehicle_id", flat=True)
    )
    ids = set(fresh) | set(
        Trip.objects.unscoped().filter(is_open=True).values_list("vehicle_id", flat=True)
    )
    vehicles = list(
        Vehicle.objects.unscoped()
        .filter(pk__in=ids)
        .select_related("current_owner__store", "purchase_store")
        .order_by("pk")[:limit]
    )
    by_group: dict[int, list] = {}
    for v in vehicles:
        by_group.setdefault(v.dealer_group_id, []).append(v)
    policies = {
        p.dealer_group_id: p
        for p in DrivingPolicy.objects.unscoped().filter(dealer_group_id__in=list(by_group))
    }
    done = skipped = trips = 0
    for g, cars in by_group.items():
        refused = vehicles_without_consent(g, [v.pk for v in cars])
        limits = limits_for(g, policies.get(g)) if g in policies else Limits()
        for v in cars:
            if v.pk in refused:
                skipped += 1
                continue
            trips += cut_vehicle(v, limits=limits, now=now)
            done += 1
    return {"cars": done, "skipped_no_consent": skipped, "trips": trips}


# --- loyalty: kilometres without harsh braking -----------------------------------------------
def record_smooth_km(vehicle) -> int:
    """Each closed trip without harsh braking tells loyalty its kilometres (event `smooth_km`,
    once per trip: the source is the trip), which missions like "1,000 km with no harsh braking"
    sum. Trips with harsh braking are marked as told, with nothing to tell; so are all trips
    while no active mission or earning rule of the group counts smooth kilometres (a mission
    counts what is driven after it starts)."""
    from m4s.loyalty.choices import Event
    from m4s.loyalty.services import record_event

    g = vehicle.dealer_group_id
    pending = Trip.objects.for_group(g).filter(
        vehicle=vehicle, is_open=False, smooth_recorded=False
    )
    customer = vehicle.current_owner if vehicle.current_owner_id else None
    if customer is not None and not _loyalty_uses_smooth_km(g):
        customer = None  # nothing in the programme counts them: mark them told, one statement
    told = []
    for trip in pending.filter(harsh_brake=0).order_by("started_at"):
        if customer is not None:
            record_event(
                customer,
                Event.SMOOTH_KM,
                source=f"driving:trip:{trip.pk}",
                amount=Decimal(str(round(trip.distance_km, 2))),
                now=trip.ended_at,
            )
        told.append(trip.pk)
    pending.filter(Q(pk__in=told) | Q(harsh_brake__gt=0)).update(smooth_recorded=True)
    return len(told)


def _loyalty_uses_smooth_km(group_id: int) -> bool:
    """Whether an active mission or earning rule of the group counts smooth kilometres."""
    from m4s.loyalty.choices import Event
    from m4s.loyalty.models import EarningRule, Mission

    missions = Mission.objects.for_group(group_id).filter(event=Event.SMOOTH_KM, is_active=True)
    rules = EarningRule.objects.for_group(group_id).filter(event=Event.SMOOTH_KM, is_active=True)
    return missions.exists() or rules.exists()


# --- usage-based insurance: the owner's consent and the export --------------------------------
def give_insurer_consent(owner, vehicle, *, insurer: str) -> InsurerShareConsent:
    """The owner agrees to share this car's monthly driving summary with `insurer` (explicit,
    recorded with its time; one active consent per car: a new one replaces the old)."""
    insurer = " ".join((insurer or "").split())[:80]
    if not insurer:
        raise DomainError("insurer_required", _("Name the insurer you share your driving with."))
    if not has_consent(vehicle):
        raise DomainError(
            "no_telematics_consent",
            _("Give telematics consent first: without it there are no trips to share."),
            status=409,
        )
    now = timezone.now()
    with transaction.atomic():
        InsurerShareConsent.objects.for_group(vehicle.dealer_group_id).filter(
            vehicle=vehicle, revoked_at__isnull=True
        ).update(revoked_at=now)
        return InsurerShareConsent.objects.create(
            dealer_group_id=vehicle.dealer_group_id,
            vehicle=vehicle,
            owner=owner,
            insurer=insurer,
            granted_at=now,
        )


def withdraw_insurer_consent(owner, vehicle) -> int:
    """Withdraw it: from now on nothing is exported. Idempotent."""
    return (
        InsurerShareConsent.objects.for_group(vehicle.dealer_group_id)
        .filter(vehicle=vehicle, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )


def export_for_insurer(actor, vehicle, *, months: list[dt.date]) -> str:
    """The car's monthly summary as CSV, only while the owner's consent to share with the
    insurer holds (and telematics consent too); refused with `no_insurer_consent` otherwise,
    nothing exported. Each export is recorded."""
    from . import selectors

    check_perm(actor, Perm.IMPORT_CUSTOMERS)
    consent = selectors.active_insurer_consent(vehicle)
    if consent is None or not has_consent(vehicle):
        raise DomainError(
            "no_insurer_consent",
            _("The owner has not agreed to share this car's driving data with an insurer."),
            status=409,
        )
    summary = selectors.monthly_summary(vehicle, months)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        [
            "vin",
            "insurer",
            "month",
            "trips",
            "km",
            "driving_min",
            "night_min",
            "harsh_braking",
            "harsh_acceleration",
            "harsh_cornering",
            "speeding_min",
            "score",
        ]
    )
    for m in summary:
        w.writerow(
            [
                vehicle.vin,
                consent.insurer,
                m["month"],
                m["trips"],
                f"{m['km']:.1f}",
                m["driving_min"],
                m["night_min"],
                m["harsh_brake"],
                m["harsh_accel"],
                m["harsh_corner"],
                m["speeding_min"],
                "" if m["score"] is None else m["score"],
            ]
        )
    InsurerExport.objects.create(
        dealer_group_id=vehicle.dealer_group_id,
        vehicle=vehicle,
        consent=consent,
        actor=actor,
        months=",".join(m["month"] for m in summary)[:200],
        created_at=timezone.now(),
    )
    return out.getvalue()

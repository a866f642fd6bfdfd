"""Reads of the connected-car area: the Vehicle Health Record, forecasts, cases, terminals."""

import datetime as dt

from django.db.models import Exists, OuterRef
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import NotFound

from . import dtc
from .choices import CaseStatus
from .consent import has_consent
from .models import (
    AlarmEvent,
    DailyOdometer,
    Device,
    Geofence,
    Insurer,
    MileageForecast,
    RescueCase,
    RescuePhoto,
    RescueStep,
    TowPartner,
    VehicleState,
)
from .services import is_online, projected_items


def health_record(vehicle, *, days: int = 90) -> dict:
    g = vehicle.dealer_group_id
    state = (
        VehicleState.objects.for_group(g).filter(vehicle=vehicle).select_related("device").first()
    )
    since = timezone.localdate() - dt.timedelta(days=days)
    series = list(
        DailyOdometer.objects.for_group(g)
        .filter(vehicle=vehicle, date__gte=since)
        .order_by("date")
        .values_list("date", "odometer_km")
    )
    alarms = list(AlarmEvent.objects.for_group(g).filter(vehicle=vehicle).order_by("-ts")[:20])
    from m4s.service.models import RepairOrder

    history = list(
        RepairOrder.objects.for_group(g)
        .filter(vehicle=vehicle, delivered_at__isnull=False)
        .select_related("store", "invoice")
        .prefetch_related("lines__operation")
        .order_by("-delivered_at")[:20]
    )
    store = vehicle.current_owner.store if vehicle.current_owner_id else vehicle.purchase_store
    return {
        "vehicle": vehicle,
        "state": state,
        "online": bool(state and state.device and is_online(state.device)),
        "dtcs": [dtc.describe(c) for c in (state.dtcs if state else [])],
        "odometer_series": series,
        "alarms": alarms,
        "service_history": history,
        "store": store,
        "telematics_consent": has_consent(vehicle),
    }


def forecast_of(vehicle) -> dict:
    forecast = (
        MileageForecast.objects.for_group(vehicle.dealer_group_id).filter(vehicle=vehicle).first()
    )
    return {"forecast": forecast, "items": projected_items(vehicle, forecast)}


def owner_vehicle(owner, vehicle_id: int):
    from m4s.customers.selectors import vehicles_of_owner

    vehicle = vehicles_of_owner(owner).filter(pk=vehicle_id).first()
    if vehicle is None:
        raise NotFound(_("No such car."))
    return vehicle


def staff_vehicle(actor, vehicle_id: int):
    from m4s.vehicles.models import Vehicle

    vehicle = (
        Vehicle.objects.for_actor(actor)
        .select_related("current_owner__store", "purchase_store")
        .filter(pk=vehicle_id)
        .first()
    )
    if vehicle is None:
        raise NotFound(_("No such car."))
    return vehicle


def open_cases_for(actor):
    from m4s.service.selectors import store_ids_for

    qs = RescueCase.objects.for_actor(actor).exclude(status=CaseStatus.CLOSED)
    ids = store_ids_for(actor)
    if ids is not None:
        qs = qs.filter(store_id__in=ids)
    return qs.select_related("vehicle", "customer", "store", "acknowledged_by").order_by(
        "-opened_at"
    )


def get_case(actor, case_id: int) -> RescueCase:
    from m4s.service.selectors import store_ids_for

    qs = RescueCase.objects.for_actor(actor).select_related(
        "vehicle",
        "customer",
        "store",
        "acknowledged_by",
        "tow",
        "insurer",
        "destination",
        "repair_order",
    )
    ids = store_ids_for(actor)
    if ids is not None:
        qs = qs.filter(store_id__in=ids)
    case = qs.filter(pk=case_id).first()
    if case is None:
        raise NotFound(_("No such case."))
    return case


def owner_case(owner, case_id: int) -> RescueCase:
    """One of the owner's own rescue cases (another owner's is not found)."""
    case = (
        RescueCase.objects.for_owner(owner)
        .select_related("vehicle", "store", "destination", "tow", "insurer", "repair_order")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound(_("No such case."))
    return case


def owner_cases(owner):
    """The owner's rescue cases, open ones first, newest first."""
    return (
        RescueCase.objects.for_owner(owner)
        .select_related("vehicle", "tow")
        .order_by("closed_at", "-opened_at")
    )


def case_steps(case: RescueCase):
    return (
        RescueStep.objects.for_group(case.dealer_group_id)
        .filter(case=case)
        .select_related("actor")
        .order_by("at", "id")
    )


def case_photos(case: RescueCase):
    return RescuePhoto.objects.for_group(case.dealer_group_id).filter(case=case).order_by("pk")


def tow_partners_for(actor, *, active_only: bool = False):
    qs = TowPartner.objects.for_actor(actor).order_by("name", "id")
    return qs.filter(active=True) if active_only else qs


def insurers_for(actor, *, active_only: bool = False):
    qs = Insurer.objects.for_actor(actor).order_by("name", "id")
    return qs.filter(active=True) if active_only else qs


def get_tow_partner(actor, pk: int) -> TowPartner:
    found = TowPartner.objects.for_actor(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such tow partner."))
    return found


def get_insurer(actor, pk: int) -> Insurer:
    found = Insurer.objects.for_actor(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such insurer."))
    return found


def devices_for(actor):
    return Device.objects.for_actor(actor).select_related("vehicle").order_by("device_id")


def reminders_for_store(store, *, days: int = 30, limit: int = 50):
    """Cars of the store's customers whose maintenance falls due soon (from the mileage chain):
    the service advisor's call list."""
    from m4s.service.models import MaintenanceRecord

    from .models import MaintenanceReminder

    until = timezone.localdate() + dt.timedelta(days=days)
    served_since = MaintenanceRecord.objects.filter(
        vehicle_id=OuterRef("vehicle_id"),
        item_id=OuterRef("item_id"),
        done_on__gte=OuterRef("created_on"),
    )
    return (
        MaintenanceReminder.objects.for_group(store.dealer_group_id)
        .annotate(created_on=TruncDate("created_at"))
        .filter(vehicle__current_owner__store=store, due_on__lte=until)
        .exclude(vehicle__appointments__status="booked")
        .exclude(Exists(served_since))  # a reminder of a cycle that has since been served
        .select_related("vehicle__current_owner", "item")
        .order_by("due_on")[:limit]
    )


def geofences_of(vehicle):
    return (
        Geofence.objects.for_group(vehicle.dealer_group_id).filter(vehicle=vehicle).order_by("pk")
    )

"""Visits: appointments, repair orders, invoices, surveys and photos (m4s/privacy/registry.py).

Erasure keeps every repair order and invoice with its totals (accounting) and removes what
names or describes the person: their words (problem, symptoms, belongings, survey comment)
and their photos; the customer record the invoice names is anonymised by the customers area."""

import datetime as dt

from django.db.models import Q

from m4s.core.personal_data import rows

from .models import (
    Appointment,
    AppointmentPhoto,
    Invoice,
    RepairLine,
    RepairOrder,
    RepairPhoto,
    Survey,
)

PERSONAL_FIELDS = {
    "service.Appointment": {"problem"},
    "service.RepairOrder": {"symptoms", "belongings"},
    # why a job is needed: often the owner's own words about the car
    "service.RepairLine": {"reason", "reason_i18n"},
    "service.Survey": {"comment", "follow_up_note"},
    "service.AppointmentPhoto": {"image"},
    "service.RepairPhoto": {"image"},
}
NOT_PERSONAL = {
    "service.LabourOperation": {"name": "catalogue", "name_i18n": "catalogue"},
    "service.Part": {"name": "catalogue", "name_i18n": "catalogue"},
    "service.ServicePackage": {
        "name": "catalogue",
        "name_i18n": "catalogue",
        "description": "catalogue",
        "description_i18n": "catalogue",
    },
    "service.RepairLine": {
        "description": "the job (a labour operation), kept with the invoice",
        "description_i18n": "the job, translated",
        "approval_reason": "the staff member's reason for a verbal answer (evidence)",
    },
    "service.PriceList": {"name": "catalogue"},
    "service.MaintenanceSchedule": {"name": "catalogue"},
    "service.MaintenanceItem": {"name": "catalogue", "name_i18n": "catalogue"},
    "service.Resource": {"name": "workshop equipment"},
    "service.InspectionTemplate": {"name": "checklist"},
    "service.InspectionPoint": {"name": "checklist", "name_i18n": "checklist"},
    "service.InspectionResult": {"note": "the technician's finding on the car"},
    "service.CreditNote": {"reason": "the manager's accounting reason, kept with the credit note"},
    "service.PriceOverride": {"reason": "the staff member's pricing reason (accounting)"},
}


def _photos(owner):
    return (
        AppointmentPhoto.objects.unscoped().filter(appointment__customer__owner=owner),
        RepairPhoto.objects.unscoped().filter(repair_order__customer__owner=owner),
    )


def export_owner(owner) -> dict:
    appointments = (
        Appointment.objects.unscoped()
        .filter(customer__owner=owner)
        .select_related("store", "vehicle", "package")
        .order_by("starts_at")
    )
    orders = (
        RepairOrder.objects.unscoped()
        .filter(customer__owner=owner)
        .select_related("store", "vehicle")
        .order_by("checked_in_at")
    )
    lines = (
        RepairLine.objects.unscoped()
        .filter(repair_order__customer__owner=owner)
        .select_related("repair_order")
        .order_by("repair_order_id", "id")
    )
    invoices = (
        Invoice.objects.unscoped()
        .filter(repair_order__customer__owner=owner)
        .select_related("repair_order")
        .order_by("issued_at")
    )
    surveys = (
        Survey.objects.unscoped()
        .filter(Q(owner=owner) | Q(customer__owner=owner))
        .select_related("repair_order", "store")
        .order_by("available_at")
    )
    appointment_photos, repair_photos = _photos(owner)
    files = [p.image.name for p in appointment_photos if p.image]
    files += [p.image.name for p in repair_photos if p.image]
    return {
        "rows": {
            "appointments": rows(
                appointments,
                [
                    "store.name",
                    "vehicle.plate",
                    "starts_at",
                    "mode",
                    "package.name",
                    "problem",
                    "status",
                    "channel",
                    "created_at",
                    "cancelled_at",
                ],
            ),
            "repair_orders": rows(
                orders,
                [
                    "number",
                    "store.name",
                    "vehicle.plate",
                    "status",
                    "odometer_in",
                    "odometer_out",
                    "fuel_pct",
                    "symptoms",
                    "belongings",
                    "checked_in_at",
                    "settled_at",
                    "delivered_at",
                ],
            ),
            "repair_lines": rows(
                lines,
                [
                    "repair_order.number",
                    "description",
                    "labour_price",
                    "payer",
                    "approval",
                    "approval_channel",
                    "decided_at",
                    "work_status",
                ],
            ),
            "invoices": rows(
                invoices,
                [
                    "number",
                    "repair_order.number",
                    "issued_at",
                    "labour_total",
                    "parts_total",
                    "discount_total",
                    "net_total",
                    "tax",
                    "total",
                    "customer_pay_total",
                    "coupon_code",
                    "coupon_discount",
                ],
            ),
            "surveys": rows(
                surveys,
                [
                    "repair_order.number",
                    "store.name",
                    "status",
                    "answered_at",
                    "initiation",
                    "advisor_score",
                    "facility",
                    "pickup",
                    "quality",
                    "nps",
                    "comment",
                ],
            ),
        },
        "files": files,
    }


def _delete_photos(queryset) -> int:
    """Delete the rows (one statement) and then their files."""
    names = [name for name in queryset.values_list("image", flat=True) if name]
    deleted, _ = queryset.delete()
    storage = queryset.model._meta.get_field("image").storage
    for name in names:
        storage.delete(name)
    return deleted


def erase_owner(owner) -> dict:
    appointments = (
        Appointment.objects.unscoped()
        .filter(Q(customer__owner=owner) | Q(owner=owner))
        .update(problem="", owner=None)
    )
    orders = (
        RepairOrder.objects.unscoped()
        .filter(customer__owner=owner)
        .update(symptoms="", belongings="")
    )
    RepairLine.objects.unscoped().filter(repair_order__customer__owner=owner).update(
        reason="", reason_i18n={}
    )
    surveys = (
        Survey.objects.unscoped()
        .filter(Q(owner=owner) | Q(customer__owner=owner))
        .update(comment="", follow_up_note="")
    )
    appointment_photos, repair_photos = _photos(owner)
    photos = _delete_photos(appointment_photos) + _delete_photos(repair_photos)
    return {
        "appointments cleared": appointments,
        "repair orders cleared (invoices kept)": orders,
        "surveys cleared": surveys,
        "photos deleted": photos,
    }


def enforce_retention(days: dict, now: dt.datetime) -> dict:
    cutoff = now - dt.timedelta(days=days["photos"])
    photos = _delete_photos(AppointmentPhoto.objects.unscoped().filter(created_at__lt=cutoff))
    photos += _delete_photos(RepairPhoto.objects.unscoped().filter(created_at__lt=cutoff))
    return {"photos deleted": photos}

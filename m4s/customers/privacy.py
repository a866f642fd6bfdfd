"""The owner as each dealer group knows them: customer records in every group, bindings,
invitations followed, timeline (m4s/privacy/registry.py)."""

from django.utils import timezone

from m4s.core import crypto
from m4s.core.audit import redact_entries
from m4s.core.personal_data import ERASED, erased_phone, rows

from .models import Attribution, Binding, Customer, TimelineEvent, TransferRequest

PERSONAL_FIELDS = {
    "customers.Customer": {
        "name",
        "phone",
        "phone_last4",
        "phone2",
        "phone2_last4",
        "birthday",
        "gender",
        "address",
        "id_number_cipher",
        "id_number_masked",
        "tags",
    },
    "customers.TimelineEvent": {"title", "data"},
    "customers.TransferRequest": {"note"},
}
NOT_PERSONAL = {
    "customers.Attribution": {"visitor": "a random id of a browser session, not a person"},
}


def customers_of(owner):
    return Customer.objects.unscoped().filter(owner=owner)


def export_owner(owner) -> dict:
    customers = list(customers_of(owner).select_related("dealer_group", "store").order_by("pk"))
    records = rows(
        customers,
        [
            "dealer_group.name",
            "store.name",
            "name",
            "phone",
            "phone2",
            "birthday",
            "gender",
            "address",
            "id_number_masked",
            "tags",
            "source",
            "marketing_consent",
            "telematics_consent",
            "created_at",
        ],
    )
    for row, customer in zip(records, customers, strict=True):
        # the owner's own ID number, in full: it is theirs
        row["id_number"] = (
            crypto.decrypt(customer.id_number_cipher) if customer.id_number_cipher else ""
        )
    ids = [c.pk for c in customers]
    return {
        "rows": {
            "customer_records": records,
            "bindings": rows(
                Binding.objects.unscoped()
                .filter(customer_id__in=ids)
                .select_related("vehicle", "store")
                .order_by("created_at"),
                ["vehicle.plate", "vehicle.vin", "store.name", "via", "created_at", "ended_at"],
            ),
            "timeline": rows(
                TimelineEvent.objects.unscoped().filter(customer_id__in=ids).order_by("at"),
                ["kind", "at", "display_title"],
            ),
        },
        "files": [],
    }


def erase_owner(owner) -> dict:
    """Each customer record keeps its id (repair orders, invoices and the points ledger point
    at it: accounting) with every personal field emptied and the link to the owner cut."""
    now = timezone.now()
    customers = list(customers_of(owner).values_list("pk", "dealer_group_id"))
    ids = [pk for pk, _group in customers]
    if not ids:
        return {"customer records anonymised": 0}
    ended = (
        Binding.objects.unscoped()
        .filter(customer_id__in=ids, ended_at__isnull=True)
        .update(ended_at=now)
    )
    Binding.objects.unscoped().filter(customer_id__in=ids).update(owner=None)
    Attribution.objects.unscoped().filter(owner=owner).update(owner=None)
    timeline, _ = TimelineEvent.objects.unscoped().filter(customer_id__in=ids).delete()
    TransferRequest.objects.unscoped().filter(from_customer_id__in=ids).update(note="")
    TransferRequest.objects.unscoped().filter(to_customer_id__in=ids).update(note="")
    for pk, _group in customers:  # the phone is unique per group: each row its own placeholder
        Customer.objects.unscoped().filter(pk=pk).update(
            owner=None,
            name=ERASED,
            phone=erased_phone(pk),
            phone_last4="",
            phone2="",
            phone2_last4="",
            birthday=None,
            gender="",
            address="",
            id_number_cipher="",
            id_number_masked="",
            tags=[],
            marketing_consent=False,
            telematics_consent=False,
            updated_at=now,
        )
    audit = redact_entries("customers.customer", ids, placeholder=ERASED)
    return {
        "customer records anonymised": len(ids),
        "bindings ended": ended,
        "timeline events deleted": timeline,
        "audit entries redacted": audit,
    }

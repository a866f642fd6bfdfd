"""Exporting a group's customers and cars in the import's columns, as CSV or XLSX."""

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

import openpyxl
from django.utils.translation import gettext as _

from m4s.customers.models import Customer
from m4s.org.models import Store
from m4s.staff.models import StaffUser
from m4s.vehicles.models import Vehicle

from .parsing import COLUMNS, CONSULTANT_COLUMNS, LOOKUP_CHUNK, VEHICLE_FIELDS
from .planning import _check_actor

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d[\d.]*")


# --- export -----------------------------------------------------------------------------------------
def export_rows(group_id: int, *, actor=None) -> Iterator[dict]:
    """Every customer of the group in the import's column shape: one row per car they own, and
    one row for a customer without a car. ID numbers are exported masked. ``actor`` (staff from
    a page or the API) needs IMPORT_CUSTOMERS; None is the system (the CLI command)."""
    _check_actor(actor, group_id)
    return _export(group_id)


def _export(group_id: int) -> Iterator[dict]:
    stores = dict(Store.objects.for_group(group_id).values_list("pk", "code"))
    usernames = dict(
        StaffUser.objects.filter(dealer_group_id=group_id).values_list("pk", "username")
    )
    customers = Customer.objects.for_group(group_id).order_by("pk")
    last_pk = 0
    while True:
        chunk = list(customers.filter(pk__gt=last_pk)[:LOOKUP_CHUNK])
        if not chunk:
            return
        last_pk = chunk[-1].pk
        cars: dict[int, list[Vehicle]] = defaultdict(list)
        for vehicle in (
            Vehicle.objects.for_group(group_id)
            .filter(current_owner_id__in=[c.pk for c in chunk])
            .order_by("pk")
        ):
            cars[vehicle.current_owner_id].append(vehicle)
        for customer in chunk:
            base = {
                "name": customer.name,
                "phone": customer.phone,
                "phone2": customer.phone2,
                "birthday": customer.birthday,
                "gender": customer.gender,
                "address": customer.address,
                "id_number": customer.id_number_masked,
                "tags": ",".join(str(t) for t in customer.tags or []),
                "store_code": stores.get(customer.store_id, ""),
                **{
                    column: usernames.get(getattr(customer, f"{column}_id"), "")
                    for column in CONSULTANT_COLUMNS
                },
            }
            for vehicle in cars.get(customer.pk) or [None]:
                row = dict.fromkeys(COLUMNS, "")
                row.update(base)
                if vehicle is not None:
                    row["vin"] = vehicle.vin
                    for name in VEHICLE_FIELDS:
                        row[name] = getattr(vehicle, name)
                yield {column: _export_value(row[column]) for column in COLUMNS}


def _export_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _escape_formula(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; a quote makes them text.
    Plain numbers (+8613812345678) are left alone; the import removes the quote again."""
    if text.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(rows: Iterable[dict], fileobj) -> int:
    """Write rows as UTF-8 CSV with a BOM (so Excel reads the Chinese) to a text or binary file;
    returns the number of rows written."""
    binary = isinstance(fileobj, io.BufferedIOBase | io.RawIOBase) or "b" in getattr(
        fileobj, "mode", ""
    )
    stream = (
        io.TextIOWrapper(fileobj, encoding="utf-8", newline="", write_through=True)
        if binary
        else fileobj
    )
    stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([_escape_formula(_export_value(row.get(column))) for column in COLUMNS])
        count += 1
    if binary:
        stream.flush()
        stream.detach()  # leave the caller's file open
    return count


def write_xlsx(rows: Iterable[dict], fileobj) -> int:
    """Write rows as an .xlsx workbook (one sheet, all cells text) to a binary file; returns the
    number of rows written."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Customers"))
    sheet.append(list(COLUMNS))
    count = 0
    for row in rows:
        sheet.append([_escape_formula(_export_value(row.get(column))) for column in COLUMNS])
        count += 1
    workbook.save(fileobj)
    return count

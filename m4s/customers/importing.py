"""Customer import and export: a spreadsheet of customers and their cars in, the same shape out.

One row is one customer with at most one car; a customer with two cars is two rows with the same
phone. Columns (header row, case-insensitive; the Chinese names are aliases):

    name 姓名, phone 手机, phone2 备用手机, birthday 生日, gender 性别 (m/f/男/女), address 地址,
    id_number 身份证号, tags 标签 (separated by , or 、), store_code 门店编码,
    vin 车架号, plate 车牌, brand 品牌, model 车型, model_year 年款, colour 颜色,
    fuel 燃料 (petrol/diesel/hybrid/phev/bev), purchase_date 购车日期, odometer_km 里程,
    warranty_end 质保到期, insurance_expiry 保险到期, insurer 保险公司,
    next_inspection_date 年检日期, driver_licence_expiry 驾照到期,
    sales_consultant 销售顾问, service_advisor 服务顾问, cs_agent 客服专员 (staff usernames)

Rules:

* customers are matched by phone and cars by VIN, inside the importing dealer group only;
* an empty cell keeps what is stored (an import never clears a field); a filled cell sets it;
* an ID number containing ``*`` (the masked form an export writes) is ignored;
* every row is checked before anything is written, with set-based look-ups; a real run writes
  nothing unless every row is valid, and then writes everything in one transaction;
* importing the same file twice changes nothing the second time (rows are only written, and
  timeline and audit rows only added, when a value actually differs).
"""

import contextlib
import csv
import datetime as dt
import functools
import io
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from xml.etree import ElementTree

import openpyxl
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet import _reader as openpyxl_sheet_reader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.dimensions import SheetDimension

from m4s.core import crypto
from m4s.core.audit import audit_entry, diff, snapshot
from m4s.core.errors import DomainError, NotFound
from m4s.core.models import AuditEntry
from m4s.org.models import Store
from m4s.owners.phones import normalize_mobile
from m4s.staff.choices import Perm
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm
from m4s.vehicles.choices import Fuel, OwnershipReason
from m4s.vehicles.models import Vehicle, VehicleOwnership
from m4s.vehicles.validation import (
    PlateError,
    VinError,
    id_number_is_valid,
    normalize_plate,
    normalize_vin,
    vin_model_year,
)

from .choices import Assignment, Gender, Source, TimelineKind
from .models import Customer, TimelineEvent
from .services import ASSIGNMENT_ROLES, set_id_number, timeline_event

__all__ = [
    "COLUMNS",
    "ImportPlan",
    "ImportReport",
    "RowError",
    "RowPlan",
    "export_rows",
    "plan_import",
    "read_rows",
    "run_import",
    "write_csv",
    "write_xlsx",
]

# --- columns ------------------------------------------------------------------------------------
CUSTOMER_COLUMNS = (
    "name",
    "phone",
    "phone2",
    "birthday",
    "gender",
    "address",
    "id_number",
    "tags",
    "store_code",
)
VEHICLE_COLUMNS = (
    "vin",
    "plate",
    "brand",
    "model",
    "model_year",
    "colour",
    "fuel",
    "purchase_date",
    "odometer_km",
    "warranty_end",
    "insurance_expiry",
    "insurer",
    "next_inspection_date",
    "driver_licence_expiry",
)
CONSULTANT_COLUMNS = ("sales_consultant", "service_advisor", "cs_agent")
COLUMNS = CUSTOMER_COLUMNS + VEHICLE_COLUMNS + CONSULTANT_COLUMNS

HEADER_ALIASES = {
    **{name: name for name in COLUMNS},
    "姓名": "name",
    "手机": "phone",
    "手机号": "phone",
    "备用手机": "phone2",
    "生日": "birthday",
    "性别": "gender",
    "地址": "address",
    "身份证号": "id_number",
    "身份证": "id_number",
    "标签": "tags",
    "门店编码": "store_code",
    "车架号": "vin",
    "车牌": "plate",
    "车牌号": "plate",
    "品牌": "brand",
    "车型": "model",
    "年款": "model_year",
    "颜色": "colour",
    "color": "colour",
    "燃料": "fuel",
    "购车日期": "purchase_date",
    "里程": "odometer_km",
    "质保到期": "warranty_end",
    "保险到期": "insurance_expiry",
    "保险公司": "insurer",
    "年检日期": "next_inspection_date",
    "驾照到期": "driver_licence_expiry",
    "销售顾问": "sales_consultant",
    "服务顾问": "service_advisor",
    "客服专员": "cs_agent",
}
REQUIRED_COLUMNS = ("phone",)

TEXT_LIMITS = {"name": 80, "address": 200, "brand": 40, "model": 60, "colour": 30, "insurer": 60}
TAG_MAX_LENGTH = 30
CUSTOMER_DATE_FIELDS = ("birthday",)
VEHICLE_DATE_FIELDS = (
    "purchase_date",
    "warranty_end",
    "insurance_expiry",
    "next_inspection_date",
    "driver_licence_expiry",
)
VEHICLE_TEXT_FIELDS = ("brand", "model", "colour", "insurer")
VEHICLE_FIELDS = (
    "plate",
    *VEHICLE_TEXT_FIELDS,
    "model_year",
    "fuel",
    "odometer_km",
    *VEHICLE_DATE_FIELDS,
)

GENDERS = {
    "m": Gender.MALE,
    "male": Gender.MALE,
    "男": Gender.MALE,
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
    "女": Gender.FEMALE,
}
FUELS = {
    **{value: value for value in Fuel.values},
    "汽油": Fuel.PETROL,
    "柴油": Fuel.DIESEL,
    "混动": Fuel.HYBRID,
    "油电混合": Fuel.HYBRID,
    "插混": Fuel.PHEV,
    "插电混动": Fuel.PHEV,
    "纯电": Fuel.BEV,
    "纯电动": Fuel.BEV,
}
TAG_SEPARATORS = re.compile(r"[,，、;；]")
DATE_PATTERN = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
EXCEL_EPOCH = dt.date(1899, 12, 30)
EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
MAX_ODOMETER_KM = 3_000_000
MAX_ROWS = 100_000
MAX_BLANK_ROWS = 1_000  # blank lines tolerated beyond MAX_ROWS before a file counts as too long
BATCH_SIZE = 500
LOOKUP_CHUNK = 2000  # values per IN (...) list: far below SQLite's variable limit
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d[\d.]*")


class RowError(NamedTuple):
    """One problem in one row: (row_number, field, message). Row 1 is the header."""

    row: int
    field: str
    message: str


@dataclass
class RowPlan:
    """What a row will do: "create", "update" or "unchanged" for its customer and its car
    (vehicle is None for a row without a car; both are None for a row with errors)."""

    row: int
    phone: str
    vin: str
    customer: str | None
    vehicle: str | None


@dataclass
class _CustomerPlan:
    phone: str
    rows: list[int]
    fields: dict = field(default_factory=dict)  # field -> (value, row)
    existing: Customer | None = None
    instance: Customer | None = None
    action: str | None = None
    changed: set = field(default_factory=set)
    before: dict | None = None


@dataclass
class _VehiclePlan:
    vin: str
    phone: str
    rows: list[int]
    fields: dict = field(default_factory=dict)  # field -> (value, row)
    existing: Vehicle | None = None
    instance: Vehicle | None = None
    action: str | None = None
    changed: set = field(default_factory=set)
    before: dict | None = None
    new_ownership: bool = False


@dataclass
class ImportPlan:
    """The outcome of checking a file against the group's data; nothing is written."""

    group_id: int
    rows_total: int
    rows: list[RowPlan]
    errors: list[RowError]
    customers: dict[str, _CustomerPlan] = field(default_factory=dict, repr=False)
    vehicles: dict[str, _VehiclePlan] = field(default_factory=dict, repr=False)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def _count(self, plans, action: str) -> int:
        return sum(1 for plan in plans.values() if plan.action == action)

    def report(self, *, dry_run: bool) -> "ImportReport":
        return ImportReport(
            rows_total=self.rows_total,
            customers_created=self._count(self.customers, "create"),
            customers_updated=self._count(self.customers, "update"),
            customers_unchanged=self._count(self.customers, "unchanged"),
            vehicles_created=self._count(self.vehicles, "create"),
            vehicles_updated=self._count(self.vehicles, "update"),
            vehicles_unchanged=self._count(self.vehicles, "unchanged"),
            errors=list(self.errors),
            dry_run=dry_run,
        )


@dataclass
class ImportReport:
    rows_total: int
    customers_created: int
    customers_updated: int
    customers_unchanged: int
    vehicles_created: int
    vehicles_updated: int
    vehicles_unchanged: int
    errors: list[RowError]
    dry_run: bool

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.customers_created
            or self.customers_updated
            or self.vehicles_created
            or self.vehicles_updated
        )

    def as_dict(self) -> dict:
        return {
            "rows_total": self.rows_total,
            "dry_run": self.dry_run,
            "customers": {
                "created": self.customers_created,
                "updated": self.customers_updated,
                "unchanged": self.customers_unchanged,
            },
            "vehicles": {
                "created": self.vehicles_created,
                "updated": self.vehicles_updated,
                "unchanged": self.vehicles_unchanged,
            },
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
        }


# --- reading files ------------------------------------------------------------------------------
def read_rows(file_obj, filename: str) -> list[dict]:
    """The data rows of a .csv (UTF-8 with or without BOM, else GB18030) or .xlsx file (first
    sheet) as dicts keyed by canonical column name, plus "_row": the row's number in the file.

    A file over `IMPORT_MAX_FILE_BYTES`, or a workbook that unzips to more than
    `IMPORT_MAX_UNZIPPED_BYTES`, is refused before it is parsed, and reading stops as soon as
    the file holds more than `MAX_ROWS` data rows (or as many lines, blank ones included, as
    `MAX_ROWS + MAX_BLANK_ROWS`): a small file that claims a million rows costs no more than
    the limit."""
    extension = os.path.splitext(filename or "")[1].lower()
    if extension not in (".csv", ".xlsx"):
        raise DomainError("unsupported_file", _("Upload a .csv or .xlsx file."))
    if isinstance(file_obj, bytes | bytearray):
        file_obj = io.BytesIO(file_obj)
    _check_size(_size_of(file_obj), settings.IMPORT_MAX_FILE_BYTES)
    table = _read_csv(file_obj) if extension == ".csv" else _read_xlsx(file_obj)
    with contextlib.closing(table):
        return _rows_from_table(table)


def _size_of(file_obj) -> int:
    size = getattr(file_obj, "size", None)
    if size is None:
        here = file_obj.tell()
        size = file_obj.seek(0, os.SEEK_END)
        file_obj.seek(here)
    return size


def _check_size(size: int, limit: int) -> None:
    if size > limit:
        raise DomainError(
            "file_too_large",
            _("The file is too large: at most %(size)s MB (split it into several files).")
            % {"size": f"{limit / 1_000_000:g}"},
            status=413,
        )


def _read_csv(file_obj) -> Iterator[tuple[int, list]]:
    data = file_obj.read()
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise DomainError(
                    "unreadable_file",
                    _("This file is neither UTF-8 nor GB18030 text. Save it as CSV (UTF-8)."),
                ) from None
    else:
        text = data.removeprefix("\ufeff")
    del data
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise DomainError(
            "unreadable_file", _("This CSV file cannot be read: %(error)s") % {"error": exc}
        ) from None


def _sheet_size_from_its_head(self) -> None:
    """openpyxl's read-only sheet looks for the optional `<dimension>` element while listening
    for *end* events, and `<sheetData>` ends only after its last row: a sheet without a
    dimension element was parsed whole when the workbook opened (a 150 KB file of a million
    rows took minutes), before a single row reached the row limit. This reads only the sheet's
    head, listening for *start* events, and stops at `<sheetData>`. Installed below for every
    read-only workbook this process opens (openpyxl 3.1.5)."""
    with self._get_source() as source:
        for _event, element in openpyxl_sheet_reader.iterparse(source, events=("start",)):
            if element.tag == openpyxl_sheet_reader.DIMENSION_TAG:
                if element.get("ref"):
                    boundaries = SheetDimension.from_tree(element).boundaries
                    self._min_column, self._min_row, self._max_column, self._max_row = boundaries
                return
            if element.tag == openpyxl_sheet_reader.DATA_TAG:
                return


ReadOnlyWorksheet._get_size = _sheet_size_from_its_head


def _read_xlsx(file_obj) -> Iterator[tuple[int, list]]:
    damaged = DomainError(
        "unreadable_file", _("This Excel workbook is damaged and cannot be read.")
    )
    try:
        with zipfile.ZipFile(file_obj) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        file_obj.seek(0)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise DomainError("unreadable_file", _("This is not an Excel (.xlsx) workbook.")) from None
    _check_size(unzipped, settings.IMPORT_MAX_UNZIPPED_BYTES)
    try:
        workbook = openpyxl.load_workbook(file_obj, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile):
        raise DomainError("unreadable_file", _("This is not an Excel (.xlsx) workbook.")) from None
    except Exception:  # noqa: BLE001 - any parser failure on a damaged workbook is the same answer
        raise damaged from None
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        # the sheet's XML is parsed only while iterating: a damaged file fails here, not above
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    except (ElementTree.ParseError, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise damaged from None
    except Exception:  # noqa: BLE001 - as above: openpyxl raises many kinds on bad XML
        raise damaged from None
    finally:
        workbook.close()


def _cell(value) -> Any:
    """A cell as text (stripped), or a date for date cells of a workbook."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _unescape(value):
    """Remove the quote that write_csv/write_xlsx put before formula-like cells."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value


@functools.lru_cache(maxsize=256)
def _canonical_header(raw) -> str:
    text = str(_cell(raw)).replace("\u3000", " ").strip().lower()
    return HEADER_ALIASES.get(text.replace(" ", "_"), HEADER_ALIASES.get(text, ""))


def _rows_from_table(table: Iterable[tuple[int, list]]) -> list[dict]:
    rows = iter(table)
    header = None
    for _number, cells in rows:
        if any(_cell(c) != "" for c in cells):
            header = cells
            break
    if header is None:
        raise DomainError("empty_file", _("The file has no header row and no data."))
    columns: list[str | None] = []
    unknown, seen = [], set()
    for raw in header:
        label = str(_cell(raw))
        if not label:
            columns.append(None)
            continue
        name = _canonical_header(raw)
        if not name:
            unknown.append(label)
        elif name in seen:
            raise DomainError(
                "duplicate_column",
                _("The column %(name)s appears twice in the header.") % {"name": label},
            )
        seen.add(name)
        columns.append(name or None)
    if unknown:
        raise DomainError(
            "unknown_columns",
            _("Unknown column(s): %(names)s. Use the columns of an export: %(columns)s.")
            % {"names": ", ".join(unknown), "columns": ", ".join(COLUMNS)},
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        raise DomainError(
            "missing_columns",
            _("The file needs the column(s): %(names)s.") % {"names": ", ".join(missing)},
        )
    result = []
    for number, cells in rows:
        if number > MAX_ROWS + MAX_BLANK_ROWS:
            raise DomainError(
                "too_many_rows", _("Import at most %(count)d rows per file.") % {"count": MAX_ROWS}
            )
        values = [_unescape(_cell(c)) for c in cells]
        if not any(v != "" for v in values):
            continue
        if any(v != "" for v in values[len(columns) :]):
            raise DomainError(
                "extra_cells",
                _("Row %(row)d has values in columns without a header.") % {"row": number},
            )
        row = {name: value for name, value in zip(columns, values, strict=False) if name}
        row["_row"] = number
        result.append(row)
        if len(result) > MAX_ROWS:
            raise DomainError(
                "too_many_rows", _("Import at most %(count)d rows per file.") % {"count": MAX_ROWS}
            )
    return result


# --- parsing cells --------------------------------------------------------------------------------
class _CellError(ValueError):
    pass


def _parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        text = str(value).strip()
        match = DATE_PATTERN.fullmatch(text.split(" ")[0].split("T")[0])
        try:
            if match:
                value = dt.date(int(match[1]), int(match[2]), int(match[3]))
            elif re.fullmatch(r"\d{8}", text):
                value = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            elif re.fullmatch(r"\d{1,5}(\.\d+)?", text):  # an Excel serial day number
                value = EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
            else:
                raise _CellError(_("Enter a date as YYYY-MM-DD."))
        except (ValueError, OverflowError) as exc:
            if isinstance(exc, _CellError):
                raise
            raise _CellError(_("%(value)s is not a real date.") % {"value": text}) from None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise _CellError(
            _("%(value)s is outside the years 1900-2100.") % {"value": value.isoformat()}
        )
    return value


def _parse_int(text: str, low: int, high: int) -> int:
    cleaned = text.lower().replace(",", "").replace("km", "").replace("公里", "").strip()
    try:
        number = float(cleaned)
    except ValueError:
        raise _CellError(_("Enter a whole number.")) from None
    if not number.is_integer() or not low <= number <= high:
        raise _CellError(
            _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        )
    return int(number)


def _parse_tags(text: str) -> list[str]:
    tags = {t.strip() for t in TAG_SEPARATORS.split(text) if t.strip()}
    too_long = [t for t in tags if len(t) > TAG_MAX_LENGTH]
    if too_long:
        raise _CellError(
            _("A tag has at most %(count)d characters: %(tag)s")
            % {"count": TAG_MAX_LENGTH, "tag": too_long[0]}
        )
    return sorted(tags)


def _text(row: dict, column: str) -> str:
    """A cell of a row from _canonical_rows (already cleaned by _cell) as text."""
    value = row.get(column, "")
    return value.isoformat() if isinstance(value, dt.date) else value


# --- planning ---------------------------------------------------------------------------------------
@dataclass
class _Row:
    number: int
    raw: dict
    phone: str = ""
    vin: str = ""
    customer: dict = field(default_factory=dict)  # clean values of the filled customer cells
    vehicle: dict = field(default_factory=dict)  # clean values of the filled car cells
    errors: list = field(default_factory=list)

    def error(self, column: str, message) -> None:
        self.errors.append(RowError(self.number, column, str(message)))


def _canonical_rows(rows: Iterable[dict]) -> list[_Row]:
    result = []
    for index, row in enumerate(rows):
        number = row.get("_row") or index + 2  # row 1 is the header
        clean, unknown = {}, []
        for key, value in row.items():
            if key == "_row":
                continue
            name = _canonical_header(key)
            if not name:
                unknown.append(str(key))
            clean[name] = _cell(value)
        if unknown:
            raise DomainError(
                "unknown_columns",
                _("Unknown column(s): %(names)s.") % {"names": ", ".join(sorted(unknown))},
            )
        result.append(_Row(number=number, raw=clean))
    return result


def _chunks(values: list, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _parse_keys(row: _Row) -> None:
    """Phone, VIN and plate: what the look-ups need."""
    raw_phone = _text(row.raw, "phone")
    try:
        row.phone = normalize_mobile(raw_phone)
    except DomainError as exc:
        row.error("phone", exc.message)
    vin = _text(row.raw, "vin")
    if vin:
        try:
            row.vin = normalize_vin(vin)
        except VinError as exc:
            row.error("vin", exc.message)
    plate = _text(row.raw, "plate")
    if plate:
        try:
            row.vehicle["plate"] = normalize_plate(plate)
        except PlateError as exc:
            row.error("plate", exc.message)


def _parse_row(row: _Row, stores: dict[str, Store], staff: dict[str, StaffUser]) -> None:
    """Every other cell, checked on its own (the look-ups say whether store and staff exist)."""
    c, v = row.customer, row.vehicle
    for column in ("name", "address"):
        text = _text(row.raw, column)
        if len(text) > TEXT_LIMITS[column]:
            row.error(column, _("At most %(count)d characters.") % {"count": TEXT_LIMITS[column]})
        elif text:
            c[column] = text
    phone2 = _text(row.raw, "phone2")
    if phone2:
        try:
            c["phone2"] = normalize_mobile(phone2)
        except DomainError as exc:
            row.error("phone2", exc.message)
    gender = _text(row.raw, "gender")
    if gender:
        if gender.lower() in GENDERS:
            c["gender"] = GENDERS[gender.lower()]
        else:
            row.error("gender", _("Enter m or f (男 or 女)."))
    id_number = _text(row.raw, "id_number").upper()
    if id_number and "*" not in id_number:  # a masked number from an export is not a change
        if id_number_is_valid(id_number):
            c["id_number"] = id_number
        else:
            row.error(
                "id_number",
                _("This ID-card number is not valid (check the date and the last digit)."),
            )
    for column in (*CUSTOMER_DATE_FIELDS, *VEHICLE_DATE_FIELDS):
        value = row.raw.get(column, "")
        if value in ("", None):
            continue
        target = c if column in CUSTOMER_DATE_FIELDS else v
        try:
            target[column] = _parse_date(value)
        except _CellError as exc:
            row.error(column, exc)
    if c.get("birthday") and c["birthday"] > timezone.localdate():
        row.error("birthday", _("A birthday cannot be in the future."))
        del c["birthday"]
    tags = _text(row.raw, "tags")
    if tags:
        try:
            c["tags"] = _parse_tags(tags)
        except _CellError as exc:
            row.error("tags", exc)
    code = _text(row.raw, "store_code")
    if code:
        store = stores.get(code) or stores.get(code.lower())
        if store is None:
            row.error(
                "store_code",
                _("No store of this dealer group has the code %(code)s.") % {"code": code},
            )
        else:
            c["store"] = store
    for column in CONSULTANT_COLUMNS:
        username = _text(row.raw, column)
        if not username:
            continue
        member = staff.get(username)
        if member is None:
            row.error(
                column,
                _("No staff member of this dealer group has the username %(name)s.")
                % {"name": username},
            )
        else:
            c[column] = member
    for column in VEHICLE_TEXT_FIELDS:
        text = _text(row.raw, column)
        if len(text) > TEXT_LIMITS[column]:
            row.error(column, _("At most %(count)d characters.") % {"count": TEXT_LIMITS[column]})
        elif text:
            v[column] = text
    fuel = _text(row.raw, "fuel")
    if fuel:
        if fuel.lower() in FUELS:
            v["fuel"] = FUELS[fuel.lower()]
        else:
            row.error("fuel", _("Enter one of: %(choices)s.") % {"choices": ", ".join(Fuel.values)})
    for column, low, high in (
        ("model_year", 1950, timezone.localdate().year + 2),
        ("odometer_km", 0, MAX_ODOMETER_KM),
    ):
        text = _text(row.raw, column)
        if text:
            try:
                v[column] = _parse_int(text, low, high)
            except _CellError as exc:
                row.error(column, exc)
    if not _text(row.raw, "vin") and any(_text(row.raw, n) for n in VEHICLE_COLUMNS):
        row.error("vin", _("Enter the car's VIN to import its details."))


def _comparable(value):
    return getattr(value, "pk", value)


def _merge(target: dict, row: _Row, values: dict, rows_of: str) -> None:
    """Add one row's values to the merged values of its customer or car; a value that differs
    from an earlier row's is an error."""
    for name, value in values.items():
        if name not in target:
            target[name] = (value, row.number)
        elif _comparable(target[name][0]) != _comparable(value):
            row.error(
                name if name != "store" else "store_code",
                _("Differs from row %(row)d for the same %(what)s.")
                % {"row": target[name][1], "what": rows_of},
            )


def _check_actor(actor, group_id: int) -> None:
    """None means the system (the CLI command); staff need the import capability in this group."""
    if actor is None:
        return
    check_perm(actor, Perm.IMPORT_CUSTOMERS)
    if not actor.is_platform_admin and actor.dealer_group_id != group_id:
        raise NotFound()


def plan_import(group_id: int, rows: Iterable[dict]) -> ImportPlan:
    """Check every row against the group's data and say what an import would do. Writes nothing;
    a constant number of queries whatever the number of rows (up to LOOKUP_CHUNK per IN list)."""
    return _plan(group_id, rows, lock=False)


def _plan(group_id: int, rows: Iterable[dict], *, lock: bool) -> ImportPlan:
    parsed = _canonical_rows(rows)
    for row in parsed:
        _parse_keys(row)

    # Look-ups: one query per table (per chunk of LOOKUP_CHUNK values).
    stores_list = list(Store.objects.for_group(group_id))
    stores = {s.code: s for s in stores_list}
    active_stores = [s for s in stores_list if s.is_active]
    default_store = active_stores[0] if len(active_stores) == 1 else None
    phones = sorted({r.phone for r in parsed if r.phone})
    vins = sorted({r.vin for r in parsed if r.vin})
    plates = sorted({r.vehicle["plate"] for r in parsed if r.vehicle.get("plate")})
    customers_qs = Customer.objects.for_group(group_id)
    vehicles_qs = Vehicle.objects.for_group(group_id).select_related("current_owner")
    if lock:
        customers_qs = customers_qs.select_for_update()
        vehicles_qs = vehicles_qs.select_for_update(of=("self",))
    existing_customers = {
        c.phone: c for chunk in _chunks(phones) for c in customers_qs.filter(phone__in=chunk)
    }
    existing_vehicles = {
        v.pk: v for chunk in _chunks(vins) for v in vehicles_qs.filter(vin__in=chunk)
    }
    for chunk in _chunks(plates):
        existing_vehicles.update((v.pk, v) for v in vehicles_qs.filter(plate__in=chunk))
    by_vin = {v.vin: v for v in existing_vehicles.values()}
    by_plate = {v.plate: v for v in existing_vehicles.values() if v.plate}
    usernames = sorted(
        {_text(r.raw, column) for r in parsed for column in CONSULTANT_COLUMNS} - {""}
    )
    staff = {
        u.username: u
        for chunk in _chunks(usernames)
        for u in StaffUser.objects.filter(dealer_group_id=group_id, username__in=chunk)
    }
    staff_stores: dict[int, set[int]] = defaultdict(set)
    through = StaffUser.stores.through
    for chunk in _chunks([u.pk for u in staff.values()]):
        for staff_id, store_id in through.objects.filter(staffuser_id__in=chunk).values_list(
            "staffuser_id", "store_id"
        ):
            staff_stores[staff_id].add(store_id)

    for row in parsed:
        _parse_row(row, stores, staff)

    # Across rows: one customer per phone, one customer per VIN, one VIN per plate.
    customer_plans: dict[str, _CustomerPlan] = {}
    vehicle_plans: dict[str, _VehiclePlan] = {}
    rows_by_vin: dict[str, list[_Row]] = defaultdict(list)
    vins_by_plate: dict[str, set[str]] = defaultdict(set)
    rows_by_plate: dict[str, list[_Row]] = defaultdict(list)
    same_phone, same_vin = _("phone number"), _("VIN")
    for row in parsed:
        if not row.phone:
            continue
        plan = customer_plans.setdefault(
            row.phone,
            _CustomerPlan(phone=row.phone, rows=[], existing=existing_customers.get(row.phone)),
        )
        plan.rows.append(row.number)
        _merge(plan.fields, row, row.customer, same_phone)
        if row.vin:
            rows_by_vin[row.vin].append(row)
            if row.vehicle.get("plate"):
                vins_by_plate[row.vehicle["plate"]].add(row.vin)
                rows_by_plate[row.vehicle["plate"]].append(row)
    for vin, vin_rows in rows_by_vin.items():
        owners = {r.phone for r in vin_rows}
        if len(owners) > 1:
            numbers = ", ".join(str(r.number) for r in vin_rows)
            for r in vin_rows:
                r.error(
                    "vin",
                    _("This VIN appears in rows %(rows)s with different phone numbers.")
                    % {"rows": numbers},
                )
            continue
        plan = vehicle_plans[vin] = _VehiclePlan(
            vin=vin, phone=vin_rows[0].phone, rows=[], existing=by_vin.get(vin)
        )
        for r in vin_rows:
            plan.rows.append(r.number)
            _merge(plan.fields, r, r.vehicle, same_vin)
    for plate, plate_vins in vins_by_plate.items():
        if len(plate_vins) > 1:
            numbers = ", ".join(str(r.number) for r in rows_by_plate[plate])
            for r in rows_by_plate[plate]:
                r.error(
                    "plate",
                    _("This plate appears in rows %(rows)s with different VINs.")
                    % {"rows": numbers},
                )
    row_by_number = {r.number: r for r in parsed}

    # Each customer against the stored data: store, name, consultants.
    for plan in customer_plans.values():
        first = row_by_number[plan.rows[0]]
        existing = plan.existing
        store_value = plan.fields.get("store")
        store = store_value[0] if store_value else None
        if (
            store is not None
            and not store.is_active
            and (existing is None or existing.store_id != store.pk)
        ):
            row_by_number[store_value[1]].error(
                "store_code", _("The store %(code)s is closed.") % {"code": store.code}
            )
        store_id = (
            store.pk
            if store
            else existing.store_id
            if existing
            else default_store.pk
            if default_store
            else None
        )
        if store_id is None:
            first.error("store_code", _("Enter the store code for a new customer."))
        if existing is None and "name" not in plan.fields:
            first.error("name", _("Enter the new customer's name."))
        for column in CONSULTANT_COLUMNS:
            if column not in plan.fields:
                continue
            member, number = plan.fields[column]
            if existing is not None and getattr(existing, f"{column}_id") == member.pk:
                continue  # already assigned: not a change, not checked again
            if not member.is_active:
                row_by_number[number].error(
                    column, _("%(name)s no longer works here.") % {"name": member.username}
                )
            elif member.role not in ASSIGNMENT_ROLES[column]:
                row_by_number[number].error(
                    column,
                    _("%(name)s cannot be this customer's %(role)s.")
                    % {"name": member.username, "role": Assignment(column).label},
                )
            elif store_id is not None and store_id not in staff_stores[member.pk]:
                row_by_number[number].error(
                    column,
                    _("%(name)s does not work at the customer's store.")
                    % {"name": member.username},
                )

    # Each car against the stored data: plate, owner.
    for vin, plan in vehicle_plans.items():
        owner = existing_customers.get(plan.phone)
        row = row_by_number[plan.rows[0]]
        existing = plan.existing
        plate_value = plan.fields.get("plate")
        if plate_value:
            plate, number = plate_value
            if existing is not None and existing.plate and existing.plate != plate:
                row_by_number[number].error(
                    "plate",
                    _("The car with this VIN has the plate %(stored)s, not %(plate)s.")
                    % {"stored": existing.plate, "plate": plate},
                )
            other = by_plate.get(plate)
            if other is not None and other.vin != vin:
                row_by_number[number].error(
                    "plate",
                    _("The plate %(plate)s belongs to another car (VIN %(vin)s).")
                    % {"plate": plate, "vin": other.vin},
                )
        if (
            existing is not None
            and existing.current_owner_id is not None
            and (owner is None or existing.current_owner_id != owner.pk)
        ):
            holder = existing.current_owner
            row.error(
                "vin",
                _("This car belongs to another customer (%(name)s, phone ending %(last4)s).")
                % {"name": holder.name, "last4": holder.phone_last4},
            )

    # What would change, for customers and cars without errors.
    bad_rows = {r.number for r in parsed if r.errors}
    for plan in customer_plans.values():
        if not bad_rows.intersection(plan.rows):
            _plan_customer(group_id, plan, default_store)
    for plan in vehicle_plans.values():
        customer = customer_plans[plan.phone]
        if customer.action is not None and not bad_rows.intersection(plan.rows):
            _plan_vehicle(group_id, plan, customer)

    row_plans, errors = [], []
    for row in parsed:
        errors.extend(row.errors)
        customer = customer_plans.get(row.phone)
        vehicle = vehicle_plans.get(row.vin)
        row_plans.append(
            RowPlan(
                row=row.number,
                phone=row.phone,
                vin=row.vin,
                customer=customer.action if customer and not row.errors else None,
                vehicle=vehicle.action if vehicle and not row.errors else None,
            )
        )
    errors.sort(
        key=lambda e: (e.row, COLUMNS.index(e.field) if e.field in COLUMNS else len(COLUMNS))
    )
    return ImportPlan(
        group_id=group_id,
        rows_total=len(parsed),
        rows=row_plans,
        errors=errors,
        customers={p: c for p, c in customer_plans.items() if c.action},
        vehicles={v: p for v, p in vehicle_plans.items() if p.action},
    )


def _same_tags(stored, new: list[str]) -> bool:
    return sorted({str(t) for t in stored or []}) == new


def _plan_customer(group_id: int, plan: _CustomerPlan, default_store: Store | None) -> None:
    values = {name: value for name, (value, _row) in plan.fields.items()}
    existing = plan.existing
    if existing is None:
        customer = Customer(
            dealer_group_id=group_id,
            phone=plan.phone,
            source=Source.IMPORT,
            store=values.pop("store", default_store),
        )
        id_number = values.pop("id_number", "")
        for name, value in values.items():
            setattr(customer, name, value)
        set_id_number(customer, id_number)
        customer.phone_last4 = customer.phone[-4:]
        customer.phone2_last4 = customer.phone2[-4:] if customer.phone2 else ""
        plan.instance, plan.action = customer, "create"
        return
    changes = {}
    for name, value in values.items():
        if name == "id_number":
            if crypto.decrypt(existing.id_number_cipher) != value:
                changes[name] = value
        elif name == "tags":
            if not _same_tags(existing.tags, value):
                changes[name] = value
        elif name in ("store", *CONSULTANT_COLUMNS):
            if getattr(existing, f"{name}_id") != value.pk:
                changes[name] = value
        elif getattr(existing, name) != value:
            changes[name] = value
    plan.instance = existing
    if not changes:
        plan.action = "unchanged"
        return
    plan.before = snapshot(existing)
    for name, value in changes.items():
        if name == "id_number":
            set_id_number(existing, value)
            plan.changed |= {"id_number_cipher", "id_number_masked"}
            continue
        setattr(existing, name, value)
        plan.changed.add(name)
        if name == "phone2":
            existing.phone2_last4 = value[-4:]
            plan.changed.add("phone2_last4")
    plan.action = "update"


def _plan_vehicle(group_id: int, plan: _VehiclePlan, customer: _CustomerPlan) -> None:
    values = {name: value for name, (value, _row) in plan.fields.items()}
    existing = plan.existing
    if existing is None:
        vehicle = Vehicle(dealer_group_id=group_id, vin=plan.vin, **values)
        if vehicle.model_year is None:
            vehicle.model_year = vin_model_year(plan.vin)
        vehicle.current_owner = customer.instance
        plan.instance, plan.action, plan.new_ownership = vehicle, "create", True
        return
    changes = {name: value for name, value in values.items() if getattr(existing, name) != value}
    plan.instance = existing
    if existing.current_owner_id is None:
        plan.new_ownership = True
    if not changes and not plan.new_ownership:
        plan.action = "unchanged"
        return
    plan.before = snapshot(existing)
    for name, value in changes.items():
        setattr(existing, name, value)
        plan.changed.add(name)
    if plan.new_ownership:
        existing.current_owner = customer.instance
        plan.changed.add("current_owner")
    plan.action = "update"


# --- writing ----------------------------------------------------------------------------------------
def run_import(
    actor,
    group_id: int,
    rows: Iterable[dict],
    *,
    dry_run: bool,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Import customers and cars. ``actor`` is a staff member holding IMPORT_CUSTOMERS, or None
    for the system (the CLI command). A dry run only plans. A real run refuses the whole file
    (DomainError "import_has_errors") when any row has an error; otherwise it writes every
    change in one transaction. ``progress(n_done)`` is called with the number of rows written."""
    _check_actor(actor, group_id)
    rows = list(rows)
    if dry_run:
        return plan_import(group_id, rows).report(dry_run=True)
    try:
        with transaction.atomic():
            plan = _plan(group_id, rows, lock=True)
            report = plan.report(dry_run=False)
            if plan.has_errors:
                error = DomainError(
                    "import_has_errors",
                    _(
                        "%(count)d problem(s) in the file; nothing was imported. Fix them and import again."
                    )
                    % {"count": len(plan.errors)},
                    status=400,
                    error_count=len(plan.errors),
                    errors=[
                        {"row": e.row, "field": e.field, "message": e.message}
                        for e in plan.errors[:50]
                    ],
                )
                error.report = report
                raise error
            _write(plan, actor, progress)
    except IntegrityError:
        raise DomainError(
            "import_conflict",
            _(
                "These customers or cars were changed while importing; nothing was imported. Import the file again."
            ),
            status=409,
        ) from None
    return report


def _audit_entry(group_id: int, actor, action: str, obj, before: dict | None, now) -> AuditEntry:
    return audit_entry(
        actor=actor,
        action=action,
        group_id=group_id,
        changes=diff(before, snapshot(obj)),
        obj=obj,
        at=now,
    )


def _write(plan: ImportPlan, actor, progress) -> None:
    group_id, now = plan.group_id, timezone.now()
    customers_by_row: dict[int, list[_CustomerPlan]] = defaultdict(list)
    for customer in plan.customers.values():
        customers_by_row[customer.rows[0]].append(customer)
    vehicles_by_row: dict[int, list[_VehiclePlan]] = defaultdict(list)
    for vehicle in plan.vehicles.values():
        vehicles_by_row[vehicle.rows[0]].append(vehicle)
    numbers = [r.row for r in plan.rows]
    for start in range(0, len(numbers), BATCH_SIZE):
        batch = numbers[start : start + BATCH_SIZE]
        customers = [c for n in batch for c in customers_by_row.get(n, ())]
        vehicles = [v for n in batch for v in vehicles_by_row.get(n, ())]
        _write_customers(group_id, actor, customers, now)
        _write_vehicles(group_id, actor, vehicles, now)
        if progress is not None:
            progress(start + len(batch))


def _write_customers(group_id: int, actor, plans: list[_CustomerPlan], now) -> None:
    created = [p.instance for p in plans if p.action == "create"]
    changed = [p for p in plans if p.action == "update"]
    if created:
        Customer.objects.bulk_create(created, batch_size=BATCH_SIZE)
        if any(c.pk is None for c in created):  # a backend that cannot return ids from an insert
            ids = dict(
                Customer.objects.for_group(group_id)
                .filter(phone__in=[c.phone for c in created])
                .values_list("phone", "pk")
            )
            for c in created:
                c.pk = ids[c.phone]
        TimelineEvent.objects.bulk_create(
            [
                timeline_event(
                    group_id=group_id,
                    customer_id=c.pk,
                    kind=TimelineKind.IMPORT,
                    at=now,
                    actor=actor,
                    title=gettext_noop("Imported from a file"),
                )
                for c in created
            ],
            batch_size=BATCH_SIZE,
        )
    if changed:
        for p in changed:
            p.instance.updated_at = now
        fields = sorted(set().union(*(p.changed for p in changed)) | {"updated_at"})
        Customer.objects.for_group(group_id).bulk_update(
            [p.instance for p in changed], fields, batch_size=BATCH_SIZE
        )
    AuditEntry.objects.bulk_create(
        [_audit_entry(group_id, actor, AuditEntry.Action.CREATE, c, None, now) for c in created]
        + [
            _audit_entry(group_id, actor, AuditEntry.Action.UPDATE, p.instance, p.before, now)
            for p in changed
        ],
        batch_size=BATCH_SIZE,
    )


def _write_vehicles(group_id: int, actor, plans: list[_VehiclePlan], now) -> None:
    for p in plans:
        if p.action in ("create", "update") and p.instance.current_owner is not None:
            p.instance.current_owner_id = (
                p.instance.current_owner.pk
            )  # the owner may have been created just now
    created = [p.instance for p in plans if p.action == "create"]
    changed = [p for p in plans if p.action == "update"]
    if created:
        Vehicle.objects.bulk_create(created, batch_size=BATCH_SIZE)
        if any(v.pk is None for v in created):
            ids = dict(
                Vehicle.objects.for_group(group_id)
                .filter(vin__in=[v.vin for v in created])
                .values_list("vin", "pk")
            )
            for v in created:
                v.pk = ids[v.vin]
    if changed:
        for p in changed:
            p.instance.updated_at = now
        fields = sorted(set().union(*(p.changed for p in changed)) | {"updated_at"})
        Vehicle.objects.for_group(group_id).bulk_update(
            [p.instance for p in changed], fields, batch_size=BATCH_SIZE
        )
    new_owners = [p.instance for p in plans if p.new_ownership]
    if new_owners:
        # A car without a current owner should have no open ownership; close any left over.
        VehicleOwnership.objects.for_group(group_id).filter(
            vehicle_id__in=[v.pk for v in new_owners if v.pk], ended_at__isnull=True
        ).update(ended_at=now)
        VehicleOwnership.objects.bulk_create(
            [
                VehicleOwnership(
                    dealer_group_id=group_id,
                    vehicle=v,
                    customer_id=v.current_owner_id,
                    reason=OwnershipReason.IMPORT,
                    started_at=now,
                )
                for v in new_owners
            ],
            batch_size=BATCH_SIZE,
        )
    AuditEntry.objects.bulk_create(
        [_audit_entry(group_id, actor, AuditEntry.Action.CREATE, v, None, now) for v in created]
        + [
            _audit_entry(group_id, actor, AuditEntry.Action.UPDATE, p.instance, p.before, now)
            for p in changed
        ],
        batch_size=BATCH_SIZE,
    )


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

"""The import's columns, and parsing cells and rows into checked values."""

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.customers.choices import Gender
from m4s.org.models import Store
from m4s.owners.phones import normalize_mobile
from m4s.staff.models import StaffUser
from m4s.vehicles.choices import Fuel
from m4s.vehicles.validation import (
    PlateError,
    VinError,
    id_number_is_valid,
    normalize_plate,
    normalize_vin,
)

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


LOOKUP_CHUNK = 2000  # values per IN (...) list: far below SQLite's variable limit


class RowError(NamedTuple):
    """One problem in one row: (row_number, field, message). Row 1 is the header."""

    row: int
    field: str
    message: str


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

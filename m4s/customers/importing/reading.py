"""Reading an import file (.csv or .xlsx) into rows: size caps, row caps, the openpyxl dimension fix."""

import contextlib
import csv
import io
import os
import zipfile
from collections.abc import Iterable, Iterator
from xml.etree import ElementTree

import openpyxl
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet import _reader as openpyxl_sheet_reader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.dimensions import SheetDimension

from m4s.core.errors import DomainError

from .parsing import COLUMNS, REQUIRED_COLUMNS, _canonical_header, _cell, _unescape

MAX_ROWS = 100_000
MAX_BLANK_ROWS = 1_000  # blank lines tolerated beyond MAX_ROWS before a file counts as too long


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


def read_table(file_obj, extension: str) -> Iterator[tuple[int, list]]:
    """The raw rows of a .csv or .xlsx file as (row number, cells), for areas that import files
    with their own columns (e.g. care's traffic violations); close it when done."""
    return _read_csv(file_obj) if extension == ".csv" else _read_xlsx(file_obj)


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

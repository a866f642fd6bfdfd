"""A customer file cannot tie up the server: the upload and the unzipped workbook are capped,
reading stops at the row limit + 1, and a damaged workbook is a clear error, never a 500."""

import io
import re
import time
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from m4s.core.errors import DomainError
from m4s.customers.importing import read_rows, reading


def workbook(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def bomb(data_rows: int) -> bytes:
    """A workbook of `data_rows` identical rows: about 150 KB for a million rows once zipped."""
    small = zipfile.ZipFile(io.BytesIO(workbook([["name", "phone"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in small.infolist():
            data = small.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*>", b"", data)  # rows as many as there are
                head, tail = data.split(b"<sheetData>")[0], data.split(b"</sheetData>")[1]
                rows = b'<row><c t="inlineStr"><is><t>13800138000</t></is></c></row>' * data_rows
                header = b'<row><c t="inlineStr"><is><t>phone</t></is></c></row>'
                data = head + b"<sheetData>" + header + rows + b"</sheetData>" + tail
            z.writestr(info.filename, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


class CountingRows:
    """Wraps openpyxl's row iterator to count how many rows the importer pulled."""

    pulled = 0


@pytest.fixture
def counted(monkeypatch):
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    original = ReadOnlyWorksheet._cells_by_row
    CountingRows.pulled = 0

    def counting(self, *args, **kwargs):
        for row in original(self, *args, **kwargs):
            CountingRows.pulled += 1
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counting)
    return CountingRows


def test_a_million_row_workbook_stops_at_the_limit(counted, monkeypatch):
    data = bomb(1_000_000)
    assert len(data) < 400_000  # small on the wire
    monkeypatch.setattr(reading, "MAX_ROWS", 1_000)  # the same rule, at a size a test can run
    monkeypatch.setattr(reading, "MAX_BLANK_ROWS", 100)
    with pytest.raises(DomainError) as e:
        read_rows(io.BytesIO(data), "customers.xlsx")
    assert e.value.code == "too_many_rows"
    # reading stopped right after the limit instead of parsing the million rows
    assert counted.pulled <= 1_000 + 100 + 2


def test_rows_at_the_limit_are_read(monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 50)
    rows = read_rows(io.BytesIO(bomb(50)), "customers.xlsx")
    assert len(rows) == 50 and rows[-1]["phone"] == "13800138000"
    with pytest.raises(DomainError) as e:
        read_rows(io.BytesIO(bomb(51)), "customers.xlsx")
    assert e.value.code == "too_many_rows"


def test_blank_lines_count_towards_the_physical_limit(monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 10)
    monkeypatch.setattr(reading, "MAX_BLANK_ROWS", 5)
    ok = b"phone\n" + b"13800138000\n" * 10 + b"\n" * 4
    assert len(read_rows(io.BytesIO(ok), "c.csv")) == 10
    with pytest.raises(DomainError) as e:
        read_rows(io.BytesIO(b"phone\n" + b"\n" * 100 + b"13800138000\n"), "c.csv")
    assert e.value.code == "too_many_rows"


def test_upload_size_and_unzipped_size_are_capped(settings):
    settings.IMPORT_MAX_FILE_BYTES = 1_000
    csv_data = b"phone\n" + b"13800138000\n" * 200
    with pytest.raises(DomainError) as e:
        read_rows(io.BytesIO(csv_data), "c.csv")
    assert e.value.code == "file_too_large" and e.value.status == 413
    settings.IMPORT_MAX_FILE_BYTES = 10_000_000
    settings.IMPORT_MAX_UNZIPPED_BYTES = 1_000_000
    started = time.monotonic()
    with pytest.raises(DomainError) as e:
        read_rows(io.BytesIO(bomb(100_000)), "customers.xlsx")  # about 6 MB unzipped
    assert e.value.code == "file_too_large"
    assert time.monotonic() - started < 30  # refused from the zip directory, not by parsing


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, 0.99])
def test_truncated_workbooks_are_damaged_not_a_crash(cut):
    data = workbook([["name", "phone"]] + [["王芳", f"1380013{i:04d}"] for i in range(300)])
    with pytest.raises(DomainError) as e:
        read_rows(io.BytesIO(data[: int(len(data) * cut)]), "customers.xlsx")
    assert e.value.code == "unreadable_file"


def test_workbook_with_broken_xml_inside_is_damaged():
    data = workbook([["name", "phone"], ["王芳", "13800138000"]])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    for broken in ("xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for info in source.infolist():
                content = source.read(info.filename)
                if info.filename == broken:
                    content = content[: len(content) // 2]  # XML cut in the middle of a tag
                z.writestr(info.filename, content)
        with pytest.raises(DomainError) as e:
            read_rows(io.BytesIO(out.getvalue()), "customers.xlsx")
        assert e.value.code == "unreadable_file", broken


@pytest.mark.django_db
def test_console_upload_of_a_damaged_or_huge_file_shows_the_message(client, cars, settings):
    from m4s.core.tests.factories import PASSWORD

    assert client.login(username="admin-a", password=PASSWORD)
    data = workbook([["name", "phone"], ["王芳", "13800138000"]])
    r = client.post(
        "/console/customers/import/",
        {"file": SimpleUploadedFile("c.xlsx", data[: len(data) // 2])},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 200 and "This is not an Excel (.xlsx) workbook." in r.content.decode()
    settings.IMPORT_MAX_FILE_BYTES = 10_000
    r = client.post(
        "/console/customers/import/",
        {"file": SimpleUploadedFile("c.csv", b"phone\n" + b"13800138000\n" * 2_000)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 200 and "too large" in r.content.decode()

"""Customer import and export: files in and out, row errors, idempotency, tenants, CLI."""

import csv
import datetime as dt
import io
import random
import sys

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from m4s.core import crypto
from m4s.core.errors import DomainError
from m4s.core.models import AuditEntry
from m4s.core.tests.factories import StoreFactory, make_staff
from m4s.customers.importing import (
    COLUMNS,
    export_rows,
    plan_import,
    read_rows,
    run_import,
    write_csv,
    write_xlsx,
)
from m4s.customers.models import Customer, TimelineEvent
from m4s.customers.services import mask_id_number
from m4s.demo.synthetic import (
    make_address,
    make_chinese_name,
    make_id_number,
    make_mobile,
    make_plate,
    make_vehicle_model,
    make_vin,
)
from m4s.staff.choices import Role
from m4s.vehicles.models import Vehicle, VehicleOwnership
from m4s.vehicles.validation import VinError, normalize_vin

pytestmark = pytest.mark.django_db


# --- helpers ------------------------------------------------------------------------------------
@pytest.fixture
def team(world):
    """The world plus a sales consultant and a CS agent at store_a, and a second store of group A."""
    world.sales_a = make_staff("sales-a", Role.SALES_CONSULTANT, world.group_a, [world.store_a])
    world.cs_a = make_staff("cs-a", Role.CUSTOMER_SERVICE, world.group_a, [world.store_a])
    world.store_a2 = StoreFactory(dealer_group=world.group_a, name="Alpha East")
    return world


def person(n: int, store, *, car: bool = True, **overrides) -> dict:
    """A valid row for made-up person n (the same n always gives the same person and car)."""
    rng = random.Random(n)
    row = {
        "name": make_chinese_name(rng),
        "phone": make_mobile(rng).removeprefix("+86"),  # as dealers type it
        "birthday": f"1985-03-0{n % 9 + 1}",
        "gender": "男" if n % 2 else "女",
        "address": make_address(rng),
        "tags": "VIP、老客户",
        "store_code": store.code,
    }
    if car:
        brand, model, fuel = make_vehicle_model(rng)
        row.update(
            vin=make_vin(rng),
            plate=make_plate(rng),
            brand=brand,
            model=model,
            fuel=fuel,
            colour="白",
            purchase_date="2021-05-01",
            odometer_km="12,345",
            insurance_expiry="2026-05-01",
            insurer="人保",
        )
    row.update(overrides)
    return row


def to_csv(rows: list[dict], *, encoding: str = "utf-8-sig", headers: dict | None = None) -> bytes:
    columns = [c for c in COLUMNS if any(c in r for r in rows)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([(headers or {}).get(c, c) for c in columns])
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode(encoding)


def load(data: bytes, filename: str = "customers.csv") -> list[dict]:
    return read_rows(io.BytesIO(data), filename)


def table_counts() -> dict:
    return {
        m.__name__: m.objects.unscoped().count()
        for m in (Customer, Vehicle, VehicleOwnership, TimelineEvent, AuditEntry)
    }


def stamps() -> dict:
    return {
        **{("c", pk): at for pk, at in Customer.objects.unscoped().values_list("pk", "updated_at")},
        **{("v", pk): at for pk, at in Vehicle.objects.unscoped().values_list("pk", "updated_at")},
    }


def broken_vin(n: int) -> str:
    vin = make_vin(random.Random(n))
    return vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]  # wrong check digit


def good_file(w) -> list[dict]:
    """Three customers: one with two cars, one with one car, one without a car."""
    two_cars = person(
        1,
        w.store_a,
        sales_consultant="sales-a",
        service_advisor="advisor-a",
        cs_agent="cs-a",
        id_number=make_id_number(random.Random(1)),
    )
    second_car = person(
        11, w.store_a, phone=two_cars["phone"], name="", tags="", address="", birthday="", gender=""
    )
    return [two_cars, second_car, person(2, w.store_a), person(3, w.store_a, car=False)]


# --- reading files ------------------------------------------------------------------------------
def test_read_rows_csv_bom_gb18030_and_chinese_headers(team):
    rows = [person(1, team.store_a)]
    chinese = {
        "name": "姓名",
        "phone": "手机",
        "vin": "车架号",
        "plate": "车牌",
        "store_code": "门店编码",
    }
    for encoding in ("utf-8", "utf-8-sig", "gb18030"):
        read = load(to_csv(rows, encoding=encoding, headers=chinese))
        assert (
            read[0]["name"] == rows[0]["name"]
            and read[0]["vin"] == rows[0]["vin"]
            and read[0]["_row"] == 2
        )
    with pytest.raises(DomainError) as e:
        load(b"x", "customers.txt")
    assert e.value.code == "unsupported_file"
    with pytest.raises(DomainError) as e:
        load(b"phone,shoe size\n13800138000,42\n")
    assert e.value.code == "unknown_columns" and "shoe size" in e.value.message
    with pytest.raises(DomainError) as e:
        load(b"not a workbook", "customers.xlsx")
    assert e.value.code == "unreadable_file"


# --- dry run and errors -----------------------------------------------------------------------------
def test_dry_run_reports_row_errors_and_writes_nothing(team):
    dup_vin = make_vin(random.Random(99))
    rows = [
        person(1, team.store_a),  # row 2: fine
        person(2, team.store_a, vin=broken_vin(2)),  # row 3: bad VIN
        person(3, team.store_a, phone="12345"),  # row 4: bad phone
        person(4, team.store_a, vin=dup_vin),  # row 5: same VIN ...
        person(5, team.store_a, vin=dup_vin),  # row 6: ... other phone
        person(6, team.store_a, sales_consultant="nobody"),  # row 7: unknown staff
        person(7, team.store_a, service_advisor="sales-a"),  # row 8: wrong role
        person(8, team.store_a2, sales_consultant="sales-a"),  # row 9: not at that store
        person(9, team.store_a, store_code="nowhere", plate="XX123"),  # row 10: store, plate
        person(10, team.store_a, birthday="1985-02-30", fuel="coal"),  # row 11: date, fuel
    ]
    before = table_counts()
    report = run_import(team.admin_a, team.group_a.pk, load(to_csv(rows)), dry_run=True)
    try:
        normalize_vin(broken_vin(2))
    except VinError as exc:
        vin_message = str(exc.message)
    found = {(e.row, e.field) for e in report.errors}
    assert (3, "vin", vin_message) in report.errors
    assert {
        (4, "phone"),
        (5, "vin"),
        (6, "vin"),
        (7, "sales_consultant"),
        (8, "service_advisor"),
        (9, "sales_consultant"),
        (10, "store_code"),
        (10, "plate"),
        (11, "birthday"),
        (11, "fuel"),
    } <= found
    assert {e.row for e in report.errors} == set(range(3, 12))
    assert "nobody" in next(e.message for e in report.errors if e.row == 7)
    assert report.dry_run and report.rows_total == 10
    assert report.customers_created == 1 and report.vehicles_created == 1  # only row 2 is clean
    assert table_counts() == before

    with pytest.raises(DomainError) as e:
        run_import(team.admin_a, team.group_a.pk, load(to_csv(rows)), dry_run=False)
    assert e.value.code == "import_has_errors" and e.value.status == 400
    assert e.value.details["error_count"] == len(report.errors)
    assert table_counts() == before


def test_conflicting_rows_of_one_customer_are_errors(team):
    first = person(1, team.store_a)
    second_car = {k: v for k, v in person(2, team.store_a).items() if k in ("vin", "plate")}
    rows = [first, {**first, **second_car, "name": "别的名字"}]
    report = plan_import(team.group_a.pk, rows)
    assert [(e.row, e.field) for e in report.errors] == [(3, "name")]
    assert "row 2" in report.errors[0].message


def test_new_customer_needs_name_and_store(team):
    rows = [person(1, team.store_a, name="", store_code="", car=False)]
    plan = plan_import(team.group_a.pk, rows)
    assert {(e.row, e.field) for e in plan.errors} == {(2, "name"), (2, "store_code")}


# --- real runs -----------------------------------------------------------------------------------------
def test_corrected_file_creates_customers_vehicles_and_consultants(team):
    rows = good_file(team)
    report = run_import(team.admin_a, team.group_a.pk, load(to_csv(rows)), dry_run=False)
    assert (report.customers_created, report.customers_updated, report.customers_unchanged) == (
        3,
        0,
        0,
    )
    assert (report.vehicles_created, report.vehicles_updated, report.vehicles_unchanged) == (
        3,
        0,
        0,
    )
    assert report.errors == [] and report.rows_total == 4

    customers = Customer.objects.for_group(team.group_a)
    assert customers.count() == 3
    c = customers.get(phone="+86" + rows[0]["phone"])
    assert c.name == rows[0]["name"] and c.source == "import" and c.store == team.store_a
    assert c.phone_last4 == rows[0]["phone"][-4:]
    assert c.gender == "m" and c.birthday == dt.date(1985, 3, 2) and c.tags == ["VIP", "老客户"]
    assert (c.sales_consultant, c.service_advisor, c.cs_agent) == (
        team.sales_a,
        team.advisor_a,
        team.cs_a,
    )
    assert crypto.decrypt(c.id_number_cipher) == rows[0]["id_number"] and "*" in c.id_number_masked
    cars = Vehicle.objects.for_group(team.group_a).filter(current_owner=c).order_by("vin")
    assert sorted(v.vin for v in cars) == sorted([rows[0]["vin"], rows[1]["vin"]])
    car = cars.get(vin=rows[0]["vin"])
    assert (
        car.plate == rows[0]["plate"]
        and car.odometer_km == 12345
        and car.purchase_date == dt.date(2021, 5, 1)
    )
    assert car.model_year is not None
    ownerships = VehicleOwnership.objects.for_group(team.group_a)
    assert ownerships.count() == 3 and set(ownerships.values_list("reason", flat=True)) == {
        "import"
    }
    assert ownerships.filter(ended_at__isnull=True, customer=c).count() == 2
    timeline = TimelineEvent.objects.for_group(team.group_a)
    assert timeline.count() == 3 and set(timeline.values_list("kind", flat=True)) == {"import"}
    audit = AuditEntry.objects.for_group(team.group_a).filter(object_type="customers.customer")
    assert audit.count() == 3 and set(audit.values_list("actor_name", flat=True)) == {"admin-a"}
    assert not customers.get(phone="+86" + rows[3]["phone"]).vehicles.exists()


def test_reimporting_the_same_file_changes_nothing(team):
    data = to_csv(good_file(team))
    run_import(team.admin_a, team.group_a.pk, load(data), dry_run=False)
    before, times = table_counts(), stamps()
    report = run_import(team.admin_a, team.group_a.pk, load(data), dry_run=False)
    assert (report.customers_created, report.customers_updated, report.customers_unchanged) == (
        0,
        0,
        3,
    )
    assert (report.vehicles_created, report.vehicles_updated, report.vehicles_unchanged) == (
        0,
        0,
        3,
    )
    assert not report.changed_anything
    assert table_counts() == before
    assert stamps() == times


def test_a_changed_row_updates_only_that_customer(team):
    rows = good_file(team)
    run_import(team.admin_a, team.group_a.pk, load(to_csv(rows)), dry_run=False)
    before, times = table_counts(), stamps()
    rows[2] = {**rows[2], "address": "北京市朝阳区新地址1号", "odometer_km": "20000"}
    report = run_import(team.admin_a, team.group_a.pk, load(to_csv(rows)), dry_run=False)
    assert (report.customers_updated, report.customers_unchanged) == (1, 2)
    assert (report.vehicles_updated, report.vehicles_unchanged) == (1, 2)
    changed = Customer.objects.for_group(team.group_a).get(phone="+86" + rows[2]["phone"])
    car = Vehicle.objects.for_group(team.group_a).get(vin=rows[2]["vin"])
    assert changed.address == "北京市朝阳区新地址1号" and car.odometer_km == 20000
    after = stamps()
    assert {k for k in times if times[k] != after[k]} == {("c", changed.pk), ("v", car.pk)}
    counts = table_counts()
    assert counts["AuditEntry"] == before["AuditEntry"] + 2  # one customer, one car
    assert {k: v for k, v in counts.items() if k != "AuditEntry"} == {
        k: v for k, v in before.items() if k != "AuditEntry"
    }
    entry = (
        AuditEntry.objects.for_group(team.group_a).filter(object_type="customers.customer").first()
    )
    assert (
        entry.action == "update"
        and entry.object_id == str(changed.pk)
        and "address" in entry.changes
    )


def test_empty_cells_keep_stored_values_and_masked_id_is_ignored(team):
    rows = good_file(team)
    run_import(team.admin_a, team.group_a.pk, load(to_csv(rows)), dry_run=False)
    c = Customer.objects.for_group(team.group_a).get(phone="+86" + rows[0]["phone"])
    sparse = [{"phone": rows[0]["phone"], "id_number": c.id_number_masked, "address": ""}]
    report = run_import(team.admin_a, team.group_a.pk, sparse, dry_run=False)
    assert report.customers_unchanged == 1 and not report.errors
    c.refresh_from_db()
    assert (
        c.address == rows[0]["address"]
        and crypto.decrypt(c.id_number_cipher) == rows[0]["id_number"]
    )
    new_id = make_id_number(random.Random(1234))
    report = run_import(
        team.admin_a,
        team.group_a.pk,
        [{"phone": rows[0]["phone"], "id_number": new_id}],
        dry_run=False,
    )
    assert report.customers_updated == 1
    c.refresh_from_db()
    assert crypto.decrypt(c.id_number_cipher) == new_id and c.id_number_masked == mask_id_number(
        new_id
    )


def test_cars_already_known_to_the_group(team):
    owner_row = person(1, team.store_a)
    run_import(team.admin_a, team.group_a.pk, [owner_row], dry_run=False)
    rng = random.Random(500)
    loose = Vehicle.objects.create(
        dealer_group=team.group_a, vin=make_vin(rng), plate=make_plate(rng)
    )
    cases = {
        "vin": person(2, team.store_a, vin=owner_row["vin"], plate=""),  # someone else's car
        "plate": person(
            1, team.store_a, plate=make_plate(random.Random(77))
        ),  # known VIN, other plate
    }
    for field, row in cases.items():
        plan = plan_import(team.group_a.pk, [row])
        assert [(e.row, e.field) for e in plan.errors] == [(2, field)], plan.errors
    taken = plan_import(
        team.group_a.pk, [person(3, team.store_a, plate=owner_row["plate"])]
    )  # plate of another car
    assert [(e.row, e.field) for e in taken.errors] == [(2, "plate")] and owner_row[
        "vin"
    ] in taken.errors[0].message
    rows = [person(4, team.store_a, vin=loose.vin, plate=loose.plate)]  # a car without owner: fine
    report = run_import(team.admin_a, team.group_a.pk, rows, dry_run=False)
    assert report.vehicles_updated == 1 and report.customers_created == 1
    loose.refresh_from_db()
    assert loose.current_owner.phone == "+86" + rows[0]["phone"]
    assert loose.ownerships.get().reason == "import"


# --- XLSX ----------------------------------------------------------------------------------------------
def test_xlsx_with_chinese_headers_date_cells_and_number_cells(team):
    rng = random.Random(42)
    phone, vin, plate = make_mobile(rng), make_vin(rng), make_plate(rng)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "姓名",
            "手机",
            "生日",
            "性别",
            "门店编码",
            "车架号",
            "车牌",
            "购车日期",
            "里程",
            "年款",
            "燃料",
            "服务顾问",
        ]
    )
    sheet.append(
        [
            "王伟",
            int(phone.removeprefix("+86")),
            dt.datetime(1990, 1, 2),
            "男",
            team.store_a.code,
            vin,
            plate,
            dt.date(2022, 6, 1),
            8000,
            2022,
            "bev",
            "advisor-a",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = load(buffer.getvalue(), "客户.xlsx")
    assert rows[0]["_row"] == 2
    report = run_import(team.admin_a, team.group_a.pk, rows, dry_run=False)
    assert report.customers_created == 1 and report.vehicles_created == 1, report.errors
    c = Customer.objects.for_group(team.group_a).get(phone=phone)
    assert c.birthday == dt.date(1990, 1, 2) and c.service_advisor == team.advisor_a
    car = Vehicle.objects.for_group(team.group_a).get(vin=vin)
    assert (car.purchase_date, car.odometer_km, car.model_year, car.fuel) == (
        dt.date(2022, 6, 1),
        8000,
        2022,
        "bev",
    )
    again = run_import(
        team.admin_a, team.group_a.pk, load(buffer.getvalue(), "客户.xlsx"), dry_run=False
    )
    assert (again.customers_unchanged, again.vehicles_unchanged) == (1, 1)


# --- export ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_then_reimport_changes_nothing(team, kind):
    rows = good_file(team)
    rows.append(person(4, team.store_a, name="=SUM(1,2)", car=False))  # formula-like text survives
    run_import(team.admin_a, team.group_a.pk, load(to_csv(rows)), dry_run=False)
    buffer = io.BytesIO()
    (write_csv if kind == "csv" else write_xlsx)(export_rows(team.group_a.pk), buffer)
    exported = load(buffer.getvalue(), f"export.{kind}")
    assert len(exported) == 5  # three cars, two customers without one
    assert set(exported[0]) == {*COLUMNS, "_row"}
    before, times = table_counts(), stamps()
    report = run_import(team.admin_a, team.group_a.pk, exported, dry_run=False)
    assert report.errors == []
    assert (report.customers_created, report.customers_updated, report.customers_unchanged) == (
        0,
        0,
        4,
    )
    assert (report.vehicles_created, report.vehicles_updated, report.vehicles_unchanged) == (
        0,
        0,
        3,
    )
    assert table_counts() == before and stamps() == times
    if kind == "csv":
        assert "'=SUM(1,2)" in buffer.getvalue().decode("utf-8-sig")


def test_export_masks_id_numbers(team):
    rows = good_file(team)
    run_import(team.admin_a, team.group_a.pk, load(to_csv(rows)), dry_run=False)
    exported = list(export_rows(team.group_a.pk))
    mine = [r for r in exported if r["phone"] == "+86" + rows[0]["phone"]]
    assert len(mine) == 2 and {r["id_number"] for r in mine} == {
        mask_id_number(rows[0]["id_number"])
    }
    out = io.StringIO()
    write_csv(export_rows(team.group_a.pk), out)
    assert rows[0]["id_number"] not in out.getvalue()


# --- tenants and permissions ------------------------------------------------------------------------------
def test_group_b_import_cannot_touch_group_a(team):
    rows_a = good_file(team)
    run_import(team.admin_a, team.group_a.pk, load(to_csv(rows_a)), dry_run=False)
    times = stamps()
    rows_b = [
        {
            **r,
            "store_code": team.store_b.code,
            "sales_consultant": "",
            "service_advisor": "",
            "cs_agent": "",
        }
        for r in rows_a
    ]
    report = run_import(team.admin_b, team.group_b.pk, load(to_csv(rows_b)), dry_run=False)
    assert (report.customers_created, report.vehicles_created, report.errors) == (3, 3, [])
    phone = "+86" + rows_a[0]["phone"]
    both = Customer.objects.unscoped().filter(phone=phone)
    assert {c.dealer_group_id for c in both} == {team.group_a.pk, team.group_b.pk}
    assert Vehicle.objects.unscoped().filter(vin=rows_a[0]["vin"]).count() == 2
    assert all(stamps()[k] == t for k, t in times.items())  # group A's rows untouched
    a_customer = Customer.objects.for_group(team.group_a).get(phone=phone)
    assert a_customer.sales_consultant == team.sales_a
    # Group A's store codes and staff do not exist for group B.
    bad = plan_import(team.group_b.pk, [person(9, team.store_a, service_advisor="advisor-a")])
    assert {(e.field) for e in bad.errors} == {"store_code", "service_advisor"}


def test_import_and_export_need_the_import_permission(team):
    rows = load(to_csv(good_file(team)))
    before = table_counts()
    for dry_run in (True, False):
        with pytest.raises(DomainError) as e:
            run_import(team.advisor_a, team.group_a.pk, rows, dry_run=dry_run)
        assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        export_rows(team.group_a.pk, actor=team.advisor_a)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        run_import(team.admin_b, team.group_a.pk, rows, dry_run=False)
    assert e.value.status == 404
    assert table_counts() == before


# --- queries ------------------------------------------------------------------------------------------------
def test_plan_query_count_does_not_grow_with_rows(team):
    run_import(
        team.admin_a, team.group_a.pk, good_file(team), dry_run=False
    )  # some rows exist already

    def queries(n: int) -> int:
        rows = [
            person(i, team.store_a, sales_consultant="sales-a", service_advisor="advisor-a")
            for i in range(100, 100 + n)
        ]
        rows[0]["phone"] = good_file(team)[0]["phone"]
        rows[0]["name"] = good_file(team)[0]["name"]
        with CaptureQueriesContext(connection) as ctx:
            plan = plan_import(team.group_a.pk, rows)
        assert not plan.errors, plan.errors[:3]
        return len(ctx.captured_queries)

    assert queries(5) == queries(50)


# --- command line -----------------------------------------------------------------------------------------
def test_cli_import_dry_run_real_and_errors(team, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(to_csv(good_file(team)))
    before = table_counts()
    out = io.StringIO()
    call_command("import_customers", str(path), group=team.group_a.slug, dry_run=True, stdout=out)
    assert "Customers: 3 created" in out.getvalue() and "Dry run" in out.getvalue()
    assert table_counts() == before

    out = io.StringIO()
    call_command("import_customers", str(path), "--group", team.group_a.slug, stdout=out)
    assert "Customers: 3 created" in out.getvalue() and "Vehicles:  3 created" in out.getvalue()
    assert Customer.objects.for_group(team.group_a).count() == 3
    timeline = TimelineEvent.objects.for_group(team.group_a)
    assert timeline.count() == 3 and set(timeline.values_list("actor", flat=True)) == {None}
    assert set(AuditEntry.objects.for_group(team.group_a).values_list("actor_name", flat=True)) == {
        "system"
    }

    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        to_csv([person(5, team.store_a, vin=broken_vin(5)), person(6, team.store_a, phone="123")])
    )
    before = table_counts()
    for dry_run in (True, False):
        out = io.StringIO()
        with pytest.raises(CommandError) as e:
            call_command(
                "import_customers", str(bad), group=team.group_a.slug, dry_run=dry_run, stdout=out
            )
        assert e.value.returncode == 1
        text = out.getvalue()
        assert "Errors: 2" in text and "vin" in text and "phone" in text
    assert table_counts() == before
    with pytest.raises(CommandError):
        call_command("import_customers", str(path), group="no-such-group", stdout=io.StringIO())


def test_cli_export_and_dashed_aliases(team, tmp_path, monkeypatch, capsys):
    run_import(None, team.group_a.pk, good_file(team), dry_run=False)
    target = tmp_path / "out.xlsx"
    call_command(
        "export_customers", group=team.group_a.slug, output=str(target), stderr=io.StringIO()
    )
    assert len(load(target.read_bytes(), "out.xlsx")) == 4
    out = io.StringIO()
    call_command("export_customers", "--group", team.group_a.slug, "--format", "csv", stdout=out)
    assert len(load(out.getvalue().encode(), "out.csv")) == 4

    from m4s import cli

    monkeypatch.setattr(sys, "argv", ["m4s", "import-customers", "--help"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 0 and "--dry-run" in capsys.readouterr().out

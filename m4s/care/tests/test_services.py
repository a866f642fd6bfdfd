"""Staff-side care services and selectors: violations entered and imported (a bad row: nothing
stored), weather warnings, the quote request, declined lines at booking, the figures."""

import datetime as dt
import io

import pytest
from django.utils import timezone

from m4s.care import scan, selectors, services, violations
from m4s.care.models import Reminder, Violation, WeatherWarning
from m4s.core.errors import DomainError
from m4s.notify.models import Message
from m4s.vehicles.models import Vehicle

from .conftest import days


def _csv(rows: list[str]) -> io.BytesIO:
    return io.BytesIO(("\n".join(rows) + "\n").encode("utf-8-sig"))


def test_import_violations_from_csv(care):
    w = care
    when = (timezone.now() - days(3)).strftime("%Y-%m-%d %H:%M")
    data = _csv(
        [
            "车牌,违章时间,违章行为,地点,罚款,扣分,决定书编号",
            f"京A12345,{when},Running a red light,Ring 2,200,6,R-1",
            f"京A12345,{when},Speeding,Ring 3,100,3,R-2",
            f"京A12345,{when},Speeding,Ring 3,100,3,R-2",
        ]
    )
    result = violations.import_violations(w.admin_a, data, "violations.csv")
    assert (result.created, result.duplicates) == (2, 1)
    assert violations.import_violations(w.admin_a, _csv_again(when), "v.csv").duplicates == 2
    assert Violation.objects.for_group(w.group_a).filter(source="import").count() == 2


def _csv_again(when):
    return _csv(
        [
            "plate,occurred_at,description,fine_cny,points,external_ref",
            f"京A12345,{when},Running a red light,200,6,R-1",
            f"京A12345,{when},Speeding,100,3,R-2",
        ]
    )


def test_one_bad_row_and_nothing_is_imported(care):
    w = care
    when = (timezone.now() - days(3)).strftime("%Y-%m-%d %H:%M")
    data = _csv(
        [
            "plate,occurred_at,description,fine_cny,points,external_ref",
            f"京A12345,{when},Speeding,100,3,R-1",
            f"{w.other_car.plate},{when},Speeding,100,3,R-2",  # group B's car
            "京A12345,2001-01-01 08:00,Speeding,100,3,R-3",  # too long ago
            f"京A12345,{when},Speeding,lots,3,R-4",
        ]
    )
    with pytest.raises(DomainError) as e:
        violations.import_violations(w.admin_a, data, "violations.csv")
    assert e.value.code == "import_invalid"
    assert [(x["row"], x["code"]) for x in e.value.details["errors"]] == [
        (3, "unknown_vehicle"),
        (4, "date_out_of_range"),
        (5, "invalid_fine"),
    ]
    assert not Violation.objects.unscoped().exists()
    with pytest.raises(DomainError) as e:
        violations.import_violations(w.admin_a, _csv(["colour,size", "red,1"]), "v.csv")
    assert e.value.code == "unknown_columns"
    with pytest.raises(DomainError) as e:
        violations.import_violations(w.admin_a, io.BytesIO(b"x"), "v.pdf")
    assert e.value.code == "unsupported_file"
    with pytest.raises(DomainError) as e:  # an advisor may not import
        violations.import_violations(w.advisor_a, _csv_again("2026-01-01 08:00"), "v.csv")
    assert e.value.status == 403


def test_import_violations_from_xlsx(care):
    import openpyxl

    w = care
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["vin", "occurred_at", "description", "fine_cny", "points"])
    sheet.append(
        [
            w.my_car.vin,
            timezone.localtime().replace(tzinfo=None) - days(1),
            "Illegal parking",
            150,
            0,
        ]
    )
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    result = violations.import_violations(w.admin_a, out, "violations.xlsx")
    assert result.created == 1
    v = Violation.objects.for_group(w.group_a).get()
    assert v.description == "Illegal parking" and v.fine_cny == 150 and v.external_ref == ""


def test_staff_record_violations_for_their_groups_cars_only(care):
    w = care
    data = violations.ViolationInput(occurred_at=timezone.now() - days(1), description="Speeding")
    v = violations.record_violation_by_staff(w.advisor_a, w.my_car.pk, data)
    assert v.source == "staff" and v.recorded_by == w.advisor_a
    with pytest.raises(DomainError) as e:
        violations.record_violation_by_staff(w.advisor_a, w.other_car.pk, data)
    assert e.value.status == 404
    with pytest.raises(DomainError) as e:
        violations.record_violation_by_staff(w.tech_a, w.my_car.pk, data)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        violations.set_violation_status(w.advisor_b, v.pk, "cleared")
    assert e.value.status == 404


def test_publishing_a_weather_warning(care):
    w = care
    now = timezone.now()
    ok = dict(city="Beijing", kind="typhoon", severity="red", starts_at=now, ends_at=now + days(1))
    with pytest.raises(DomainError):  # advisors do not publish
        services.publish_warning(w.advisor_a, **ok)
    for bad in (
        {"city": ""},
        {"kind": "meteor"},
        {"severity": "purple"},
        {"ends_at": now - days(1)},
        {"starts_at": now + days(30), "ends_at": now + days(31)},
        {"latitude": 95, "longitude": 10},
        {"latitude": 39.9},
        {"radius_km": 0},
    ):
        with pytest.raises(DomainError) as e:
            services.publish_warning(w.admin_a, **{**ok, **bad})
        assert e.value.status == 422, bad
    assert not WeatherWarning.objects.exists()
    warning = services.publish_warning(w.admin_a, **ok, latitude=39.9, longitude=116.4)
    assert warning.dealer_group_id == w.group_a.pk and warning.local_org_id is None
    assert list(selectors.warnings_for_actor(w.admin_a)) == [warning]
    assert list(selectors.warnings_for_actor(w.admin_b)) == []


def test_asking_for_an_insurance_quote_tells_the_store(care):
    w = care
    Vehicle.objects.unscoped().filter(pk=w.my_car.pk).update(insurance_expiry=w.today + days(25))
    scan.run_scan(["insurance"])
    r = Reminder.objects.unscoped().get()
    with pytest.raises(DomainError):
        services.request_quote(w.owner_b, r)
    services.request_quote(w.owner, r)
    r.refresh_from_db()
    assert r.status == "done"
    assert Message.objects.filter(kind="care.quote_request", staff__isnull=False).exists()


def test_declined_items_for_the_advisor_at_booking(care):
    from m4s.service import workshop

    w = care
    ro = workshop.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms="noise",
    )
    points = {p.name: p.pk for p in w.template.points.all()}
    workshop.record_inspection(
        w.tech_a,
        ro,
        [
            {"point_id": pk, "rating": "green"}
            if name != "Front brake pads"
            else {"point_id": pk, "rating": "red", "measurement": "3.5"}
            for name, pk in points.items()
        ],
    )
    workshop.complete_inspection(w.tech_a, ro)
    line = ro.lines.get(result__isnull=False)
    workshop.decide_line(ro, line.pk, False, owner=w.owner)
    (item,) = selectors.declined_items_for_vehicle(w.advisor_a, w.my_car)
    assert item["line"].pk == line.pk and item["rating"] == "red"
    assert item["measurement"] == "3.5 mm" and item["declined_on"] == w.today
    assert selectors.declined_items_for_vehicle(w.tech_a, w.my_car) == []


def test_figures_count_reminders_sent_and_the_visits_they_brought(care):
    from m4s.service.models import Appointment

    w = care
    Vehicle.objects.unscoped().filter(pk=w.my_car.pk).update(insurance_expiry=w.today + days(25))
    scan.run_scan(["insurance"])
    figures = selectors.figures(w.admin_a)
    insurance = next(f for f in figures.by_kind if f.kind == "insurance")
    assert (insurance.sent, insurance.booked) == (1, 0)
    Appointment.objects.create(
        dealer_group=w.group_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        advisor=w.advisor_a,
        starts_at=timezone.now() + days(2),
        date=w.today + days(2),
        channel="app",
    )
    insurance = next(f for f in selectors.figures(w.admin_a).by_kind if f.kind == "insurance")
    assert (insurance.sent, insurance.booked, insurance.conversion) == (1, 1, 1.0)
    assert all(f.sent == 0 for f in selectors.figures(w.admin_b).by_kind)
    with pytest.raises(DomainError):
        selectors.figures(w.advisor_a)
    last_month = (w.today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert all(f.sent == 0 for f in selectors.figures(w.admin_a, last_month).by_kind)

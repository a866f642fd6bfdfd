"""The mileage forecast: the estimator, per car and fleet paths agreeing, the file CLI and the
evaluation on simulated owners."""

import datetime as dt
import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from m4s.telematics import forecast, forecast_eval, habits, services
from m4s.telematics.models import DailyOdometer, MileageForecast

D0 = dt.date(2026, 3, 2)  # a Monday


def _days(km_of_day, n=84, start=D0, odo=10000.0):
    """Daily readings for n days from `start`, km_of_day(i, date) driven on day i."""
    out = []
    for i in range(n):
        day = start + dt.timedelta(days=i)
        odo += km_of_day(i, day)
        out.append((day, round(odo, 1)))
    return out


def test_a_steady_commuter_gets_the_rate_and_a_narrow_band():
    pts = _days(lambda i, d: 50.0)
    f = forecast.estimate(pts, today=pts[-1][0])
    assert f.km_per_day == pytest.approx(50) and f.low == pytest.approx(50) == f.high
    assert f.confidence == 1.0 and f.last_odometer_km == pts[-1][1] and f.days == 84


def test_weekend_driving_counts_at_its_share_whatever_the_weekday_today():
    """140 km on Saturdays and Sundays only: 40 km a day over the week, whichever day the data
    ends (whole weeks weigh the same); the median day the old per-car path used was 0."""
    pts = _days(lambda i, d: 140.0 if d.weekday() >= 5 else 0.0, n=91)
    for end in range(84, 91):
        f = forecast.estimate(pts[:end], today=pts[end - 1][0])
        assert f.km_per_day == pytest.approx(40, rel=0.12)
        assert f.low < 40 < f.high
    assert forecast_eval.old_per_car(pts, pts[-1][0]).km_per_day == 0


def test_a_parked_week_lowers_the_rate_by_its_share_only():
    parked = range(50, 57)
    pts = _days(lambda i, d: 0.0 if i in parked else 60.0)
    f = forecast.estimate(pts, today=pts[-1][0])
    assert 45 < f.km_per_day < 60
    # parked for the last two weeks: the 30-day line through them falls further
    pts = _days(lambda i, d: 0.0 if i >= 70 else 60.0)
    f = forecast.estimate(pts, today=pts[-1][0])
    assert f.km_per_day > 35 > forecast_eval.linear_30(pts, pts[-1][0]).km_per_day


@pytest.mark.parametrize("glitch", [0.0, 99999.0, "tenth"])
@pytest.mark.parametrize("at", [0, 1, 40, 82, 83])
def test_an_odometer_glitch_is_dropped(glitch, at):
    pts = _days(lambda i, d: 50.0)
    day, km = pts[at]
    pts[at] = (day, round(km / 10, 1) if glitch == "tenth" else glitch)
    f = forecast.estimate(pts, today=pts[-1][0])
    assert f.km_per_day == pytest.approx(50, rel=0.03)
    assert f.last_odometer_km == pytest.approx(pts[-1][1] if at != 83 else pts[-2][1])


def test_readings_outside_the_window_are_ignored_and_two_are_needed():
    pts = _days(lambda i, d: 50.0)
    assert forecast.estimate(pts[:1], today=pts[0][0]) is None
    late = pts[-1][0] + dt.timedelta(days=forecast.WINDOW_DAYS)
    assert forecast.estimate(pts, today=late) is None


def test_due_date_is_the_earlier_rule():
    common = {"last_date": D0, "last_km": 15000.0, "service_date": D0, "interval_months": 12}
    assert forecast.due_date(
        km_per_day=50, service_km=10000.0, interval_km=10000, **common
    ) == D0 + dt.timedelta(days=100)
    assert forecast.due_date(km_per_day=1, service_km=10000.0, interval_km=10000, **common) == (
        dt.date(2027, 3, 2)
    )
    assert forecast.due_date(km_per_day=50, service_km=4000.0, interval_km=10000, **common) == D0


def _load(vehicle, group, pts):
    DailyOdometer.objects.bulk_create(
        DailyOdometer(dealer_group=group, vehicle=vehicle, date=d, odometer_km=k, source="can")
        for d, k in pts
    )


def test_per_car_and_fleet_paths_give_the_same_forecast(workshop):
    """The same estimator on this database's fleet path (PostgreSQL: FLEET_SQL; SQLite: Python)
    and per car, on simulated owners with glitches, parked weeks and gaps."""
    w = workshop
    today = timezone.localdate()
    cars = [c for c in (w.my_car, getattr(w, "car", None), getattr(w, "other_car", None)) if c]
    assert len({c.dealer_group_id for c in cars}) == 2
    rng = random.Random(5)
    traces = {}
    for n, car in enumerate(cars):
        t = habits.trace(n + 1, habits.HABITS[n % len(habits.HABITS)], seed=3, glitch_p=1.0)
        shift = today - t.today
        pts = [
            (t.observed_start + shift + dt.timedelta(days=j), k)
            for j, k in enumerate(t.observed)
            if rng.random() > 0.1  # a terminal that misses a day now and then
        ]
        _load(car, car.dealer_group, pts)
        traces[car.pk] = pts
    assert services.recompute_all_forecasts(today=today) == len(cars)
    fleet = {f.vehicle_id: f for f in MileageForecast.objects.unscoped().all()}
    for car in cars:
        one = services.compute_forecast(car.pk, today=today)
        many = fleet[car.pk]
        expected = forecast.estimate(traces[car.pk], today=today)
        for row in (one, many):
            assert row.km_per_day == pytest.approx(expected.km_per_day, rel=1e-9)
            assert row.km_per_day_low == pytest.approx(expected.low, rel=1e-9, abs=1e-9)
            assert row.km_per_day_high == pytest.approx(expected.high, rel=1e-9)
            assert row.confidence == pytest.approx(expected.confidence, abs=0.011)
            assert (row.days, row.last_odometer_km, row.last_date) == (
                expected.days,
                expected.last_odometer_km,
                expected.last_date,
            )
    # again: every forecast updated in place, none added
    assert services.recompute_all_forecasts(today=today) == len(cars)
    assert MileageForecast.objects.unscoped().count() == len(cars)
    assert connection.vendor in ("postgresql", "sqlite")


def _trace_file(tmp_path, cars):
    path = tmp_path / "traces.json"
    path.write_text(json.dumps({"cars": cars}))
    return path


def test_the_cli_predicts_due_dates_from_a_file(tmp_path):
    t = habits.trace(7, "commuter", seed=1, glitch_p=0)
    flat = {
        "car": "x",
        "observed_start": "2026-05-01",
        "observed_daily_odometer_km": [11000.0 + 50 * i for i in range(30)],
        "last_service_km": 11000.0,
        "last_service_date": "2026-05-01",
        "interval_km": 10000,
        "interval_months": 12,
    }
    out = tmp_path / "predictions.json"
    call_command("forecast", traces=_trace_file(tmp_path, [t.as_json(), flat]), out=out)
    got = json.loads(out.read_text())
    assert set(got) == {"7", "x"}
    # 50 km a day from 12,450 km on 30 May: 8,550 km left → 171 days
    assert got["x"] == (dt.date(2026, 5, 30) + dt.timedelta(days=171)).isoformat()
    assert abs((dt.date.fromisoformat(got["7"]) - t.true_due).days) < 60


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        ('{"vehicles": []}', "expected"),
        ('{"cars": [{"car": 1}]}', "observed_start"),
        (
            '{"cars": [{"car": 1, "observed_start": "2026-05-01", '
            '"observed_daily_odometer_km": ["a"]}]}',
            "list of numbers",
        ),
        (
            '{"cars": [{"car": 1, "observed_start": "2026-05-01", '
            '"observed_daily_odometer_km": [1, NaN]}]}',
            "list of numbers",
        ),
        (
            '{"cars": [{"car": 1, "observed_start": "2026-05-01", '
            '"observed_daily_odometer_km": [1, 2], "last_service_km": 1, '
            '"last_service_date": "2026-04-01", "interval_km": 0, "interval_months": 12}]}',
            "positive",
        ),
    ],
)
def test_the_cli_refuses_a_bad_file_with_a_message(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("forecast", traces=path, out=tmp_path / "o.json")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("forecast", traces=tmp_path / "missing.json", out=tmp_path / "o.json")


def test_the_estimator_beats_the_fixed_interval_and_the_old_per_car_path():
    result = forecast_eval.evaluate(25, seed=2)
    table = result["median_abs_error_days"]
    new = table["forecast (new)"]
    assert result["cars"] > 80
    assert new["all"] < table["fixed interval"]["all"] / 3
    assert new["all"] < table["old per-car _robust_rate"]["all"]
    assert new["weekend"] < table["old per-car _robust_rate"]["weekend"]
    assert 40 <= result["band_coverage"]["all"] <= 100


def test_forecast_eval_prints_every_estimator(capsys):
    call_command("forecast_eval", per_habit=3)
    out = capsys.readouterr().out
    assert "forecast (new)" in out and "90-day mean" in out and "commuter" in out

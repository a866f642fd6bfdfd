"""Trips cut from stored telemetry (incremental, idempotent, set-based), the owner's API and
pages with isolation and consent, loyalty's smooth-km mission, the insurer export's consent."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from m4s.core.errors import DomainError
from m4s.core.tests.factories import OwnerFactory, owner_token, staff_token
from m4s.driving import services
from m4s.driving.models import CutPoint, InsurerExport, Trip
from m4s.owners.middleware import SESSION_KEY
from m4s.telematics.models import Telemetry, VehicleState

from .traces import Trace

pytestmark = pytest.mark.django_db


@pytest.fixture
def car(workshop):
    """The test owner's Camry with a terminal; the owner consented to telematics in the app."""
    from m4s.owners.services import update_owner_profile
    from m4s.telematics import services as tm

    w = workshop
    w.owner = update_owner_profile(w.owner, {"telematics_consent": True})
    w.device, _secret = tm.register_device(
        w.admin_a, device_id="obd-1", protocol="http", vehicle=w.my_car
    )
    w.seq = 0
    return w


def store(w, points) -> None:
    """The points as telemetry rows of the car (as the writer stores them), and its state."""
    rows = []
    for p in points:
        w.seq += 1
        rows.append(
            Telemetry(
                dealer_group=w.group_a,
                device=w.device,
                vehicle_id=w.my_car.pk,
                seq=w.seq,
                ts=p.ts,
                received_at=p.ts,
                lat=p.lat,
                lon=p.lon,
                speed_kmh=p.speed_kmh,
                heading=p.heading,
                odometer_km=p.odometer_km,
                odometer_source="can",
                ignition=p.ignition,
                fix_valid=True,
            )
        )
    Telemetry.objects.bulk_create(rows)
    last = points[-1]
    VehicleState.objects.for_group(w.group_a).update_or_create(
        vehicle=w.my_car,
        defaults={"dealer_group": w.group_a, "ts": last.ts, "ignition": last.ignition},
    )


def day_start(days_ago: int, hour: int = 8) -> dt.datetime:
    local = timezone.localtime(timezone.now()) - dt.timedelta(days=days_ago)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def commute(start, *, brake: bool = False, minutes: int = 20) -> Trace:
    t = Trace(start, step=2).ignition_on().ramp(50, 10).drive(50, minutes * 60)
    if brake:
        t.ramp(0, 9)  # 9 km/h in 2 s = -1.25 m/s²: no; then a hard stop from 50
        t.ramp(50, 10).drive(50, 30)
        t.points[-1].speed_kmh = 50
        t.step = 1
        t.ramp(0, 20)  # 20 km/h per second = -5.6 m/s²: harsh
        t.step = 2
    return t.ramp(0, 10).ignition_off()


def test_ignition_cut_trips_are_stored_scored_and_rerun_is_idempotent(car):
    w = car
    store(w, commute(day_start(2)).points + commute(day_start(2, 18), brake=True).points)
    result = services.cut_new_telemetry()
    assert result["cars"] == 1 and result["trips"] == 2
    trips = list(Trip.objects.for_group(w.group_a).order_by("started_at"))
    assert len(trips) == 2 and all(not t.is_open for t in trips)
    calm, harsh = trips
    assert 16 < calm.distance_km < 18 and calm.score == 100 and calm.reasons == []
    assert harsh.harsh_brake == 1 and harsh.score == 95
    assert harsh.reasons == [{"code": "harsh_braking", "n": 1, "points": 5.0}]
    assert calm.end_reason == "ignition" and calm.route
    # the job again, and again with nothing new: nothing changes
    assert services.cut_new_telemetry()["trips"] == 0
    CutPoint.objects.unscoped().delete()  # even from scratch: the same two rows
    services.cut_new_telemetry()
    assert Trip.objects.for_group(w.group_a).count() == 2


def test_an_open_trip_is_extended_not_duplicated_and_closed_by_a_stop(car):
    w = car
    t = Trace(timezone.now() - dt.timedelta(minutes=30), step=5).ignition_on()
    t.ramp(40, 10).drive(40, 600)
    half = len(t.points)
    t.drive(40, 300).ramp(0, 10).stand(7 * 60)  # parked with the engine running
    store(w, t.points[:half])
    services.cut_new_telemetry(now=t.points[half - 1].ts + dt.timedelta(seconds=10))
    (trip,) = Trip.objects.for_group(w.group_a)
    assert trip.is_open and trip.end_reason == "open"
    first_km = trip.distance_km
    store(w, t.points[half:])
    services.cut_new_telemetry(now=t.points[-1].ts + dt.timedelta(seconds=10))
    (trip,) = Trip.objects.for_group(w.group_a)
    assert not trip.is_open and trip.end_reason == "stop" and trip.distance_km > first_km + 3
    cursor = CutPoint.objects.unscoped().get(vehicle=w.my_car)
    assert cursor.resume_at == t.points[-1].ts


def test_a_trip_whose_reports_stop_is_closed_by_the_sweep(car):
    w = car
    t = Trace(timezone.now() - dt.timedelta(minutes=40), step=5).ignition_on().ramp(40, 10)
    t.drive(40, 600)
    store(w, t.points)
    services.cut_new_telemetry(now=t.points[-1].ts + dt.timedelta(minutes=1))
    assert Trip.objects.unscoped().get().is_open
    services.cut_new_telemetry()  # 30 minutes later, nothing came
    trip = Trip.objects.unscoped().get()
    assert not trip.is_open and trip.end_reason == "gap"


def test_queries_do_not_grow_with_rows(car):
    w = car
    store(w, commute(day_start(3), minutes=5).points)
    with CaptureQueriesContext(connection) as few:
        services.cut_new_telemetry()
    store(w, commute(day_start(2), minutes=60).points + commute(day_start(1), minutes=60).points)
    rows = Telemetry.objects.unscoped().count()
    with CaptureQueriesContext(connection) as many:
        services.cut_new_telemetry()
    assert rows > 3000
    assert Trip.objects.unscoped().count() == 3
    assert len(many) <= len(few) + 2, [q["sql"][:80] for q in many.captured_queries]


def test_no_consent_no_trips(car):
    from m4s.owners.services import update_owner_profile

    w = car
    store(w, commute(day_start(1)).points)
    services.cut_new_telemetry()
    assert Trip.objects.unscoped().count() == 1
    update_owner_profile(w.owner, {"telematics_consent": False})
    token = owner_token(w.owner)
    client = Client()
    r = client.get(f"/api/v1/me/vehicles/{w.my_car.pk}/trips", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200 and r.json() == {"trips": [], "refused": "no_telematics_consent"}
    r = client.get(
        f"/api/v1/me/vehicles/{w.my_car.pk}/driving-score", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert r.json()["refused"] == "no_telematics_consent" and r.json()["history"] == []
    page = owner_client(w.owner).get(f"/app/cars/{w.my_car.pk}/trips/")
    assert page.status_code == 200 and b'data-testid="trips-refused"' in page.content
    assert b'data-testid="trip"' not in page.content
    # and the sweep does not cut its rows
    store(w, commute(day_start(0, 6)).points)
    assert services.cut_new_telemetry()["skipped_no_consent"] == 1


def test_api_trips_and_score_with_isolation(car, api_client):
    w = car
    for days_ago in (40, 9, 2):
        store(w, commute(day_start(days_ago), brake=days_ago == 2).points)
    services.cut_new_telemetry()
    token = owner_token(w.owner)
    url = f"/api/v1/me/vehicles/{w.my_car.pk}/trips"
    r = api_client.get(url, token=token)
    assert r.status_code == 200
    body = r.json_body
    assert [t["harsh_braking"] for t in body["trips"]] == [1, 0] and body["refused"] is None
    assert body["trips"][0]["reasons"][0] == {
        "code": "harsh_braking",
        "n": 1,
        "text": "1× harsh braking",
    }
    assert 2 <= len(body["trips"][0]["route"]) <= 40
    since = (timezone.localdate() - dt.timedelta(days=60)).isoformat()
    r = api_client.get(f"{url}?from={since}", token=token)
    assert len(r.json_body["trips"]) == 3
    # bad ranges: a clear code
    r = api_client.get(f"{url}?from=2020-01-01", token=token)
    assert r.status_code == 400 and r.json_body["code"] == "range_too_long"
    r = api_client.get(f"{url}?from=2026-12-09&to=2026-12-01", token=token)
    assert r.status_code == 400 and r.json_body["code"] == "invalid_range"
    r = api_client.get(f"{url}?from=yesterday", token=token)
    assert r.status_code == 422
    r = api_client.get(f"{url}?to=9999-12-31", token=token)
    assert r.status_code == 400 and r.json_body["code"] == "invalid_date"
    month = timezone.localdate().strftime("%Y-%m")
    r = api_client.get(
        f"/api/v1/me/vehicles/{w.my_car.pk}/driving-score?month={month}", token=token
    )
    assert r.status_code == 200 and len(r.json_body["history"]) == 12
    assert r.json_body["month"]["month"] == month
    r = api_client.get(
        f"/api/v1/me/vehicles/{w.my_car.pk}/driving-score?month=2026-13", token=token
    )
    assert r.status_code == 422
    # another owner (a third user with no car), an owner of another group: not found
    stranger = OwnerFactory(home_store=w.store_a)
    for who in (stranger, w.owner_b):
        for path in (url, f"/api/v1/me/vehicles/{w.my_car.pk}/driving-score"):
            r = api_client.get(path, token=owner_token(who))
            assert r.status_code == 404, path
        page = owner_client(who).get(f"/app/cars/{w.my_car.pk}/trips/")
        assert page.status_code == 404
    # staff of another group cannot export it either
    r = api_client.get(
        f"/api/v1/staff/vehicles/{w.my_car.pk}/driving-export", token=staff_token(w.admin_b)
    )
    assert r.status_code == 404


def test_month_score_is_distance_weighted_with_reasons(car):
    from m4s.driving import selectors

    w = car
    first = timezone.localdate().replace(day=1)
    if timezone.localdate().day < 3:
        first = (first - dt.timedelta(days=1)).replace(day=1)
    start = timezone.localtime().replace(
        year=first.year, month=first.month, day=1, hour=8, minute=0, second=0, microsecond=0
    )
    store(w, commute(start, minutes=60).points)  # ~50 km, 100
    store(w, commute(start + dt.timedelta(days=1), brake=True, minutes=10).points)  # ~9 km, 95
    services.cut_new_telemetry()
    (m,) = selectors.monthly_summary(w.my_car, [first])
    assert m["trips"] == 2 and m["score"] == 99  # (100 × 51 + 95 × 9.6) / 60.6
    assert m["reasons"] == [{"code": "harsh_braking", "n": 1}]


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_owner_pages(car):
    w = car
    for days_ago in (70, 35, 5, 1):
        store(w, commute(day_start(days_ago), brake=days_ago == 1).points)
    services.cut_new_telemetry()
    app = owner_client(w.owner)
    health = app.get(f"/app/cars/{w.my_car.pk}/health/").content.decode()
    assert f"/app/cars/{w.my_car.pk}/trips/" in health
    page = app.get(f"/app/cars/{w.my_car.pk}/trips/").content.decode()
    assert page.count('data-testid="trip"') == 2 and "<polyline" in page
    assert "1× harsh braking" in page
    score = app.get(f"/app/cars/{w.my_car.pk}/driving-score/")
    assert score.status_code == 200
    text = score.content.decode()
    assert 'data-testid="score-chart"' in text and 'data-testid="month-score"' in text
    assert app.get(f"/app/cars/{w.my_car.pk}/driving-score/?month=nope").status_code == 404
    # in Chinese
    app.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    zh = app.get(f"/app/cars/{w.my_car.pk}/trips/").content.decode()
    assert "急刹车" in zh


def test_smooth_km_feed_a_loyalty_mission(car):
    from m4s.demo.starters import loyalty as starter
    from m4s.loyalty import services as loyalty
    from m4s.loyalty.earning import follow_up_pending
    from m4s.loyalty.models import MemberEvent, Mission, MissionCompletion

    w = car
    starter.install_programme(w.group_a)
    member = loyalty.get_or_create_member(w.customer)
    mission = Mission.objects.create(
        dealer_group=w.group_a,
        name="1,000 km with no harsh braking",
        event="smooth_km",
        measure="sum",
        target=60,
        window_days=90,
        points=100,
    )
    store(w, commute(day_start(3), minutes=40).points)  # ~34 km
    store(w, commute(day_start(2), brake=True, minutes=40).points)  # harsh: does not count
    services.cut_new_telemetry()
    follow_up_pending()
    events = MemberEvent.objects.for_group(w.group_a).filter(member=member, event="smooth_km")
    assert events.count() == 1 and 33 < events.get().amount < 36
    assert loyalty.mission_progress(member, mission) in range(33, 36)
    assert not MissionCompletion.objects.unscoped().filter(mission=mission).exists()
    store(w, commute(day_start(1), minutes=40).points)
    services.cut_new_telemetry()
    services.cut_new_telemetry()  # told once per trip
    follow_up_pending()
    assert events.count() == 2
    assert MissionCompletion.objects.unscoped().filter(mission=mission, member=member).count() == 1
    assert Trip.objects.unscoped().filter(smooth_recorded=False).count() == 0
    assert sum(e.amount for e in events) > Decimal(60)


def test_insurer_export_only_under_the_owners_consent(car, api_client):
    w = car
    store(w, commute(day_start(2), brake=True).points)
    services.cut_new_telemetry()
    url = f"/api/v1/staff/vehicles/{w.my_car.pk}/driving-export"
    staff = staff_token(w.admin_a)
    r = api_client.get(url, token=staff)
    assert r.status_code == 409 and r.json_body["code"] == "no_insurer_consent"
    assert InsurerExport.objects.unscoped().count() == 0
    owner = owner_token(w.owner)
    consent_url = f"/api/v1/me/vehicles/{w.my_car.pk}/insurer-consent"
    r = api_client.post(consent_url, {"insurer": "  "}, token=owner)
    assert r.status_code == 422
    r = api_client.post(consent_url, {"insurer": "PICC"}, token=owner)
    assert r.status_code == 201 and r.json_body["insurer"] == "PICC"
    r = api_client.get(url, token=staff)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    lines = r.content.decode().strip().splitlines()
    assert lines[0].startswith("vin,insurer,month,trips,km")
    assert len(lines) == 13 and ",PICC," in lines[-1] or ",PICC," in lines[-2]
    assert InsurerExport.objects.unscoped().count() == 1
    # a third owner cannot give consent for the car; the owner withdraws: refused again
    stranger = OwnerFactory(home_store=w.store_a)
    r = api_client.post(consent_url, {"insurer": "X"}, token=owner_token(stranger))
    assert r.status_code == 404
    r = api_client.delete(consent_url, token=owner)
    assert r.status_code == 204
    r = api_client.get(url, token=staff)
    assert r.status_code == 409 and r.json_body["code"] == "no_insurer_consent"
    assert InsurerExport.objects.unscoped().count() == 1
    # front-line staff without the export capability: refused
    r = api_client.get(url, token=staff_token(w.advisor_a))
    assert r.status_code in (403, 409)
    # the page: give and withdraw
    app = owner_client(w.owner)
    page_url = f"/app/cars/{w.my_car.pk}/driving-score/insurer/"
    assert app.post(page_url, {"insurer": ""}).status_code == 400
    r = app.post(page_url, {"insurer": "Ping An"})
    assert r.status_code == 302
    assert b'data-testid="insurer-consent"' in app.get(r["Location"]).content
    assert app.post(page_url, {"withdraw": "1"}).status_code == 302
    with pytest.raises(DomainError):
        services.export_for_insurer(w.admin_a, w.my_car, months=[timezone.localdate()])


def test_the_demo_builds_months_of_trips_and_a_mission(car):
    from m4s.demo.driving import build_driving_demo
    from m4s.loyalty.models import Mission

    w = car
    assert build_driving_demo([w.owner], extra_cars=0, months=3) > 60
    first = Trip.objects.unscoped().order_by("started_at").first()
    assert first.started_at < timezone.now() - dt.timedelta(days=80)
    assert Mission.objects.unscoped().filter(event="smooth_km", target=1000).count() == 1
    page = owner_client(w.owner).get(f"/app/cars/{w.my_car.pk}/driving-score/")
    assert page.content.decode().count('class="m4s-') >= 1
    # live telemetry after the build is cut from the build time on, not from the past
    assert CutPoint.objects.unscoped().get(vehicle=w.my_car).resume_at <= timezone.now()


def test_the_owners_export_holds_their_trips_and_erasure_removes_them(car):
    from m4s.driving import privacy
    from m4s.vehicles.models import VehicleOwnership

    w = car
    owned = VehicleOwnership.objects.unscoped().filter(vehicle=w.my_car)
    owned.update(started_at=timezone.now() - dt.timedelta(days=30))
    store(w, commute(day_start(2)).points)
    services.cut_new_telemetry()
    services.give_insurer_consent(w.owner, w.my_car, insurer="PICC")
    out = privacy.export_owner(w.owner)["rows"]
    assert len(out["trips"]) == 1 and out["trips"][0]["start_lat"] is not None
    assert out["insurer_consents"][0]["insurer"] == "PICC"
    assert privacy.export_owner(w.owner_b)["rows"] == {"trips": [], "insurer_consents": []}
    done = privacy.erase_owner(w.owner)
    assert done["trips deleted"] == 1 and done["insurer consents deleted"] == 1
    assert Trip.objects.unscoped().count() == 0

"""Connected-car pages: the owner's car health page (status, odometer chart, position, fault
codes in the reader's language, forecast with one-tap booking), parked mode and geofences through
the page; the console's live rescue alert, the case page (acknowledge, close), the staff health
page and the terminals list. Another group sees none of it (404 / an empty alert)."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from m4s.owners.middleware import SESSION_KEY
from m4s.service import workshop as workshop_services
from m4s.telematics import services
from m4s.telematics.choices import CaseStatus
from m4s.telematics.models import Geofence, RescueCase, VehicleState
from m4s.telematics.writer import write_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """English pages (the assertions quote the English texts and the English DTC table)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


HX = {"HTTP_HX_REQUEST": "true"}
HOME = (39.9087, 116.3975)


def sign_in(client, owner, language="en"):
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language


def body(response) -> str:
    return response.content.decode()


def _msg(device, seq, ts, **kw):
    return {"device_id": device.device_id, "seq": seq, "ts": ts.isoformat(), **kw}


def connect(w):
    """A terminal on the test owner's car, 12 days of driving (~45 km a day) and a report now
    with two fault codes, fuel and battery; the forecast computed. The owner consented to
    telematics in the app."""
    from m4s.owners.services import update_owner_profile

    w.owner = update_owner_profile(w.owner, {"telematics_consent": True})
    w.device, _secret = services.register_device(
        w.admin_a, device_id="tbox-my", protocol="http", vehicle=w.my_car
    )
    now = timezone.now()
    for i in range(12, 0, -1):
        ts = now - dt.timedelta(days=i)
        write_batch(
            w.device,
            [
                _msg(
                    w.device,
                    100 - i,
                    ts,
                    lat=HOME[0] + i / 1000,
                    lon=HOME[1],
                    odometer_km=18500.0 + (12 - i) * 45,
                    odometer_source="can",
                    ignition=False,
                )
            ],
            via="http",
            now=ts + dt.timedelta(minutes=1),
        )
    write_batch(
        w.device,
        [
            _msg(
                w.device,
                100,
                now - dt.timedelta(minutes=1),
                lat=HOME[0],
                lon=HOME[1],
                speed_kmh=0,
                odometer_km=18500.0 + 12 * 45,
                odometer_source="can",
                ignition=False,
                fuel_pct=14,
                battery_v=12.6,
                dtcs=["P0301", "P0217"],
            )
        ],
        via="http",
    )
    services.compute_forecast(w.my_car.pk)
    return w


def crash(w, seq=1):
    """Group A's car (fleet fixture) reports a crash: a rescue case opens."""
    ts = timezone.now() - dt.timedelta(seconds=30)
    write_batch(
        w.device_a,
        [_msg(w.device_a, seq, ts, lat=39.95, lon=116.45, speed_kmh=62, alarm="crash")],
        via="http",
    )
    return RescueCase.objects.for_group(w.group_a).get(vehicle=w.car)


# --- owner: the health page ----------------------------------------------------------------------
def test_owner_health_page_shows_the_car(workshop, client):
    w = connect(workshop)
    sign_in(client, w.owner)
    url = reverse("app-car-health", args=[w.my_car.pk])
    assert url == f"/app/cars/{w.my_car.pk}/health/"
    r = client.get(url)
    assert r.status_code == 200
    html = body(r)
    # status
    assert 'data-testid="online"' in html and "Engine off" in html
    # odometer chart: an SVG line with one point per day and the last reading
    chart = re.search(r'<svg class="m4s-chart tm-chart".*?</svg>', html, re.S).group(0)
    points = re.search(r'<polyline class="line" points="([^"]+)"', chart).group(1).split()
    assert len(points) == 13
    assert "19,040 km" in chart
    # fault codes, described for the owner, the dangerous one first and flagged
    assert "Cylinder 1 is misfiring" in html
    assert "Engine is overheating" in html
    assert html.index("Engine is overheating") < html.index("Cylinder 1 is misfiring")
    assert 'data-testid="urgent"' in html and "Stop safely and call us" in html
    # gauges: fuel low, battery fine
    assert 'data-testid="gauge-fuel"' in html and "Fill up soon" in html
    assert 'data-testid="gauge-battery"' in html and "12.6" in html
    # position: the car and the store, with an amap link
    assert 'data-testid="map"' in html
    assert f"https://uri.amap.com/marker?position={HOME[1]:.6f}%2C{HOME[0]:.6f}" in html
    # forecast: the pace, each item's date with a confidence and a one-tap booking
    assert "You drive about <b>45 km a day</b>" in html
    items = re.findall(r'data-testid="forecast-item"', html)
    assert items
    assert 'data-testid="confidence"' in html
    book = re.search(r'href="(/app/service/book/\?vehicle=(\d+)&amp;package=(\d+))"', html)
    assert book and int(book.group(2)) == w.my_car.pk
    # the car page links here
    assert url in body(client.get(reverse("app-cars")))


def test_owner_health_page_reads_the_owners_language(workshop, client):
    w = connect(workshop)
    sign_in(client, w.owner, "zh-hans")
    html = body(client.get(reverse("app-car-health", args=[w.my_car.pk])))
    assert "1号气缸失火" in html and "发动机过热" in html
    sign_in(client, w.owner, "ko")
    html = body(client.get(reverse("app-car-health", args=[w.my_car.pk])))
    assert "1번 실린더 실화" in html


def test_health_page_without_data(workshop, client):
    w = workshop
    sign_in(client, w.owner)
    r = client.get(reverse("app-car-health", args=[w.my_car.pk]))
    assert r.status_code == 200
    assert 'data-testid="no-data"' in body(r) and 'data-testid="no-chart"' in body(r)
    # parked mode needs a first report: a clear 409, nothing stored
    r = client.post(reverse("app-car-parked", args=[w.my_car.pk]), {"armed": "1"})
    assert r.status_code == 409 and "Your car has not reported yet." in body(r)
    assert not VehicleState.objects.for_group(w.group_a).exists()


def test_other_groups_owner_gets_404(workshop, client):
    w = connect(workshop)
    sign_in(client, w.owner_b)
    pk = w.my_car.pk
    assert client.get(reverse("app-car-health", args=[pk])).status_code == 404
    assert client.post(reverse("app-car-parked", args=[pk]), {"armed": "1"}).status_code == 404
    r = client.post(
        reverse("app-car-geofence", args=[pk]),
        {"name": "X", "lat": "39.9", "lon": "116.4", "radius_m": "500"},
    )
    assert r.status_code == 404
    state = VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car)
    assert not state.parked_armed
    assert not Geofence.objects.for_group(w.group_a).exists()
    # and the page asks a signed-out visitor to sign in
    r = Client().get(reverse("app-car-health", args=[pk]))
    assert r.status_code == 302 and r["Location"].startswith(reverse("app-login"))


def test_arm_and_disarm_parked_mode_through_the_page(workshop, client):
    w = connect(workshop)
    sign_in(client, w.owner)
    url = reverse("app-car-parked", args=[w.my_car.pk])
    health = reverse("app-car-health", args=[w.my_car.pk])
    r = client.post(url, {"armed": "1", "auto_arm_minutes": "30", "notify_store": "1"})
    assert r.status_code == 302 and r["Location"].startswith(health)
    state = VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car)
    assert (state.parked_armed, state.auto_arm_minutes, state.notify_store_on_theft) == (
        True,
        30,
        True,
    )
    assert (state.parked_lat, state.parked_lon) == HOME
    html = body(client.get(r["Location"]))
    assert 'data-testid="armed-pill"' in html and 'data-testid="disarm"' in html
    assert 'data-testid="parked-saved"' in html

    r = client.post(url, {"armed": "0", "auto_arm_minutes": "30"})
    assert r.status_code == 302
    state.refresh_from_db()
    assert not state.parked_armed and state.auto_arm_minutes == 30
    assert not state.notify_store_on_theft  # the box was unticked
    assert 'data-testid="arm"' in body(client.get(health))

    # a bad delay is refused with the service's message and changes nothing
    for bad in ("3", "abc", "99999"):
        r = client.post(url, {"armed": "1", "auto_arm_minutes": bad}, **HX)
        assert r.status_code == 400, bad
        assert "Arm after 5 minutes to 24 hours." in body(r)
        assert 'data-testid="parked-error"' in body(r)
    state.refresh_from_db()
    assert not state.parked_armed and state.auto_arm_minutes == 30

    assert client.get(url).status_code == 405


def test_geofence_form_validates_and_adds(workshop, client):
    w = connect(workshop)
    sign_in(client, w.owner)
    url = reverse("app-car-geofence", args=[w.my_car.pk])
    message = "A geofence needs a name, a point and a radius of 50 m to 100 km."
    for bad in (
        {"name": "Home", "lat": "39.9", "lon": "116.4", "radius_m": "10"},
        {"name": "Home", "lat": "95", "lon": "116.4", "radius_m": "500"},
        {"name": "Home", "lat": "abc", "lon": "116.4", "radius_m": "500"},
        {"name": "Home", "lat": "nan", "lon": "116.4", "radius_m": "500"},
        {"name": "  ", "lat": "39.9", "lon": "116.4", "radius_m": "500"},
        {"name": "Home", "lat": "39.9", "lon": "116.4", "radius_m": "-5"},
    ):
        r = client.post(url, bad, **HX)
        assert r.status_code == 400, bad
        html = body(r)
        assert message in html and 'data-testid="fence-error"' in html
        assert f'value="{bad["lat"]}"' in html  # what was typed is kept
    assert not Geofence.objects.for_group(w.group_a).exists()

    r = client.post(url, {"name": "Home", "lat": "39.9087", "lon": "116.3975", "radius_m": "500"})
    assert r.status_code == 302
    fence = Geofence.objects.for_group(w.group_a).get(vehicle=w.my_car)
    assert (fence.name, fence.radius_m) == ("Home", 500)
    html = body(client.get(r["Location"]))
    assert 'data-testid="fence"' in html and "radius 500 m" in html
    assert '<circle class="fence"' in html  # drawn on the map

    # Another owner cannot remove it; the owner can, and its alerts stop.
    remove = reverse("app-car-geofence-remove", args=[w.my_car.pk, fence.pk])
    sign_in(client, w.owner_b)
    assert client.post(remove).status_code == 404
    assert Geofence.objects.for_group(w.group_a).filter(pk=fence.pk).exists()
    sign_in(client, w.owner)
    assert 'data-testid="fence-remove"' in body(client.get(r["Location"]))
    r = client.post(remove)
    assert r.status_code == 302 and not Geofence.objects.for_group(w.group_a).exists()
    assert client.post(remove).status_code == 404  # already gone: a clear answer


# --- console: the live rescue alert -------------------------------------------------------------
def test_console_alert_shows_open_crash_to_its_group_only(fleet, client):
    w = fleet
    case = crash(w)
    url = reverse("console-telematics-alerts")
    assert url == "/console/telematics/alerts/"

    client.force_login(w.advisor_a)
    r = client.get(url, **HX)
    assert r.status_code == 200
    html = body(r)
    assert w.car.plate in html and "Zhang San" in html
    assert 'href="tel:+8613911110000"' in html
    assert "https://uri.amap.com/marker?position=116.450000%2C39.950000" in html
    assert "62 km/h" in html and "Crash" in html
    assert "400-800-0000" in html  # the store's rescue number
    assert reverse("console-telematics-case", args=[case.pk]) in html
    assert "no-store" in r["Cache-Control"]

    # every console page reloads it when the live channel says so, and polls while that
    # channel is down (m4s:poll every 2 s, m4s/web/static/m4s/js/live.js), so an alert appears
    # without a reload either way
    home = body(client.get(reverse("console-home")))
    assert f'hx-get="{url}"' in home
    assert 'hx-trigger="load, m4s:live from:body, m4s:poll from:body, every 30s"' in home
    assert 'id="live-channel"' in home and 'data-url="/api/v1/staff/stream"' in home
    assert "m4s/js/live.js" in home

    client.force_login(w.advisor_b)
    r = client.get(url, **HX)
    assert r.status_code == 200 and body(r) == ""

    client.logout()
    assert body(client.get(url, **HX)) == ""


def test_alert_is_empty_without_open_cases(fleet, client):
    client.force_login(fleet.advisor_a)
    assert body(client.get(reverse("console-telematics-alerts"))) == ""


def test_acknowledge_and_close_through_the_case_page(fleet, client):
    w = fleet
    case = crash(w)
    page = reverse("console-telematics-case", args=[case.pk])
    client.force_login(w.advisor_a)
    html = body(client.get(page))
    assert 'data-testid="ack-form"' in html and 'data-testid="close-form"' in html
    assert "Zhang San" in html and "tel:+8613911110000" in html

    r = client.post(
        reverse("console-telematics-case-acknowledge", args=[case.pk]),
        {"tow_partner": "Beijing Tow 24h", "note": "Owner is fine, car not drivable"},
    )
    assert r.status_code == 302 and r["Location"].startswith(page)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACKNOWLEDGED
    assert case.acknowledged_by == w.advisor_a and case.tow_partner == "Beijing Tow 24h"
    assert "Beijing Tow 24h" in body(client.get(r["Location"]))

    # close with a repair order of another car: refused, nothing changes
    close = reverse("console-telematics-case-close", args=[case.pk])
    for bad in ("999999", "abc"):
        r = client.post(close, {"repair_order": bad})
        assert r.status_code == 400
        assert "Choose a repair order of this car." in body(r)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACKNOWLEDGED

    ro = workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        odometer=12000,
        fuel_pct=40,
        symptoms="Towed in after a crash",
        customer=w.known,
        vehicle=w.car,
    )
    assert ro.number in body(client.get(page))  # offered in the select
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = client.post(close, {"repair_order": str(ro.pk), "note": "towed in"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.repair_order_id == ro.pk
    assert body(client.get(reverse("console-telematics-alerts"))) == ""
    # a closed case takes no more acknowledgements
    r = client.post(reverse("console-telematics-case-acknowledge", args=[case.pk]), {"note": "x"})
    assert r.status_code == 409


def test_case_of_another_group_is_404(fleet, client):
    w = fleet
    case = crash(w)
    client.force_login(w.advisor_b)
    assert client.get(reverse("console-telematics-case", args=[case.pk])).status_code == 404
    ack = reverse("console-telematics-case-acknowledge", args=[case.pk])
    assert client.post(ack, {"tow_partner": "X"}).status_code == 404
    close = reverse("console-telematics-case-close", args=[case.pk])
    assert client.post(close, {}).status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


# --- console: staff health page, terminals --------------------------------------------------------
def test_staff_health_page_and_customer_link(fleet, client):
    w = fleet
    now = timezone.now()
    write_batch(
        w.device_a,
        [
            _msg(
                w.device_a,
                1,
                now - dt.timedelta(minutes=2),
                lat=39.9,
                lon=116.4,
                odometer_km=12000.0,
                odometer_source="can",
                ignition=True,
                battery_v=14.1,
                dtcs=["P0420"],
            ),
        ],
        via="http",
    )
    url = reverse("console-telematics-vehicle", args=[w.car.pk])
    client.force_login(w.advisor_a)
    r = client.get(url)
    assert r.status_code == 200
    html = body(r)
    assert "Catalytic converter (bank 1) is not cleaning the exhaust well enough" in html
    assert 'data-testid="gauge-battery"' in html and "Charging" in html
    assert 'data-testid="book"' not in html  # booking is the owner's
    assert 'data-testid="parked"' not in html
    customer = body(client.get(reverse("console-customer", args=[w.known.pk])))
    assert url in customer

    client.force_login(w.advisor_b)
    assert client.get(url).status_code == 404
    client.force_login(w.tech_a)  # no customer data for technicians
    assert client.get(url).status_code == 403


def test_terminals_list_with_online_state(fleet, client):
    w = fleet
    write_batch(w.device_a, [_msg(w.device_a, 1, timezone.now(), ignition=True)], via="http")
    client.force_login(w.admin_a)
    html = body(client.get(reverse("console-telematics")))
    assert "tbox-a1" in html and "tbox-b1" not in html
    assert 'data-testid="online"' in html and w.car.plate in html
    client.force_login(w.admin_b)
    html = body(client.get(reverse("console-telematics")))
    assert "tbox-b1" in html and "tbox-a1" not in html
    assert "offline" in html


def test_alert_poll_is_cheap_with_many_cases(fleet, client, django_assert_max_num_queries):
    """Every console tab polls every 2 s: a constant number of queries, however many cases."""
    from m4s.vehicles.models import Vehicle

    w = fleet
    crash(w)
    for n in range(3):
        car = Vehicle.objects.create(
            dealer_group=w.group_a, vin=f"LSVAX0000000000{n:02d}", plate=f"京C0000{n}"
        )
        car.current_owner = w.known
        car.save()
        device, _secret = services.register_device(
            w.admin_a, device_id=f"tbox-extra-{n}", protocol="http", vehicle=car
        )
        ts = timezone.now()
        write_batch(
            device, [_msg(device, 1, ts, lat=39.9, lon=116.4, alarm="rollover")], via="http"
        )
    client.force_login(w.advisor_a)
    with django_assert_max_num_queries(8):
        r = client.get(reverse("console-telematics-alerts"))
    assert r.content.decode().count('data-testid="alert-case"') == 4

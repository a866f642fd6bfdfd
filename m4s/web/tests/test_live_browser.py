"""The console's live channel in headless Chromium: a crash posted to the HTTP ingest appears on
the advisor's open console page without a reload (pushed, while the channel is up), the advisor
dispatches a tow from the case, and the owner's app shows "Tow on the way"; with the channel
refused (a busy server) the page falls back to polling and the crash still appears."""

import datetime as dt
import json
import urllib.request

import pytest

from .test_browser import DESKTOP, PHONE, console_sign_in, expect, owner_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def live_rescue(_allow_sync_playwright, transactional_db, workshop, live_server, settings):
    from m4s.telematics import rescue, services

    settings.LIVE_STREAM_SECONDS = 30  # one stream for the whole test: no polling in between
    w = workshop
    w.device, secret = services.register_device(
        w.admin_a, device_id="tbox-live", protocol="http", vehicle=w.my_car
    )
    w.token = services.token_for(w.device, secret)
    w.tow = rescue.save_tow_partner(
        w.admin_a,
        name="Jingcheng Tow",
        phone="010-5555",
        service_area="Beijing",
        email="tow@example.com",
    )
    return w


def _crash(base: str, w) -> None:
    ts = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    body = json.dumps(
        [
            {
                "device_id": w.device.device_id,
                "seq": 1,
                "ts": ts.isoformat(),
                "lat": 39.91,
                "lon": 116.40,
                "speed_kmh": 58,
                "alarm": "crash",
            }
        ]
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the test's live server
        f"{base}/api/v1/telematics/ingest",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {w.token}"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - the live server
        assert response.status == 200


def test_a_crash_is_pushed_to_the_open_console_then_the_tow_reaches_the_owner(
    live_rescue, live_server, new_context
):
    from m4s.telematics.models import RescueCase

    w = live_rescue
    base = live_server.url
    advisor = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()
    console_sign_in(advisor, base, w.advisor_a.username)
    expect(advisor.locator("body")).to_have_attribute("data-live", "up")
    advisor.evaluate("window.__same_page = true")
    banner = advisor.locator("[data-testid=rescue-alerts]")
    expect(banner).not_to_contain_text(w.my_car.plate)

    _crash(base, w)
    # pushed: the channel stays up (so the page does not poll) and the slow safety reload is
    # 30 s away, yet the case shows within seconds, on the same page
    expect(banner).to_contain_text(w.my_car.plate, timeout=5_000)
    assert advisor.evaluate("window.__same_page") is True
    assert advisor.evaluate("document.body.dataset.live") == "up"
    case = RescueCase.objects.for_group(w.group_a).get(vehicle=w.my_car)

    banner.locator(f"a[href='/console/telematics/cases/{case.pk}/']").first.click()
    advisor.locator("#id_tow_partner").select_option(str(w.tow.pk))
    advisor.locator("#id_eta").fill("25")
    advisor.locator("[data-testid=dispatch]").click()
    expect(advisor.locator("[data-testid=tow-status]")).to_contain_text("25")

    phone = new_context(**{**PHONE, "locale": "en-GB"}).new_page()
    owner_sign_in(phone, base, w.owner.phone)
    phone.goto(f"{base}/app/rescue/{case.pk}/")
    # in the owner's own language (Chinese here): "拖车在途中" is "tow on the way"
    expect(phone.locator("[data-testid=tow-eta]")).to_contain_text("拖车在途中")
    expect(phone.locator("[data-testid=tow-eta]")).to_contain_text("25")


def test_with_the_channel_refused_the_console_polls_and_still_shows_the_crash(
    live_rescue, live_server, new_context, settings
):
    settings.LIVE_MAX_STREAMS = 0  # a busy server: every stream answered 503
    w = live_rescue
    base = live_server.url
    advisor = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()
    console_sign_in(advisor, base, w.advisor_a.username)
    advisor.evaluate("window.__same_page = true")
    _crash(base, w)
    expect(advisor.locator("[data-testid=rescue-alerts]")).to_contain_text(
        w.my_car.plate, timeout=10_000
    )
    assert advisor.evaluate("document.body.dataset.live") == "down"
    assert advisor.evaluate("window.__same_page") is True

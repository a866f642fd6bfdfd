"""Care, end to end in headless Chromium: the owner allows notifications in the app (the PWA: its
manifest, its service worker controlling the page) and the browser's real push stack subscribes
with the server's VAPID key; the subscription is stored. Five weeks after the owner declined
the front brake pads, the daily care scan brings them back: the reminder is in the home to-do
list and one tap opens the booking with that job filled in; the owner picks a time and the visit
is booked.

How the push subscription works without the internet: Chromium's PushManager registers through
Google's GCM (check-in, then a registration carrying the application server key). Chromium has
switches for those endpoints (--gcm-checkin-url, --gcm-registration-url, --gcm-mcs-endpoint), so
the test points them at a small local stand-in that answers the check-in (an
AndroidCheckinResponse protobuf) and the registration ("token=..."), and checks that the
browser registered with our VAPID public key. Nothing in the page or the browser's push API is
replaced: the subscription (endpoint, p256dh, auth) is the one Chromium makes. A persistent
browser profile is used because Chromium refuses push in incognito contexts (Playwright's
new_context). Delivering a push message through a push service is tested by the notify tests
against a local push endpoint; here the web-push channel is switched off once the subscription
is stored, so that the scan's hand-off never reaches for the internet."""

import secrets
import struct
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from .conftest import CHROMIUM, LAUNCH_ARGS, TIMEOUT_MS
from .test_browser import (  # importing it skips this module when Chromium is missing
    PHONE,
    expect,
    owner_sign_in,
    wait_for_sw_control,
)

pytestmark = pytest.mark.browser


class _GcmStandIn(BaseHTTPRequestHandler):
    """Google's GCM check-in and registration, as Chromium's GCM client calls them."""

    registrations: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/checkin"):
            # AndroidCheckinResponse: stats_ok (1) = true, android_id (7) and security_token (8)
            out = b"\x08\x01\x39" + struct.pack("<Q", 4242424242) + b"\x41"
            out += struct.pack("<Q", 8686868686)
            kind = "application/x-protobuf"
        else:
            self.registrations.append({k: v[0] for k, v in parse_qs(body.decode()).items()})
            out = b"token=" + secrets.token_urlsafe(32).encode()
            kind = "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def gcm():
    _GcmStandIn.registrations = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GcmStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _GcmStandIn.registrations
    server.shutdown()
    server.server_close()


@pytest.fixture
def phone_app(_allow_sync_playwright, gcm, live_server_idle):
    """A phone's Chromium with a persistent profile, its push registration pointed at the
    local GCM stand-in."""
    from playwright import sync_api

    base, _registrations = gcm
    args = [
        *LAUNCH_ARGS,
        f"--gcm-checkin-url={base}/checkin",
        f"--gcm-registration-url={base}/register",
        "--gcm-mcs-endpoint=https://127.0.0.1:9",
    ]
    with (
        tempfile.TemporaryDirectory(prefix="m4s-pwa-") as profile,
        sync_api.sync_playwright() as pw,
    ):
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=args,
            **{**PHONE, "locale": "en-GB"},
        )
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()
        live_server_idle()


@pytest.fixture
def live_care(_allow_sync_playwright, transactional_db, workshop, live_server):
    from m4s.care.rules import ensure_rules
    from m4s.owners.models import Owner

    Owner.objects.filter(pk=workshop.owner.pk).update(
        telematics_consent=True, telematics_consent_at=timezone.now()
    )
    ensure_rules([workshop.group_a.pk])
    return workshop


def test_push_subscription_and_a_declined_line_booked_from_the_to_do_list(
    live_care, live_server, phone_app, gcm, settings
):
    from m4s.care import scan
    from m4s.care.models import Reminder
    from m4s.care.tests.test_pages import declined_brake_pads
    from m4s.notify.models import PushSubscription
    from m4s.service.models import Appointment

    w = live_care
    base = live_server.url
    _gcm_base, registrations = gcm
    phone_app.grant_permissions(["notifications"], origin=base)
    phone = phone_app.new_page()

    # 1. The owner signs in to the app: it is a PWA (manifest), its service worker controls it.
    owner_sign_in(phone, base, w.owner.phone)
    expect(phone.locator("link[rel=manifest]")).to_have_attribute(
        "href", "/app/manifest.webmanifest"
    )
    wait_for_sw_control(phone)

    # 2. Notification settings → "Allow notifications": the browser subscribes, the app stores it.
    phone.goto(f"{base}/app/notifications/")
    push = phone.locator("[data-testid=push]")
    vapid_key = push.get_attribute("data-vapid-key")
    assert vapid_key
    push.locator("[data-testid=push-enable]").click()
    expect(push).to_have_attribute("data-subscribed", "1")
    subscription = PushSubscription.objects.get(owner=w.owner)
    assert subscription.endpoint.startswith("https://") and subscription.gone_at is None
    assert len(subscription.auth) >= 22 and len(subscription.p256dh) >= 86
    # the browser registered with the push service under our VAPID public key
    assert any(r.get("sender") == vapid_key.rstrip("=") for r in registrations), registrations
    settings.WEBPUSH_ENABLED = False  # the hand-off below must not call a real push service

    # 3. Five weeks ago the owner declined the front brake pads; today's scan brings them back.
    declined_brake_pads(w)
    scan.run_scan(["declined_repair"])
    reminder = Reminder.objects.for_group(w.group_a).get(kind="declined_repair")
    assert reminder.status == "sent"

    # 4. It is on the home to-do list; one tap opens the booking with that job filled in.
    phone.goto(f"{base}/app/")
    todo = phone.locator(f"[data-testid=todos] a[href='{reminder.action_url}']")
    expect(todo).to_be_visible()
    todo.click()
    phone.wait_for_url(f"{base}/app/service/book/*")
    expect(phone.locator("#id_problem")).to_have_value(
        f"Front brake pads replacement (declined {reminder.payload['declined_on']}, 3.5 mm)"
    )
    first_time = phone.locator("[data-testid=times] label.chip").first
    expect(first_time).to_be_visible()
    first_time.click()
    phone.locator("[data-testid=confirm]").click()
    phone.wait_for_url(f"{base}/app/service/")
    booked = Appointment.objects.for_group(w.group_a).get(vehicle=w.my_car, status="booked")
    assert "Front brake pads" in booked.problem and booked.customer.owner_id == w.owner.pk

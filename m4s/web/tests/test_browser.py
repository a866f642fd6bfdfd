"""End-to-end checks in headless Chromium (Playwright) against pytest-django's live server.

The key one: an owner signs in on a phone, opens SOS, and the page still shows the store's
emergency number after the browser goes offline (the service worker serves it from cache).

Playwright's own browser download does not work in our environments, so these tests drive the
distribution's Chromium at /usr/bin/chromium and skip the module if it is missing.
"""

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

from m4s.core.tests.factories import PASSWORD  # noqa: E402
from m4s.notify.sms import MemorySmsBackend  # noqa: E402

pytestmark = pytest.mark.browser

# A Chinese phone and a Chinese desktop: the locale drives Accept-Language (default zh-hans).
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "zh-CN",
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}
TIMEOUT_MS = 15_000
CODE_RE = re.compile(r"\b(\d{6})\b")


def sms_code_for(phone: str) -> str:
    for sms in reversed(MemorySmsBackend.outbox):
        if sms["to"] == phone:
            match = CODE_RE.search(sms["body"])
            if match:
                return match.group(1)
    raise AssertionError(f"no sign-in code sent to {phone}: {MemorySmsBackend.outbox!r}")


def owner_sign_in(page, base_url: str, phone: str) -> None:
    page.goto(f"{base_url}/app/login/")
    page.locator("input[name=phone]").fill(phone)
    page.locator("#login-step button[type=submit]").click()
    code_input = page.locator("input[name=code]")
    expect(code_input).to_be_visible()
    code_input.fill(sms_code_for(phone))
    page.locator("#login-step button[type=submit]").click()
    page.wait_for_url(f"{base_url}/app/")


def wait_for_sw_control(page) -> None:
    """Wait until the service worker is active and controls this page (reloading once if the
    page loaded before the worker had claimed it)."""
    page.wait_for_function(
        "() => navigator.serviceWorker.ready.then(() => true)", timeout=TIMEOUT_MS
    )
    if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=TIMEOUT_MS)


def test_owner_sos_works_offline(live_world, live_server, new_context):
    w = live_world
    context = new_context(**PHONE)
    page = context.new_page()

    owner_sign_in(page, live_server.url, w.owner.phone)
    expect(page.locator("footer.tabbar")).to_be_visible()
    expect(page.locator(".hero h1")).to_contain_text(w.owner.name)

    page.goto(f"{live_server.url}/app/sos/")
    rescue = page.locator('[data-testid=sos-numbers] a[href^="tel:"]', has_text="400-800-0000")
    expect(rescue).to_be_visible()
    expect(rescue).to_have_attribute("href", "tel:4008000000")

    wait_for_sw_control(page)
    # A controlled navigation refreshes the worker's copy of this page (network first); the
    # copy it precached at install time was taken before sign-in, without the store's numbers.
    page.reload()
    expect(rescue).to_be_visible()
    page.wait_for_function(
        """async () => {
            const hit = await caches.match("/app/sos/");
            return !!hit && (await hit.text()).includes("400-800-0000");
        }""",
        timeout=TIMEOUT_MS,
    )

    context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker, (
        "SOS was not served by the service worker"
    )
    expect(page.locator("[data-testid=sos-numbers]")).to_be_visible()
    expect(rescue).to_be_visible()

    # Prove the network really is off for the worker too: a page it never cached falls back
    # to the offline page instead of coming from the server.
    page.goto(f"{live_server.url}/app/inbox/")
    expect(page.locator("a.btn.danger[href='/app/sos/']")).to_be_visible()
    context.set_offline(False)


def console_sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/console/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:not(.lang-switch) button[type=submit]").click()
    page.wait_for_url(f"{base_url}/console/")


def test_console_home_shows_own_stores_only(live_world, live_server, new_context):
    w = live_world

    page = new_context(**DESKTOP).new_page()
    console_sign_in(page, live_server.url, w.advisor_a.username)
    stores = page.locator("[data-testid=stores-today]")
    expect(stores).to_be_visible()
    expect(stores).to_contain_text(w.store_a.name)
    expect(stores).not_to_contain_text(w.store_b.name)

    other = new_context(**DESKTOP).new_page()
    console_sign_in(other, live_server.url, w.advisor_b.username)
    expect(other.locator("[data-testid=stores-today]")).to_contain_text(w.store_b.name)
    expect(other.locator("body")).not_to_contain_text(w.store_a.name)


def test_language_switch_on_owner_login(live_world, live_server, new_context):
    page = new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/app/login/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-hans")
    for code in ("en", "ko", "zh-hans"):
        page.locator(f"form.lang-switch button[value='{code}']").click()
        expect(html).to_have_attribute("lang", code)
        expect(page).to_have_url(f"{live_server.url}/app/login/")
        expect(page.locator(f"form.lang-switch button.on[value='{code}']")).to_be_visible()


def test_invitation_link_sign_in_bind_and_staff_sees_attribution(
    live_world, live_server, new_context
):
    """An owner opens a staff member's invitation link, signs in, binds a car, and the staff
    member's console shows the new binding attributed to them."""
    import random

    from m4s.customers import services
    from m4s.demo import synthetic

    w = live_world
    invitation = services.get_or_create_invitation(w.store_a, w.advisor_a)
    rng = random.Random(99)
    plate, vin = synthetic.make_plate(rng), synthetic.make_vin(rng)
    phone = "+8613987654321"

    page = new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/i/{invitation.code}/")
    expect(page).to_have_url(re.compile(r"/app/login/$"))
    page.locator("input[name=phone]").fill(phone)
    page.locator("#login-step button[type=submit]").click()
    expect(page.locator("input[name=code]")).to_be_visible()
    page.locator("input[name=code]").fill(sms_code_for(phone))
    page.locator("#login-step button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/app/cars/$"))
    page.fill("input[name=plate]", plate)
    page.fill("input[name=vin]", vin)
    page.click("form[hx-post] button[type=submit]")
    expect(page.get_by_test_id("bind-result")).to_be_visible()
    expect(page.get_by_test_id("car")).to_contain_text(plate)

    staff = new_context(**DESKTOP).new_page()
    console_sign_in(staff, live_server.url, w.advisor_a.username)
    staff.goto(f"{live_server.url}/console/customers/?q={phone[-4:]}")
    staff.get_by_test_id("customer-results").get_by_role("link").first.click()
    bindings = staff.get_by_test_id("bindings")
    expect(bindings).to_contain_text(plate)
    expect(bindings.get_by_test_id("binding-staff")).to_contain_text(str(w.advisor_a))
    staff.goto(f"{live_server.url}/console/inbox/")
    expect(staff.get_by_test_id("inbox")).to_contain_text(plate)  # the advisor was told

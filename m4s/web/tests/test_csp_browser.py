"""The Content-Security-Policy holds in a real browser: the main owner and console pages load
(scripts, htmx, the service worker, icons) without one CSP violation in the console."""

import pytest

from m4s.web.tests.test_browser import DESKTOP, PHONE, console_sign_in, owner_sign_in

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser


def record_console(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: seen.append(f"pageerror: {exc}"))
    return seen


def csp_violations(seen: list[str]) -> list[str]:
    return [line for line in seen if "content security policy" in line.lower()]


def test_owner_pages_log_no_csp_violation(live_world, live_server, new_context):
    page = new_context(**PHONE).new_page()
    seen = record_console(page)
    page.goto(f"{live_server.url}/app/login/")
    # The htmx-driven login (phone -> code step swapped in -> signed in) works under the policy.
    owner_sign_in(page, live_server.url, live_world.owner.phone)
    expect(page.locator("footer.tabbar svg.i").first).to_be_visible()
    for path in ("/app/", "/app/sos/", "/app/service/book/", "/app/loyalty/refer/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    assert csp_violations(seen) == [], seen


def test_console_pages_log_no_csp_violation(live_world, live_server, new_context):
    page = new_context(**DESKTOP).new_page()
    seen = record_console(page)
    console_sign_in(page, live_server.url, live_world.advisor_a.username)
    for path in ("/console/", "/console/service/", "/console/customers/", "/admin/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
    assert csp_violations(seen) == [], seen


def test_a_change_to_the_board_date_still_submits_without_inline_handlers(
    live_world, live_server, new_context
):
    page = new_context(**DESKTOP).new_page()
    seen = record_console(page)
    console_sign_in(page, live_server.url, live_world.advisor_a.username)
    page.goto(f"{live_server.url}/console/service/")
    page.locator("#b-date").fill("2030-01-02")
    page.locator("#b-date").dispatch_event("change")
    page.wait_for_url("**date=2030-01-02**")
    assert csp_violations(seen) == [], seen

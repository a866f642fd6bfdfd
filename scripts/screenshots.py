"""README screenshots of the demo, taken with headless Chromium (Playwright).

    .venv/bin/python scripts/screenshots.py            # or: make screenshots
    .venv/bin/python scripts/screenshots.py --keep     # keep the temporary data dir for a look

What it does: builds the demo in a fresh temporary data dir (DEBUG=1, so sign-in codes show on
screen), runs the worker once so the welcome messages are delivered, serves the demo with
`m4s runserver` on a free port, signs in as owners and staff and writes PNGs to
docs/screenshots/. The server is stopped at the end, whatever happens.

Chinese text needs a CJK font (Debian: `apt-get install fonts-noto-cjk`); without it glyphs
render as boxes. Icons are SVG (Lucide), so no emoji font is needed.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
M4S = ROOT / ".venv" / "bin" / "m4s"
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
DESKTOP = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
OWNER_ZH = "+8613800000001"  # 王伟, prefers Chinese
OWNER_EN = "+8613800000002"  # Emily Chen, prefers English (a repair waiting for her approval)
OWNER_KO = "+8613800000003"  # 김민준, prefers Korean (an open revisit survey)
STAFF_PASSWORD = "m4s-demo"  # noqa: S105  (the demo's published password)
TIMEOUT_MS = 20_000

# Settings that could point the demo at a real database, queue or SMS gateway.
SCRUB_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "MQTT_URL",
    "TASK_BACKEND",
    "SMS_BACKEND",
    "EMAIL_BACKEND",
    "SECRET_KEY",
)


def log(message: str) -> None:
    print(f"[screenshots] {message}", flush=True)


def demo_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUB_ENV}
    env.update({"M4S_DATA_DIR": str(data_dir), "DEBUG": "1", "PYTHONUNBUFFERED": "1"})
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> None:
    log("$ m4s " + " ".join(args))
    subprocess.run([str(M4S), *args], env=env, cwd=cwd, check=True)  # noqa: S603


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"runserver exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (our own localhost)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def settle(page) -> None:
    """Wait until the page, its images and its web fonts have finished loading."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready.then(() => true)")


def shoot(page, name: str, *, full_page: bool = False) -> None:
    settle(page)
    path = OUT / name
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    log(f"wrote {path.relative_to(ROOT)}")


def owner_sign_in(page, base: str, phone: str) -> None:
    page.goto(f"{base}/app/login/")
    page.locator("input[name=phone]").fill(phone)
    page.locator("#login-step button[type=submit]").click()
    code = page.locator("[data-testid=debug-code]")
    try:
        expect(code).to_be_visible()
    except AssertionError:  # a code was sent to this phone less than a minute ago: ask again
        time.sleep(61)
        page.locator("#login-step button[type=submit]").click()
        expect(code).to_be_visible()
    page.locator("input[name=code]").fill(code.inner_text().strip())
    page.locator("#login-step button[type=submit]").click()
    page.wait_for_url(f"{base}/app/")


def staff_sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(STAFF_PASSWORD)
    page.locator("form:not(.lang-switch) button[type=submit]").click()
    page.wait_for_url(f"{base}/console/")


def owner_conversation(page, base: str) -> None:
    """The owner's thread with their service advisor (photo, reply with a visit card, read
    ticks), on the phone's screen as the owner sees it: scrolled to the newest message."""
    page.goto(f"{base}/app/conversations/")
    page.locator("[data-testid=conversation] a").first.click()
    expect(page.locator("[data-testid=message][data-author=staff]").first).to_be_visible()
    shoot(page, "owner-conversation.png")


def console_conversations(browser, base: str) -> None:
    """The advisor's inbox (waiting longest: one breached) and a conversation with the customer
    360 beside it; the store manager's conversation figures."""
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    staff_sign_in(page, base, "advisor")
    page.goto(f"{base}/console/conversations/?box=waiting")
    expect(page.locator("[data-testid=open-conversation]").first).to_be_visible()
    shoot(page, "console-inbox.png")
    page.goto(f"{base}/console/conversations/?box=mine")
    page.locator("[data-testid=open-conversation]").first.click()
    expect(page.locator("[data-testid=customer-panel]")).to_be_visible()
    shoot(page, "console-conversation.png", full_page=True)
    context.close()
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    staff_sign_in(page, base, "manager")
    page.goto(f"{base}/console/conversations/figures/")
    expect(page.locator("[data-testid=kpis]")).to_be_visible()
    shoot(page, "console-conversation-figures.png", full_page=True)
    context.close()


def care_screenshots(browser, base: str) -> None:
    """Care: the owner's reminders on a (tall) phone, the advisor's care list for the week, the
    manager's care figures."""
    context = browser.new_context(**{**PHONE, "viewport": {"width": 390, "height": 1600}})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    owner_sign_in(page, base, OWNER_ZH)
    page.goto(f"{base}/app/care/")
    expect(page.locator("[data-testid=weather-card]")).to_be_visible()
    expect(page.locator("[data-testid=reminder][data-kind=declined_repair]")).to_be_visible()
    shoot(page, "owner-reminders.png")
    context.close()
    for username, url, ready, name, full in (
        ("advisor", "/console/care/", "care-row", "console-care-week.png", False),
        (
            "manager",
            "/console/care/figures/",
            "kind-chart",
            "console-care-figures.png",
            True,
        ),
    ):
        context = browser.new_context(**DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        staff_sign_in(page, base, username)
        page.goto(f"{base}{url}")
        expect(page.locator(f"[data-testid={ready}]").first).to_be_visible()
        shoot(page, name, full_page=full)
        context.close()


def content_screenshots(browser, base: str) -> None:
    """Content and community: the owner's city-food feed and a page, the stories feed and the
    car-pal events on a phone; the Beijing editor's content console, the moderation queue and an
    event's sign-ups in the console."""
    context = browser.new_context(**{**PHONE, "viewport": {"width": 390, "height": 1200}})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    owner_sign_in(page, base, OWNER_ZH)
    page.goto(f"{base}/app/g/info/")
    shoot(page, "owner-info-group.png")
    page.goto(f"{base}/app/content/m/city_food/")
    expect(page.locator("[data-testid=content-card]").first).to_be_visible()
    shoot(page, "owner-city-food.png")
    page.locator("[data-testid=content-card]").first.click()
    expect(page.locator("[data-testid=item-title]")).to_be_visible()
    shoot(page, "owner-content-item.png", full_page=True)
    page.goto(f"{base}/app/content/prices/")
    shoot(page, "owner-prices.png", full_page=True)
    page.goto(f"{base}/app/community/")
    expect(page.locator("[data-testid=story]").first).to_be_visible()
    shoot(page, "owner-stories.png")
    page.goto(f"{base}/app/events/")
    shoot(page, "owner-events.png", full_page=True)
    context.close()
    for username, url, name in (
        ("editor", "/console/content/", "console-content.png"),
        ("manager", "/console/community/", "console-stories.png"),
        ("manager", "/console/events/", "console-events.png"),
    ):
        context = browser.new_context(**DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        staff_sign_in(page, base, username)
        page.goto(f"{base}{url}")
        shoot(page, name, full_page=True)
        context.close()


def sales_screenshots(browser, base: str) -> None:
    """Online services and sales: the owner's Online service group, the new-car catalogue, a
    model, the loan calculator, the test-drive form with its free slots and the owner's requests
    on a phone; the request queue, the sales board and the manager's forecast in the console."""
    context = browser.new_context(**{**PHONE, "viewport": {"width": 390, "height": 1200}})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    owner_sign_in(page, base, OWNER_ZH)
    page.goto(f"{base}/app/g/service/")
    shoot(page, "owner-online-service.png")
    page.goto(f"{base}/app/catalogue/")
    expect(page.locator("[data-testid=models] li").first).to_be_visible()
    shoot(page, "owner-new-cars.png")
    page.locator("[data-testid=models] li a").first.click()
    expect(page.locator("[data-testid=trims]")).to_be_visible()
    shoot(page, "owner-new-car.png", full_page=True)
    page.goto(f"{base}/app/catalogue/finance/")
    shoot(page, "owner-finance.png", full_page=True)
    page.goto(f"{base}/app/requests/new/test_drive/")
    expect(page.locator("[data-testid=td-slots]")).to_be_visible()
    shoot(page, "owner-test-drive.png", full_page=True)
    page.goto(f"{base}/app/requests/")
    shoot(page, "owner-requests.png", full_page=True)
    context.close()
    for username, url, name in (
        ("sales", "/console/requests/", "console-requests.png"),
        ("sales", "/console/sales/", "console-sales-board.png"),
        ("manager", "/console/sales/figures/", "console-sales-figures.png"),
    ):
        context = browser.new_context(**DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        staff_sign_in(page, base, username)
        page.goto(f"{base}{url}")
        shoot(page, name, full_page=True)
        context.close()


def take_screenshots(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            # Owner app, Chinese.
            context = browser.new_context(**PHONE)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            owner_sign_in(page, base, OWNER_ZH)
            expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
            shoot(page, "owner-home.png")
            page.goto(f"{base}/app/sos/")
            expect(page.locator("[data-testid=sos-numbers] a[href^='tel:']").first).to_be_visible()
            shoot(page, "owner-sos.png")
            page.goto(f"{base}/app/cars/")
            expect(page.locator("[data-testid=car]").first).to_be_visible()
            shoot(page, "owner-cars.png")
            page.goto(f"{base}/app/consultants/")
            expect(page.locator("[data-testid=consultant]").first).to_be_visible()
            shoot(page, "owner-consultants.png")
            page.goto(f"{base}/app/cars/")
            page.locator("a[href*='/health/']").first.click()
            page.wait_for_url("**/health/")
            shoot(page, "owner-car-health.png", full_page=True)
            page.goto(f"{base}/app/service/")
            shoot(page, "owner-visits.png")
            page.goto(f"{base}/app/service/book/")
            expect(page.locator("[data-testid=times]").first).to_be_visible()
            shoot(page, "owner-book.png", full_page=True)
            page.goto(f"{base}/app/loyalty/")
            shoot(page, "owner-points.png", full_page=True)
            page.goto(f"{base}/app/loyalty/vouchers/")
            page.locator("a[href*='/app/loyalty/vouchers/']").first.click()
            expect(page.locator("[data-testid=voucher-qr]")).to_be_visible()
            shoot(page, "owner-voucher.png")
            page.goto(f"{base}/app/loyalty/missions/")
            shoot(page, "owner-missions.png", full_page=True)
            page.goto(f"{base}/app/privacy/")
            shoot(page, "owner-privacy.png", full_page=True)
            page.goto(f"{base}/app/complaints/")
            page.locator("[data-testid=complaint] a").first.click()
            expect(page.locator("[data-testid=steps]")).to_be_visible()
            shoot(page, "owner-complaint.png", full_page=True)
            owner_conversation(page, base)
            context.close()

            # Owner app, Korean: the revisit survey.
            context = browser.new_context(**PHONE)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            owner_sign_in(page, base, OWNER_KO)
            page.goto(f"{base}/app/service/surveys/")
            page.locator("a[href*='/app/service/surveys/']").first.click()
            expect(page.locator("[data-testid=survey-form]")).to_be_visible()
            shoot(page, "owner-survey-ko.png", full_page=True)
            context.close()

            # Owner app, English: this owner prefers English, so signing in switches the language.
            context = browser.new_context(**PHONE)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            owner_sign_in(page, base, OWNER_EN)
            expect(page.locator("html")).to_have_attribute("lang", "en")
            shoot(page, "owner-home-en.png")
            page.goto(f"{base}/app/service/")
            page.locator("a[href*='/app/service/orders/']").first.click()
            expect(page.locator("[data-testid=approval-needed]")).to_be_visible()
            shoot(page, "owner-approval-en.png", full_page=True)
            context.close()

            # Staff console.
            for username, name in (
                ("groupadmin", "console-home.png"),
                ("advisor", "console-advisor.png"),
            ):
                context = browser.new_context(**DESKTOP)
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()
                staff_sign_in(page, base, username)
                expect(page.locator("[data-testid=stores-today]")).to_be_visible()
                shoot(page, name)
                if username == "groupadmin":
                    page.goto(f"{base}/console/customers/?q=王伟")
                    page.locator("[data-testid=customer-results] a").first.click()
                    expect(page.locator("[data-testid=timeline]")).to_be_visible()
                    shoot(page, "console-customer.png", full_page=True)
                    page.goto(f"{base}/console/invitations/")
                    expect(page.locator("[data-testid=rates-staff]")).to_be_visible()
                    shoot(page, "console-invitations.png", full_page=True)
                if username == "advisor":
                    page.goto(f"{base}/console/service/")
                    shoot(page, "console-service-board.png", full_page=True)
                    page.locator("a[href*='/console/service/orders/']").first.click()
                    expect(page.locator("[data-testid=ro-head]")).to_be_visible()
                    shoot(page, "console-workbench.png", full_page=True)
                    page.goto(f"{base}/console/loyalty/")
                    shoot(page, "console-loyalty-desk.png")
                    page.goto(f"{base}/console/telematics/")
                    shoot(page, "console-terminals.png", full_page=True)
                context.close()

            # Complaints: the desk of the store's customer service, a case, the manager's figures.
            context = browser.new_context(**DESKTOP)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            staff_sign_in(page, base, "cs")
            page.goto(f"{base}/console/complaints/?queue=store")
            expect(page.locator("[data-testid=open-complaint]").first).to_be_visible()
            shoot(page, "console-complaints-desk.png", full_page=True)
            page.goto(f"{base}/console/complaints/?queue=breaching")
            page.locator("[data-testid=open-complaint]").first.click()
            expect(page.locator("[data-testid=clock]")).to_be_visible()
            shoot(page, "console-complaint-case.png", full_page=True)
            context.close()

            context = browser.new_context(**DESKTOP)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            staff_sign_in(page, base, "manager")
            page.goto(f"{base}/console/complaints/figures/")
            expect(page.locator("[data-testid=fr-attainment]")).to_be_visible()
            shoot(page, "console-complaint-figures.png", full_page=True)
            page.goto(f"{base}/console/service/figures/")
            expect(page.locator("[data-testid=csi]")).to_be_visible()
            shoot(page, "console-figures.png", full_page=True)
            page.goto(f"{base}/console/loyalty/report/")
            shoot(page, "console-loyalty-report.png", full_page=True)
            context.close()

            console_conversations(browser, base)
            care_screenshots(browser, base)
            content_screenshots(browser, base)
            sales_screenshots(browser, base)
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        log(f"{CHROMIUM} is missing: install Debian's chromium package")
        return 1

    data_dir = Path(tempfile.mkdtemp(prefix="m4s-screenshots-"))
    env = demo_env(data_dir)
    log(f"data dir {data_dir}")
    server = server_log = None
    try:
        run(["demo", "--no-serve"], env, data_dir)
        run(["worker", "--batch", "--verbosity", "0"], env, data_dir)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log(f"$ m4s runserver 127.0.0.1:{port} --noreload")
        server_log = (data_dir / "runserver.log").open("w")
        server = subprocess.Popen(  # noqa: S603
            [str(M4S), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=data_dir,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(f"{base}/app/login/", server)
        take_screenshots(base)
    except Exception:
        log_file = data_dir / "runserver.log"
        if log_file.exists():
            sys.stderr.write(log_file.read_text()[-4000:])
        raise
    finally:
        if server is not None:
            stop(server)
        if server_log is not None:
            server_log.close()
        if args.keep:
            log(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

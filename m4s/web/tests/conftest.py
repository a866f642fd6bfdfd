"""Browser-test fixtures shared by the Playwright modules (they skip themselves when
/usr/bin/chromium or Playwright is missing)."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def _allow_sync_playwright():
    """Sync Playwright runs an event loop in the test thread, so Django's ORM would refuse to
    run there (test data set-up and the database flush after each test). Module-scoped so it
    outlives the per-test database teardown."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(_allow_sync_playwright):
    from playwright import sync_api

    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def live_world(_allow_sync_playwright, transactional_db, world, live_server):
    """`world`, committed so the live server's thread can see it."""
    return world


@pytest.fixture
def new_context(browser, live_server_idle):
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    # a request the browser sent just before (a favicon after the load event) must finish
    # before the test's database is flushed
    live_server_idle()

"""The owner's data rights in headless Chromium on a phone: from the profile to the privacy
page, request the export, download the ZIP; request erasure and cancel it."""

import io
import os
import zipfile

import pytest

from .test_browser import (  # importing it skips this module when Chromium is missing
    PHONE,
    expect,
    owner_sign_in,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def live_owner(_allow_sync_playwright, transactional_db, workshop, club, live_server):
    from m4s.identity.models import OtpChallenge
    from m4s.privacy.tests.helpers import owner_everywhere

    w = owner_everywhere(workshop)
    OtpChallenge.objects.filter(phone=w.owner.phone).delete()  # the browser signs in afresh
    return w


def test_export_download_and_erasure_cancelled(live_owner, live_server, new_context, tmp_path):
    from m4s.privacy.models import ErasureRequest

    w = live_owner
    base = live_server.url
    page = new_context(**{**PHONE, "locale": "en-GB", "accept_downloads": True}).new_page()
    owner_sign_in(page, base, w.owner.phone)
    page.goto(f"{base}/app/profile/")
    page.locator("[data-testid=privacy-link]").click()
    page.wait_for_url(f"{base}/app/privacy/")
    expect(page.locator("[data-testid=collected] li")).to_have_count(10)

    # the export: prepared by the task (run at once here), then downloaded as a ZIP
    page.locator("[data-testid=export-request]").click()
    page.wait_for_url(f"{base}/app/privacy/")
    page.reload()
    link = page.locator("[data-testid=export-download]")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "export.zip"
    info.value.save_as(path)
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        names = archive.namelist()
    assert "json/profile.json" in names and "data.xlsx" in names
    assert any(n.startswith("photos/") for n in names)

    # erasure: confirm, see when, cancel
    page.locator("[data-testid=erasure-confirm]").check()
    page.locator("[data-testid=erasure-request]").click()
    expect(page.locator("[data-testid=erasure-pending]")).to_be_visible()
    assert ErasureRequest.objects.get(owner=w.owner).status == "pending"
    if os.environ.get("M4S_SCREENSHOT_DIR"):
        page.screenshot(
            path=f"{os.environ['M4S_SCREENSHOT_DIR']}/owner-privacy.png", full_page=True
        )
    page.locator("[data-testid=erasure-cancel]").click()
    expect(page.locator("[data-testid=erasure-request]")).to_be_visible()
    assert ErasureRequest.objects.get(owner=w.owner).status == "cancelled"

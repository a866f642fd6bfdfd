"""Owners' stories end to end in headless Chromium (issue 16's browser test): an owner posts a
story with a photo from the phone, a moderator approves it in the console, another owner likes
it with one tap (htmx), and the author's points go up by the approval and the like."""

import io

import pytest
from PIL import Image

from m4s.web.tests.conftest import (  # noqa: F401 (fixtures)
    _allow_sync_playwright,
    browser,
    live_world,
    new_context,
)
from m4s.web.tests.test_browser import (  # importing it skips this module without Chromium
    DESKTOP,
    PHONE,
    console_sign_in,
    expect,
    owner_sign_in,
)

pytestmark = pytest.mark.browser


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def test_story_posted_approved_liked_and_points(live_world, live_server, new_context):  # noqa: F811
    from m4s.community.models import Story
    from m4s.core.tests.factories import OwnerFactory
    from m4s.customers.services import get_or_create_customer_for_owner
    from m4s.demo.starters import loyalty as starter
    from m4s.loyalty.models import LedgerEntry
    from m4s.loyalty.services import get_or_create_member

    w = live_world
    starter.install_programme(w.group_a)
    member = get_or_create_member(get_or_create_customer_for_owner(w.owner, w.store_a))
    fan = OwnerFactory(home_store=w.store_a, name="Fan")
    get_or_create_customer_for_owner(fan, w.store_a)

    def points() -> int:
        return sum(
            LedgerEntry.objects.for_group(w.group_a)
            .filter(member=member)
            .values_list("points", flat=True)
        )

    before = points()
    author = new_context(**PHONE).new_page()
    owner_sign_in(author, live_server.url, w.owner.phone)
    author.goto(f"{live_server.url}/app/community/new/")
    author.locator("[data-testid=text]").fill("Sunrise at the Great Wall")
    author.locator("[data-testid=photos]").set_input_files(
        [{"name": "wall.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    author.locator("[data-testid=submit]").click()
    expect(author.locator("[data-testid=status]")).to_be_visible()
    story = Story.objects.unscoped().get()
    assert story.status == "pending" and story.photos.count() == 1

    console = new_context(**DESKTOP).new_page()
    console_sign_in(console, live_server.url, w.admin_a.username)
    console.goto(f"{live_server.url}/console/community/?status=pending")
    row = console.locator("[data-testid=queue-story]", has_text="Sunrise at the Great Wall")
    row.locator("[data-testid=approve]").click()
    console.wait_for_url(f"{live_server.url}/console/community/")
    story.refresh_from_db()
    assert story.status == "approved"

    liker = new_context(**PHONE).new_page()
    owner_sign_in(liker, live_server.url, fan.phone)
    liker.goto(f"{live_server.url}/app/community/")
    card = liker.locator("[data-testid=story]", has_text="Sunrise at the Great Wall")
    expect(card.locator("img")).to_be_visible()  # the protected photo, for an owner of the group
    card.locator("[data-testid=like]").click()
    expect(card.locator("[data-testid=like]")).to_have_attribute("aria-pressed", "true")
    expect(card.locator("[data-testid=likes]")).to_have_text("1")
    assert points() == before + 50 + 2

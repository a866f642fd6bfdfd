"""Content by level, end to end in headless Chromium: a local-organisation editor (Beijing)
writes a city-food page in the content console, sends it for review and approves it; a Beijing
owner finds it behind the City food tile of the Car-pal interaction group, an owner whose store
is in Shanghai does not. (Stories, approval, likes and points: m4s/community/tests/test_browser.py.)"""

import pytest

from .test_browser import (  # importing it skips this module when Chromium is missing
    DESKTOP,
    PHONE,
    console_sign_in,
    expect,
    owner_sign_in,
)

pytestmark = pytest.mark.browser

TITLE = "Roast duck by the Drum Tower"


@pytest.fixture
def live_city(_allow_sync_playwright, transactional_db, cars, live_server):
    from m4s.core.tests.factories import make_staff
    from m4s.staff.choices import Role

    w = cars
    w.group_b.local_org.city = "Shanghai"
    w.group_b.local_org.save()
    w.editor = make_staff("bj-editor", Role.LOCAL_ORG_EDITOR, None, local_org=w.group_a.local_org)
    return w


def test_local_city_food_reaches_beijing_owners_only(live_city, live_server, new_context):
    from m4s.content.models import ContentItem

    w = live_city
    base = live_server.url
    editor = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()
    console_sign_in(editor, base, w.editor.username)
    editor.goto(f"{base}/console/content/new/")
    editor.locator("select[name=module]").select_option("city_food")
    editor.locator("select[name=source_language]").select_option("en")
    form = editor.locator("[data-testid=editor]")
    form.locator("[data-testid=lang-en] summary").click()
    form.locator("[data-testid=title-en]").fill(TITLE)
    form.locator("[data-testid=body-en]").fill(
        "<p>Crisp skin, thin pancakes.</p><script>alert(1)</script>"
    )
    form.locator("[data-testid=save]").click()
    expect(editor.locator("[data-testid=submit]")).to_be_visible()
    item = ContentItem.objects.get()
    assert item.module == "city_food" and item.local_org_id == w.group_a.local_org_id
    editor.locator("[data-testid=submit]").click()
    editor.locator("[data-testid=approve]").click()
    expect(editor.locator("[data-testid=status]")).to_contain_text("Published")
    item.refresh_from_db()
    assert item.status == "published"
    assert "<script" not in item.translation("en").body_html

    # The Beijing owner finds it behind the City food tile.
    phone = new_context(**{**PHONE, "locale": "en-GB"}).new_page()
    owner_sign_in(phone, base, w.owner.phone)
    phone.goto(f"{base}/app/g/community/")
    phone.locator("a[href='/app/content/m/city_food/']").click()
    card = phone.locator("[data-testid=content-card]", has_text=TITLE)
    expect(card).to_be_visible()
    card.click()
    expect(phone.locator("[data-testid=item-title]")).to_have_text(TITLE)
    expect(phone.locator("[data-testid=item-body]")).to_contain_text("Crisp skin")

    # The Shanghai owner's city food page does not have it, and its address is a 404.
    other = new_context(**{**PHONE, "locale": "en-GB"}).new_page()
    owner_sign_in(other, base, w.owner_b.phone)
    other.goto(f"{base}/app/content/m/city_food/")
    expect(other.locator("[data-testid=feed]")).not_to_contain_text(TITLE)
    response = other.goto(f"{base}/app/content/items/{item.pk}/")
    assert response is not None and response.status == 404

"""One complaint, end to end in headless Chromium: the owner files it on a phone with a photo →
the customer-service agent, with the desk open, sees it arrive without a reload and replies → the
owner sees the reply → the agent resolves it with a root cause and a corrective action → the owner
confirms → the store manager sees the root cause and the open corrective action in the figures."""

import io

import pytest
from PIL import Image

from .test_browser import (  # importing it skips this module when Chromium is missing
    DESKTOP,
    PHONE,
    console_sign_in,
    expect,
    owner_sign_in,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def live_desk(_allow_sync_playwright, transactional_db, cars, live_server):
    from m4s.complaints import services
    from m4s.core.tests.factories import make_staff
    from m4s.customers import services as customer_services
    from m4s.staff.choices import Role

    w = cars
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    w.customer = customer_services.get_or_create_customer_for_owner(w.owner, w.store_a)
    w.category = next(c for c in services.categories_for(w.group_a.pk) if c.code == "damage")
    w.cause = next(r for r in services.root_causes_for(w.group_a.pk) if r.code == "process")
    return w


def _photo() -> dict:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 40, 40)).save(out, "PNG")
    return {"name": "scratch.png", "mimeType": "image/png", "buffer": out.getvalue()}


def test_a_complaint_from_the_app_to_the_managers_figures(live_desk, live_server, new_context):
    from m4s.complaints.models import Complaint, ComplaintPhoto

    w = live_desk
    base = live_server.url
    phone = new_context(**{**PHONE, "locale": "en-GB"}).new_page()
    agent = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()
    manager = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()

    # 0. The agent has the store's queue open; nothing in it yet.
    console_sign_in(agent, base, w.cs_a.username)
    agent.goto(f"{base}/console/complaints/?queue=store")
    expect(agent.locator("[data-testid=queue-empty]")).to_be_visible()

    # 1. The owner files a complaint with a photo from the Car-pal interaction group.
    owner_sign_in(phone, base, w.owner.phone)
    phone.goto(f"{base}/app/g/community/")
    phone.locator("a[href='/app/complaints/']").click()
    phone.locator("[data-testid=new-complaint]").click()
    phone.locator(f"label.chip:has(> input[name=category][value='{w.category.pk}'])").click()
    phone.locator("[data-testid=description]").fill(
        "A new scratch on the rear door after the visit"
    )
    phone.locator("[data-testid=photos]").set_input_files(_photo())
    phone.locator("[data-testid=submit]").click()
    phone.wait_for_url(f"{base}/app/complaints/*/")
    c = Complaint.objects.for_group(w.group_a).get()
    assert c.channel == "app" and c.category_id == w.category.pk
    assert ComplaintPhoto.objects.for_group(w.group_a).filter(complaint=c).count() == 1
    expect(phone.locator("[data-testid=status]")).to_have_attribute("data-status", "new")

    # 2. It appears on the agent's open desk without a reload (htmx polling); the agent replies.
    row = agent.locator(f"[data-testid=complaint-{c.pk}]")
    expect(row).to_be_visible()
    row.locator("[data-testid=open-complaint]").click()
    agent.wait_for_url(f"{base}/console/complaints/{c.pk}/")
    expect(agent.locator("[data-testid=photos] img")).to_have_count(1)
    agent.locator("[data-testid=reply-body]").fill("We are sorry: we repaint the door for free.")
    agent.locator("[data-testid=send-reply]").click()
    expect(agent.locator("[data-testid=flash]")).to_be_visible()

    # 3. The owner sees the reply.
    phone.reload()
    expect(phone.locator("[data-testid=conversation]")).to_contain_text("we repaint the door")

    # 4. The agent resolves with a root cause and a corrective action.
    resolve = agent.locator("[data-testid=resolve-form]")
    resolve.locator("select[name=root_cause]").select_option(str(w.cause.pk))
    resolve.locator("textarea[name=resolution]").fill("Door repainted free of charge")
    resolve.locator("textarea[name=action]").fill("Protective film on every car at reception")
    resolve.locator("select[name=responsible]").select_option(str(w.manager_a.pk))
    resolve.locator("[data-testid=resolve]").click()
    expect(agent.locator("[data-testid=case-status]")).to_have_attribute("data-status", "resolved")

    # 5. The owner confirms the resolution.
    phone.reload()
    expect(phone.locator("[data-testid=resolution]")).to_contain_text("Door repainted")
    phone.locator("[data-testid=confirm]").click()
    expect(phone.locator("[data-testid=status]")).to_have_attribute("data-status", "closed")
    expect(phone.locator("[data-testid=rate-box]")).to_be_visible()
    c.refresh_from_db()
    assert c.status == "closed" and c.root_cause_id == w.cause.pk

    # 6. The store manager sees the root cause and its open corrective action in the figures.
    console_sign_in(manager, base, w.manager_a.username)
    manager.goto(f"{base}/console/complaints/figures/")
    causes = manager.locator("[data-testid=root-causes]")
    expect(causes).to_contain_text("Process not followed")
    expect(causes.locator("[data-testid=open-action]")).to_contain_text(
        "Protective film on every car at reception"
    )

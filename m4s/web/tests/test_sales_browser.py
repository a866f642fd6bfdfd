"""Online services feed the sales pipeline, end to end in headless Chromium: an owner on a phone
opens a new car in the catalogue and books a test drive in a free slot; the customer's sales
consultant finds the lead on the board, moves it to "test drive" and then to "won"; the group
manager's forecast page shows the won amount, which was zero before. Another group's manager
sees none of it."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from .test_browser import (  # importing it skips this module when Chromium is missing
    DESKTOP,
    PHONE,
    console_sign_in,
    expect,
    owner_sign_in,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def live_showroom(_allow_sync_playwright, transactional_db, cars, live_server):
    from m4s.catalogue.tests.factories import make_catalogue
    from m4s.customers.services import get_or_create_customer_for_owner
    from m4s.org import services as org
    from m4s.requests.models import TestDriveCar

    w = cars
    for weekday in range(7):
        org.set_business_hours(w.store_a, weekday, [(dt.time(9), dt.time(18))])
    w.cat = make_catalogue(w.admin_a)
    TestDriveCar.objects.create(
        dealer_group=w.group_a, store=w.store_a, car_model=w.cat.model, plate="京A·T0001"
    )
    w.customer = get_or_create_customer_for_owner(w.owner, w.store_a)
    w.customer.sales_consultant = w.sales_a
    w.customer.save(update_fields=["sales_consultant"])
    return w


def _money(text: str) -> str:
    return re.sub(r"[^\d.]", "", text)


def test_test_drive_from_the_catalogue_becomes_a_won_lead(live_showroom, live_server, new_context):
    from m4s.requests.models import ServiceRequest
    from m4s.sales.models import Lead

    w = live_showroom
    base = live_server.url

    # The manager's forecast before: nothing won this month.
    manager = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()
    console_sign_in(manager, base, w.admin_a.username)
    manager.goto(f"{base}/console/sales/figures/")
    won_before = _money(manager.locator("[data-testid=won-total]").inner_text())
    assert float(won_before or 0) == 0

    # The owner opens the car in the catalogue and books a test drive in a free slot.
    phone = new_context(**{**PHONE, "locale": "en-GB"}).new_page()
    owner_sign_in(phone, base, w.owner.phone)
    phone.goto(f"{base}/app/catalogue/")
    phone.locator(f"[data-testid=model-{w.cat.model.pk}] a").first.click()
    expect(phone.locator("[data-testid=model]")).to_contain_text("电动5")  # the owner reads Chinese
    phone.locator("[data-testid=test-drive]").click()
    expect(phone.locator("[data-testid=td-model]")).to_have_value(str(w.cat.model.pk))
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    date_input = phone.locator("[data-testid=td-date]")
    date_input.fill(day)
    date_input.dispatch_event("change")
    # the slots are redrawn for that day (htmx): pick one only once the redraw has landed
    expect(phone.locator("[data-testid=td-date]")).to_have_value(day)
    phone.wait_for_load_state("networkidle")
    first_slot = phone.locator("[data-testid=td-slots] input[type=radio]").first
    expect(first_slot).to_be_visible()
    first_slot.check()
    expect(first_slot).to_be_checked()
    phone.locator("[data-testid=submit-request]").click()
    phone.wait_for_url(re.compile(r"/app/requests/\d+/$"))
    expect(phone.locator("[data-testid=request]")).to_be_visible()
    expect(phone.locator("[data-testid=status]")).to_have_class(re.compile(r"pill-submitted"))
    request = ServiceRequest.objects.unscoped().get(owner=w.owner, kind="test_drive")
    lead = Lead.objects.unscoped().get(origin_id=request.pk)
    assert lead.assigned_to_id == w.sales_a.pk and lead.stage == "new"
    assert lead.value == w.cat.trim.dealer_price  # the model's lowest trim price

    # The consultant finds it on the board and works it through to won.
    sales = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()
    console_sign_in(sales, base, w.sales_a.username)
    sales.goto(f"{base}/console/sales/")
    card = sales.locator(f"[data-testid=col-new] [data-testid=card-{lead.pk}]")
    expect(card).to_be_visible()
    card.locator("a").first.click()
    expect(sales.locator("[data-testid=lead-summary]")).to_be_visible()
    for stage in ("test_drive", "won"):
        sales.locator("[data-testid=stage-form] select[name=stage]").select_option(stage)
        sales.locator("[data-testid=change-stage]").click()
        expect(sales.locator("[data-testid=lead-summary]")).to_be_visible()
        lead.refresh_from_db()
        assert lead.stage == stage
    sales.goto(f"{base}/console/sales/")
    expect(sales.locator(f"[data-testid=col-won] [data-testid=card-{lead.pk}]")).to_be_visible()

    # The forecast page now shows the won amount.
    manager.reload()
    won_after = _money(manager.locator("[data-testid=won-total]").inner_text())
    assert float(won_after) == float(lead.value) > 0

    # Another group's manager does not see the lead.
    other = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()
    console_sign_in(other, base, w.admin_b.username)
    response = other.goto(f"{base}/console/sales/{lead.pk}/")
    assert response is not None and response.status == 404

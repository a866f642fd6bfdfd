"""One conversation, end to end in headless Chromium, two browser contexts side by side: the
owner on a phone writes to their service advisor from "My consultants" with a photo → it appears
in the advisor's open inbox without a reload → the advisor answers with a canned reply (the
customer's name filled in) → the owner sees the answer arrive without a reload, with the read
tick on their own message → the owner asks to be called back → the advisor logs the call back →
the customer 360's timeline shows the message, the reply and the call."""

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
def live_talk(_allow_sync_playwright, transactional_db, cars, live_server):
    from m4s.conversations.models import CannedReply
    from m4s.customers import services as customer_services

    w = cars
    w.customer = customer_services.get_or_create_customer_for_owner(w.owner, w.store_a)
    w.customer.name = "Wang Fang"
    w.customer.service_advisor = w.advisor_a
    w.customer.save()
    w.canned = CannedReply.objects.create(
        dealer_group=w.group_a,
        title="Book a check",
        title_i18n={"zh-hans": "预约检查", "en": "Book a check", "ko": "점검 예약"},
        body="Hello {customer}, we can check it tomorrow at 9:00 at {store}.",
        body_i18n={
            "zh-hans": "{customer}您好，明天上午九点可以在{store}检查。",
            "ko": "{customer}님, 내일 오전 9시에 {store}에서 점검 가능합니다.",
        },
        topic="service",
    )
    return w


def _photo() -> dict:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(out, "PNG")
    return {"name": "warning-light.png", "mimeType": "image/png", "buffer": out.getvalue()}


def test_owner_and_advisor_talk_live_and_every_step_is_on_the_timeline(
    live_talk, live_server, new_context
):
    from m4s.conversations.models import Call, CallbackRequest, Conversation, MessagePhoto

    w = live_talk
    base = live_server.url
    phone = new_context(**{**PHONE, "locale": "en-GB"}).new_page()
    advisor = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()

    # 0. The advisor has the inbox open; nothing in it yet.
    console_sign_in(advisor, base, w.advisor_a.username)
    advisor.goto(f"{base}/console/conversations/?box=mine")
    expect(advisor.locator("[data-testid=inbox-empty]")).to_be_visible()

    # 1. The owner writes to their service advisor from "My consultants", with a photo.
    owner_sign_in(phone, base, w.owner.phone)
    phone.goto(f"{base}/app/consultants/")
    phone.locator("[data-testid=message-service]").click()
    phone.wait_for_url(f"{base}/app/conversations/new/service/")
    phone.locator("[data-testid=body]").fill("A warning light came on this morning")
    phone.locator("[data-testid=photos]").set_input_files(_photo())
    phone.locator("[data-testid=send]").click()
    phone.wait_for_url(f"{base}/app/conversations/*/")
    conv = Conversation.objects.for_group(w.group_a).get(customer=w.customer)
    assert conv.assignee_id == w.advisor_a.pk
    assert MessagePhoto.objects.for_group(w.group_a).filter(conversation=conv).count() == 1
    mine = phone.locator("[data-testid=message][data-author=owner]")
    expect(mine).to_contain_text("A warning light came on")
    expect(mine.locator("[data-testid=message-photos] img")).to_have_count(1)

    # 2. It appears in the advisor's inbox without a reload (htmx polling); they open it.
    row = advisor.locator(f"[data-testid=conversation-{conv.pk}]")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Wang Fang")
    row.locator("[data-testid=open-conversation]").click()
    advisor.wait_for_url(f"{base}/console/conversations/{conv.pk}/")
    expect(advisor.locator("[data-testid=message-photos] img")).to_have_count(1)

    # 3. The advisor answers with a canned reply: the customer's name and store filled in.
    advisor.locator("[data-testid=canned]").select_option(label="Book a check")
    body = advisor.locator("[data-testid=reply-body]")
    expect(body).to_have_value(
        f"Hello Wang Fang, we can check it tomorrow at 9:00 at {w.store_a.display_title}."
    )
    advisor.locator("[data-testid=send-reply]").click()
    expect(body).to_have_value("")
    expect(advisor.locator("[data-testid=message][data-author=staff]")).to_contain_text(
        "Hello Wang Fang"
    )

    # 4. The owner, thread open, sees the answer arrive without a reload; their message is read.
    theirs = phone.locator("[data-testid=message][data-author=staff]")
    expect(theirs).to_contain_text("we can check it tomorrow at 9:00")
    expect(mine.locator("[data-testid=tick]")).to_have_attribute("data-state", "read")

    # 5. The owner asks to be called back tomorrow afternoon.
    phone.locator("[data-testid=call-me-back]").click()
    phone.wait_for_url(f"{base}/app/conversations/callback/?topic=service")
    phone.locator("label.cv-chip:has([data-testid=window-afternoon])").click()
    phone.locator("label.cv-chip:has(input[name=day])").nth(1).click()  # tomorrow
    phone.locator("[data-testid=request-callback]").click()
    phone.wait_for_url(f"{base}/app/conversations/{conv.pk}/")
    expect(phone.locator("[data-testid=callback-pending]")).to_be_visible()
    request = CallbackRequest.objects.for_group(w.group_a).get()

    # 6. The advisor calls (tel: link on the page) and logs the call back: no reason needed.
    advisor.reload()
    expect(advisor.locator("[data-testid=tel]").first).to_have_attribute(
        "href", f"tel:{w.customer.phone}"
    )
    call_form = advisor.locator("[data-testid=call-box] [data-testid=call-form]")
    expect(call_form.locator("[data-testid=call-basis]")).to_have_attribute(
        "data-basis", "owner_request"
    )
    call_form.locator("[data-testid=call-reached]").check()
    call_form.locator("[data-testid=call-minutes]").fill("3")
    call_form.locator("[data-testid=call-outcome]").select_option("booked")
    call_form.locator("[data-testid=call-note]").fill("Booked the check for tomorrow 9:00")
    call_form.locator("[data-testid=log-call]").click()
    expect(advisor.locator("[data-testid=flash]")).to_be_visible()
    call = Call.objects.for_group(w.group_a).get()
    request.refresh_from_db()
    assert call.basis == "owner_request" and call.callback_request_id == request.pk
    assert request.status == "done"

    # 7. The customer 360's timeline shows the owner's message, the reply and the call.
    advisor.goto(f"{base}/console/customers/{w.customer.pk}/")
    timeline = advisor.locator("[data-testid=timeline]")
    expect(timeline).to_contain_text("Message from the owner")
    expect(timeline).to_contain_text("Reply by")
    expect(timeline).to_contain_text("Call (")

"""The conversation pages: the owner writes to their consultant (with a photo, once per
Idempotency-Key), reads the thread with its ticks and cards, polls for what is new, asks for a
call back, rates a closed conversation; the console inbox with its boxes, search and polling,
the conversation page with reply, canned reply, note, claim, transfer, close and reopen, the
call log (never cold), the callbacks list, the figures, the customer 360 panel and timeline.

Isolation on every page: another owner's conversation is a 404, another group's staff get a
404, staff without the capability a 403, a third owner sees nothing; notes never reach an
owner's HTML; bad input is a 4xx that stores nothing."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from m4s.conversations import services
from m4s.conversations.models import (
    Call,
    CallbackRequest,
    CannedReply,
    Conversation,
    Message,
    MessagePhoto,
)
from m4s.customers.models import TimelineEvent
from m4s.owners.middleware import SESSION_KEY

pytestmark = pytest.mark.django_db


def png(name="dent.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def text(response) -> str:
    return response.content.decode()


def start(w, body="The brakes squeak since the last visit", topic="service", **kw):
    return services.start_conversation(w.owner, customer=w.customer, topic=topic, body=body, **kw)


HTMX = {"HTTP_HX_REQUEST": "true"}


# --- owner ---------------------------------------------------------------------------------------
def test_my_consultants_page_links_each_consultant_to_a_conversation(talk):
    page = text(owner_client(talk.owner).get("/app/consultants/"))
    assert "/app/conversations/new/service/" in page
    assert "/app/conversations/new/sales/" in page
    assert "/app/conversations/new/cs/" in page
    assert "/app/conversations/new/store/" in page  # "Message the store"
    assert "disabled" not in page


def test_owner_list_shows_consultants_entries_and_conversations_with_unread(talk):
    w = talk
    conv = start(w)
    services.post_staff_message(w.advisor_a, conv, body="Bring it in tomorrow at nine?")
    client = owner_client(w.owner)
    r = client.get("/app/conversations/")
    page = text(r)
    assert r.status_code == 200
    assert 'data-testid="message-store"' in page and 'data-testid="call-me-back"' in page
    assert 'data-testid="message-service"' in page
    assert 'data-testid="unread-badge">1<' in page
    assert "Bring it in tomorrow" in page
    # home: the Messages tile has the badge and the to-do list says who replied
    home = text(client.get("/app/"))
    assert 'data-testid="messages-unread">1<' in home
    assert "1 new reply from" in home and f"/app/conversations/{conv.pk}/" in home


def test_a_third_owner_sees_no_conversation(talk):
    start(talk)
    client = owner_client(talk.stranger)
    page = text(client.get("/app/conversations/"))
    assert 'data-testid="conversation"' not in page and "squeak" not in page
    assert client.get("/app/conversations/new/service/").status_code == 200


def test_owner_starts_a_conversation_with_a_photo_once_per_key(talk):
    w = talk
    client = owner_client(w.owner)
    r = client.get("/app/conversations/new/service/")
    assert r.status_code == 200 and 'capture="environment"' in text(r)
    assert 'accept="image/*"' in text(r) and str(w.advisor_a) in text(r)
    data = {"body": "A rattle from the back", "idempotency_key": "key-12345678"}
    r = client.post("/app/conversations/new/service/", {**data, "photos": png()})
    conv = Conversation.objects.for_group(w.group_a).get(customer=w.customer)
    assert r.status_code == 302 and r["Location"] == f"/app/conversations/{conv.pk}/"
    assert conv.topic == "service" and conv.assignee_id == w.advisor_a.pk
    r = client.post("/app/conversations/new/service/", {**data, "photos": png()})  # a retry
    assert r.status_code == 302
    assert Message.objects.for_group(w.group_a).filter(conversation=conv).count() == 1
    assert MessagePhoto.objects.for_group(w.group_a).filter(conversation=conv).count() == 1
    # an open conversation of the topic: "Message" opens it
    r = client.get("/app/conversations/new/service/")
    assert r.status_code == 302 and r["Location"] == f"/app/conversations/{conv.pk}/"
    page = text(client.get(f"/app/conversations/{conv.pk}/"))
    assert "A rattle from the back" in page and "/media/conversations/" in page


def test_unknown_topic_is_a_404(talk):
    assert owner_client(talk.owner).get("/app/conversations/new/nonsense/").status_code == 404


def test_bad_owner_input_is_a_4xx_and_stores_nothing(talk):
    w = talk
    client = owner_client(w.owner)
    r = client.post("/app/conversations/new/service/", {"body": "  "})
    assert r.status_code == 400 and 'data-testid="error"' in text(r)
    r = client.post("/app/conversations/new/service/", {"body": "x" * 4001})
    assert r.status_code == 400
    bad = SimpleUploadedFile("evil.png", b"<svg onload=alert(1)>", content_type="image/png")
    r = client.post("/app/conversations/new/service/", {"body": "look", "photos": bad})
    assert r.status_code == 400
    assert not Conversation.objects.for_group(w.group_a).filter(customer=w.customer).exists()
    conv = start(w)
    before = Message.objects.for_group(w.group_a).count()
    r = client.post(f"/app/conversations/{conv.pk}/send/", {"body": ""})
    assert r.status_code == 400
    bad = SimpleUploadedFile("doc.png", b"%PDF-1.4 not an image", content_type="image/png")
    r = client.post(f"/app/conversations/{conv.pk}/send/", {"body": "", "photos": bad})
    assert r.status_code == 400
    # another owner's car as a card: a 404, nothing stored
    r = client.post(
        f"/app/conversations/{conv.pk}/send/", {"body": "this car", "card": f"car:{w.car_c.pk}"}
    )
    assert r.status_code == 404
    r = client.post(f"/app/conversations/{conv.pk}/send/", {"body": "x", "card": "spaceship:1"})
    assert 400 <= r.status_code < 500
    r = client.post(f"/app/conversations/{conv.pk}/send/", {"body": "x" * 4001}, **HTMX)
    assert r.status_code == 400 and 'data-testid="error"' in text(r)
    assert Message.objects.for_group(w.group_a).count() == before


def test_owner_sends_with_htmx_and_polls_for_the_reply_and_the_read_tick(talk):
    w = talk
    conv = start(w)
    client = owner_client(w.owner)
    first = Message.objects.for_group(w.group_a).get(conversation=conv)
    r = client.post(
        f"/app/conversations/{conv.pk}/send/",
        {"body": "And the wipers too", "idempotency_key": "key-abcdefgh"},
        **HTMX,
    )
    assert r.status_code == 200 and r["HX-Trigger"] == "cv-refresh"
    assert 'id="cv-key"' in text(r) and "key-abcdefgh" not in text(r)  # a fresh key
    mine = Message.objects.for_group(w.group_a).filter(conversation=conv).order_by("id")
    last = mine.last()
    assert last.body == "And the wipers too"
    url = f"/app/conversations/{conv.pk}/messages/"
    assert client.get(f"{url}?after={last.pk}&seen=0").status_code == 204  # nothing new
    services.mark_read_by_staff(w.advisor_a, conv)
    reply = services.post_staff_message(w.advisor_a, conv, body="Both tomorrow, 9:00")
    r = client.get(f"{url}?after={last.pk}&seen=0")
    page = text(r)
    assert r.status_code == 200 and "Both tomorrow, 9:00" in page
    # the ticks of my two messages turn to read (out of band), the poller moves on
    assert f'id="tick-{first.pk}"' in page and 'hx-swap-oob="true"' in page
    assert f"after={reply.pk}" in page
    reply.refresh_from_db()
    conv.refresh_from_db()
    assert reply.read_at is not None and conv.owner_unread == 0


def test_notes_never_reach_the_owner(talk):
    w = talk
    conv = start(w)
    services.add_note(w.advisor_a, conv, body="SECRET-NOTE customer is difficult")
    services.claim(w.advisor_a2, conv) if conv.assignee_id is None else None
    services.post_staff_message(w.advisor_a, conv, body="We are on it")
    client = owner_client(w.owner)
    pages = [
        client.get(f"/app/conversations/{conv.pk}/"),
        client.get(f"/app/conversations/{conv.pk}/messages/?after=0&seen=0"),
        client.get("/app/conversations/"),
        client.get("/app/"),
    ]
    for r in pages:
        assert r.status_code == 200
        assert "SECRET-NOTE" not in text(r) and "Internal note" not in text(r)
    assert "We are on it" in text(pages[0])


def test_another_owners_conversation_is_a_404_on_every_page(talk):
    w = talk
    conv = start(w)
    for owner in (w.owner_c, w.owner_b, w.stranger):  # same group, other group, nobody
        client = owner_client(owner)
        assert client.get(f"/app/conversations/{conv.pk}/").status_code == 404
        assert client.get(f"/app/conversations/{conv.pk}/messages/?after=0").status_code == 404
        r = client.post(f"/app/conversations/{conv.pk}/send/", {"body": "hi"})
        assert r.status_code == 404
        assert client.post(f"/app/conversations/{conv.pk}/rate/", {"score": "5"}).status_code == 404
    assert Message.objects.for_group(w.group_a).filter(conversation=conv).count() == 1
    assert client.get("/app/conversations/").status_code == 200


def test_owner_rates_a_closed_conversation_once(talk):
    w = talk
    conv = start(w)
    client = owner_client(w.owner)
    assert client.post(f"/app/conversations/{conv.pk}/rate/", {"score": "5"}).status_code == 409
    services.close(w.advisor_a, conv)
    page = text(client.get(f"/app/conversations/{conv.pk}/"))
    assert 'data-testid="rate-form"' in page
    assert client.post(f"/app/conversations/{conv.pk}/rate/", {"score": "9"}).status_code == 400
    r = client.post(f"/app/conversations/{conv.pk}/rate/", {"score": "4", "comment": "Quick"})
    assert r.status_code == 302
    conv.refresh_from_db()
    assert conv.rating == 4 and conv.rating_comment == "Quick"
    page = text(client.get(f"/app/conversations/{conv.pk}/"))
    assert 'data-testid="rated"' in page and "4 / 5" in page
    assert client.post(f"/app/conversations/{conv.pk}/rate/", {"score": "1"}).status_code == 409


def test_owner_asks_for_a_call_back(talk):
    w = talk
    conv = start(w)
    client = owner_client(w.owner)
    r = client.get("/app/conversations/callback/?topic=service")
    assert r.status_code == 200 and 'data-testid="callback-form"' in text(r)
    tomorrow = (timezone.localtime(timezone.now(), w.store_a.tz) + dt.timedelta(days=1)).date()
    r = client.post(
        "/app/conversations/callback/",
        {"topic": "service", "day": "2020-01-01", "window": "morning"},
    )
    assert r.status_code == 400  # a window in the past
    r = client.post("/app/conversations/callback/", {"topic": "service", "day": tomorrow})
    assert r.status_code == 400  # no time chosen
    assert not CallbackRequest.objects.for_group(w.group_a).exists()
    r = client.post(
        "/app/conversations/callback/",
        {"topic": "service", "day": tomorrow.isoformat(), "window": "afternoon", "note": "brakes"},
    )
    assert r.status_code == 302 and r["Location"] == f"/app/conversations/{conv.pk}/"
    made = CallbackRequest.objects.for_group(w.group_a).get()
    local = timezone.localtime(made.window_start, w.store_a.tz)
    assert (local.date(), local.hour, made.conversation_id) == (tomorrow, 14, conv.pk)
    page = text(client.get(f"/app/conversations/{conv.pk}/"))
    assert 'data-testid="callback-pending"' in page
    assert "calls you back on" in text(client.get("/app/"))
    # twice: refused, still one
    r = client.post(
        "/app/conversations/callback/",
        {"topic": "service", "day": tomorrow.isoformat(), "window": "morning"},
    )
    assert r.status_code == 409 and CallbackRequest.objects.for_group(w.group_a).count() == 1
    # another owner cannot cancel it; the owner can
    assert (
        owner_client(w.owner_c).post(f"/app/conversations/callback/{made.pk}/cancel/").status_code
        == 404
    )
    assert client.post(f"/app/conversations/callback/{made.pk}/cancel/").status_code == 302
    made.refresh_from_db()
    assert made.status == "cancelled"


def test_cards_show_on_both_sides_with_links_only_where_allowed(talk):
    w = talk
    conv = start(w, card=("car", w.my_car.pk))
    page = text(owner_client(w.owner).get(f"/app/conversations/{conv.pk}/"))
    assert 'data-card="car"' in page and w.my_car.plate in page
    assert f"/app/cars/{w.my_car.pk}/health/" in page
    page = text(staff_client(w.advisor_a).get(f"/console/conversations/{conv.pk}/"))
    assert 'data-card="car"' in page and f"/console/telematics/vehicles/{w.my_car.pk}/" in page


# --- console -------------------------------------------------------------------------------------
def test_console_inbox_boxes_search_rows_and_badge(talk):
    w = talk
    w.customer.name = "Wang Fang"
    w.customer.save()
    conv = start(w)
    client = staff_client(w.advisor_a)
    r = client.get("/console/conversations/")
    page = text(r)
    assert r.status_code == 200 and f'data-testid="conversation-{conv.pk}"' in page
    assert 'data-testid="nav-conversations"' in page  # the navigation entry with its badge
    for box in ("mine", "team", "unassigned", "waiting", "closed"):
        assert client.get(f"/console/conversations/?box={box}").status_code == 200
    waiting = text(client.get("/console/conversations/?box=waiting"))
    assert f'data-testid="conversation-{conv.pk}"' in waiting
    live = text(client.get("/console/conversations/rows/?box=mine"))
    assert f"conversation-{conv.pk}" in live and 'data-testid="boxes"' in live
    sig = live.split('data-sig="')[1].split('"')[0]
    # nothing changed: 204 and the page keeps what it shows; a new owner message: redrawn
    assert client.get(f"/console/conversations/rows/?box=mine&sig={sig}").status_code == 204
    services.post_owner_message(w.owner, conv, body="Anyone there?")
    r = client.get(f"/console/conversations/rows/?box=mine&sig={sig}")
    assert r.status_code == 200 and "Anyone there?" in text(r)
    plate = w.my_car.plate
    assert f"conversation-{conv.pk}" in text(client.get(f"/console/conversations/?q={plate}"))
    assert f"conversation-{conv.pk}" in text(
        client.get(f"/console/conversations/?q={w.customer.name}")
    )
    assert f"conversation-{conv.pk}" not in text(client.get("/console/conversations/?q=京C99999"))
    badge = text(client.get("/console/conversations/badge/"))
    assert 'data-n="2"' in badge  # two owner messages in mine not read yet
    assert client.get("/console/conversations/?box=bogus").status_code == 200


def test_console_pages_are_isolated(talk):
    w = talk
    conv = start(w)
    # another group's staff: not in their inbox, the page and every action a 404
    other = staff_client(w.admin_b)
    assert f"conversation-{conv.pk}" not in text(other.get("/console/conversations/?box=team"))
    assert other.get(f"/console/conversations/{conv.pk}/").status_code == 404
    assert other.get(f"/console/conversations/{conv.pk}/messages/?after=0").status_code == 404
    for action in ("reply", "note", "claim", "close", "call", "transfer"):
        r = other.post(f"/console/conversations/{conv.pk}/{action}/", {"body": "x"})
        assert r.status_code == 404, action
    r = other.post("/console/conversations/calls/", {"customer": w.customer.pk})
    assert r.status_code == 404
    # a technician does not answer conversations: 403
    tech = staff_client(w.tech_a)
    assert tech.get("/console/conversations/").status_code == 403
    assert tech.get(f"/console/conversations/{conv.pk}/").status_code == 403
    assert 'data-n="0"' in text(tech.get("/console/conversations/badge/"))
    assert "nav-conversations" not in text(tech.get("/console/"))
    # signed out: the login page
    assert Client().get("/console/conversations/").status_code == 302
    assert Message.objects.for_group(w.group_a).filter(conversation=conv).count() == 1


def test_console_conversation_page_reply_canned_note_and_polling(talk):
    w = talk
    CannedReply.objects.create(
        dealer_group=w.group_a,
        title="Book a check",
        title_i18n={"zh-hans": "预约检查", "ko": "점검 예약"},
        body="Dear {customer}, we check {car} at {store}.",
        body_i18n={"zh-hans": "{customer}您好，我们在{store}检查{car}。", "ko": "{customer}님"},
    )
    conv = start(w, photos=[png()])
    client = staff_client(w.advisor_a)
    r = client.get(f"/console/conversations/{conv.pk}/")
    page = text(r)
    assert r.status_code == 200
    assert f'href="tel:{w.customer.phone}"' in page
    assert 'data-testid="customer-panel"' in page and w.my_car.plate in page
    assert f"Dear {w.customer.name}, we check {w.my_car.plate}" in page  # placeholders filled
    assert "预约检查" in page and "점검 예약" in page  # every language
    assert "/media/conversations/" in page
    conv.refresh_from_db()
    assert conv.staff_unread == 0  # read by the consultant who opened it
    owner_msg = Message.objects.for_group(w.group_a).get(conversation=conv)
    assert owner_msg.read_at is not None
    r = client.post(
        f"/console/conversations/{conv.pk}/reply/", {"body": "Dear owner, see you at 9"}, **HTMX
    )
    assert r.status_code == 200 and r["HX-Trigger"] == "cv-refresh"
    r = client.post(f"/console/conversations/{conv.pk}/note/", {"body": "Check pads"}, **HTMX)
    assert r.status_code == 200
    r = client.get(f"/console/conversations/{conv.pk}/messages/?after={owner_msg.pk}&seen=0")
    page = text(r)
    assert "Dear owner, see you at 9" in page and "Check pads" in page
    assert 'data-testid="note-tag"' in page
    r = client.post(f"/console/conversations/{conv.pk}/reply/", {"body": ""}, **HTMX)
    assert r.status_code == 400 and 'data-testid="error"' in text(r)
    r = client.post(f"/console/conversations/{conv.pk}/reply/", {"body": " "})
    assert r.status_code == 400 and 'data-testid="error"' in text(r)
    assert client.post(f"/console/conversations/{conv.pk}/bogus/").status_code == 404


def test_claim_transfer_close_and_reopen(talk):
    w = talk
    conv = services.start_conversation(
        w.owner, customer=w.customer, topic="store", body="Is the car wash open?"
    )
    assert conv.assignee_id is None
    cs = staff_client(w.cs_a)
    assert f"conversation-{conv.pk}" in text(cs.get("/console/conversations/?box=unassigned"))
    r = cs.post(f"/console/conversations/{conv.pk}/claim/")
    assert r.status_code == 302
    conv.refresh_from_db()
    assert conv.assignee_id == w.cs_a.pk
    # someone else cannot claim it any more
    assert staff_client(w.cs2_a).post(f"/console/conversations/{conv.pk}/claim/").status_code == 409
    r = cs.post(f"/console/conversations/{conv.pk}/transfer/", {"to": w.cs2_a.pk, "reason": ""})
    assert r.status_code == 400
    r = cs.post(
        f"/console/conversations/{conv.pk}/transfer/",
        {"to": w.cs2_a.pk, "reason": "off_shift", "note": "I leave at five"},
    )
    assert r.status_code == 302
    conv.refresh_from_db()
    assert conv.assignee_id == w.cs2_a.pk
    page = text(cs.get(f"/console/conversations/{conv.pk}/"))
    assert 'data-testid="handovers"' in page and "I leave at five" in page
    assert cs.post(f"/console/conversations/{conv.pk}/close/").status_code == 302
    conv.refresh_from_db()
    assert conv.status == "closed"
    assert cs.post(f"/console/conversations/{conv.pk}/close/").status_code == 409
    assert f"conversation-{conv.pk}" in text(cs.get("/console/conversations/?box=closed"))
    assert cs.post(f"/console/conversations/{conv.pk}/reopen/").status_code == 302
    conv.refresh_from_db()
    assert conv.status == "open"


def test_calls_are_never_cold(talk):
    w = talk
    # owner C has nothing open: an outgoing call needs a reason
    client = staff_client(w.advisor_a2)
    page = text(client.get(f"/console/conversations/calls/?customer={w.customer_c.pk}"))
    assert 'data-basis="none"' in page and f"tel:{w.customer_c.phone}" in page
    data = {
        "customer": w.customer_c.pk,
        "direction": "outbound",
        "reached": "yes",
        "minutes": "3",
        "seconds": "5",
        "outcome": "informed",
        "note": "Told about the recall",
    }
    r = client.post("/console/conversations/calls/", data)
    assert r.status_code == 400 and not Call.objects.for_group(w.group_a).exists()
    r = client.post("/console/conversations/calls/", {**data, "minutes": "99999"})
    assert r.status_code == 400
    r = client.post("/console/conversations/calls/", {**data, "reached": ""})
    assert r.status_code == 400 and not Call.objects.for_group(w.group_a).exists()
    r = client.post("/console/conversations/calls/", {**data, "reason": "Recall campaign"})
    assert r.status_code == 302
    call = Call.objects.for_group(w.group_a).get()
    assert call.basis == "none" and call.duration_seconds == 185 and call.unsolicited
    # the customer 360 shows the call and the panel
    page = text(client.get(f"/console/customers/{w.customer_c.pk}/"))
    assert 'data-testid="customer-conversations"' in page and "unsolicited" in page


def test_callbacks_page_and_logging_the_call_back(talk):
    w = talk
    conv = start(w)
    now = timezone.now()
    req = services.request_callback(
        w.owner,
        customer=w.customer,
        topic="service",
        window_start=now + dt.timedelta(hours=1),
        window_end=now + dt.timedelta(hours=3),
        note="about the brakes",
    )
    client = staff_client(w.advisor_a)
    page = text(client.get("/console/conversations/callbacks/"))
    assert f'data-testid="callback-{req.pk}"' in page and "about the brakes" in page
    assert f"tel:{w.customer.phone}" in page
    page = text(client.get(f"/console/conversations/{conv.pk}/"))
    assert 'data-basis="owner_request"' in page and 'data-testid="panel-callbacks"' in page
    r = client.post(
        "/console/conversations/calls/",
        {
            "customer": w.customer.pk,
            "conversation": conv.pk,
            "callback_request": req.pk,
            "back": "callbacks",
            "direction": "outbound",
            "reached": "yes",
            "minutes": "4",
            "outcome": "booked",
        },
    )
    assert r.status_code == 302 and r["Location"] == "/console/conversations/callbacks/"
    call = Call.objects.for_group(w.group_a).get()
    req.refresh_from_db()
    assert call.basis == "owner_request" and req.status == "done"
    assert f"callback-{req.pk}" not in text(client.get("/console/conversations/callbacks/"))
    assert staff_client(w.admin_b).get("/console/conversations/callbacks/").status_code == 200
    assert f"callback-{req.pk}" not in text(
        staff_client(w.admin_b).get("/console/conversations/callbacks/")
    )


def test_call_logged_from_the_conversation_page(talk):
    w = talk
    conv = start(w)
    client = staff_client(w.advisor_a)
    r = client.post(
        f"/console/conversations/{conv.pk}/call/",
        {"direction": "outbound", "reached": "no", "outcome": "no_answer"},
    )
    assert r.status_code == 302
    call = Call.objects.for_group(w.group_a).get()
    assert call.conversation_id == conv.pk and call.basis == "open_case" and not call.reached
    r = client.post(
        f"/console/conversations/{conv.pk}/call/",
        {"direction": "sideways", "reached": "no", "outcome": "no_answer"},
    )
    assert r.status_code == 400 and Call.objects.for_group(w.group_a).count() == 1


def test_figures_page(talk):
    w = talk
    conv = start(w)
    services.post_staff_message(w.advisor_a, conv, body="On it")
    services.close(w.advisor_a, conv)
    services.rate(w.owner, conv, score=5)
    r = staff_client(w.manager_a).get("/console/conversations/figures/")
    page = text(r)
    assert r.status_code == 200
    for testid in ("staff-chart", "store-chart", "consultant-chart", "rating-chart"):
        assert f'data-testid="{testid}"' in page
    assert 'data-testid="kpi-rating">5.0 / 5' in page
    assert 'data-testid="no-unsolicited"' in page
    assert (
        staff_client(w.manager_a).get("/console/conversations/figures/?month=x").status_code == 200
    )
    assert staff_client(w.advisor_a).get("/console/conversations/figures/").status_code == 403
    # another group's admin sees their own (empty) figures, not group A's
    page = text(staff_client(w.admin_b).get("/console/conversations/figures/"))
    assert 'data-testid="kpi-rating">—' in page


def test_every_message_note_and_call_is_on_the_customer_timeline(talk):
    w = talk
    conv = start(w)
    services.post_staff_message(w.advisor_a, conv, body="Reply")
    services.add_note(w.advisor_a, conv, body="Note")
    services.log_call(
        w.advisor_a,
        customer=w.customer,
        direction="outbound",
        reached=True,
        duration_seconds=60,
        outcome="informed",
        conversation=conv,
    )
    kinds = set(
        TimelineEvent.objects.for_group(w.group_a)
        .filter(customer=w.customer)
        .values_list("kind", flat=True)
    )
    assert {"message", "note", "call"} <= kinds
    page = text(staff_client(w.admin_a).get(f"/console/customers/{w.customer.pk}/"))
    assert "Message from the owner" in page and "Reply by" in page
    assert "Internal note by" in page and "Call" in page
    assert f"/console/conversations/{conv.pk}/" in page  # the 360's conversations panel

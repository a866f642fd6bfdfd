"""Conversation services: messages with photos and cards, read receipts, notes, claim and
transfer, close / reopen / rate, calls that are never cold, canned replies, telephony events."""

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from m4s.conversations import selectors, services
from m4s.conversations.choices import (
    CallbackStatus,
    CallBasis,
    HandoverReason,
    Stage,
)
from m4s.conversations.models import (
    Call,
    CallbackRequest,
    CannedReply,
    Conversation,
    Handover,
    Message,
    MessagePhoto,
)
from m4s.core.errors import DomainError
from m4s.customers.models import TimelineEvent
from m4s.notify.models import Message as Outbox

from .conftest import T0


def png(size=(8, 8)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, "PNG")
    return SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png")


def start(w, body="Brake noise", topic="service", owner=None, customer=None, **kw):
    return services.start_conversation(
        owner or w.owner, customer=customer or w.customer, topic=topic, body=body, now=T0, **kw
    )


def test_owner_writes_to_their_advisor_who_is_told_and_the_timeline_has_it(talk):
    w = talk
    conv = start(w, photos=[png()], card=("car", w.my_car.pk))
    assert conv.assignee == w.advisor_a and conv.stage == Stage.CONSULTANT
    assert conv.waiting_since == T0 and conv.wait_round == 1
    assert conv.first_response_due_at == T0 + dt.timedelta(minutes=30)  # business minutes
    assert conv.staff_unread == 1
    msg = Message.objects.for_group(w.group_a).get(conversation=conv)
    assert msg.card_kind == "car" and msg.card_id == w.my_car.pk
    assert MessagePhoto.objects.for_group(w.group_a).filter(message=msg).count() == 1
    assert Handover.objects.for_group(w.group_a).get(conversation=conv).reason == "routed"
    assert (
        TimelineEvent.objects.for_group(w.group_a)
        .filter(customer=w.customer, kind="message")
        .exists()
    )
    assert Outbox.objects.filter(staff=w.advisor_a, kind="conversation").count() == 1
    # a second message in the same wait: no second notification, same round
    services.post_owner_message(w.owner, conv, body="Also a rattle", now=T0)
    conv.refresh_from_db()
    assert conv.wait_round == 1 and conv.staff_unread == 2
    assert Outbox.objects.filter(staff=w.advisor_a, kind="conversation").count() == 1
    # the same topic again: the open conversation, not a new one
    again = start(w, body="And the wipers")
    assert again.pk == conv.pk


def test_answer_read_receipts_and_owner_notification(talk):
    w = talk
    conv = start(w)
    owner_msg = Message.objects.for_group(w.group_a).get(conversation=conv)
    later = T0 + dt.timedelta(minutes=12)
    services.mark_delivered_to_staff(w.advisor_a, conv, now=later)
    owner_msg.refresh_from_db()
    assert owner_msg.delivered_at == later and owner_msg.read_at is None
    reply = services.post_staff_message(w.advisor_a, conv, body="Bring it in tomorrow", now=later)
    assert reply.response_minutes == 12
    conv.refresh_from_db()
    assert conv.waiting_since is None and conv.first_response_due_at is None
    assert conv.owner_unread == 1 and conv.staff_unread == 0
    owner_msg.refresh_from_db()
    assert owner_msg.read_at == later  # answering reads it
    assert Outbox.objects.filter(owner=w.owner, kind="conversation", channel="inapp").exists()
    assert selectors.owner_unread_count(w.owner) == 1
    # the owner's side: delivered when fetched, read when read
    services.mark_delivered_to_owner(w.owner, conv, now=later + dt.timedelta(minutes=1))
    reply.refresh_from_db()
    assert reply.delivered_at is not None and reply.read_at is None
    assert services.mark_read_by_owner(w.owner, conv, now=later + dt.timedelta(minutes=2)) == 1
    reply.refresh_from_db()
    assert reply.read_at == later + dt.timedelta(minutes=2)
    assert selectors.owner_unread_count(w.owner) == 0


def test_owner_other_channels_follow_preferences_and_quiet_hours(talk):
    w = talk
    w.owner.channels = ["inapp", "sms"]
    w.owner.save()
    conv = start(w)
    services.post_staff_message(w.advisor_a, conv, body="one", now=T0)
    services.post_staff_message(w.advisor_a, conv, body="two", now=T0)
    # one SMS for the first unread reply, none for the second
    assert Outbox.objects.filter(owner=w.owner, channel="sms", kind="conversation").count() == 1
    w.owner.quiet_hours_start, w.owner.quiet_hours_end = dt.time(9), dt.time(11)
    w.owner.save()
    services.mark_read_by_owner(w.owner, conv, now=T0)
    services.post_staff_message(w.advisor_a, conv, body="three", now=T0)
    assert Outbox.objects.filter(owner=w.owner, channel="sms", kind="conversation").count() == 1
    assert Outbox.objects.filter(owner=w.owner, channel="inapp", kind="conversation").count() == 3


def test_notes_never_reach_the_owner(talk):
    w = talk
    conv = start(w)
    note = services.add_note(w.advisor_a, conv, body="Customer is upset about the price")
    assert note.kind == "note"
    assert note.pk not in [m.pk for m in selectors.owner_messages(w.owner, conv)]
    assert note.pk in [m.pk for m in selectors.staff_messages(w.advisor_a, conv)]
    assert not Outbox.objects.filter(owner=w.owner, body__contains="upset").exists()
    assert TimelineEvent.objects.for_group(w.group_a).filter(kind="note").exists()
    conv.refresh_from_db()
    assert conv.owner_unread == 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"body": ""}, "body_required"),
        ({"body": "   "}, "body_required"),
        ({"body": "x" * 4001}, "body_too_long"),
        ({"photos": [SimpleUploadedFile("x.svg", b"<svg/>")]}, "invalid_image"),
        ({"topic": "weather"}, "invalid_topic"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(talk, kwargs, code):
    w = talk
    args = {"body": "hello", **kwargs}
    with pytest.raises(DomainError) as exc:
        start(w, **args)
    assert exc.value.code == code
    assert not Conversation.objects.unscoped().exists()
    assert not Message.objects.unscoped().exists()


def test_oversized_photo_is_refused(talk, monkeypatch):
    from m4s.conversations import _common

    monkeypatch.setattr(_common, "PHOTO_MAX_BYTES", 100)
    with pytest.raises(DomainError) as exc:
        start(talk, photos=[png((64, 64))])
    assert exc.value.code == "image_too_large"
    assert not Message.objects.unscoped().exists()


def test_cards_of_someone_else_are_refused(talk):
    w = talk
    from m4s.service.tests.helpers import ready_order

    ro, _lines = ready_order(w)
    conv = start(w, card=("repair_order", ro.pk))  # own repair order: fine
    for card in (("car", w.car_c.pk), ("car", w.car_b.pk), ("repair_order", 10**9), ("car", 0)):
        with pytest.raises(DomainError) as exc:
            services.post_owner_message(w.owner, conv, body="look", card=card)
        assert exc.value.status == 404
    with pytest.raises(DomainError) as exc:
        services.post_owner_message(w.owner, conv, body="look", card=("weather", 1))
    assert exc.value.code == "invalid_card"
    with pytest.raises(DomainError):  # staff may not attach another customer's car either
        services.post_staff_message(w.advisor_a, conv, body="x", card=("car", w.car_c.pk))
    assert Message.objects.for_group(w.group_a).filter(conversation=conv).count() == 1


def test_idempotent_retry_is_stored_once(talk):
    w = talk
    a = start(w, idempotency_key="k1")
    b = start(w, idempotency_key="k1")
    assert a.pk == b.pk
    m1 = services.post_owner_message(w.owner, a, body="again", idempotency_key="k2")
    m2 = services.post_owner_message(w.owner, a, body="again", idempotency_key="k2")
    assert m1.pk == m2.pk
    assert Message.objects.for_group(w.group_a).filter(conversation=a).count() == 2
    with pytest.raises(DomainError) as exc:
        services.post_owner_message(w.owner, a, body="other", idempotency_key="k2")
    assert exc.value.code == "idempotency_key_reused"


def test_other_owner_and_other_group_cannot_write(talk):
    w = talk
    conv = start(w)
    for owner in (w.owner_c, w.owner_b, w.stranger):
        with pytest.raises(DomainError) as exc:
            services.post_owner_message(owner, conv, body="hi")
        assert exc.value.status == 404
        with pytest.raises(DomainError):
            services.mark_read_by_owner(owner, conv)
    with pytest.raises(DomainError) as exc:  # a customer record of someone else
        services.start_conversation(w.owner, customer=w.customer_c, topic="service", body="x")
    assert exc.value.status == 404
    for staff in (w.advisor_b, w.admin_b):
        with pytest.raises(DomainError) as exc:
            services.post_staff_message(staff, conv, body="hi")
        assert exc.value.status == 404
    with pytest.raises(DomainError) as exc:  # a technician does not answer owners
        services.post_staff_message(w.tech_a, conv, body="hi")
    assert exc.value.status == 403


def test_claim_transfer_close_rate_reopen(talk):
    w = talk
    conv = start(w, topic="store")
    assert conv.assignee is None and conv.stage == Stage.CS_QUEUE
    services.claim(w.cs_a, conv, now=T0)
    with pytest.raises(DomainError) as exc:
        services.claim(w.cs2_a, conv, now=T0)
    assert exc.value.code == "already_assigned"
    with pytest.raises(DomainError) as exc:
        services.transfer(w.cs_a, conv, to=w.advisor_a, reason="nonsense")
    assert exc.value.code == "invalid_reason"
    with pytest.raises(DomainError) as exc:
        services.transfer(w.cs_a, conv, to=w.advisor_b, reason="expertise")
    assert exc.value.status == 404
    services.transfer(w.cs_a, conv, to=w.advisor_a, reason="expertise", note="brakes", now=T0)
    conv.refresh_from_db()
    assert conv.assignee == w.advisor_a and conv.stage == Stage.CONSULTANT
    assert conv.wait_round == 2  # a fresh target for the new handler
    reasons = list(
        Handover.objects.for_group(w.group_a)
        .filter(conversation=conv)
        .order_by("id")
        .values_list("reason", flat=True)
    )
    assert reasons == [HandoverReason.ROUTED, HandoverReason.CLAIMED, HandoverReason.TRANSFER]
    with pytest.raises(DomainError) as exc:
        services.rate(w.owner, conv, score=5)
    assert exc.value.code == "not_closed"
    services.post_staff_message(w.advisor_a, conv, body="Done", now=T0 + dt.timedelta(hours=1))
    services.close(w.advisor_a, conv, now=T0 + dt.timedelta(hours=2))
    conv.refresh_from_db()
    assert conv.status == "closed" and conv.resolution_minutes == 120
    for bad in (0, 6, "5", True):
        with pytest.raises(DomainError):
            services.rate(w.owner, conv, score=bad)
    services.rate(w.owner, conv, score=4, comment="quick")
    with pytest.raises(DomainError) as exc:
        services.rate(w.owner, conv, score=5)
    assert exc.value.code == "already_rated"
    with pytest.raises(DomainError) as exc:
        services.post_staff_message(w.advisor_a, conv, body="late")
    assert exc.value.code == "conversation_closed"
    # the owner writes again: reopened, rating cleared, routed to its handler
    services.post_owner_message(w.owner, conv, body="It is back", now=T0 + dt.timedelta(days=1))
    conv.refresh_from_db()
    assert conv.status == "open" and conv.rating is None and conv.assignee == w.advisor_a


def test_unsolicited_call_needs_a_reason(talk):
    w = talk
    args = dict(
        customer=w.customer_c,
        direction="outbound",
        reached=True,
        duration_seconds=60,
        outcome="informed",
    )
    with pytest.raises(DomainError) as exc:
        services.log_call(w.advisor_a, **args)
    assert exc.value.code == "reason_required"
    assert not Call.objects.unscoped().exists()
    call = services.log_call(w.advisor_a, reason="Recall campaign for this model", **args)
    assert call.basis == CallBasis.NONE and call.unsolicited
    assert (
        TimelineEvent.objects.for_group(w.group_a)
        .filter(customer=w.customer_c, kind="call")
        .exists()
    )
    inbound = services.log_call(w.advisor_a, **{**args, "direction": "inbound"})
    assert inbound.basis == CallBasis.INBOUND and inbound.reason == ""


def test_callback_request_is_the_basis_and_is_done_when_reached(talk):
    w = talk
    request = services.request_callback(
        w.owner,
        customer=w.customer,
        topic="service",
        window_start=T0 + dt.timedelta(hours=1),
        window_end=T0 + dt.timedelta(hours=3),
        now=T0,
    )
    assert Outbox.objects.filter(staff=w.advisor_a, kind="conversation").exists()
    with pytest.raises(DomainError) as exc:
        services.request_callback(
            w.owner,
            customer=w.customer,
            topic="service",
            window_start=T0 + dt.timedelta(hours=1),
            window_end=T0 + dt.timedelta(hours=3),
            now=T0,
        )
    assert exc.value.code == "callback_already_requested"
    for start_, end in ((3, 1), (-5, -1), (1, 100), (24 * 40, 24 * 40 + 1)):
        with pytest.raises(DomainError) as exc:
            services.request_callback(
                w.owner,
                customer=w.customer,
                topic="sales",
                window_start=T0 + dt.timedelta(hours=start_),
                window_end=T0 + dt.timedelta(hours=end),
                now=T0,
            )
        assert exc.value.code == "invalid_window"
    args = dict(customer=w.customer, direction="outbound", duration_seconds=0, outcome="no_answer")
    missed = services.log_call(w.advisor_a, reached=False, now=T0 + dt.timedelta(hours=1), **args)
    assert missed.basis == CallBasis.OWNER_REQUEST and missed.callback_request_id == request.pk
    request.refresh_from_db()
    assert request.status == CallbackStatus.OPEN
    services.log_call(
        w.advisor_a,
        reached=True,
        now=T0 + dt.timedelta(hours=2),
        **{**args, "duration_seconds": 180, "outcome": "booked"},
    )
    request.refresh_from_db()
    assert request.status == CallbackStatus.DONE and request.done_by == w.advisor_a
    # another group's staff cannot log a call with this customer
    with pytest.raises(DomainError) as exc:
        services.log_call(w.advisor_b, reached=True, reason="x", **args)
    assert exc.value.status == 404


def test_open_case_is_a_basis_and_a_reached_call_answers_the_wait(talk):
    w = talk
    conv = start(w)
    call = services.log_call(
        w.advisor_a,
        customer=w.customer,
        conversation=conv,
        direction="outbound",
        reached=True,
        duration_seconds=240,
        outcome="resolved",
        now=T0 + dt.timedelta(minutes=5),
    )
    assert call.basis == CallBasis.OPEN_CASE and call.conversation_id == conv.pk
    conv.refresh_from_db()
    assert conv.waiting_since is None
    line = Message.objects.for_group(w.group_a).filter(conversation=conv, kind="note").last()
    assert line.response_minutes == 5
    assert line.pk not in [m.pk for m in selectors.owner_messages(w.owner, conv)]


def test_canned_reply_fills_placeholders_in_the_language(talk):
    w = talk
    reply = CannedReply.objects.create(
        dealer_group=w.group_a,
        title="Pick-up",
        title_i18n={"zh-hans": "取车"},
        body="Dear {customer}, your {car} is ready at {store}. {customer.__class__}",
        body_i18n={"zh-hans": "{customer}您好，您的{car}已在{store}准备好。"},
    )
    text = services.render_canned(reply, customer=w.customer, language="en")
    assert w.customer.name in text and "京A12345" in text and w.store_a.display_title in text
    assert "{customer.__class__}" in text  # only the three placeholders are filled
    zh = services.render_canned(reply, customer=w.customer, language="zh-hans")
    assert zh.startswith(f"{w.customer.name}您好")


def test_cti_event_is_signed_and_recorded_once(talk, settings):
    from m4s.conversations import telephony

    w = talk
    secret = services.rotate_secret(w.admin_a)
    body = json.dumps({"call_id": "x1"}).encode()
    stamp = str(int(T0.timestamp()))
    telephony.verify(
        w.group_a.pk, stamp, telephony.sign(secret, stamp, body), body, now=int(T0.timestamp())
    )
    for bad_stamp, signature in (
        (stamp, "sha256=00"),
        (
            str(int(T0.timestamp()) - 3600),
            telephony.sign(secret, str(int(T0.timestamp()) - 3600), body),
        ),
    ):
        with pytest.raises(DomainError):
            telephony.verify(w.group_a.pk, bad_stamp, signature, body, now=int(T0.timestamp()))
    with pytest.raises(DomainError) as exc:  # group B has no secret
        telephony.verify(w.group_b.pk, stamp, telephony.sign(secret, stamp, body), body)
    assert exc.value.status == 404
    event = {
        "call_id": "cti-1",
        "direction": "outbound",
        "agent": w.advisor_a.username,
        "customer_phone": w.customer_c.phone,
        "answered": True,
        "duration_seconds": 90,
        "started_at": T0,
    }
    first = services.record_event(w.group_a.pk, event)
    again = services.record_event(w.group_a.pk, event)
    assert first["status"] == "recorded" and again["call"] == first["call"]
    call = Call.objects.for_group(w.group_a).get()
    assert call.source == "cti" and call.unsolicited and call.reason
    assert services.record_event(w.group_a.pk, {**event, "agent": "nobody"})["status"] == "ignored"
    assert services.record_event(w.group_b.pk, event)["status"] == "ignored"
    clicked = services.click_to_call(w.advisor_a, customer=w.customer_c)
    assert clicked["url"] == f"tel:{w.customer_c.phone}" and clicked["reason_required"]


def test_callback_request_of_other_owner_is_not_found(talk):
    w = talk
    with pytest.raises(DomainError) as exc:
        services.request_callback(
            w.owner_c,
            customer=w.customer,
            topic="service",
            window_start=T0 + dt.timedelta(hours=1),
            window_end=T0 + dt.timedelta(hours=2),
            now=T0,
        )
    assert exc.value.status == 404
    assert not CallbackRequest.objects.unscoped().exists()

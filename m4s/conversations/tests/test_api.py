"""Conversations API: the owner writes (Idempotency-Key), sends photos (multipart), reads,
rates, asks for a call back; staff work the inbox, answer, note, claim/transfer, close and log
calls; the CTI webhook. Bad input is a 4xx with a code and stores nothing."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.utils import timezone
from PIL import Image

from m4s.conversations.models import Call, CallbackRequest, Conversation, Message, MessagePhoto
from m4s.core.tests.factories import owner_token, staff_token

ME = "/api/v1/me/conversations"
STAFF = "/api/v1/staff/conversations"


@pytest.fixture
def tokens(talk):
    w = talk
    w.t_owner = owner_token(w.owner)
    w.t_owner_c = owner_token(w.owner_c)
    w.t_owner_b = owner_token(w.owner_b)
    w.t_stranger = owner_token(w.stranger)
    w.t_advisor = staff_token(w.advisor_a)
    w.t_advisor2 = staff_token(w.advisor_a2)
    w.t_cs = staff_token(w.cs_a)
    w.t_advisor_b = staff_token(w.advisor_b)
    w.t_admin_b = staff_token(w.admin_b)
    w.t_tech = staff_token(w.tech_a)
    return w


def png(size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, "PNG")
    return out.getvalue()


def upload(path, token, files, body="", **headers):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client().post(
            path,
            {"photos": files, "body": body},
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT_LANGUAGE="en",
            **headers,
        )


def start(api, w, body="Brake noise", **kw):
    r = api.post(ME, {"topic": "service", "body": body, **kw}, w.t_owner)
    assert r.status_code == 201, r.json_body
    return r.json_body["id"]


def test_the_whole_conversation_through_the_api(api_client, tokens):
    w = tokens
    cid = start(api_client, w, card={"kind": "car", "id": w.my_car.pk})
    r = api_client.get(ME, w.t_owner)
    assert [c["id"] for c in r.json_body] == [cid] and r.json_body[0]["waiting"]
    assert "advisor" in r.json_body[0]["handled_by"].lower() or r.json_body[0]["handled_by"]

    # the advisor sees it waiting, opens the thread (reads it), answers
    r = api_client.get(STAFF, w.t_advisor, params={"box": "waiting"})
    assert [c["id"] for c in r.json_body] == [cid] and r.json_body[0]["staff_unread"] == 1
    r = api_client.get(f"{STAFF}/{cid}/messages", w.t_advisor)
    assert r.status_code == 200 and r.json_body[0]["card"] == {"kind": "car", "id": w.my_car.pk}
    r = api_client.post(f"{STAFF}/{cid}/messages", {"body": "Come in tomorrow 9:00"}, w.t_advisor)
    assert r.status_code == 201, r.json_body
    r = api_client.post(f"{STAFF}/{cid}/notes", {"body": "Probably pads"}, w.t_advisor)
    assert r.status_code == 201 and r.json_body["kind"] == "note"

    # the owner: their message read by the store, the reply unread, no note
    r = api_client.get(f"{ME}/{cid}/messages", w.t_owner)
    texts = [m["text"] for m in r.json_body]
    assert "Probably pads" not in " ".join(texts)
    assert r.json_body[0]["author"] == "you" and r.json_body[0]["read_at"] is not None
    reply = r.json_body[-1]
    assert reply["author"] == "staff" and reply["read_at"] is None
    assert api_client.get(ME, w.t_owner).json_body[0]["unread"] == 1
    r = api_client.post(f"{ME}/{cid}/read", None, w.t_owner)
    assert r.json_body == {"read": 1}
    r = api_client.get(f"{ME}/{cid}/messages", w.t_owner, params={"after": reply["id"] - 1})
    assert [m["id"] for m in r.json_body] == [reply["id"]] and r.json_body[0]["read_at"]

    # close, rate once
    r = api_client.post(f"{STAFF}/{cid}/close", None, w.t_advisor)
    assert r.status_code == 200 and r.json_body["status"] == "closed"
    assert api_client.post(f"{STAFF}/{cid}/close", None, w.t_advisor).status_code == 409
    r = api_client.post(f"{ME}/{cid}/rating", {"score": 5, "comment": "fast"}, w.t_owner)
    assert r.status_code == 200 and r.json_body["rating"] == 5
    assert api_client.post(f"{ME}/{cid}/rating", {"score": 4}, w.t_owner).status_code == 409
    assert api_client.post(f"{ME}/{cid}/rating", {"score": 6}, w.t_owner).status_code == 422
    r = api_client.get(STAFF, w.t_advisor, params={"box": "closed"})
    assert [c["id"] for c in r.json_body] == [cid]


def test_photos_by_multipart_served_only_to_the_participants(api_client, tokens):
    w = tokens
    cid = start(api_client, w)
    r = upload(
        f"{ME}/{cid}/messages/photos",
        w.t_owner,
        [SimpleUploadedFile(f"{i}.png", png(), "image/png") for i in range(2)],
        body="see",
    )
    assert r.status_code == 201, r.content
    photos = r.json()["photos"]
    assert len(photos) == 2
    url = photos[0]["url"]
    for token, status in (
        (w.t_owner, 200),
        (w.t_advisor, 200),
        (w.t_cs, 200),
        (w.t_owner_c, 404),
        (w.t_owner_b, 404),
        (w.t_advisor_b, 404),
        (w.t_tech, 404),
    ):
        got = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert got.status_code == status, token
    assert Client().get(url).status_code == 404
    # staff answer with a photo
    r = upload(f"{STAFF}/{cid}/messages/photos", w.t_advisor, [SimpleUploadedFile("b.png", png())])
    assert r.status_code == 201 and len(r.json()["photos"]) == 1
    # not a picture, too many: refused, nothing stored
    before = MessagePhoto.objects.unscoped().count(), Message.objects.unscoped().count()
    r = upload(f"{ME}/{cid}/messages/photos", w.t_owner, [SimpleUploadedFile("x.png", b"<svg/>")])
    assert r.status_code == 400 and r.json()["code"] == "invalid_image"
    r = upload(f"{ME}/{cid}/messages/photos", w.t_owner, [SimpleUploadedFile("a.png", png())] * 7)
    assert r.status_code == 400 and r.json()["code"] == "too_many_photos"
    assert (MessagePhoto.objects.unscoped().count(), Message.objects.unscoped().count()) == before


@pytest.mark.parametrize(
    "body",
    [
        {"topic": "service", "body": ""},
        {"topic": "service", "body": "   "},
        {"topic": "service", "body": "x" * 4001},
        {"topic": "weather", "body": "hi"},
        {"topic": "service", "body": "hi", "card": {"kind": "plane", "id": 1}},
        {"topic": "service"},
    ],
)
def test_bad_input_is_refused_with_nothing_stored(api_client, tokens, body):
    w = tokens
    r = api_client.post(ME, body, w.t_owner)
    assert 400 <= r.status_code < 500 and r.json_body["code"]
    assert not Conversation.objects.unscoped().exists()
    assert not Message.objects.unscoped().exists()


def test_a_card_of_someone_else_is_not_found(api_client, tokens):
    w = tokens
    for card in ({"kind": "car", "id": w.car_c.pk}, {"kind": "car", "id": w.car_b.pk}):
        r = api_client.post(ME, {"topic": "service", "body": "look", "card": card}, w.t_owner)
        assert r.status_code == 404
    assert not Message.objects.unscoped().exists()


def test_idempotency_key_stores_once(api_client, tokens):
    w = tokens
    headers = {"HTTP_IDEMPOTENCY_KEY": "start-1"}
    a = api_client.post(ME, {"topic": "service", "body": "hi"}, w.t_owner, **headers)
    b = api_client.post(ME, {"topic": "service", "body": "hi"}, w.t_owner, **headers)
    assert a.status_code == b.status_code == 201 and a.json_body["id"] == b.json_body["id"]
    cid = a.json_body["id"]
    headers = {"HTTP_IDEMPOTENCY_KEY": "msg-1"}
    m1 = api_client.post(f"{ME}/{cid}/messages", {"body": "again"}, w.t_owner, **headers)
    m2 = api_client.post(f"{ME}/{cid}/messages", {"body": "again"}, w.t_owner, **headers)
    assert m1.status_code == m2.status_code == 201 and m1.json_body["id"] == m2.json_body["id"]
    r = api_client.post(f"{ME}/{cid}/messages", {"body": "other"}, w.t_owner, **headers)
    assert r.status_code == 422 and r.json_body["code"] == "idempotency_key_reused"
    assert Message.objects.unscoped().filter(author_kind="owner").count() == 2
    # the same key for a photo message is one more retry-safe operation
    files = [SimpleUploadedFile("a.png", png())]
    p1 = upload(f"{ME}/{cid}/messages/photos", w.t_owner, files, HTTP_IDEMPOTENCY_KEY="ph-1")
    files = [SimpleUploadedFile("a.png", png())]
    p2 = upload(f"{ME}/{cid}/messages/photos", w.t_owner, files, HTTP_IDEMPOTENCY_KEY="ph-1")
    assert p1.status_code == p2.status_code == 201 and p1.json()["id"] == p2.json()["id"]
    assert MessagePhoto.objects.unscoped().count() == 1


def test_assign_claims_and_transfers(api_client, tokens):
    w = tokens
    r = api_client.post(ME, {"topic": "store", "body": "Opening hours?"}, w.t_owner)
    cid = r.json_body["id"]
    r = api_client.get(STAFF, w.t_cs, params={"box": "unassigned"})
    assert [c["id"] for c in r.json_body] == [cid]
    r = api_client.post(f"{STAFF}/{cid}/assign", {}, w.t_cs)
    assert r.status_code == 200 and r.json_body["assignee"]["id"] == w.cs_a.pk
    r = api_client.post(f"{STAFF}/{cid}/assign", {}, w.t_advisor)
    assert r.status_code == 409 and r.json_body["code"] == "already_assigned"
    r = api_client.post(
        f"{STAFF}/{cid}/assign",
        {"staff_id": w.advisor_a.pk, "reason": "expertise", "note": "service question"},
        w.t_cs,
    )
    assert r.status_code == 200 and r.json_body["assignee"]["id"] == w.advisor_a.pk
    r = api_client.post(
        f"{STAFF}/{cid}/assign", {"staff_id": w.advisor_b.pk, "reason": "other"}, w.t_advisor
    )
    assert r.status_code == 404
    r = api_client.post(f"{STAFF}/{cid}/assign", {"staff_id": w.cs_a.pk, "reason": "why"}, w.t_cs)
    assert r.status_code == 422


def test_calls_and_callback_requests(api_client, tokens):
    w = tokens
    start_at = timezone.now() + timezone.timedelta(hours=1)
    r = api_client.post(
        "/api/v1/me/callback-requests",
        {
            "topic": "service",
            "window_start": start_at.isoformat(),
            "window_end": (start_at + timezone.timedelta(hours=2)).isoformat(),
            "note": "after 3pm",
        },
        w.t_owner,
    )
    assert r.status_code == 201, r.json_body
    request_id = r.json_body["id"]
    r = api_client.post(
        "/api/v1/me/callback-requests",
        {
            "topic": "sales",
            "window_start": start_at.isoformat(),
            "window_end": start_at.isoformat(),
        },
        w.t_owner,
    )
    assert r.status_code == 400 and r.json_body["code"] == "invalid_window"
    call = {
        "customer_id": w.customer.pk,
        "direction": "outbound",
        "reached": True,
        "duration_seconds": 120,
        "outcome": "booked",
    }
    r = api_client.post("/api/v1/staff/calls", call, w.t_advisor)
    assert r.status_code == 201 and r.json_body["basis"] == "owner_request"
    assert r.json_body["callback_request_id"] == request_id
    assert CallbackRequest.objects.unscoped().get(pk=request_id).status == "done"
    cold = {**call, "customer_id": w.customer_c.pk}
    r = api_client.post("/api/v1/staff/calls", cold, w.t_advisor)
    assert r.status_code == 400 and r.json_body["code"] == "reason_required"
    assert Call.objects.unscoped().count() == 1
    r = api_client.post("/api/v1/staff/calls", {**cold, "reason": "Recall"}, w.t_advisor)
    assert r.status_code == 201 and r.json_body["basis"] == "none"
    r = api_client.post("/api/v1/staff/calls", {**cold, "reason": "x"}, w.t_advisor_b)
    assert r.status_code == 404
    r = api_client.post("/api/v1/staff/calls", {**cold, "reason": "x"}, w.t_tech)
    assert r.status_code == 403
    r = api_client.post("/api/v1/staff/calls/dial", {"customer_id": w.customer_c.pk}, w.t_advisor)
    assert r.status_code == 200 and r.json_body["url"].startswith("tel:")
    assert r.json_body["reason_required"] is True


def test_cti_webhook_signed(api_client, tokens):
    import time

    from m4s.conversations import services, telephony

    w = tokens
    secret = services.rotate_secret(w.admin_a)
    event = {
        "call_id": "abc-1",
        "direction": "inbound",
        "agent": w.advisor_a.username,
        "customer_phone": w.customer.phone,
        "answered": True,
        "duration_seconds": 60,
        "started_at": timezone.now().isoformat(),
    }
    raw = json.dumps(event).encode()
    stamp = str(int(time.time()))
    path = f"/api/v1/telephony/groups/{w.group_a.pk}/call-events"

    def post(signature, body=raw, group_path=path):
        return api_client.request(
            "POST",
            group_path,
            raw=body.decode(),
            HTTP_X_M4S_SIGNATURE=signature,
            HTTP_X_M4S_TIMESTAMP=stamp,
        )

    assert post("sha256=bad").status_code == 401
    good = telephony.sign(secret, stamp, raw)
    r = post(good)
    assert r.status_code == 200 and r.json_body["status"] == "recorded"
    assert post(good).json_body["call"] == r.json_body["call"]
    assert Call.objects.unscoped().count() == 1
    other = f"/api/v1/telephony/groups/{w.group_b.pk}/call-events"
    assert post(good, group_path=other).status_code == 404

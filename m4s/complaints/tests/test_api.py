"""Complaints API: the owner files (Idempotency-Key), follows, answers, adds a photo, confirms,
rates; the desk replies, notes, calls, waits, escalates, resolves; the manager reads figures.
Every endpoint: another owner's or another group's complaint is a 404, bad input a 4xx that
changes nothing."""

import datetime as dt
import io

import pytest
from django.test import TestCase
from django.utils import timezone
from PIL import Image

from m4s.complaints import services
from m4s.complaints.models import Complaint, ComplaintEvent, ComplaintPhoto
from m4s.core.tests.factories import owner_token, staff_token

ME = "/api/v1/me/complaints"
DESK = "/api/v1/staff/complaints"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def tokens(desk):
    desk.t_owner = owner_token(desk.owner)
    desk.t_owner_c = owner_token(desk.owner_c)
    desk.t_owner_b = owner_token(desk.owner_b)
    desk.t_cs = staff_token(desk.cs_a)
    desk.t_manager = staff_token(desk.manager_a)
    desk.t_admin_b = staff_token(desk.admin_b)
    desk.t_tech = staff_token(desk.tech_a)
    return desk


def _file(api, w, **body):
    body.setdefault("description", "Paint scratched on the door after the wash.")
    body.setdefault("vehicle_id", w.my_car.pk)
    return api.post(ME, body, w.t_owner)


def _upload(w, token, complaint_id, content: bytes, name="photo.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client().post(
            f"{ME}/{complaint_id}/photos",
            {"photo": SimpleUploadedFile(name, content, "image/png")},
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT_LANGUAGE="en",
        )


def test_the_whole_case_through_the_api(api_client, tokens):
    w = tokens
    r = _file(api_client, w, severity="high")
    assert r.status_code == 201, r.json_body
    cid = r.json_body["id"]
    assert r.json_body["stage"] == "Received"
    assert _upload(w, w.t_owner, cid, _png()).status_code == 200
    assert ComplaintPhoto.objects.for_group(w.group_a).filter(complaint_id=cid).count() == 1

    r = api_client.get(DESK, w.t_manager, params={"queue": "store"})
    assert r.status_code == 200 and [row["id"] for row in r.json_body] == [cid]
    assert r.json_body[0]["minutes_left"] is not None

    assert api_client.post(f"{DESK}/{cid}/acknowledge", None, w.t_manager).status_code == 200
    r = api_client.post(f"{DESK}/{cid}/notes", {"body": "Check the wash bay camera"}, w.t_manager)
    assert r.status_code == 200
    r = api_client.post(
        f"{DESK}/{cid}/calls",
        {"summary": "Apologised", "direction": "out", "minutes": 4},
        w.t_manager,
    )
    assert r.status_code == 200 and r.json_body["first_responded_at"]
    r = api_client.post(f"{DESK}/{cid}/wait", {"question": "Can you come on Friday?"}, w.t_manager)
    assert r.json_body["status"] == "waiting_customer" and r.json_body["paused"]

    r = api_client.get(f"{ME}/{cid}", w.t_owner)
    assert r.json_body["stage"] == "Waiting for you"
    assert "Check the wash bay camera" not in str(r.json_body)  # internal note stays internal
    r = api_client.post(f"{ME}/{cid}/messages", {"body": "Friday 9:00 is fine"}, w.t_owner)
    assert r.status_code == 200 and r.json_body["status"] == "in_progress"

    r = api_client.post(f"{DESK}/{cid}/reply", {"body": "See you Friday."}, w.t_manager)
    assert r.status_code == 200
    r = api_client.patch(f"{DESK}/{cid}", {"severity": "normal"}, w.t_manager)
    assert r.status_code == 200 and r.json_body["severity"] == "normal"
    r = api_client.post(f"{DESK}/{cid}/escalate", {"reason": "Needs goodwill"}, w.t_manager)
    assert r.status_code == 200 and r.json_body["level"] == 2

    cause = services.root_causes_for(w.group_a.pk)[1]
    resolve = {
        "root_cause_id": cause.pk,
        "resolution": "Repainted the door at our cost.",
        "action": "Soft brushes in the wash bay; weekly check.",
        "responsible_id": w.manager_a.pk,
        "due_date": str(timezone.localdate() + dt.timedelta(days=14)),
    }
    r = api_client.post(f"{DESK}/{cid}/resolve", resolve, w.t_manager)
    assert r.status_code == 200, r.json_body
    assert r.json_body["root_cause"]["id"] == cause.pk and r.json_body["corrective_actions"]

    r = api_client.get(f"{ME}/{cid}", w.t_owner)
    assert r.json_body["can_confirm"] and "Repainted the door at our cost." in str(r.json_body)
    r = api_client.post(f"{ME}/{cid}/confirm", None, w.t_owner)
    assert r.status_code == 200 and r.json_body["status"] == "closed"
    r = api_client.post(f"{ME}/{cid}/rating", {"rating": 5, "comment": "Fair"}, w.t_owner)
    assert r.status_code == 200 and r.json_body["rating"] == 5

    month = timezone.localdate().strftime("%Y-%m")
    r = api_client.get(f"{DESK}/figures", w.t_manager, params={"month": month})
    assert r.status_code == 200, r.json_body
    f = r.json_body
    assert f["total"] == 1 and f["resolved"] == 1
    assert f["top_root_causes"][0]["root_cause"]["id"] == cause.pk
    assert f["top_root_causes"][0]["open_actions"][0]["action"].startswith("Soft brushes")
    action_id = f["top_root_causes"][0]["open_actions"][0]["id"]
    r = api_client.post(f"{DESK}/actions/{action_id}/check", {"note": "Seen"}, w.t_manager)
    assert r.status_code == 200 and r.json_body["corrective_actions"][0]["checked_at"]
    # a CS agent may not read the figures
    assert api_client.get(f"{DESK}/figures", w.t_cs).status_code == 403


def test_idempotency_key_makes_one_complaint(api_client, tokens):
    w = tokens
    body = {"description": "Waited 3 hours", "vehicle_id": w.my_car.pk}
    first = api_client.post(ME, body, w.t_owner, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post(ME, body, w.t_owner, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json_body["id"] == again.json_body["id"]
    assert Complaint.objects.for_owner(w.owner).count() == 1
    other = api_client.post(
        ME, {**body, "description": "Other"}, w.t_owner, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422 and other.json_body["code"] == "idempotency_key_reused"
    # a refused call does not burn its key
    bad = api_client.post(
        ME, {**body, "vehicle_id": w.car_c.pk}, w.t_owner, HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert bad.status_code == 404  # another owner's car: refused inside the guarded call
    ok = api_client.post(
        ME, {**body, "vehicle_id": w.car_c.pk}, w.t_owner_c, HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert ok.status_code == 201  # keys are per owner
    ok = api_client.post(ME, body, w.t_owner, HTTP_IDEMPOTENCY_KEY="k-2")
    assert ok.status_code == 201
    assert Complaint.objects.for_owner(w.owner).count() == 2


def test_bad_input_is_4xx_and_changes_nothing(api_client, tokens):
    w = tokens
    cases = [
        {"description": ""},
        {"description": "x" * 4001},
        {"description": "ok", "vehicle_id": w.car_c.pk},  # another owner's car
        {"description": "ok", "vehicle_id": w.car_b.pk},  # another group's car
        {"description": "ok", "severity": "end-of-world"},
        {"description": "ok", "category_id": 0},
        {"description": "ok", "vehicle_id": "1"},
    ]
    for body in cases:
        r = api_client.post(ME, body, w.t_owner)
        assert 400 <= r.status_code < 500, (body, r.status_code)
        assert r.json_body["code"]
    assert not Complaint.objects.unscoped().exists()
    cid = _file(api_client, w).json_body["id"]
    events = ComplaintEvent.objects.unscoped().count()
    r = _upload(w, w.t_owner, cid, b"%PDF-1.4 not an image", name="x.png")
    assert r.status_code == 400 and r.json()["code"] == "invalid_image"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    r = _upload(w, w.t_owner, cid, svg, name="x.svg")
    assert r.status_code == 400 and r.json()["code"] == "invalid_image"
    assert api_client.post(f"{ME}/{cid}/messages", {"body": " "}, w.t_owner).status_code == 422
    assert api_client.post(f"{ME}/{cid}/rating", {"rating": 6}, w.t_owner).status_code == 422
    assert api_client.post(f"{ME}/{cid}/rating", {"rating": 4}, w.t_owner).status_code == 409
    assert api_client.post(f"{ME}/{cid}/confirm", None, w.t_owner).status_code == 409
    r = api_client.post(
        DESK,
        {
            "customer_id": w.customer.pk,
            "channel": "phone",
            "description": "Rude",
            "concerned_staff_id": w.cs_b.pk,  # another group's staff
        },
        w.t_cs,
    )
    assert r.status_code == 404
    r = api_client.patch(f"{DESK}/{cid}", {"assignee_id": w.cs_b.pk}, w.t_cs)
    assert r.status_code == 400
    assert api_client.post(DESK, {"customer_id": w.customer.pk}, w.t_cs).status_code == 422
    assert api_client.get(DESK, w.t_tech).status_code == 403
    assert ComplaintPhoto.objects.unscoped().count() == 0
    assert ComplaintEvent.objects.unscoped().count() == events
    assert Complaint.objects.unscoped().count() == 1


def test_every_endpoint_hides_other_owners_and_groups(api_client, tokens):
    w = tokens
    cid = _file(api_client, w).json_body["id"]
    for token in (w.t_owner_c, w.t_owner_b):
        assert api_client.get(ME, token).json_body == []
        assert api_client.get(f"{ME}/{cid}", token).status_code == 404
        for path, body in [
            ("messages", {"body": "hi"}),
            ("confirm", None),
            ("reopen", {"reason": "x"}),
            ("rating", {"rating": 3}),
        ]:
            r = api_client.post(f"{ME}/{cid}/{path}", body, token)
            assert r.status_code == 404, (path, r.status_code)
        assert _upload(w, token, cid, _png()).status_code == 404
    t = w.t_admin_b
    assert api_client.get(f"{DESK}/{cid}", t).status_code == 404
    assert api_client.patch(f"{DESK}/{cid}", {"severity": "low"}, t).status_code == 404
    for path, body in [
        ("acknowledge", None),
        ("reply", {"body": "x"}),
        ("notes", {"body": "x"}),
        ("calls", {"summary": "x"}),
        ("wait", {"question": ""}),
        ("resume", None),
        ("escalate", {"reason": "x"}),
        (
            "resolve",
            {
                "root_cause_id": 1,
                "resolution": "x",
                "action": "x",
                "responsible_id": w.admin_b.pk,
                "due_date": str(timezone.localdate()),
            },
        ),
    ]:
        r = api_client.post(f"{DESK}/{cid}/{path}", body, t)
        assert r.status_code == 404, (path, r.status_code)
    for queue in ("mine", "store", "breaching"):
        assert api_client.get(DESK, t, params={"queue": queue}).json_body == []
    assert api_client.get(f"{DESK}/figures", t).json_body["total"] == 0
    c = Complaint.objects.unscoped().get(pk=cid)
    assert c.status == "new" and c.events.count() == 2  # filed, routed: nothing else happened

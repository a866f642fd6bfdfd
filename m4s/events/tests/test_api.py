"""The events API: my events with my sign-up, sign-up (idempotent) and cancel, my ticket's QR,
staff list/create/edit, sign-ups and check-in; another group's event or ticket is a 404; staff
without MANAGE_EVENTS get a 403; 8 parallel sign-ups on PostgreSQL never pass the capacity."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.core.tests.factories import OwnerFactory, owner_token, staff_token
from m4s.core.tests.parallel import post_in_parallel, skip_on_sqlite
from m4s.events.choices import SignupStatus
from m4s.events.models import Signup
from m4s.loyalty.models import MemberEvent

pytestmark = pytest.mark.django_db


def test_owner_flow(ev, api_client):
    w = ev
    tok = owner_token(w.owner)
    r = api_client.get("/api/v1/me/events", tok)
    assert r.status_code == 200
    ids = [e["id"] for e in r.json_body]
    assert w.event.pk in ids and w.event_b.pk not in ids and w.draft.pk not in ids
    mine = next(e for e in r.json_body if e["id"] == w.event.pk)
    assert mine["my_signup"] is None and mine["places_left"] == 2 and mine["can_sign_up"]

    r = api_client.post(f"/api/v1/events/{w.event.pk}/signup", token=tok, HTTP_IDEMPOTENCY_KEY="k1")
    assert r.status_code == 201 and r.json_body["status"] == "confirmed"
    r2 = api_client.post(
        f"/api/v1/events/{w.event.pk}/signup", token=tok, HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert r2.status_code == 200 and r2.json_body["id"] == r.json_body["id"]

    r = api_client.get(f"/api/v1/events/{w.event.pk}", tok)
    assert r.json_body["places_left"] == 1 and r.json_body["my_signup"]["status"] == "confirmed"

    r = api_client.get(f"/api/v1/me/events/{w.event.pk}/ticket", tok)
    assert r.status_code == 200 and r.json_body["qr_svg"].startswith("<svg")
    token = r.json_body["token"]

    r = api_client.post(f"/api/v1/events/{w.event.pk}/cancel-signup", token=tok)
    assert r.status_code == 200 and r.json_body["status"] == "cancelled"
    r = api_client.post(f"/api/v1/events/{w.event.pk}/cancel-signup", token=tok)
    assert r.status_code == 409 and r.json_body["code"] == "not_signed_up"
    assert api_client.get(f"/api/v1/me/events/{w.event.pk}/ticket", tok).status_code == 409
    assert not Signup.objects.unscoped().filter(token=token, status="confirmed").exists()


def test_other_group_is_404(ev, api_client):
    w = ev
    tok = owner_token(w.owner)
    for path in (
        f"/api/v1/events/{w.event_b.pk}",
        f"/api/v1/events/{w.draft.pk}",
        f"/api/v1/me/events/{w.event_b.pk}/ticket",
    ):
        assert api_client.get(path, tok).status_code == 404, path
    r = api_client.post(f"/api/v1/events/{w.event_b.pk}/signup", token=tok)
    assert r.status_code == 404 and r.json_body["code"] == "not_found"
    staff_b = staff_token(w.admin_b)
    assert api_client.get(f"/api/v1/staff/events/{w.event.pk}/signups", staff_b).status_code == 404
    r = api_client.patch(f"/api/v1/staff/events/{w.event.pk}", {"capacity": 5}, staff_b)
    assert r.status_code == 404


def test_deadline_refused(ev, api_client):
    w = ev
    from .conftest import make_event

    late = make_event(w.admin_a, deadline_days=-1)
    r = api_client.post(f"/api/v1/events/{late.pk}/signup", token=owner_token(w.owner))
    assert r.status_code == 409 and r.json_body["code"] == "signup_closed"


def test_staff_flow_and_check_in(ev, api_client):
    w = ev
    tok = staff_token(w.manager_a)
    start = timezone.now() + dt.timedelta(days=5)
    r = api_client.post(
        "/api/v1/staff/events",
        {
            "title": "Night drive",
            "title_i18n": {"ko": "야간 드라이브"},
            "place_name": "Store",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "capacity": 1,
            "status": "open",
        },
        tok,
    )
    assert r.status_code == 201, r.json_body
    eid = r.json_body["id"]
    assert r.json_body["signup_deadline"] == r.json_body["starts_at"]  # defaults to the start
    bad = api_client.post(
        "/api/v1/staff/events",
        {
            "title": "Backwards",
            "place_name": "Store",
            "starts_at": start.isoformat(),
            "ends_at": (start - dt.timedelta(hours=2)).isoformat(),
            "capacity": 1,
        },
        tok,
    )
    assert bad.status_code == 422 and bad.json_body["code"] == "invalid_time"

    assert (
        api_client.post(f"/api/v1/events/{eid}/signup", token=owner_token(w.owner)).status_code
        == 201
    )
    r = api_client.post(f"/api/v1/events/{eid}/signup", token=owner_token(w.others[0]))
    assert r.json_body["status"] == "waitlisted" and r.json_body["position"] == 1

    r = api_client.get(f"/api/v1/staff/events/{eid}/signups", tok)
    assert [s["status"] for s in r.json_body] == ["confirmed", "waitlisted"]

    ticket = Signup.objects.unscoped().get(event_id=eid, status="confirmed").token
    r = api_client.post(f"/api/v1/staff/events/{eid}/check-in", {"token": ticket}, tok)
    assert r.status_code == 200 and r.json_body["status"] == "checked_in"
    r = api_client.post(f"/api/v1/staff/events/{eid}/check-in", {"token": ticket}, tok)
    assert r.status_code == 409 and r.json_body["code"] == "already_checked_in"
    assert MemberEvent.objects.for_group(w.group_a).filter(event="event_checkin").count() == 1

    # group B's staff cannot check a group A ticket in, even at their own event
    r = api_client.post(
        f"/api/v1/staff/events/{w.event_b.pk}/check-in", {"token": ticket}, staff_token(w.admin_b)
    )
    assert r.status_code == 404
    # staff without MANAGE_EVENTS
    assert api_client.get("/api/v1/staff/events", staff_token(w.advisor_a)).status_code == 403

    r = api_client.patch(f"/api/v1/staff/events/{eid}", {"capacity": 2}, tok)
    assert r.status_code == 200 and r.json_body["places_left"] == 0  # the waiting one moved up
    r = api_client.patch(f"/api/v1/staff/events/{eid}", {"status": "cancelled"}, tok)
    assert r.json_body["status"] == "cancelled"
    ids = [e["id"] for e in api_client.get("/api/v1/staff/events", tok).json_body]
    assert eid in ids and w.event_b.pk not in ids


@pytest.mark.django_db(transaction=True)
def test_parallel_signups_never_exceed_capacity(ev):
    skip_on_sqlite()
    w = ev
    owners = [OwnerFactory(home_store=w.store_a) for _ in range(8)]
    tokens = iter([owner_token(o) for o in owners])
    results = []
    # one owner per thread (post_in_parallel sends one set of headers): 8 calls released together
    import threading

    from django.db import connection
    from django.test import Client

    barrier, lock = threading.Barrier(8), threading.Lock()

    def call(token):
        client = Client(raise_request_exception=False)
        barrier.wait()
        try:
            r = client.post(
                f"/api/v1/events/{w.event.pk}/signup",
                "",
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            with lock:
                results.append((r.status_code, r.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(next(tokens),)) for _ in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for code, _ in results) == [201] * 8
    statuses = sorted(body["status"] for _, body in results)
    assert statuses.count("confirmed") == 2 and statuses.count("waitlisted") == 6
    rows = Signup.objects.for_group(w.group_a).filter(event=w.event)
    assert rows.filter(status=SignupStatus.CONFIRMED).count() == 2
    positions = sorted(
        rows.filter(status=SignupStatus.WAITLISTED).values_list("position", flat=True)
    )
    assert positions == [1, 2, 3, 4, 5, 6]


@pytest.mark.django_db(transaction=True)
def test_parallel_same_owner_signs_up_once(ev):
    skip_on_sqlite()
    w = ev
    results = post_in_parallel(
        f"/api/v1/events/{w.event.pk}/signup",
        None,
        HTTP_AUTHORIZATION=f"Bearer {owner_token(w.owner)}",
    )
    assert all(code in (200, 201) for code, _ in results), results
    assert len({body["id"] for _, body in results}) == 1
    assert Signup.objects.for_group(w.group_a).filter(event=w.event).count() == 1

"""Online-service requests: the framework (submit, SLA in business minutes, routing, moves,
quotes, idempotency, isolation) through the API and pages, and the requests area's kinds."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from m4s.core.tests.factories import owner_token
from m4s.core.tests.parallel import post_in_parallel, skip_on_sqlite
from m4s.requests import models as rqm
from m4s.requests import services
from m4s.requests.models import RequestEvent, ServiceRequest
from m4s.sales.models import Lead
from m4s.staff.models import Shift

pytestmark = pytest.mark.django_db


def td_body(w, slot=None, **extra):
    return {
        "kind": "test_drive",
        "store_id": w.store_a.pk,
        "fields": {"car_model_id": w.cat.model.pk, "slot_start": (slot or w.slot).isoformat()},
        **extra,
    }


def submit(api, w, body, owner=None, **headers):
    return api.post("/api/v1/me/requests", body, token=owner_token(owner or w.owner), **headers)


# --- test drive --------------------------------------------------------------------------------
def test_test_drive_from_slot_to_done_with_lead_and_feedback(api, rq):
    w = rq
    slots = api.get(
        f"/api/v1/stores/{w.store_a.pk}/test-drive-slots?model={w.cat.model.pk}"
        f"&date={w.slot.date().isoformat()}"
    ).json()
    assert len(slots) == 12  # 09:00-18:00 in 45-minute slots
    r = submit(api, w, td_body(w))
    assert r.status_code == 201, r.json()
    data = r.json()
    assert data["status"] == "submitted" and data["details"]["plate"] == w.td_car.plate
    req = ServiceRequest.objects.unscoped().get(pk=data["id"])
    assert req.assigned_to == w.sales_a  # nobody on the roster: the least loaded sales
    lead = Lead.objects.unscoped().get(pk=req.lead_id)
    assert lead.source == "test_drive"
    # the slot is no longer offered
    slots_after = api.get(
        f"/api/v1/stores/{w.store_a.pk}/test-drive-slots?model={w.cat.model.pk}"
        f"&date={w.slot.date().isoformat()}"
    ).json()
    assert len(slots_after) == 11
    c = Client()
    c.force_login(w.sales_a)
    base = f"/console/requests/{req.pk}/"
    assert c.get(base).status_code == 200
    assert c.post(base + "check_out/", {"odometer_km": "100"}).status_code == 409  # licence first
    c.post(base + "licence/")
    c.post(base + "check_out/", {"odometer_km": "1200"})
    bad = c.post(base + "check_in/", {"odometer_km": "1100"})
    assert bad.status_code == 422
    c.post(base + "check_in/", {"odometer_km": "1234"})
    req.refresh_from_db()
    assert req.status == "done"
    lead.refresh_from_db()
    assert lead.stage == "test_drive"
    b = rqm.TestDriveBooking.objects.unscoped().get(request=req)
    assert (b.odometer_out, b.odometer_in, b.active) == (1200, 1234, False)
    r = api.post(f"/api/v1/me/requests/{req.pk}/cancel", {}, token=owner_token(w.owner))
    assert r.status_code == 409  # done: not cancellable
    services.run_owner_action(w.owner, req, "feedback", {"rating": 5, "feedback": "Smooth"})
    b.refresh_from_db()
    assert b.rating == 5


def test_test_drive_slot_outside_hours_or_taken_is_refused_and_stores_nothing(api, rq):
    w = rq
    night = w.slot.replace(hour=20)
    r = submit(api, w, td_body(w, night))
    assert r.status_code == 422 and r.json()["code"] == "slot_outside_hours"
    odd = w.slot.replace(minute=10)
    assert submit(api, w, td_body(w, odd)).json()["code"] == "slot_outside_hours"
    assert not ServiceRequest.objects.unscoped().exists()
    assert submit(api, w, td_body(w)).status_code == 201
    r = submit(api, w, td_body(w), owner=w.other_owner)
    assert r.status_code == 409 and r.json()["code"] == "slot_taken"
    assert ServiceRequest.objects.unscoped().count() == 1


def test_cancelled_test_drive_frees_the_car(api, rq):
    w = rq
    rid = submit(api, w, td_body(w)).json()["id"]
    r = api.post(f"/api/v1/me/requests/{rid}/cancel", {}, token=owner_token(w.owner))
    assert r.json()["status"] == "cancelled"
    assert submit(api, w, td_body(w), owner=w.other_owner).status_code == 201


def test_parallel_bookings_of_one_car_make_one_booking(rq, transactional_db):
    skip_on_sqlite()
    w = rq
    results = post_in_parallel(
        "/api/v1/me/requests",
        td_body(w),
        n=8,
        HTTP_AUTHORIZATION=f"Bearer {owner_token(w.owner)}",
    )
    codes = sorted(code for code, _ in results)
    assert codes.count(201) == 1 and codes.count(409) == 7, results
    assert rqm.TestDriveBooking.objects.unscoped().filter(active=True).count() == 1


# --- framework ---------------------------------------------------------------------------------
def test_idempotent_retry_makes_one_request(api, rq):
    w = rq
    a = submit(api, w, td_body(w), HTTP_IDEMPOTENCY_KEY="k-1")
    b = submit(api, w, td_body(w), HTTP_IDEMPOTENCY_KEY="k-1")
    assert a.status_code == 201 and b.status_code == 201
    assert a.json()["id"] == b.json()["id"]
    assert ServiceRequest.objects.unscoped().count() == 1


def test_sla_due_in_business_minutes_over_a_closed_night(rq):
    w = rq
    tz = w.store_a.tz
    late = dt.datetime.combine(w.slot.date() - dt.timedelta(days=2), dt.time(17, 30), tzinfo=tz)
    r = services.submit_request(
        w.owner,
        kind="new_car_enquiry",
        store_id=w.store_a.pk,
        data={"car_model_id": w.cat.model.pk},
        now=late,
    )
    # 60 business minutes: 30 today until 18:00, 30 after 09:00 the next day
    expected = dt.datetime.combine(late.date() + dt.timedelta(days=1), dt.time(9, 30), tzinfo=tz)
    assert r.due_at == expected


def test_routing_to_own_consultant_on_duty_else_a_colleague_on_duty(rq):
    w = rq
    w.customer.sales_consultant = w.sales_a
    w.customer.save()
    tz = w.store_a.tz
    at = dt.datetime.combine(w.slot.date(), dt.time(11), tzinfo=tz)
    Shift.objects.create(
        dealer_group=w.group_a,
        staff=w.sales_a2,
        store=w.store_a,
        date=at.date(),
        starts_at=dt.time(9),
        ends_at=dt.time(18),
    )
    data = {"car_model_id": w.cat.model.pk}
    r1 = services.submit_request(
        w.owner, kind="new_car_enquiry", store_id=w.store_a.pk, data=data, now=at
    )
    assert r1.assigned_to == w.sales_a2  # own consultant not on the roster
    Shift.objects.create(
        dealer_group=w.group_a,
        staff=w.sales_a,
        store=w.store_a,
        date=at.date(),
        starts_at=dt.time(9),
        ends_at=dt.time(18),
    )
    r2 = services.submit_request(
        w.owner, kind="new_car_enquiry", store_id=w.store_a.pk, data=data, now=at
    )
    assert r2.assigned_to == w.sales_a


def test_decline_needs_a_reason_and_owner_is_told(api, rq):
    w = rq
    r = services.submit_request(
        w.owner,
        kind="new_car_enquiry",
        store_id=w.store_a.pk,
        data={"car_model_id": w.cat.model.pk},
    )
    from m4s.core.errors import DomainError

    with pytest.raises(DomainError) as e:
        services.transition(w.sales_a, r, "declined")
    assert e.value.code == "reason_required"
    services.transition(w.sales_a, r, "declined", reason="Model sold out")
    r.refresh_from_db()
    assert r.status == "declined" and r.closed_at is not None
    with pytest.raises(DomainError) as e:
        services.transition(w.sales_a, r, "accepted")
    assert e.value.code == "invalid_transition"
    assert RequestEvent.objects.unscoped().filter(request=r, code__startswith="Declined").exists()


def test_isolation_other_owner_and_other_group_see_404(api, rq):
    w = rq
    rid = submit(api, w, td_body(w)).json()["id"]
    for owner in (w.other_owner, w.owner_b):
        t = owner_token(owner)
        assert api.get(f"/api/v1/me/requests/{rid}", token=t).status_code == 404
        assert api.post(f"/api/v1/me/requests/{rid}/cancel", {}, token=t).status_code == 404
        assert (
            api.post(
                f"/api/v1/me/requests/{rid}/accept-quote", {"quote_id": 1}, token=t
            ).status_code
            == 404
        )
        assert api.get("/api/v1/me/requests", token=t).json() == []
    # group B's owner cannot send to group A's store
    assert submit(api, w, td_body(w), owner=w.owner_b).status_code == 404
    c = Client()
    c.force_login(w.admin_b)
    assert c.get(f"/console/requests/{rid}/").status_code == 404
    assert c.post(f"/console/requests/{rid}/accept/").status_code == 404
    rows = api.get("/api/v1/staff/requests", token=None)
    assert rows.status_code == 401


def test_trade_in_of_someone_elses_car_is_404(api, rq):
    w = rq
    body = {"kind": "trade_in", "store_id": w.store_a.pk, "vehicle_id": w.car.pk, "fields": {}}
    assert submit(api, w, body).status_code == 404
    body["vehicle_id"] = w.my_car.pk
    r = submit(api, w, body)
    assert r.status_code == 201
    assert r.json()["details"]["plate"] == w.my_car.plate
    req = ServiceRequest.objects.unscoped().get(pk=r.json()["id"])
    from m4s.core.errors import DomainError

    with pytest.raises(DomainError) as e:
        services.run_action(w.sales_a, req, "valuation", {"low": "90000", "high": "80000"})
    assert e.value.code == "invalid_range"
    services.run_action(w.sales_a, req, "valuation", {"low": "80000", "high": "90000"})
    q = services.add_quote(
        w.sales_a, req, label="Our offer", lines=[{"label": "Car", "amount": "85000"}]
    )
    r = api.post(
        f"/api/v1/me/requests/{req.pk}/accept-quote", {"quote_id": q.pk}, token=owner_token(w.owner)
    )
    assert r.status_code == 200 and r.json()["quotes"][0]["status"] == "accepted"


def test_finance_stores_the_loan_and_refuses_bad_input(api, rq):
    w = rq
    body = {
        "kind": "finance",
        "store_id": w.store_a.pk,
        "fields": {
            "finance_product_id": w.cat.product.pk,
            "trim_id": w.cat.trim.pk,
            "down_payment": "60000",
            "term_months": 36,
        },
    }
    r = submit(api, w, body)
    assert r.status_code == 201, r.json()
    assert Decimal(r.json()["details"]["monthly_instalment"]) > 0
    for bad in ({"term_months": 0}, {"down_payment": "-1"}, {"down_payment": "999999999"}):
        b = {**body, "fields": {**body["fields"], **bad}}
        assert submit(api, w, b).status_code == 422
    assert ServiceRequest.objects.unscoped().count() == 1


def test_insurance_quote_prefills_policy_and_owner_accepts_one(api, rq):
    w = rq
    from m4s.care.models import InsurancePolicy

    InsurancePolicy.objects.create(
        dealer_group=w.group_a,
        vehicle=w.my_car,
        customer=w.customer,
        insurer="PICC",
        ends_on=timezone.localdate() + dt.timedelta(days=20),
    )
    body = {
        "kind": "insurance_quote",
        "store_id": w.store_a.pk,
        "vehicle_id": w.my_car.pk,
        "fields": {},
    }
    r = submit(api, w, body)
    assert r.status_code == 201 and r.json()["details"]["insurer"] == "PICC"
    req = ServiceRequest.objects.unscoped().get(pk=r.json()["id"])
    q1 = services.add_quote(
        w.sales_a,
        req,
        label="Ping An",
        lines=[
            {"label": "Commercial", "amount": "3200.50"},
            {"label": "Compulsory", "amount": "950"},
        ],
    )
    q2 = services.add_quote(
        w.sales_a, req, label="PICC", lines=[{"label": "All", "amount": "4300"}]
    )
    assert q1.total == Decimal("4150.50")
    r = api.post(
        f"/api/v1/me/requests/{req.pk}/accept-quote",
        {"quote_id": q1.pk},
        token=owner_token(w.owner),
    )
    statuses = {q["id"]: q["status"] for q in r.json()["quotes"]}
    assert statuses == {q1.pk: "accepted", q2.pk: "superseded"}


def test_pages_need_sign_in_and_the_queue_shows_the_request(rq):
    w = rq
    r = services.submit_request(
        w.owner,
        kind="new_car_enquiry",
        store_id=w.store_a.pk,
        data={"car_model_id": w.cat.model.pk},
    )
    from django.urls import reverse

    assert Client().get(reverse("app-request-new", args=["test_drive"])).status_code == 302
    c = Client()
    c.force_login(w.sales_a)
    page = c.get(reverse("console-requests"))
    assert page.status_code == 200 and f'data-testid="row-{r.pk}"' in page.content.decode()
    assert c.get(reverse("console-request-figures")).status_code == 200
    assert c.get(reverse("console-request-figures-xlsx")).status_code == 200
    c.force_login(w.admin_b)
    assert f'data-testid="row-{r.pk}"' not in c.get(reverse("console-requests")).content.decode()


def test_insurance_done_renews_the_care_policy(api, rq):
    w = rq
    from m4s.care.models import InsurancePolicy

    ends = timezone.localdate() + dt.timedelta(days=20)
    InsurancePolicy.objects.create(
        dealer_group=w.group_a, vehicle=w.my_car, customer=w.customer, insurer="PICC", ends_on=ends
    )
    r = services.submit_request(
        w.owner, kind="insurance_quote", store_id=w.store_a.pk, vehicle_id=w.my_car.pk, data={}
    )
    q = services.add_quote(
        w.sales_a, r, label="Ping An", lines=[{"label": "All", "amount": "4000"}]
    )
    services.accept_quote(w.owner, r, q.pk)
    services.run_action(w.sales_a, r, "accept", {})
    services.run_action(w.sales_a, r, "done", {})
    latest = (
        InsurancePolicy.objects.for_group(w.group_a)
        .filter(vehicle=w.my_car)
        .order_by("-ends_on")
        .first()
    )
    assert latest.insurer == "Ping An" and latest.ends_on == ends.replace(year=ends.year + 1)

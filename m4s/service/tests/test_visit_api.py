"""One visit through the API, end to end: book → check in → inspect → approve/decline →
work → quality check → settle → deliver → survey → manager's figures and follow-up list."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from m4s.core.tests.factories import owner_token, staff_token
from m4s.notify.models import Message
from m4s.service import surveys as survey_services
from m4s.service.models import MaintenanceRecord, PartStock, PriceOverride, Survey

from .helpers import at


def _rating(ro_json, name):
    return next(r for r in ro_json["inspection"] if r["name"] == name)


def test_one_visit_end_to_end(workshop, api_client, sms_outbox, django_capture_on_commit_callbacks):
    w = workshop
    me, advisor, tech = owner_token(w.owner), staff_token(w.advisor_a), staff_token(w.tech_a)

    # The car page shows what is due; the owner looks for a slot for the 10,000 km service.
    r = api_client.get(f"/api/v1/me/vehicles/{w.my_car.pk}/maintenance", token=me)
    assert r.status_code == 200
    due = {i["item"]: i for i in r.json()["items"]}
    assert (
        due["Engine oil and filter"]["status"] == "overdue"
    )  # 18,500 km > 10,000 km since purchase
    r = api_client.get(
        f"/api/v1/stores/{w.store_a.pk}/slots?date={w.day}&service={w.s10k.pk}", token=me
    )
    assert r.status_code == 200, r.content
    slots = r.json()["slots"]
    assert slots and slots[0]["starts_at"].startswith(f"{w.day}T08:30")
    assert {p["pool"] for p in r.json()["pools"]} >= {"quick", "general", "resource:lift"}

    stock_before = PartStock.objects.for_group(w.group_a).get(
        store=w.store_a, part=w.catalogue.parts["90915-YZZE1"]
    )
    r = api_client.post(
        "/api/v1/me/appointments",
        {
            "vehicle_id": w.my_car.pk,
            "store_id": w.store_a.pk,
            "starts_at": slots[0]["starts_at"],
            "package_id": w.s10k.pk,
            "mode": "waiting",
        },
        token=me,
        HTTP_IDEMPOTENCY_KEY="book-1",
    )
    assert r.status_code == 201, r.content
    appt = r.json()
    assert appt["advisor"]["id"] == w.advisor_a.pk  # the customer's own advisor
    stock_before.refresh_from_db()
    assert stock_before.reserved == 1
    assert (
        any("Visit booked" in m for m in sms_outbox[-2:][0:2] if isinstance(m, str)) or sms_outbox
    )
    assert Message.objects.filter(staff=w.advisor_a, kind="service.booked").exists()
    # A retried request with the same key books nothing new.
    r2 = api_client.post(
        "/api/v1/me/appointments",
        {
            "vehicle_id": w.my_car.pk,
            "store_id": w.store_a.pk,
            "starts_at": slots[0]["starts_at"],
            "package_id": w.s10k.pk,
        },
        token=me,
        HTTP_IDEMPOTENCY_KEY="book-1",
    )
    assert r2.status_code == 200 and r2.json()["id"] == appt["id"]

    # Reception.
    r = api_client.post(
        "/api/v1/staff/repair-orders",
        {
            "store_id": w.store_a.pk,
            "appointment_id": appt["id"],
            "odometer_km": 18620,
            "fuel_pct": 40,
            "symptoms": "Squeak when braking",
            "belongings": "child seat",
        },
        token=advisor,
    )
    assert r.status_code == 201, r.content
    ro = r.json()
    assert ro["status"] == "checked_in"
    assert {ln["operation"] for ln in ro["lines"]} == {"OIL", "INSP"}
    assert all(ln["approval"] == "approved" for ln in ro["lines"])

    # Inspection: brakes red, wipers amber, the rest green.
    points = {p.name: p.pk for p in w.template.points.all()}
    results = [{"point_id": pk, "rating": "green"} for pk in points.values()]
    for res in results:
        if res["point_id"] == points["Front brake pads"]:
            res.update(rating="red", note="2 mm left", measurement="2.0")
        if res["point_id"] == points["Wipers"]:
            res.update(rating="amber", note="streaking")
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro['id']}/inspection",
        {"results": results, "complete": True},
        token=tech,
    )
    assert r.status_code == 200, r.content
    ro = r.json()
    assert ro["status"] == "waiting_approval"
    pending = [ln for ln in ro["lines"] if ln["approval"] == "pending"]
    assert {ln["operation"] for ln in pending} == {"PADF", "WIPE"}
    pads = next(ln for ln in pending if ln["operation"] == "PADF")
    wipers = next(ln for ln in pending if ln["operation"] == "WIPE")
    assert Decimal(pads["amount"]) == Decimal("260.00") + Decimal("560.00")
    assert pads["rating"] == "red"

    # A technician cannot start unapproved work.
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro['id']}/lines/{pads['id']}/clock-on", token=tech
    )
    assert r.status_code == 409 and r.json()["code"] == "line_not_approved"

    # The owner approves the pads, declines the wipers; the total follows.
    r = api_client.get(f"/api/v1/me/repair-orders/{ro['id']}", token=me)
    assert Decimal(r.json()["totals"]["pending"]) == Decimal(pads["amount"]) + Decimal(
        wipers["amount"]
    )
    r = api_client.post(f"/api/v1/me/repair-orders/{ro['id']}/lines/{pads['id']}/approve", token=me)
    assert r.status_code == 200
    r = api_client.post(
        f"/api/v1/me/repair-orders/{ro['id']}/lines/{wipers['id']}/decline", token=me
    )
    ro = r.json()
    assert ro["status"] == "in_repair"
    assert Decimal(ro["totals"]["declined"]) == Decimal(wipers["amount"])
    decided = {ln["id"]: ln for ln in ro["lines"]}
    assert decided[pads["id"]]["approval_channel"] == "app" and decided[pads["id"]]["decided_at"]

    # Work: every approved line clocked and done, then quality check and ready.
    for ln in ro["lines"]:
        if ln["approval"] == "approved":
            assert (
                api_client.post(
                    f"/api/v1/staff/repair-orders/{ro['id']}/lines/{ln['id']}/clock-on", token=tech
                ).status_code
                == 200
            )
            assert (
                api_client.post(
                    f"/api/v1/staff/repair-orders/{ro['id']}/lines/{ln['id']}/clock-off",
                    {"done": True},
                    token=tech,
                ).status_code
                == 200
            )
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro['id']}/lines/{wipers['id']}/clock-on", token=tech
    )
    assert r.json()["code"] == "line_not_approved"
    assert (
        api_client.post(
            f"/api/v1/staff/repair-orders/{ro['id']}/status", {"to": "quality_check"}, token=tech
        ).json()["status"]
        == "quality_check"
    )
    assert (
        api_client.post(
            f"/api/v1/staff/repair-orders/{ro['id']}/status", {"to": "ready"}, token=advisor
        ).json()["status"]
        == "ready"
    )

    # Settlement: above the list is refused; a discount needs a reason and is logged.
    oil = next(ln for ln in ro["lines"] if ln["operation"] == "OIL")
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro['id']}/settle",
        {"lines": [{"line_id": oil["id"], "labour": "130.00"}]},
        token=advisor,
    )
    assert r.status_code == 422 and r.json()["code"] == "price_above_list"
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro['id']}/settle",
        {"lines": [{"line_id": oil["id"], "labour": "100.00"}]},
        token=advisor,
    )
    assert r.status_code == 400 and r.json()["code"] == "discount_needs_reason"
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro['id']}/settle",
        {
            "lines": [
                {"line_id": oil["id"], "labour": "100.00", "reason": "loyal customer"},
                {"line_id": pads["id"], "payer": "warranty"},
            ]
        },
        token=advisor,
    )
    assert r.status_code == 201, r.content
    invoice = r.json()
    # Oil 120−20 + oil filter 58 + oil 368 + inspection 0 = 526 customer; pads 820 warranty.
    assert Decimal(invoice["customer_pay_net"]) == Decimal("526.00")
    assert Decimal(invoice["net_total"]) == Decimal("1346.00")
    assert Decimal(invoice["discount_total"]) == Decimal("20.00")
    assert Decimal(invoice["tax"]) == (Decimal("1346.00") * Decimal("0.13")).quantize(
        Decimal("0.01")
    )
    override = PriceOverride.objects.for_group(w.group_a).get()
    assert override.by == w.advisor_a and override.reason == "loyal customer"
    assert (
        api_client.post(
            f"/api/v1/staff/repair-orders/{ro['id']}/settle", {"lines": []}, token=advisor
        ).json()["code"]
        == "already_settled"
    )

    # Delivery resets the oil item and schedules the survey.
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro['id']}/deliver", {"odometer_km": 18622}, token=advisor
    )
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    assert (
        MaintenanceRecord.objects.for_group(w.group_a)
        .filter(vehicle=w.my_car, item__name="Engine oil and filter", done_km=18622)
        .exists()
    )
    r = api_client.get(f"/api/v1/me/vehicles/{w.my_car.pk}/maintenance", token=me)
    assert {i["item"]: i for i in r.json()["items"]}["Engine oil and filter"]["status"] == "ok"
    stock_before.refresh_from_db()
    assert (stock_before.reserved, stock_before.on_hand) == (0, 39)

    # The survey opens a day later; an unhappy answer lands in the manager's follow-up list.
    survey = Survey.objects.for_group(w.group_a).get(repair_order_id=ro["id"])
    assert api_client.get("/api/v1/me/surveys", token=me).json() == []
    survey_services.open_due_surveys(now=timezone.now() + dt.timedelta(days=1, hours=1))
    listed = api_client.get("/api/v1/me/surveys", token=me).json()
    assert [s["id"] for s in listed] == [survey.pk]
    r = api_client.post(
        f"/api/v1/me/surveys/{survey.pk}",
        {
            "initiation": 9,
            "advisor": 8,
            "facility": 9,
            "pickup": 9,
            "quality": 5,
            "nps": 7,
            "comment": "Squeak still there",
        },
        token=me,
    )
    assert r.status_code == 200 and r.json()["needs_follow_up"] is True
    manager = staff_token(w.manager_a)
    follow = api_client.get("/api/v1/staff/service/follow-ups", token=manager).json()
    assert [f["comment"] for f in follow] == ["Squeak still there"]
    figures = api_client.get(
        f"/api/v1/staff/service/figures?store_id={w.store_a.pk}", token=manager
    ).json()
    assert figures["surveys"] == 1 and figures["delivered"] == 1 and figures["nps"] == 0.0
    expected_csi = (9 * 17 + 8 * 18 + 9 * 21 + 9 * 20 + 5 * 24) / 10
    assert abs(figures["csi"] - expected_csi) < 0.01
    assert Message.objects.filter(staff=w.manager_a, kind="service.unhappy").exists()


def test_slots_for_a_closed_day_and_a_holiday(workshop, api_client):
    w = workshop
    from m4s.org.models import Holiday

    Holiday.objects.create(
        dealer_group=w.group_a, store=w.store_a, date=w.day, name="Spring Festival"
    )
    r = api_client.get(
        f"/api/v1/stores/{w.store_a.pk}/slots?date={w.day}&service={w.s10k.pk}",
        token=owner_token(w.owner),
    )
    assert r.json()["open"] is False and r.json()["reason"] == "holiday" and r.json()["slots"] == []
    r = api_client.post(
        "/api/v1/me/appointments",
        {
            "vehicle_id": w.my_car.pk,
            "store_id": w.store_a.pk,
            "starts_at": at(w.day, 9).isoformat(),
            "package_id": w.s10k.pk,
        },
        token=owner_token(w.owner),
    )
    assert r.status_code == 409 and r.json()["code"] == "store_closed"

"""A user of another dealer group sees nothing of group A's service data: every endpoint."""

import pytest

from m4s.core.tests.factories import owner_token, staff_token
from m4s.service import billing as billing_services
from m4s.service import booking as booking_services
from m4s.service import surveys as survey_services
from m4s.service import workshop as workshop_services
from m4s.service.choices import RepairOrderStatus as S
from m4s.service.models import Appointment, CreditNote, RepairLine, RepairOrder, Survey

from .helpers import at


@pytest.fixture
def visit(workshop):
    """Group A: a booked visit, and a delivered, surveyed repair order with an open survey."""
    w = workshop
    ro = workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms="noise",
    )
    line = workshop_services.add_line(
        w.advisor_a, ro, operation_id=w.catalogue.operations["DIAG"].pk, reason="noise"
    )
    workshop_services.decide_line(ro, line.pk, True, owner=w.owner)
    workshop_services.clock_on(w.tech_a, ro, line.pk)
    workshop_services.clock_off(w.tech_a, ro, line.pk, done=True)
    workshop_services.advance(w.tech_a, ro, S.QUALITY_CHECK)
    workshop_services.advance(w.advisor_a, ro, S.READY)
    billing_services.settle(w.advisor_a, ro)
    ro.refresh_from_db()
    workshop_services.deliver(w.advisor_a, ro, odometer=18605)
    survey = Survey.objects.for_group(w.group_a).get(repair_order=ro)
    survey_services.open_due_surveys(now=survey.available_at)
    appt, _ = booking_services.book_appointment(
        customer=w.customer,
        vehicle=w.my_car,
        store=w.store_a,
        starts_at=at(w.day, 10, store=w.store_a),
        package_id=w.s10k.pk,
        owner=w.owner,
    )
    open_ro = workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.known,
        vehicle=w.car,
        odometer=5000,
        fuel_pct=50,
        symptoms="squeak",
    )
    pending = workshop_services.add_line(
        w.advisor_a, open_ro, operation_id=w.catalogue.operations["PADF"].pk, reason="pads"
    )
    w.ro, w.line, w.survey, w.appt, w.open_ro, w.pending = ro, line, survey, appt, open_ro, pending
    return w


def _snapshot(w):
    return (
        list(Appointment.objects.for_group(w.group_a).values_list("id", "status", "starts_at")),
        list(RepairOrder.objects.for_group(w.group_a).values_list("id", "status", "settled_at")),
        list(
            RepairLine.objects.for_group(w.group_a).values_list(
                "id", "approval", "work_status", "labour_price"
            )
        ),
        list(Survey.objects.for_group(w.group_a).values_list("id", "status", "nps")),
        CreditNote.objects.unscoped().count(),
    )


def test_an_owner_of_another_group_sees_nothing(visit, api_client):
    w = visit
    other = owner_token(w.owner_b)
    before = _snapshot(w)
    for path in [
        f"/api/v1/stores/{w.store_a.pk}/slots?date={w.day}",
        f"/api/v1/stores/{w.store_a.pk}/packages",
        f"/api/v1/me/vehicles/{w.my_car.pk}/maintenance",
        f"/api/v1/me/repair-orders/{w.ro.pk}",
    ]:
        r = api_client.get(path, token=other)
        assert r.status_code == 404, path
    for path, body in [
        (f"/api/v1/me/appointments/{w.appt.pk}/cancel", {}),
        (
            f"/api/v1/me/appointments/{w.appt.pk}/reschedule",
            {"starts_at": at(w.day, 11).isoformat()},
        ),
        (f"/api/v1/me/repair-orders/{w.open_ro.pk}/lines/{w.pending.pk}/approve", None),
        (f"/api/v1/me/repair-orders/{w.open_ro.pk}/lines/{w.pending.pk}/decline", None),
        (
            f"/api/v1/me/surveys/{w.survey.pk}",
            {"initiation": 1, "advisor": 1, "facility": 1, "pickup": 1, "quality": 1, "nps": 0},
        ),
        (
            "/api/v1/me/appointments",
            {
                "vehicle_id": w.my_car.pk,
                "store_id": w.store_a.pk,
                "starts_at": at(w.day, 11).isoformat(),
                "package_id": w.s10k.pk,
            },
        ),
    ]:
        r = api_client.post(path, body, token=other)
        assert r.status_code == 404, (path, r.content)
    for path in ("/api/v1/me/appointments", "/api/v1/me/repair-orders", "/api/v1/me/surveys"):
        assert api_client.get(path, token=other).json() == [], path
    assert _snapshot(w) == before
    # ...while the owner of the data sees it.
    mine = owner_token(w.owner)
    assert [a["id"] for a in api_client.get("/api/v1/me/appointments", token=mine).json()] == [
        w.appt.pk
    ]
    assert [s["id"] for s in api_client.get("/api/v1/me/surveys", token=mine).json()] == [
        w.survey.pk
    ]
    # The known customer's order is not the test owner's either.
    assert api_client.get(f"/api/v1/me/repair-orders/{w.open_ro.pk}", token=mine).status_code == 404


def test_staff_of_another_group_see_nothing(visit, api_client):
    w = visit
    before = _snapshot(w)
    for user in (w.advisor_b, w.admin_b):
        other = staff_token(user)
        for path in [
            f"/api/v1/stores/{w.store_a.pk}/slots?date={w.day}",
            f"/api/v1/stores/{w.store_a.pk}/packages",
            f"/api/v1/staff/repair-orders/{w.ro.pk}",
        ]:
            # 404 for a role that could see such rows in its own group; 403 for one that never could
            assert api_client.get(path, token=other).status_code == (
                404 if user == w.advisor_b else 403
            ) or ("stores" in path and api_client.get(path, token=other).status_code == 404), path
        ro, line = w.open_ro.pk, w.pending.pk
        for path, body in [
            (f"/api/v1/staff/appointments/{w.appt.pk}/cancel", {"reason": "x"}),
            (
                f"/api/v1/staff/appointments/{w.appt.pk}/reschedule",
                {"starts_at": at(w.day, 11).isoformat()},
            ),
            (
                "/api/v1/staff/appointments",
                {
                    "customer_id": w.customer.pk,
                    "vehicle_id": w.my_car.pk,
                    "store_id": w.store_a.pk,
                    "starts_at": at(w.day, 11).isoformat(),
                    "package_id": w.s10k.pk,
                },
            ),
            (
                "/api/v1/staff/repair-orders",
                {
                    "store_id": w.store_a.pk,
                    "customer_id": w.customer.pk,
                    "vehicle_id": w.my_car.pk,
                    "odometer_km": 1,
                    "fuel_pct": 1,
                },
            ),
            (f"/api/v1/staff/repair-orders/{ro}/inspection", {"results": []}),
            (
                f"/api/v1/staff/repair-orders/{ro}/lines",
                {"operation_id": w.catalogue.operations["OIL"].pk, "reason": "x"},
            ),
            (f"/api/v1/staff/repair-orders/{ro}/lines/{line}/verbal-approval", {"reason": "x"}),
            (f"/api/v1/staff/repair-orders/{ro}/lines/{line}/verbal-decline", {"reason": "x"}),
            (f"/api/v1/staff/repair-orders/{ro}/lines/{line}/clock-on", None),
            (f"/api/v1/staff/repair-orders/{ro}/lines/{line}/clock-off", {"done": True}),
            (f"/api/v1/staff/repair-orders/{ro}/status", {"to": "quality_check"}),
            (f"/api/v1/staff/repair-orders/{ro}/settle", {"lines": []}),
            (f"/api/v1/staff/repair-orders/{ro}/deliver", {"odometer_km": 6000}),
            (f"/api/v1/staff/repair-orders/{w.ro.pk}/refund", {"reason": "x"}),
        ]:
            r = api_client.post(path, body, token=other)
            assert r.status_code in (403, 404), (user, path, r.content)
        for path in (
            "/api/v1/staff/appointments",
            f"/api/v1/staff/appointments?date={w.day}",
            "/api/v1/staff/repair-orders",
        ):
            r = api_client.get(path, token=other)
            assert r.status_code in (200, 403) and (r.status_code == 403 or r.json() == []), path
    manager_b = staff_token(w.admin_b)
    assert (
        api_client.get(
            f"/api/v1/staff/service/figures?store_id={w.store_a.pk}", token=manager_b
        ).status_code
        == 404
    )
    assert api_client.get("/api/v1/staff/service/follow-ups", token=manager_b).json() == []
    assert _snapshot(w) == before
    # Group A's advisor does see them.
    mine = staff_token(w.advisor_a)
    assert api_client.get(f"/api/v1/staff/repair-orders/{w.ro.pk}", token=mine).status_code == 200
    assert {
        a["id"]
        for a in api_client.get(f"/api/v1/staff/appointments?date={w.day}", token=mine).json()
    } == {w.appt.pk}

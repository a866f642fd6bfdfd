"""Each kind: the happy path through the requests framework's services, refusals (4xx with a
code, nothing stored), SLA routing to the kind's role."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from m4s.assistance.choices import RentalStatus, SignupStatus
from m4s.assistance.models import CourseSignup, RentalBooking, ScratchPhoto
from m4s.care.models import Violation
from m4s.core.errors import DomainError
from m4s.requests import services as rq
from m4s.requests.models import RequestQuote, ServiceRequest
from m4s.service.models import Appointment

from .conftest import png

pytestmark = pytest.mark.django_db


def submit(w, kind, data, *, owner=None, vehicle=True, files=None, key=""):
    owner = owner or w.owner
    with TestCase.captureOnCommitCallbacks(execute=True):
        return rq.submit_request(
            owner,
            kind=kind,
            store_id=w.store_a.pk,
            vehicle_id=w.my_car.pk if vehicle else None,
            data=data,
            files=files,
            idempotency_key=key,
        )


def act(actor, r, action, data=None):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return rq.run_action(actor, r, action, data or {})


def refused(code, fn, *args, **kw):
    with pytest.raises(DomainError) as exc:
        fn(*args, **kw)
    assert exc.value.code == code, exc.value.code
    return exc.value


# --- scratch repair --------------------------------------------------------------------------------
def test_scratch_repair_estimate_accept_book(aw):
    w = aw
    r = submit(
        w,
        "scratch_repair",
        {"panels": ["bonnet", "left_front_door"], "note": "scraped"},
        files=[png(), png("b.png")],
    )
    assert r.role == "service_advisor" and r.due_at is not None
    assert ScratchPhoto.objects.for_owner(w.owner).filter(request=r).count() == 2
    dent = w.catalogue.operations["DENT"]
    act(w.advisor_a, r, "estimate", {"operation_ids": [dent.pk, dent.pk]})
    quote = RequestQuote.objects.for_group(w.group_a).get(request=r)
    assert len(quote.lines) == 2 and quote.total == sum(Decimal(x["amount"]) for x in quote.lines)
    assert quote.total > Decimal("1800")  # 2 × 900 net, tax on top
    refused(
        "estimate_not_accepted",
        act,
        w.advisor_a,
        r,
        "book",
        {"starts_at": dt.datetime.combine(w.day, dt.time(9, 0), tzinfo=w.store_a.tz)},
    )
    rq.accept_quote(w.owner, r, quote.pk)
    r = act(
        w.advisor_a,
        r,
        "book",
        {"starts_at": dt.datetime.combine(w.day, dt.time(9, 0), tzinfo=w.store_a.tz)},
    )
    assert r.status == "scheduled"
    appt = Appointment.objects.for_group(w.group_a).get(pk=r.details["appointment_id"])
    assert appt.vehicle_id == w.my_car.pk


def test_scratch_repair_refuses_non_images_and_unknown_panels(aw):
    w = aw
    svg = SimpleUploadedFile("x.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    refused("invalid_image", submit, w, "scratch_repair", {"panels": ["roof"]}, files=[svg])
    refused("invalid_fields", submit, w, "scratch_repair", {"panels": ["engine"]}, files=[png()])
    refused("no_photos", submit, w, "scratch_repair", {"panels": ["roof"]})
    refused(
        "too_many_photos",
        submit,
        w,
        "scratch_repair",
        {"panels": ["roof"]},
        files=[png() for _ in range(7)],
    )
    assert not ServiceRequest.objects.for_group(w.group_a).exists()
    assert not ScratchPhoto.objects.unscoped().filter(request__isnull=False).exists()


def test_scratch_photos_of_another_owner_are_refused(aw):
    from m4s.assistance import services

    w = aw
    theirs = services.stage_photos(w.owner2, [png()], group_id=w.group_a.pk)
    refused(
        "invalid_photos",
        submit,
        w,
        "scratch_repair",
        {"panels": ["roof"], "photo_ids": [theirs[0].pk]},
    )


# --- rental ----------------------------------------------------------------------------------------
def rental(w, start, days, owner=None, car=None):
    s = w.today + dt.timedelta(days=start)
    return submit(
        w,
        "rental",
        {
            "car_id": (car or w.rental_car).pk,
            "starts_on": s.isoformat(),
            "ends_on": (s + dt.timedelta(days=days)).isoformat(),
        },
        owner=owner,
        vehicle=False,
    )


def test_rental_happy_path(aw):
    w = aw
    r = rental(w, 3, 4)
    assert r.role == "sales_consultant"
    assert Decimal(r.details["price_total"]) == Decimal("796.00")
    booking = RentalBooking.objects.for_group(w.group_a).get(request=r)
    assert booking.status == RentalStatus.HELD and booking.days == 4
    r = act(w.sales_a, r, "confirm")
    assert r.status == "scheduled"
    r = act(w.sales_a, r, "returned")
    assert r.status == "done"
    booking.refresh_from_db()
    assert booking.status == RentalStatus.RETURNED


def test_rental_refusals(aw):
    w = aw
    refused("ends_before_start", rental, w, 3, 0)
    refused("ends_before_start", rental, w, 3, -2)
    refused("in_the_past", rental, w, -2, 3)
    rental(w, 3, 4)
    refused("car_taken", rental, w, 5, 4, owner=w.owner2)
    refused("not_found", rental, w, 3, 2, car=w.rental_car_b)  # another group's car
    assert RentalBooking.objects.for_group(w.group_a).count() == 1
    # back-to-back is fine; a cancelled rental frees the car
    r2 = rental(w, 7, 2, owner=w.owner2)
    rq.cancel_request(w.owner2, r2)
    assert RentalBooking.objects.for_group(w.group_a).get(request=r2).status == "released"
    rental(w, 7, 2, owner=w.owner2)


# --- annual inspection -------------------------------------------------------------------------------
def test_annual_inspection_steps(aw):
    w = aw
    when = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    r = submit(
        w,
        "annual_inspection",
        {"mode": "pickup", "pickup_address": "1 Home Rd", "pickup_at": when.isoformat()},
    )
    assert r.role == "service_advisor" and r.details["fee"] == "150.00"
    assert r.details["due_on"]
    r = act(w.advisor_a, r, "assign_driver", {"driver_name": "Driver Li"})
    assert r.status == "scheduled"
    for step in ("picked_up", "inspected", "returned"):
        r = act(w.advisor_a, r, step)
    assert r.status == "done" and r.details["step"] == "returned"
    codes = [e.code for e in r.events.filter(visible_to_owner=True)]
    assert "Your car passed the annual inspection." in codes


def test_annual_inspection_refusals(aw):
    w = aw
    refused("address_required", submit, w, "annual_inspection", {"mode": "pickup"})
    past = (timezone.now() - dt.timedelta(hours=3)).isoformat()
    refused(
        "in_the_past",
        submit,
        w,
        "annual_inspection",
        {"mode": "pickup", "pickup_address": "x", "pickup_at": past},
    )
    refused("not_found", submit, w, "annual_inspection", {"mode": "dropoff"}, owner=w.owner2)


# --- violations ----------------------------------------------------------------------------------
def test_clear_violations(aw):
    w = aw
    r = submit(w, "clear_violations", {"violation_ids": [w.v1.pk, w.v2.pk]}, vehicle=False)
    assert r.role == "customer_service"
    assert Decimal(r.details["total"]) == Decimal("460.00")
    refused(
        "violation_requested",
        submit,
        w,
        "clear_violations",
        {"violation_ids": [w.v1.pk]},
        vehicle=False,
    )
    act(w.cs_a, r, "accept")
    assert set(Violation.objects.for_group(w.group_a).values_list("status", flat=True)) == {
        "clearing"
    }
    act(w.cs_a, r, "done")
    assert set(Violation.objects.for_group(w.group_a).values_list("status", flat=True)) == {
        "cleared"
    }


def test_someone_elses_violation_is_404(aw):
    w = aw
    refused(
        "not_found",
        submit,
        w,
        "clear_violations",
        {"violation_ids": [w.v1.pk]},
        owner=w.owner2,
        vehicle=False,
    )
    assert not ServiceRequest.objects.for_group(w.group_a).exists()


# --- new driver --------------------------------------------------------------------------------------
def test_new_driver_waitlist_and_move_up(aw):
    w = aw
    first = submit(w, "new_driver", {"session_id": w.session.pk}, owner=w.owner2, vehicle=False)
    second = submit(w, "new_driver", {"session_id": w.session.pk}, vehicle=False)
    assert first.role == "customer_service"
    s1 = CourseSignup.objects.for_group(w.group_a).get(request=first)
    s2 = CourseSignup.objects.for_group(w.group_a).get(request=second)
    assert s1.status == SignupStatus.CONFIRMED
    assert s2.status == SignupStatus.WAITLISTED and s2.position == 1
    refused("waitlisted", act, w.cs_a, second, "confirm")
    refused(
        "already_signed_up", submit, w, "new_driver", {"session_id": w.session.pk}, vehicle=False
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        rq.cancel_request(w.owner2, first)
    s2.refresh_from_db()
    assert s2.status == SignupStatus.CONFIRMED and s2.position is None
    assert second.events.filter(code__startswith="A place freed up").exists()
    second = act(w.cs_a, second, "confirm")
    assert second.status == "scheduled"
    second = act(w.cs_a, second, "attended")
    assert second.status == "done"


# --- designated driver --------------------------------------------------------------------------------
def test_designated_driver(aw):
    w = aw
    when = (timezone.now() + dt.timedelta(hours=3)).isoformat()
    r = submit(
        w,
        "designated_driver",
        {
            "pickup_at": when,
            "pickup_address": "Bar 1",
            "destination": "Home",
            "phone": "+8613800000000",
        },
    )
    assert r.role == "customer_service"
    r = act(
        w.cs_a,
        r,
        "dispatch",
        {"driver_name": "Zhao", "driver_phone": "13900000000", "eta_minutes": 15},
    )
    assert r.status == "scheduled" and r.details["driver"] == "Zhao"
    for step in ("en_route", "arrived", "delivered"):
        r = act(w.cs_a, r, step)
    assert r.status == "done"
    shown = r.events.filter(visible_to_owner=True).count()
    assert shown >= 5


def test_designated_driver_refusals(aw):
    w = aw
    base = {"pickup_address": "Bar", "destination": "Home", "phone": "+8613800000000"}
    refused(
        "in_the_past",
        submit,
        w,
        "designated_driver",
        {**base, "pickup_at": (timezone.now() - dt.timedelta(hours=1)).isoformat()},
    )
    refused(
        "too_far_ahead",
        submit,
        w,
        "designated_driver",
        {**base, "pickup_at": (timezone.now() + dt.timedelta(days=8)).isoformat()},
    )
    refused(
        "invalid_fields",
        submit,
        w,
        "designated_driver",
        {**base, "phone": "call me", "pickup_at": timezone.now().isoformat()},
    )


def test_idempotent_retry_makes_one_request(aw):
    w = aw
    data = {"violation_ids": [w.v1.pk]}
    a = submit(w, "clear_violations", data, vehicle=False, key="k-1")
    b = submit(w, "clear_violations", data, vehicle=False, key="k-1")
    assert a.pk == b.pk
    assert ServiceRequest.objects.for_group(w.group_a).count() == 1


def test_other_group_staff_cannot_act(aw):
    w = aw
    r = rental(w, 3, 2)
    refused("not_found", act, w.admin_b, r, "confirm")

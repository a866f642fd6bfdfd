"""Booking within real capacity: reception seats per advisor, labour pools, parts, cut-offs,
idempotency, reminders and no-shows; never oversold under parallel requests."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from m4s.core.errors import DomainError
from m4s.customers.models import Customer
from m4s.customers.services import bind_customer_vehicle
from m4s.demo import synthetic
from m4s.notify.models import Message
from m4s.service import booking as booking_services
from m4s.service import selectors
from m4s.service.choices import AppointmentStatus, VisitMode
from m4s.service.models import (
    Appointment,
    CapacityUse,
    LabourOperation,
    PartReservation,
    PartStock,
    ServicePackage,
    ServiceSettings,
)
from m4s.vehicles.models import Vehicle

from .helpers import at


def _customers(w, n, rng):
    out = []
    for i in range(n):
        c = Customer.objects.create(
            dealer_group=w.group_a, store=w.store_a, name=f"Customer {i}", phone=f"+86137770{i:05d}"
        )
        car = Vehicle.objects.create(
            dealer_group=w.group_a,
            vin=synthetic.make_vin(rng),
            plate=synthetic.make_plate(rng),
            brand="Toyota",
            model="Corolla",
        )
        bind_customer_vehicle(c, car, via="desk", invitation=None, staff=w.advisor_a)
        car.refresh_from_db()
        out.append((c, car))
    return out


def _book(w, customer, car, when, package=None, **kw):
    return booking_services.book_appointment(
        customer=customer,
        vehicle=car,
        store=w.store_a,
        starts_at=when,
        package_id=(package or w.s10k).pk,
        channel="console",
        **kw,
    )


def _body_package(w):
    p = ServicePackage.objects.create(dealer_group=w.group_a, code="BODY", name="Panel repair")
    p.operations.set([w.catalogue.operations["DENT"]])
    return p


def test_reception_seats_per_advisor_and_mode(workshop, rng):
    w = workshop
    (c1, v1), (c2, v2), (c3, v3), (c4, v4) = _customers(w, 4, rng)
    nine = at(w.day, 9, store=w.store_a)
    a1, _ = _book(w, c1, v1, nine)
    a2, _ = _book(w, c2, v2, nine)
    assert {a1.advisor_id, a2.advisor_id} == {
        w.advisor_a.pk,
        w.advisor_a2.pk,
    }  # one waiting seat each
    with pytest.raises(DomainError) as e:
        _book(w, c3, v3, nine)
    assert e.value.code == "slot_taken"
    # Drop-off customers have their own seats at the same time.
    a4, _ = _book(w, c4, v4, nine, mode=VisitMode.DROP_OFF)
    assert a4.mode == "dropoff"
    day = selectors.day_capacity(w.store_a, w.day, mode=VisitMode.WAITING)
    assert nine not in {s.starts_at for s in day.slots}
    assert at(w.day, 9, 15, store=w.store_a) in {s.starts_at for s in day.slots}
    # Slot times only inside business hours (lunch break 12:00–13:30) and shifts.
    times = {s.starts_at.astimezone(w.store_a.tz).time() for s in day.slots}
    assert dt.time(12, 0) not in times and dt.time(13, 30) in times and dt.time(17, 45) in times
    assert dt.time(18, 0) not in times and dt.time(8, 15) not in times


def test_labour_pool_fills_and_workshop_full(workshop, rng):
    w = workshop
    body = _body_package(w)
    day = selectors.day_capacity(w.store_a, w.day, demand={"body": 180})
    # One body technician: 9.5 h × 85 % × (1 − 15 % walk-in reserve) = 411 minutes.
    assert day.pools["body"]["capacity"] == 411
    people = _customers(w, 3, rng)
    for i, (c, v) in enumerate(people[:2]):
        _book(w, c, v, at(w.day, 9 + i, store=w.store_a), package=body)
    assert selectors.day_capacity(w.store_a, w.day).pools["body"]["free"] == 411 - 360
    with pytest.raises(DomainError) as e:
        _book(w, *people[2], at(w.day, 14, store=w.store_a), package=body)
    assert e.value.code == "workshop_full"
    full = selectors.day_capacity(w.store_a, w.day, demand={"body": 180})
    assert full.slots == [] and full.reason == "workshop_full"
    # The paint booth is an exclusive resource with its own pool.
    assert full.pools["resource:paint_booth"]["used"] == 360


def test_overbooking_allowance_from_no_show_rate(workshop, rng):
    w = workshop
    conf = ServiceSettings.objects.for_group(w.group_a).get(store=w.store_a)
    base = selectors.day_capacity(w.store_a, w.day).pools["body"]["capacity"]
    # 30 % historical no-shows, capped by the store's 10 % overbooking limit.
    past = timezone.localdate() - dt.timedelta(days=10)
    people = _customers(w, 10, rng)
    Appointment.objects.bulk_create(
        Appointment(
            dealer_group=w.group_a,
            store=w.store_a,
            customer=c,
            vehicle=v,
            advisor=w.advisor_a,
            starts_at=at(past, 9, store=w.store_a),
            date=past,
            channel="app",
            status=AppointmentStatus.NO_SHOW if i < 3 else AppointmentStatus.CHECKED_IN,
        )
        for i, (c, v) in enumerate(people)
    )
    assert selectors.no_show_rate(w.store_a, w.day) == pytest.approx(0.3)
    # 570 shift minutes × 85 % availability × (1 − 15 % reserve) × (1 + 10 % overbooking)
    assert selectors.day_capacity(w.store_a, w.day).pools["body"]["capacity"] == 453
    conf.max_overbooking_pct = 0
    conf.save()
    assert selectors.day_capacity(w.store_a, w.day).pools["body"]["capacity"] == base


def test_parts_reserved_at_booking_and_released_on_cancel(workshop, api_client):
    from m4s.core.tests.factories import owner_token

    w = workshop
    stock = PartStock.objects.for_group(w.group_a).get(
        store=w.store_a, part=w.catalogue.parts["08880-83325"]
    )
    appt, _ = _book(w, w.customer, w.my_car, at(w.day, 10, store=w.store_a), owner=w.owner)
    stock.refresh_from_db()
    assert stock.reserved == 1
    assert appt.reservations.filter(status=PartReservation.HELD).count() == 2
    r = api_client.post(
        f"/api/v1/me/appointments/{appt.pk}/cancel",
        {"reason": "plans changed"},
        token=owner_token(w.owner),
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    stock.refresh_from_db()
    assert stock.reserved == 0
    assert not appt.reservations.filter(status=PartReservation.HELD).exists()
    assert not CapacityUse.objects.for_group(w.group_a).filter(appointment=appt).exists()
    # A retried cancel changes nothing.
    assert (
        api_client.post(
            f"/api/v1/me/appointments/{appt.pk}/cancel", token=owner_token(w.owner)
        ).status_code
        == 200
    )
    stock.refresh_from_db()
    assert stock.reserved == 0


def test_parts_short_offers_the_delivery_date(workshop, rng):
    w = workshop
    stock = PartStock.objects.for_group(w.group_a).get(
        store=w.store_a, part=w.catalogue.parts["90915-YZZE1"]
    )
    stock.on_hand, stock.incoming, stock.next_delivery_date = 0, 10, w.day + dt.timedelta(days=3)
    stock.save()
    with pytest.raises(DomainError) as e:
        _book(w, w.customer, w.my_car, at(w.day, 10, store=w.store_a))
    assert (
        e.value.code == "parts_short"
        and e.value.details["parts_date"] == stock.next_delivery_date.isoformat()
    )
    assert not Appointment.objects.for_group(w.group_a).exists()  # nothing half-written
    assert selectors.parts_available_on(w.store_a, [(stock.part, 1)], w.day) == (
        False,
        stock.next_delivery_date,
    )
    appt, _ = _book(w, w.customer, w.my_car, at(stock.next_delivery_date, 10, store=w.store_a))
    stock.refresh_from_db()
    assert stock.reserved == 1 and appt.reservations.count() == 2


def test_owner_change_cut_off_and_reschedule(workshop, api_client):
    from m4s.core.tests.factories import owner_token, staff_token

    w = workshop
    soon = timezone.now().astimezone(w.store_a.tz) + dt.timedelta(
        minutes=90
    )  # inside the 2 h cut-off
    appt = Appointment.objects.create(
        dealer_group=w.group_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        owner=w.owner,
        advisor=w.advisor_a,
        starts_at=soon,
        date=soon.date(),
        channel="app",
    )
    r = api_client.post(f"/api/v1/me/appointments/{appt.pk}/cancel", token=owner_token(w.owner))
    assert r.status_code == 409 and r.json()["code"] == "too_late_to_change"
    r = api_client.post(
        f"/api/v1/staff/appointments/{appt.pk}/cancel",
        {"reason": "owner called"},
        token=staff_token(w.advisor_a),
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"

    booked, _ = _book(w, w.customer, w.my_car, at(w.day, 10, store=w.store_a), owner=w.owner)
    new_time = at(w.day + dt.timedelta(days=1), 14, store=w.store_a)
    r = api_client.post(
        f"/api/v1/me/appointments/{booked.pk}/reschedule",
        {"starts_at": new_time.isoformat()},
        token=owner_token(w.owner),
    )
    assert r.status_code == 200, r.content
    booked.refresh_from_db()
    assert booked.starts_at == new_time and booked.date == new_time.date()
    assert set(
        CapacityUse.objects.for_group(w.group_a)
        .filter(appointment=booked)
        .values_list("date", flat=True)
    ) == {new_time.date()}
    assert (
        PartStock.objects.for_group(w.group_a)
        .get(store=w.store_a, part=w.catalogue.parts["90915-YZZE1"])
        .reserved
        == 1
    )


def test_one_upcoming_visit_per_car_and_bad_input(workshop, api_client):
    from m4s.core.tests.factories import owner_token

    w = workshop
    me = owner_token(w.owner)
    base = {"vehicle_id": w.my_car.pk, "store_id": w.store_a.pk, "package_id": w.s10k.pk}
    for body, code in [
        ({**base, "starts_at": "not a time"}, "validation_error"),
        ({**base, "starts_at": at(w.day, 10).isoformat(), "package_id": 999999}, "invalid_service"),
        ({**base, "starts_at": at(w.day, 10).isoformat(), "mode": "teleport"}, "validation_error"),
        (
            {**base, "starts_at": at(w.day, 10, 7).isoformat()},
            "slot_taken",
        ),  # not on the 15-minute grid
        ({**base, "starts_at": (timezone.now() - dt.timedelta(days=1)).isoformat()}, "too_soon"),
        (
            {**base, "starts_at": at(w.day + dt.timedelta(days=365), 10).isoformat()},
            "too_far_ahead",
        ),
        (
            {**base, "starts_at": at(w.day, 10).isoformat(), "vehicle_id": w.other_car.pk},
            "not_found",
        ),
        ({**base, "starts_at": at(w.day, 10).isoformat(), "package_id": None}, "invalid_service"),
    ]:
        r = api_client.post("/api/v1/me/appointments", body, token=me)
        assert 400 <= r.status_code < 500 and r.json()["code"] == code, (body, r.content)
    assert not Appointment.objects.for_group(w.group_a).exists()
    assert (
        api_client.post(
            "/api/v1/me/appointments", {**base, "starts_at": at(w.day, 10).isoformat()}, token=me
        ).status_code
        == 201
    )
    r = api_client.post(
        "/api/v1/me/appointments", {**base, "starts_at": at(w.day, 11).isoformat()}, token=me
    )
    assert r.status_code == 409 and r.json()["code"] == "already_booked"
    r = api_client.get(f"/api/v1/stores/{w.store_a.pk}/slots?date=2026-13-40", token=me)
    assert r.status_code in (400, 422)
    r = api_client.get(f"/api/v1/stores/{w.store_a.pk}/slots?date={w.day}&service=abc", token=me)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"  # `service` pattern


def test_reminder_the_day_before_once_and_no_shows(workshop, rng, sms_outbox):
    w = workshop
    appt, _ = _book(w, w.customer, w.my_car, at(w.day, 10, store=w.store_a), owner=w.owner)
    eve = at(w.day - dt.timedelta(days=1), 10, store=w.store_a)
    assert (
        booking_services.send_appointment_reminders(now=eve - dt.timedelta(days=1)) == 0
    )  # two days before: not yet
    assert booking_services.send_appointment_reminders(now=eve) == 1
    assert booking_services.send_appointment_reminders(now=eve + dt.timedelta(hours=1)) == 0
    assert (
        Message.objects.filter(kind="service.reminder", owner=w.owner).count() == 2
    )  # in-app + SMS
    # Nobody came: two hours late it is a no-show and the parts go back.
    assert booking_services.mark_no_shows(now=appt.starts_at + dt.timedelta(minutes=30)) == 0
    assert booking_services.mark_no_shows(now=appt.starts_at + dt.timedelta(hours=3)) == 1
    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.NO_SHOW
    assert (
        PartStock.objects.for_group(w.group_a)
        .get(store=w.store_a, part=w.catalogue.parts["90915-YZZE1"])
        .reserved
        == 0
    )


def test_booking_is_idempotent_per_key(workshop):
    w = workshop
    a, created = _book(
        w, w.customer, w.my_car, at(w.day, 10, store=w.store_a), idempotency_key="k1"
    )
    b, created_again = _book(
        w, w.customer, w.my_car, at(w.day, 11, store=w.store_a), idempotency_key="k1"
    )
    assert created and not created_again and a.pk == b.pk
    assert Appointment.objects.for_group(w.group_a).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_bookings_never_oversell(workshop, rng):
    """Eight clients book at once: two want the same seat-limited time, the rest compete for a
    labour pool that fits two jobs. Exactly the capacity is sold, never more."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race is meaningful on PostgreSQL")
    w = workshop
    body = _body_package(w)
    people = _customers(w, 16, rng)
    barrier = threading.Barrier(8)

    def run(jobs):
        results = []

        def client(customer, car, when, package):
            barrier.wait()
            try:
                _book(w, customer, car, when, package=package)
                results.append("ok")
            except DomainError as e:
                results.append(e.code)
            finally:
                connection.close()

        threads = [threading.Thread(target=client, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    nine = at(w.day, 9, store=w.store_a)
    seats = run([(c, v, nine, w.s10k) for c, v in people[:8]])
    assert sorted(seats).count("ok") == 2 and set(seats) == {"ok", "slot_taken"}
    assert (
        Appointment.objects.for_group(w.group_a).filter(starts_at=nine, status="booked").count()
        == 2
    )

    other_day = w.day + dt.timedelta(days=1)
    pool = run(
        [
            (c, v, at(other_day, 9, store=w.store_a) + dt.timedelta(minutes=15 * i), body)
            for i, (c, v) in enumerate(people[8:])
        ]  # 9:00-10:45, all inside opening hours (the lunch break would answer slot_taken)
    )
    assert pool.count("ok") == 2 and set(pool) == {"ok", "workshop_full"}
    day = selectors.day_capacity(w.store_a, other_day)
    assert day.pools["body"]["used"] <= day.pools["body"]["capacity"]


def test_keys_packages_and_photos_are_checked(workshop, rng):
    from django.core.files.uploadedfile import SimpleUploadedFile

    w = workshop
    (c1, v1), (c2, v2) = _customers(w, 2, rng)
    _book(w, c1, v1, at(w.day, 10, store=w.store_a), idempotency_key="shared")
    with pytest.raises(
        DomainError
    ) as e:  # another customer's key never returns someone else's visit
        _book(w, c2, v2, at(w.day, 11, store=w.store_a), idempotency_key="shared")
    assert e.value.code == "idempotency_key_reused"
    ev = Vehicle.objects.create(
        dealer_group=w.group_a,
        vin=synthetic.make_vin(rng),
        plate="京AD12345",
        brand="BYD",
        model="Han",
        fuel="bev",
    )
    bind_customer_vehicle(c2, ev, via="desk", invitation=None, staff=w.advisor_a)
    ev.refresh_from_db()
    with pytest.raises(DomainError) as e:
        _book(w, c2, ev, at(w.day, 11, store=w.store_a))  # an oil service for an electric car
    assert e.value.code == "package_not_for_car"
    assert [p.code for p in selectors.list_packages(w.group_a.pk, ev)] == ["EVCK"]
    fake = SimpleUploadedFile("x.jpg", b"not really a jpeg", content_type="image/jpeg")
    with pytest.raises(DomainError) as e:
        booking_services.book_appointment(
            customer=c2,
            vehicle=ev,
            store=w.store_a,
            starts_at=at(w.day, 11, store=w.store_a),
            problem="whine",
            photos=[fake],
            channel="app",
        )
    assert e.value.code == "invalid_image"
    assert Appointment.objects.for_group(w.group_a).count() == 1


def test_staff_cancel_needs_the_capability_and_reschedule_sees_its_own_seat(workshop, rng):
    w = workshop
    (c1, v1), (c2, v2) = _customers(w, 2, rng)
    nine = at(w.day, 9, store=w.store_a)
    a1, _ = _book(w, c1, v1, nine)
    _book(w, c2, v2, nine)
    with pytest.raises(DomainError) as e:
        booking_services.cancel_appointment(a1, by_owner=False, actor=w.tech_a)
    assert e.value.code == "forbidden"
    full = selectors.day_capacity(w.store_a, w.day)
    assert nine not in {s.starts_at for s in full.slots}
    own = selectors.day_capacity(w.store_a, w.day, exclude_appointment_id=a1.pk)
    assert nine in {s.starts_at for s in own.slots}  # a1 could stay where it is


def test_named_operations_book_their_own_pools(workshop, rng):
    """A body-shop estimate books its labour operations (no package): the body pool and the
    paint booth take its minutes; an operation of another group is refused and nothing is kept."""
    w = workshop
    (c, v), (c2, v2) = _customers(w, 2, rng)
    dent = w.catalogue.operations["DENT"]
    appt, created = booking_services.book_appointment(
        customer=c,
        vehicle=v,
        store=w.store_a,
        starts_at=at(w.day, 9, store=w.store_a),
        operation_ids=[dent.pk],
        problem="Scratch repair: front bumper",
        channel="app",
    )
    assert created and appt.package is None and appt.estimated_minutes == dent.minutes
    pools = selectors.day_capacity(w.store_a, w.day).pools
    assert pools["body"]["used"] == dent.minutes
    assert pools["resource:paint_booth"]["used"] == dent.minutes
    foreign = LabourOperation.objects.create(
        dealer_group=w.group_b, code="DENT-X", name="Dent", standard_hours=1, skill_line="body"
    )
    with pytest.raises(DomainError) as e:
        booking_services.book_appointment(
            customer=c2,
            vehicle=v2,
            store=w.store_a,
            starts_at=at(w.day, 10, store=w.store_a),
            operation_ids=[dent.pk, foreign.pk],
            channel="app",
        )
    assert e.value.code == "invalid_service" and e.value.status == 404
    assert not v2.appointments.exists()

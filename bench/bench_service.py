"""Benchmarks 5 and 6: the service slot search and parallel booking (run through bench/run.py).

    .venv/bin/python bench/run.py --only slots,booking --db sqlite|postgres|both

The child process of bench/run.py has a fresh, migrated database. Both benchmarks load the same
workshop: one store (08:30-12:00 and 13:30-18:00 every day, 30-minute reception slots, one
waiting and one drop-off customer per advisor and slot), 6 service advisors and 20 technicians
over four skill lines, rostered every day, 12 lifts, and 60 days of bookings. Each day is filled
the way bookings arrive: a random service of a realistic mix at a random free reception seat,
kept only while every labour pool it needs stays at or under 70 % of its capacity, until 70 %
of the seats are taken or the labour is (the table reports both fills).

* slots: `GET /api/v1/stores/{id}/slots?date=&service=<package id>&mode=` through Django's test
  client with an owner's bearer token, 300 requests over the 60 days (a package and a mode
  each). Baseline: `naive_slots`, the simplest implementation (for every candidate time and
  advisor a COUNT of the bookings at that time, for every candidate time a SUM per labour pool),
  swapped in for `selectors.day_capacity` behind the same endpoint: same data, same requests,
  and every response must be identical to the real one.
* booking: 8 worker processes, each with its own database connection, call
  `booking.book_appointment` for free-looking slots (a slot list refreshed every few
  attempts) of the same three busy days for a fixed time; then every seat (advisor, time,
  mode) and every labour pool of those days is checked against its capacity, with
  `selectors.day_capacity` for the capacity. Baseline: `naive_book`, the same booking with a
  plain check-then-insert and no store lock, on three other days of the same fill.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import random
import time
from collections import Counter, defaultdict

import run as harness  # bench/run.py: the shared helpers (log, percentile, timed_loop, ...)

DAYS = 60
ADVISORS = 6
TECHNICIANS = {"quick": 13, "general": 5, "ev_hv": 1, "body": 1}  # 20
LIFTS = 12
SLOT_MINUTES = 30
FILL = 0.70  # of the reception seats and of every labour pool
SERVICE_MIX = [("S10K", 50), ("S20K", 15), ("S40K", 5), ("EVCK", 5), (None, 25)]  # None: diagnosis
HOURS = [(dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 30), dt.time(18, 0))]
REQUESTS = 300
TARGET_P95_MS = 50.0
CLIENTS = 8
BOOKING_SECONDS = 12
SPARE_CARS = 4000  # cars without a booking, for the booking clients


# --- the workshop ------------------------------------------------------------------------------
def _load(scale: int):
    """The store, its staff and rosters, and DAYS days of bookings; returns a namespace."""
    from types import SimpleNamespace

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from m4s.customers.models import Customer
    from m4s.demo.starters import service as starter
    from m4s.org import services as org
    from m4s.service import selectors
    from m4s.service.choices import AppointmentStatus, Channel, VisitMode
    from m4s.service.models import Appointment, CapacityUse, PartStock, ServiceSettings
    from m4s.staff.choices import Role
    from m4s.staff.models import StaffUser
    from m4s.vehicles.models import Vehicle

    t0 = time.perf_counter()
    rng = random.Random(5)
    local = org.create_local_organisation(name="Bench", city="Beijing")
    group = org.create_dealer_group(local_org=local, name="Bench Motors", slug="bench")
    store = org.create_store(
        group=group, name="Bench Toyota 4S", code="bench", timezone="Asia/Shanghai"
    )
    for weekday in range(7):
        org.set_business_hours(store, weekday, HOURS)
    catalogue = starter.install_catalogue(group)
    unusable = make_password(None)  # nobody signs in as these; a real hash costs 0.25 s each
    people = [(f"advisor{i}", Role.SERVICE_ADVISOR, None) for i in range(ADVISORS)] + [
        (f"{line}{i}", Role.TECHNICIAN, line) for line, n in TECHNICIANS.items() for i in range(n)
    ]
    staff = StaffUser.objects.bulk_create(
        StaffUser(username=f"bench-{name}", role=role, dealer_group=group, password=unusable)
        for name, role, _line in people
    )
    StaffUser.stores.through.objects.bulk_create(
        StaffUser.stores.through(staffuser_id=s.pk, store_id=store.pk) for s in staff
    )
    advisors = [s for s in staff if s.role == Role.SERVICE_ADVISOR]
    technicians = [(s, line) for s, (_n, _r, line) in zip(staff, people, strict=True) if line]
    today = timezone.localdate()
    starter.install_workshop(
        store,
        catalogue,
        advisors=advisors,
        technicians=technicians,
        days=DAYS + 2,
        start=today,
        lifts=LIFTS,
        hours=(dt.time(8, 30), dt.time(18, 0)),
    )
    ServiceSettings.objects.for_group(group).filter(store=store).update(slot_minutes=SLOT_MINUTES)
    PartStock.objects.for_group(group).filter(store=store).update(on_hand=10_000_000)
    conf = selectors.settings_for(store)

    # Customers with one car each: one per existing booking, and spares for the booking clients.
    packages = {code: p for code, p in catalogue.packages.items()}
    ops = {code: sorted(p.operations.all(), key=lambda o: o.code) for code, p in packages.items()}
    ops[None] = [catalogue.operations["DIAG"]]
    demand = {code: selectors.demand_of(o) for code, o in ops.items()}
    now = timezone.now()
    days = [
        today + dt.timedelta(days=k) for k in range(2, DAYS + 2)
    ]  # not today or tomorrow: no carry-over
    plan, fills = [], []
    for day in days:
        cap = selectors.day_capacity(store, day, mode=VisitMode.WAITING, now=now, conf=conf)
        seats = [
            (s.starts_at, a, m) for s in cap.slots for a in s.advisors for m in VisitMode.values
        ]
        rng.shuffle(seats)
        budget = {pool: p["capacity"] * FILL for pool, p in cap.pools.items()}
        used: dict[str, int] = defaultdict(int)
        target, taken, misses = int(len(seats) * FILL), 0, 0
        for starts_at, advisor_id, mode in seats:
            if taken >= target or misses > 40:
                break
            code = rng.choices([c for c, _w in SERVICE_MIX], [w for _c, w in SERVICE_MIX])[0]
            if any(used[pool] + m > budget.get(pool, 0) for pool, m in demand[code].items()):
                misses += 1
                continue
            for pool, m in demand[code].items():
                used[pool] += m
            plan.append((day, starts_at, advisor_id, mode, code))
            taken += 1
        fills.append(
            (
                taken / len(seats),
                {
                    pool: used[pool] / p["capacity"]
                    for pool, p in cap.pools.items()
                    if p["capacity"]
                },
            )
        )
    n_cars = len(plan) + SPARE_CARS // scale
    customers = Customer.objects.bulk_create(
        Customer(
            dealer_group=group,
            store=store,
            name=f"Customer {i}",
            phone=f"+86139{i:08d}",
            phone_last4=f"{i:08d}"[-4:],
        )
        for i in range(n_cars)
    )
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(
            dealer_group=group,
            vin=f"LVGBENCH{i:09d}",
            plate=f"京B{i:06d}",
            brand="Toyota",
            model="Camry",
            odometer_km=20_000,
            current_owner=c,
        )
        for i, c in enumerate(customers)
    )
    appointments = Appointment.objects.bulk_create(
        [
            Appointment(
                dealer_group=group,
                store=store,
                customer=customers[i],
                vehicle=vehicles[i],
                advisor_id=advisor_id,
                starts_at=starts_at,
                date=day,
                mode=mode,
                package=packages[code] if code else None,
                problem="" if code else "Noise",
                status=AppointmentStatus.BOOKED,
                channel=Channel.APP,
                estimated_minutes=sum(o.minutes for o in ops[code]),
            )
            for i, (day, starts_at, advisor_id, mode, code) in enumerate(plan)
        ],
        batch_size=2000,
    )
    uses = [
        CapacityUse(
            dealer_group=group, appointment=a, store=store, date=a.date, pool=pool, minutes=m
        )
        for a, (_d, _t, _a, _m, code) in zip(appointments, plan, strict=True)
        for pool, m in demand[code].items()
    ]
    harness._bulk_create(CapacityUse, uses)
    harness._analyze()
    seat_fill = sum(f[0] for f in fills) / len(fills)
    pool_fill = defaultdict(list)
    for _seats, pools in fills:
        for pool, f in pools.items():
            pool_fill[pool].append(f)
    labour = ", ".join(
        f"{pool} {100 * sum(v) / len(v):.0f} %"
        for pool, v in sorted(pool_fill.items())
        if not pool.startswith("resource:")
    )
    load_seconds = time.perf_counter() - t0
    harness.log(
        f"service: loaded {len(appointments):,} bookings over {len(days)} days in {load_seconds:.1f} s; "
        f"seats {100 * seat_fill:.0f} % taken; labour {labour}"
    )
    return SimpleNamespace(
        group=group,
        store=store,
        conf=conf,
        catalogue=catalogue,
        packages=packages,
        days=days,
        plan=plan,
        spare=list(zip(customers[len(plan) :], vehicles[len(plan) :], strict=True)),
        seat_fill=seat_fill,
        labour=labour,
        load_seconds=load_seconds,
        bookings=len(appointments),
        data=(
            f"1 store, {ADVISORS} advisors, {sum(TECHNICIANS.values())} technicians, {len(days)} days × "
            f"{len(plan) // len(days)} bookings ({100 * seat_fill:.0f} % of seats; labour {labour})"
        ),
    )


# --- the baseline slot search --------------------------------------------------------------------
def naive_slots(
    store, date, *, mode="waiting", demand=None, prefer_advisor_id=None, now=None, conf=None
):
    """The simplest slot search: the same answer as `selectors.day_capacity`, but a COUNT query
    for every candidate time and advisor, and a SUM query per labour pool for every candidate
    time (and once more per pool for the day's totals)."""
    from django.db.models import Count, Sum
    from django.utils import timezone

    from m4s.customers.models import Shift
    from m4s.org.selectors import get_day_schedule
    from m4s.service import selectors
    from m4s.service.choices import ACTIVE_APPOINTMENT, VisitMode
    from m4s.service.models import Appointment, CapacityUse, Resource, TechnicianProfile
    from m4s.staff.choices import Role

    conf = conf or selectors.settings_for(store)
    now = now or timezone.now()
    group_id = store.dealer_group_id
    day = selectors.DayCapacity(store=store, date=date, open=True)
    schedule = get_day_schedule(store, date)
    if schedule.holiday or not schedule.periods:
        day.open, day.reason = False, "holiday" if schedule.holiday else "closed"
        return day
    minutes = selectors._minutes
    shifts = list(
        Shift.objects.for_group(group_id)
        .filter(
            store=store,
            date=date,
            staff__is_active=True,
            staff__role__in=[Role.SERVICE_ADVISOR, Role.TECHNICIAN],
        )
        .values_list("staff_id", "staff__role", "starts_at", "ends_at")
    )
    capacity: dict[str, float] = defaultdict(float)
    for staff_id, role, starts, ends in shifts:
        if role == Role.TECHNICIAN:
            profile = (
                TechnicianProfile.objects.for_group(group_id).filter(staff_id=staff_id).first()
            )
            if profile is not None:
                capacity[profile.skill_line] += (
                    (minutes(ends) - minutes(starts)) * profile.availability_pct / 100
                )
    overbook = min(selectors.no_show_rate(store, date), conf.max_overbooking_pct / 100)
    factor = (1 - conf.walk_in_reserve_pct / 100) * (1 + overbook)
    pools = {line: math.floor(m * factor) for line, m in capacity.items()}
    open_minutes = sum(minutes(c) - minutes(o) for o, c in schedule.periods)
    for kind, n in (
        Resource.objects.for_group(group_id)
        .filter(store=store)
        .values_list("kind")
        .annotate(n=Count("id"))
    ):
        pools[f"resource:{kind}"] = n * open_minutes
    carry = selectors.carry_over_minutes(store, date, now=now)

    def used(pool: str) -> int:
        return (
            CapacityUse.objects.for_group(group_id)
            .filter(store=store, date=date, pool=pool, appointment__status__in=ACTIVE_APPOINTMENT)
            .aggregate(m=Sum("minutes"))["m"]
            or 0
        ) + carry.get(pool, 0)

    booked_pools = (
        CapacityUse.objects.for_group(group_id)
        .filter(store=store, date=date, appointment__status__in=ACTIVE_APPOINTMENT)
        .values_list("pool", flat=True)
        .distinct()
    )
    for pool in set(pools) | set(carry) | set(booked_pools):
        cap, u = pools.get(pool, 0), used(pool)
        day.pools[pool] = {"capacity": cap, "used": u, "free": max(cap - u, 0)}
    if demand and not day.fits(demand):
        day.reason = "workshop_full"
        return day
    seats = conf.waiting_per_slot if mode == VisitMode.WAITING else conf.dropoff_per_slot
    earliest = now + dt.timedelta(minutes=conf.min_lead_minutes)
    step = conf.slot_minutes
    advisors = sorted(
        (s for s in shifts if s[1] == Role.SERVICE_ADVISOR),
        key=lambda s: (s[0] != prefer_advisor_id, s[0]),
    )
    by_time: dict[dt.datetime, list[int]] = defaultdict(list)
    times = set()  # every candidate time of any advisor (multiples of the slot length)
    for _id, _role, starts, ends in advisors:
        for opens, closes in schedule.periods:
            m = math.ceil(max(minutes(starts), minutes(opens)) / step) * step
            while m + step <= min(minutes(ends), minutes(closes)):
                times.add(m)
                m += step
    for at_minutes in sorted(times):
        at = dt.datetime.combine(date, dt.time(at_minutes // 60, at_minutes % 60), tzinfo=store.tz)
        if at < earliest:
            continue
        if demand and any(pools.get(pool, 0) - used(pool) < m for pool, m in demand.items()):
            continue  # the naive way re-checks the pools at every time
        for staff_id, _role, starts, ends in advisors:
            if not (minutes(starts) <= at_minutes and at_minutes + step <= minutes(ends)):
                continue
            booked = (
                Appointment.objects.for_group(group_id)
                .filter(
                    store=store,
                    advisor_id=staff_id,
                    starts_at=at,
                    mode=mode,
                    status__in=ACTIVE_APPOINTMENT,
                )
                .count()
            )
            if booked < seats:
                by_time[at].append(staff_id)
    day.slots = [selectors.Slot(at, ids) for at, ids in sorted(by_time.items())]
    if not day.slots and not day.reason:
        day.reason = "no_reception_slot"
    return day


# --- 5. slot search ----------------------------------------------------------------------------
def bench_slots(scale: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from m4s.customers.services import get_or_create_customer_for_owner
    from m4s.identity.services import issue_token
    from m4s.owners.models import Owner
    from m4s.service import selectors

    w = _load(scale)
    owner = Owner.objects.create(phone="+8613800000000", name="Bench owner")
    get_or_create_customer_for_owner(owner, w.store)  # owners see their own groups' stores
    token = issue_token(owner=owner)
    client = Client(SERVER_NAME="localhost")
    rng = random.Random(55)
    codes = ["S10K", "S20K", "S40K", "S10K"]
    requests = [
        {
            "date": w.days[i % len(w.days)].isoformat(),
            "service": str(w.packages[codes[i % len(codes)]].pk),
            "mode": rng.choice(["waiting", "dropoff"]),
        }
        for i in range(REQUESTS // scale)
    ]
    rng.shuffle(requests)

    def get(params) -> dict:
        r = client.get(
            f"/api/v1/stores/{w.store.pk}/slots", params, HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        if r.status_code != 200:
            raise RuntimeError(f"slots: {r.status_code} {r.content[:300]!r}")
        return r.json()

    def queries_of(params) -> int:
        with CaptureQueriesContext(connection) as captured:
            get(params)
        return len(captured.captured_queries)

    real_day_capacity = selectors.day_capacity
    for params in requests[:5]:  # warm-up: connection, caches, token last_used_at
        get(params)
    real_answers = [get(p) for p in requests]
    latencies, _total = harness.timed_loop(requests, get, budget=60)
    real_queries = queries_of(requests[0])
    slots_seen = sum(len(a["slots"]) for a in real_answers) / len(real_answers)
    harness.log(
        f"slots: {len(latencies)} GETs, {harness.latency_summary(latencies)}, {real_queries} queries each"
    )

    selectors.day_capacity = naive_slots  # the endpoint reads selectors.day_capacity at call time
    try:
        naive_answers = [get(p) for p in requests[:50]]
        base_latencies, _total = harness.timed_loop(requests, get, budget=120)
        naive_queries = queries_of(requests[0])
    finally:
        selectors.day_capacity = real_day_capacity
    if naive_answers != real_answers[:50]:
        raise RuntimeError("slots: naive_slots answers differ from day_capacity")
    harness.log(
        f"slots baseline: {len(base_latencies)} GETs, {harness.latency_summary(base_latencies)}, {naive_queries} queries each"
    )
    p95 = harness.percentile(latencies, 95) * 1000
    summary = harness.latency_summary(latencies) + f" · {real_queries} queries"
    base_summary = harness.latency_summary(base_latencies) + f" · {naive_queries} queries"
    if len(base_latencies) < len(requests):
        base_summary += f" ({len(base_latencies)} of {len(requests)} GETs, 120 s budget)"
    return {
        "rows": [
            {
                "benchmark": "5. Slot search (`GET /api/v1/stores/{id}/slots?date=&service=<package>&mode=`)",
                "data": f"{w.data}; {len(requests)} GETs over the {len(w.days)} days, avg {slots_seen:.0f} free times shown",
                "m4s": summary,
                "baseline": "`naive_slots`: a COUNT per time × advisor, a SUM per pool × time; same requests, same answers",
                "baseline_result": base_summary,
            }
        ],
        "notes": {
            "lines": [
                f"Slots target p95 ≤ {TARGET_P95_MS:g} ms: {harness.fmt_ms(p95 / 1000)} ms "
                f"({'meets' if p95 <= TARGET_P95_MS else 'MISSES'} it).",
                f"Slots/booking load: {w.bookings:,} bookings + CapacityUse rows in {w.load_seconds:.1f} s.",
                "The first 50 naive answers were compared with the real ones: identical.",
            ]
        },
    }


# --- 6. booking under parallel clients -----------------------------------------------------------
def naive_book(*, customer, vehicle, store, starts_at, mode, package_id=None, problem=""):
    """Check, then insert: what `book_appointment` does without the store lock (and with the
    check outside the write transaction, as a first version would)."""
    from django.db import transaction

    from m4s.service import booking
    from m4s.service.models import Appointment, CapacityUse

    choice = booking.resolve_service(customer.dealer_group_id, package_id, problem)
    advisor_id, date = booking._take_capacity(store, starts_at, choice, mode)  # the check
    with transaction.atomic():  # the insert
        appointment = Appointment.objects.create(
            dealer_group_id=customer.dealer_group_id,
            store=store,
            customer=customer,
            vehicle=vehicle,
            advisor_id=advisor_id,
            starts_at=starts_at,
            date=date,
            mode=mode,
            package=choice.package,
            problem=problem,
            channel="app",
            estimated_minutes=choice.minutes,
        )
        CapacityUse.objects.bulk_create(
            CapacityUse(
                dealer_group_id=customer.dealer_group_id,
                appointment=appointment,
                store=store,
                date=date,
                pool=pool,
                minutes=m,
            )
            for pool, m in choice.demand.items()
        )
        booking._reserve_parts(appointment, choice.parts, date)
        booking._after_booking(appointment)
    return appointment, True


def _client(args) -> dict:
    """One booking client (a forked process, its own connection): book free-looking slots of
    `days` for `seconds`; count what happened."""
    index, kind, store_id, group_id, day_isos, package_ids, car_ids, seconds = args
    from django.db import connection

    from m4s.core.errors import DomainError
    from m4s.customers.models import Customer
    from m4s.org.models import Store
    from m4s.service import booking, selectors
    from m4s.service.choices import VisitMode
    from m4s.vehicles.models import Vehicle

    connection.close()  # never reuse the parent's connection
    book = booking.book_appointment if kind == "locked" else naive_book
    rng = random.Random(1000 + index)
    store = Store.objects.unscoped().get(pk=store_id)
    customers = Customer.objects.for_group(group_id).in_bulk(c for c, _v in car_ids)
    vehicles = Vehicle.objects.for_group(group_id).in_bulk(v for _c, v in car_ids)
    days = [dt.date.fromisoformat(d) for d in day_isos]
    outcome: Counter = Counter()
    latencies: list[float] = []
    views: dict = {}
    cars = iter(car_ids)
    car = next(cars)  # a car is used up only when it gets booked
    last_booked = None
    end = time.perf_counter() + seconds
    attempt = 0
    while time.perf_counter() < end:
        day, package_id = rng.choice(days), rng.choice(package_ids)
        mode = rng.choice(VisitMode.values)
        key = (day, mode)
        if key not in views or attempt % 5 == 0:  # the slot list a client saw a moment ago
            views[key] = [s.starts_at for s in selectors.day_capacity(store, day, mode=mode).slots]
        attempt += 1
        if not views[key]:
            outcome["no_slot_left"] += 1
            continue
        t0 = time.perf_counter()
        try:
            book(
                customer=customers[car[0]],
                vehicle=vehicles[car[1]],
                store=store,
                starts_at=rng.choice(views[key]),
                mode=mode,
                package_id=package_id,
            )
            outcome["booked"] += 1
            last_booked = time.time()
            car = next(cars, None)
            if car is None:
                outcome["out_of_cars"] += 1
                break
        except DomainError as exc:
            outcome["409" if exc.status == 409 else f"{exc.status} {exc.code}"] += 1
            outcome[f"code:{exc.code}"] += 1
        except Exception as exc:  # a database error under contention: counted, not hidden
            outcome[f"error:{type(exc).__name__}"] += 1
            connection.close()
        latencies.append(time.perf_counter() - t0)
    connection.close()
    return {"outcome": dict(outcome), "latencies": latencies, "last_booked": last_booked}


def _oversold(w, days) -> dict:
    """Seats and labour minutes above capacity on `days` (active bookings only)."""
    from django.db.models import Sum

    from m4s.service import selectors
    from m4s.service.choices import ACTIVE_APPOINTMENT, VisitMode
    from m4s.service.models import Appointment, CapacityUse

    seats = {
        VisitMode.WAITING: w.conf.waiting_per_slot,
        VisitMode.DROP_OFF: w.conf.dropoff_per_slot,
    }
    active = Appointment.objects.for_group(w.group).filter(
        store=w.store, date__in=days, status__in=ACTIVE_APPOINTMENT
    )
    over_seats = sum(
        max(0, n - seats[mode])
        for (_a, _t, mode), n in Counter(
            active.values_list("advisor_id", "starts_at", "mode")
        ).items()
    )
    over_minutes, pools_over = 0, []
    for day in days:
        used = dict(
            CapacityUse.objects.for_group(w.group)
            .filter(store=w.store, date=day, appointment__status__in=ACTIVE_APPOINTMENT)
            .values_list("pool")
            .annotate(m=Sum("minutes"))
        )
        capacity = {
            pool: p["capacity"] for pool, p in selectors.day_capacity(w.store, day).pools.items()
        }
        for pool, minutes in used.items():
            if minutes > capacity.get(pool, 0):
                over_minutes += minutes - capacity.get(pool, 0)
                pools_over.append(f"{day} {pool} {minutes}/{capacity.get(pool, 0)}")
    return {
        "seats": over_seats,
        "minutes": over_minutes,
        "pools": pools_over,
        "active": active.count(),
    }


def _run_clients(w, kind: str, days, cars, seconds: int, clients: int = CLIENTS) -> dict:
    from django.db import connections

    package_ids = [w.packages["S10K"].pk, w.packages["S20K"].pk, w.packages["S10K"].pk]
    per_client = len(cars) // clients
    args = [
        (
            i,
            kind,
            w.store.pk,
            w.group.pk,
            [d.isoformat() for d in days],
            package_ids,
            [(c.pk, v.pk) for c, v in cars[i * per_client : (i + 1) * per_client]],
            seconds,
        )
        for i in range(clients)
    ]
    before = _oversold(w, days)
    connections.close_all()  # the children open their own
    t0, started = time.perf_counter(), time.time()
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        results = pool.map(_client, args)
    wall = time.perf_counter() - t0
    last = [r["last_booked"] for r in results if r["last_booked"]]
    outcome: Counter = Counter()
    latencies: list[float] = []
    for r in results:
        outcome.update(r["outcome"])
        latencies += r["latencies"]
    after = _oversold(w, days)
    booked = after["active"] - before["active"]
    if booked != outcome["booked"]:
        raise RuntimeError(
            f"booking [{kind}]: clients counted {outcome['booked']} bookings, the database has {booked}"
        )
    return {
        "outcome": outcome,
        "latencies": latencies,
        "wall": wall,
        "before": before,
        "after": after,
        "rate": outcome["booked"] / wall,
        "filled_after": max(last) - started if last else None,
        "attempts": sum(
            v for k, v in outcome.items() if not k.startswith("code:") and k != "no_slot_left"
        ),
    }


def _describe(r) -> str:
    o = r["outcome"]
    errors = sum(v for k, v in o.items() if k.startswith("error:"))
    others = {
        k: v
        for k, v in o.items()
        if k not in ("booked", "409", "no_slot_left") and not k.startswith(("code:", "error:"))
    }
    calls = len(r["latencies"])
    text = (
        f"{calls / r['wall']:,.0f} calls/s ({calls} calls in {r['wall']:.1f} s, "
        f"p50 {harness.fmt_ms(harness.percentile(r['latencies'], 50))} ms · "
        f"p95 {harness.fmt_ms(harness.percentile(r['latencies'], 95))} ms): {o['booked']} booked "
        + (f"(the last after {r['filled_after']:.1f} s), " if r["filled_after"] else ", ")
        + f"{o['409']} × 409"
    )
    if errors or others:
        text += f", {errors} errors {others or ''}".rstrip()
    return text


def bench_booking(scale: int) -> dict:
    from django.db import connection

    w = _load(scale)
    seconds = max(4, BOOKING_SECONDS // scale)
    locked_days, naive_days, single_days = w.days[10:13], w.days[20:23], w.days[30:33]
    third = len(w.spare) // 3
    harness.log(
        f"booking: {CLIENTS} clients × {seconds} s, book_appointment on {locked_days[0]}..{locked_days[-1]}"
    )
    locked = _run_clients(w, "locked", locked_days, w.spare[:third], seconds)
    harness.log(f"booking: {_describe(locked)}; oversold after: {locked['after']}")
    harness.log(
        f"booking baseline: {CLIENTS} clients × {seconds} s, naive_book on {naive_days[0]}..{naive_days[-1]}"
    )
    naive = _run_clients(w, "naive", naive_days, w.spare[third : 2 * third], seconds)
    harness.log(f"booking baseline: {_describe(naive)}; oversold after: {naive['after']}")
    single = _run_clients(w, "locked", single_days, w.spare[2 * third :], seconds, clients=1)
    harness.log(f"booking, 1 client for reference: {_describe(single)}")
    if locked["after"]["seats"] or locked["after"]["minutes"]:
        raise RuntimeError(f"booking: book_appointment oversold: {locked['after']}")

    def oversell(r) -> str:
        a = r["after"]
        return f"oversold: {a['seats']} seats, {a['minutes']} labour minutes" + (
            f" ({len(a['pools'])} day-pools over capacity)" if a["pools"] else ""
        )

    def codes(r) -> str:
        return ", ".join(
            f"{k[5:]} {v}" for k, v in sorted(r["outcome"].items()) if k.startswith("code:")
        )

    return {
        "rows": [
            {
                "benchmark": f"6. Booking, {CLIENTS} parallel clients (`booking.book_appointment`, {connection.vendor})",
                "data": f"{w.data}; 3 days at that fill, {CLIENTS} processes × {seconds} s",
                "m4s": f"{_describe(locked)}; {oversell(locked)}",
                "baseline": "`naive_book`: check, then insert, no store lock (3 other days, same fill)",
                "baseline_result": f"{_describe(naive)}; **{oversell(naive)}**",
            }
        ],
        "notes": {
            "lines": [
                f"Booking 409s by code: locked — {codes(locked)}; naive — {codes(naive)}.",
                f"Booking with 1 client instead of {CLIENTS} (book_appointment, 3 more days of the "
                f"same fill), for the cost of queueing on the store lock: {_describe(single)}.",
                f"Booking, after the run, active bookings on the three days: locked {locked['after']['active']} "
                f"(from {locked['before']['active']}), naive {naive['after']['active']} (from {naive['before']['active']}).",
                "Booking over-capacity day-pools with the naive check: "
                + ("; ".join(naive["after"]["pools"]) or "none")
                + ".",
                f"Booking load: {w.bookings:,} bookings in {w.load_seconds:.1f} s.",
            ]
        },
    }

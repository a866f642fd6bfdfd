"""Online-service requests demo: a test-drive fleet per store (the group's published models),
and requests of every kind of the requests area (test drive, finance, insurance quote, trade-in,
new-car enquiry) in every status for the demo owners, made and moved through the services so
the history, the owners' messages, the customer timeline and the leads are real; handled by the
demo sales consultant "sales"."""

import datetime as dt
import logging

from django.utils import timezone

from m4s.core.errors import DomainError
from m4s.customers.selectors import vehicles_of_owner
from m4s.requests import services, testdrive
from m4s.requests.models import ServiceRequest, TestDriveCar

log = logging.getLogger(__name__)
STATUSES = ("submitted", "accepted", "scheduled", "done", "declined", "cancelled")
PLATE_PREFIX = {0: "京A·T", 1: "京B·T", 2: "京C·T", 3: "京D·T"}


def _fleet(stores) -> None:
    from m4s.catalogue.models import CarModel

    for i, store in enumerate(sorted(stores.values(), key=lambda s: s.pk)):
        models = list(
            CarModel.objects.for_group(store.dealer_group_id)
            .filter(published=True)
            .order_by("sort", "pk")[:4]
        )
        for j, model in enumerate(models):
            for k in range(2 if j == 0 else 1):
                TestDriveCar.objects.for_group(store.dealer_group_id).get_or_create(
                    dealer_group_id=store.dealer_group_id,
                    plate=f"{PLATE_PREFIX.get(i, '京E·T')}{j}{k}{store.pk % 10}",
                    defaults={"store": store, "car_model": model},
                )


def _slots(store, model_id: int, now):
    """Free future slots of a model, day after day."""
    day = timezone.localdate(now, store.tz)
    for _ in range(30):
        day += dt.timedelta(days=1)
        yield from (s["start"] for s in testdrive.free_slots(store, model_id, day, now=now))


def _fields(kind: str, store, owner, slots, cat) -> tuple[dict, int | None]:
    car = vehicles_of_owner(owner).first()
    if kind == "test_drive":
        return {"car_model_id": cat["model"].pk, "slot_start": next(slots).isoformat()}, None
    if kind == "finance":
        price = cat["trim"].dealer_price
        return {
            "finance_product_id": cat["product"].pk,
            "trim_id": cat["trim"].pk,
            "down_payment": str((price * cat["down_pct"] / 100).quantize(price)),
            "term_months": cat["term"],
        }, None
    if kind == "insurance_quote":
        return {"note": "续保 renewal"}, car.pk if car else None
    if kind == "trade_in":
        return {"note": "Well kept, one owner"}, car.pk if car else None
    return {
        "car_model_id": cat["model"].pk,
        "contact_time": "evening",
        "message": "What is the delivery time?",
    }, None


def _move(r: ServiceRequest, status: str, sales, owner, now) -> None:
    if status == "submitted":
        return
    if status == "cancelled":
        services.cancel_request(owner, r)
        return
    if status == "declined":
        services.transition(sales, r, "declined", reason="该车型暂无库存 Out of stock this month")
        return
    services.run_action(sales, r, "accept", {})
    if r.kind in ("insurance_quote", "trade_in"):
        if r.kind == "trade_in":
            services.run_action(sales, r, "valuation", {"low": "68000", "high": "76000"})
        q1 = services.add_quote(
            sales,
            r,
            label="平安 Ping An" if r.kind == "insurance_quote" else "Trade-in offer",
            lines=[
                {"label": "Commercial", "amount": "3280.00"},
                {"label": "Compulsory", "amount": "950.00"},
            ]
            if r.kind == "insurance_quote"
            else [{"label": "Car", "amount": "72000.00"}],
            valid_until=timezone.localdate() + dt.timedelta(days=14),
        )
        if r.kind == "insurance_quote":
            services.add_quote(
                sales, r, label="人保 PICC", lines=[{"label": "All", "amount": "4390.00"}]
            )
        if status in ("scheduled", "done"):
            services.accept_quote(owner, r, q1.pk)
    if status in ("scheduled", "done"):
        when = r.scheduled_for or now + dt.timedelta(days=2)
        services.transition(sales, r, "scheduled", scheduled_for=when)
    if status == "done":
        if r.kind == "test_drive":
            services.run_action(sales, r, "licence", {})
            services.run_action(sales, r, "check_out", {"odometer_km": 1520})
            services.run_action(sales, r, "check_in", {"odometer_km": 1547})
            services.run_owner_action(
                owner, r, "feedback", {"rating": 5, "feedback": "很顺滑 Very smooth"}
            )
        else:
            services.transition(sales, r, "done")


def build_requests_demo(*, staff, owners, stores) -> None:
    from m4s.catalogue.models import Trim
    from m4s.catalogue.selectors import finance_products

    _fleet(stores)
    sales = staff.get("sales")
    store = stores.get("chaoyang") or next(iter(stores.values()))
    if sales is None or not owners:
        return
    trim = (
        Trim.objects.for_group(store.dealer_group_id)
        .filter(active=True, car_model__published=True)
        .select_related("car_model")
        .order_by("car_model__sort", "sort", "pk")
        .first()
    )
    product = finance_products([store.dealer_group_id]).first()
    fleet_models = testdrive.fleet(store).values_list("car_model_id", flat=True)
    if trim is None or product is None or not fleet_models:
        return
    model = trim.car_model
    if model.pk not in set(fleet_models):
        return
    terms = product.allowed_terms or [36]
    cat = {
        "model": model,
        "trim": trim,
        "product": product,
        "term": terms[len(terms) // 2],
        "down_pct": max(product.min_down_payment_pct, 30),
    }
    now = timezone.now()
    slots = _slots(store, model.pk, now)
    n = 0
    for kind in ("test_drive", "finance", "insurance_quote", "trade_in", "new_car_enquiry"):
        for i, status in enumerate(STATUSES):
            owner = owners[(n + i) % len(owners)]
            n += 1
            try:
                data, vehicle_id = _fields(kind, store, owner, slots, cat)
                if kind in ("insurance_quote", "trade_in") and vehicle_id is None:
                    continue
                r = services.submit_request(
                    owner,
                    kind=kind,
                    store_id=store.pk,
                    vehicle_id=vehicle_id,
                    data=data,
                    idempotency_key=f"demo-{kind}-{status}",
                )
                _move(r, status, sales, owner, now)
            except (DomainError, StopIteration) as exc:  # a demo row that does not fit is skipped
                log.warning("demo request %s/%s skipped: %s", kind, status, exc)

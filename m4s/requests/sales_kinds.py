"""The requests area's own kinds: test drive, finance, insurance, trade-in and the new-car
enquiry. Each: the owner's schema, `prepare` against the world, staff actions, and (sales-type)
a lead through the sales area. Registered by `Config.ready()`."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from ninja import Schema
from pydantic import Field

from m4s.core.errors import DomainError
from m4s.core.types import Money, SaneDate, SaneDateTime
from m4s.staff.choices import Perm, Role

from . import testdrive
from .choices import RequestStatus
from .kinds import KindContext, OwnerAction, RequestKind, StaffAction, register
from .models import ServiceRequest, TestDriveBooking, TradeInPhoto

OPEN = (RequestStatus.SUBMITTED, RequestStatus.ACCEPTED, RequestStatus.SCHEDULED)
MAX_TRADE_IN_PHOTOS = 6


def _services():
    from . import services

    return services


def _model_name(model) -> str:
    brand = getattr(model, "brand", None)
    return f"{brand.t('name')} {model.t('name')}".strip() if brand else model.t("name")


# --- test drive ----------------------------------------------------------------------------------
class RequestsTestDriveIn(Schema):
    car_model_id: int = Field(..., ge=1, le=2**63 - 1)
    slot_start: SaneDateTime
    note: str = Field("", max_length=500)


class RequestsOdometerIn(Schema):
    odometer_km: int = Field(..., ge=0, le=2_000_000)


class RequestsFeedbackIn(Schema):
    rating: int = Field(..., ge=1, le=5)
    feedback: str = Field("", max_length=2000)


def _td_prepare(ctx: KindContext, data: dict) -> dict:
    from m4s.catalogue.selectors import get_model_of_group

    model = get_model_of_group(ctx.group_id, data["car_model_id"])
    start = data["slot_start"]
    if timezone.is_naive(start):  # a form's local time: the store's zone
        start = timezone.make_aware(start, ctx.store.tz)
    start = start.astimezone(dt.UTC)
    end = testdrive.check_slot(ctx.store, start, now=ctx.now)
    if not testdrive.fleet(ctx.store, model.pk).exists():
        raise DomainError(
            "no_test_drive_car",
            _("This store has no test-drive car of that model."),
            status=409,
        )
    data["_slot"] = (start, end)
    return {
        "car_model_id": model.pk,
        "model": _model_name(model),
        "slot_start": start,
        "slot_end": end,
        "scheduled_for": start,
        "note": data.get("note", ""),
    }


def _td_after(request: ServiceRequest, data: dict) -> None:
    start, end = data["_slot"]
    booking = testdrive.hold_car(request, data["car_model_id"], start, end)
    request.details = {**request.details, "plate": booking.car.plate}
    ServiceRequest.objects.unscoped().filter(pk=request.pk).update(details=request.details)


def _td_transition(actor, request: ServiceRequest, to_status: str) -> None:
    if to_status in (RequestStatus.CANCELLED, RequestStatus.DECLINED):
        testdrive.release(request)


def _booking(request) -> TestDriveBooking:
    b = testdrive.booking_of(request)
    if b is None:
        raise DomainError("no_booking", _("This request holds no car."), status=409)
    return b


def _td_licence(actor, request, data) -> None:
    from django.utils import timezone

    b = _booking(request)
    b.licence_checked_at = timezone.now()
    b.save(update_fields=["licence_checked_at"])
    _services().add_event(request, gettext_noop("Driving licence checked"), actor=actor)


def _td_check_out(actor, request, data) -> None:
    from django.utils import timezone

    b = _booking(request)
    if b.licence_checked_at is None:
        raise DomainError(
            "licence_not_checked", _("Check the driving licence at the desk first."), status=409
        )
    if b.checked_out_at is not None:
        raise DomainError("already_out", _("The car is already out."), status=409)
    b.odometer_out, b.checked_out_at = data["odometer_km"], timezone.now()
    b.save(update_fields=["odometer_out", "checked_out_at"])
    _services().add_event(
        request,
        gettext_noop("Car %(plate)s out at %(km)s km"),
        {"plate": b.car.plate, "km": b.odometer_out},
        actor=actor,
    )


def _td_check_in(actor, request, data) -> None:
    from django.utils import timezone

    b = _booking(request)
    if b.checked_out_at is None:
        raise DomainError("not_out", _("The car was not checked out."), status=409)
    if data["odometer_km"] < (b.odometer_out or 0):
        raise DomainError(
            "odometer_below_out",
            _("The odometer cannot be lower than at check-out (%(km)s km).")
            % {"km": b.odometer_out},
            status=422,
        )
    b.odometer_in, b.checked_in_at, b.active = data["odometer_km"], timezone.now(), False
    b.save(update_fields=["odometer_in", "checked_in_at", "active"])
    s = _services()
    if request.status == RequestStatus.SUBMITTED:
        s._move(actor, request, RequestStatus.ACCEPTED, now=timezone.now())
    s._move(actor, request, RequestStatus.DONE, now=timezone.now())
    s.add_event(
        request,
        gettext_noop("Test drive done: %(km)s km driven. Tell us how it went!"),
        {"km": b.odometer_in - (b.odometer_out or 0)},
        actor=actor,
        tell=True,
    )
    s.update_lead(request, "done", stage="test_drive", actor=actor)


def _td_feedback(owner, request, data) -> None:
    b = _booking(request)
    b.rating, b.feedback = data["rating"], data.get("feedback", "")
    b.save(update_fields=["rating", "feedback"])
    s = _services()
    s.add_event(request, gettext_noop("Feedback: %(rating)s/5"), {"rating": b.rating})
    s.tell_handler(
        request,
        gettext_noop("Test-drive feedback on request #%(id)s: %(rating)s/5"),
        {"id": request.pk, "rating": b.rating},
    )


def _td_choices(ctx: KindContext) -> dict:
    """The models of the store's fleet, the chosen model and day, and that day's free slots."""
    from m4s.catalogue.models import CarModel

    ids = set(testdrive.fleet(ctx.store).values_list("car_model_id", flat=True))
    models = list(
        CarModel.objects.for_group(ctx.group_id)
        .filter(pk__in=ids, published=True)
        .select_related("brand")
        .order_by("sort", "pk")
    )
    wanted = str(ctx.values.get("car_model_id") or ctx.values.get("model") or "")
    model = next((m for m in models if str(m.pk) == wanted), models[0] if models else None)
    today = timezone.localdate(ctx.now, ctx.store.tz)
    try:
        day = dt.date.fromisoformat(str(ctx.values.get("date") or ""))
    except ValueError:
        day = today + dt.timedelta(days=1)
    day = min(max(day, today), today + dt.timedelta(days=testdrive.MAX_DAYS_AHEAD))
    slots = []
    if model is not None:
        for s in testdrive.free_slots(ctx.store, model.pk, day, now=ctx.now):
            local = timezone.localtime(s["start"], ctx.store.tz)
            slots.append({"value": s["start"].isoformat(), "label": local.strftime("%H:%M")})
    return {
        "models": [(m.pk, _model_name(m)) for m in models],
        "model_id": model.pk if model else None,
        "date": day.isoformat(),
        "min_date": today.isoformat(),
        "max_date": (today + dt.timedelta(days=testdrive.MAX_DAYS_AHEAD)).isoformat(),
        "slots": slots,
        "slot_minutes": testdrive.SLOT_MINUTES,
    }


TEST_DRIVE = RequestKind(
    key="test_drive",
    label=gettext_lazy("Test drive"),
    icon="car",
    role=Role.SALES_CONSULTANT,
    sla_minutes=60,
    schema=RequestsTestDriveIn,
    prepare=_td_prepare,
    after_submit=_td_after,
    on_transition=_td_transition,
    sales=True,
    lead_source="test_drive",
    owner_form_template="requests/kinds/test_drive_form.html",
    owner_detail_template="requests/kinds/test_drive_detail.html",
    console_detail_template="requests/kinds/test_drive_panel.html",
    choices=_td_choices,
    actions={
        "licence": StaffAction(
            gettext_lazy("Driving licence checked"), Perm.HANDLE_REQUESTS, OPEN, None, _td_licence
        ),
        "check_out": StaffAction(
            gettext_lazy("Check the car out"),
            Perm.HANDLE_REQUESTS,
            OPEN,
            RequestsOdometerIn,
            _td_check_out,
            "requests/kinds/odometer_form.html",
        ),
        "check_in": StaffAction(
            gettext_lazy("Check the car in"),
            Perm.HANDLE_REQUESTS,
            OPEN,
            RequestsOdometerIn,
            _td_check_in,
            "requests/kinds/odometer_form.html",
        ),
    },
    owner_actions={
        "feedback": OwnerAction(
            gettext_lazy("Feedback"), (RequestStatus.DONE,), RequestsFeedbackIn, _td_feedback
        )
    },
)


# --- finance -------------------------------------------------------------------------------------
class RequestsFinanceIn(Schema):
    finance_product_id: int = Field(..., ge=1, le=2**63 - 1)
    trim_id: int = Field(..., ge=1, le=2**63 - 1)
    down_payment: Money
    term_months: int = Field(..., ge=1, le=120)


def _fin_prepare(ctx: KindContext, data: dict) -> dict:
    from m4s.catalogue.selectors import get_finance_product, get_trim
    from m4s.catalogue.services import quote_product

    product = get_finance_product([ctx.group_id], data["finance_product_id"])
    trim = get_trim([ctx.group_id], data["trim_id"])
    price = trim.dealer_price
    if data["down_payment"] > price:
        raise DomainError(
            "down_payment_above_price",
            _("The down payment cannot be more than the price."),
            status=422,
        )
    q = quote_product(
        product, price=price, down_payment=data["down_payment"], term_months=data["term_months"]
    )
    return {
        "finance_product_id": product.pk,
        "product": product.t("name"),
        "trim_id": trim.pk,
        "car_model_id": trim.car_model_id,
        "model": f"{_model_name(trim.car_model)} {trim.t('name')}",
        "price": str(q.price),
        "down_payment": str(q.down_payment),
        "amount_financed": str(q.amount_financed),
        "term_months": q.term_months,
        "annual_rate": str(q.annual_rate),
        "monthly_instalment": str(q.monthly_instalment),
        "last_instalment": str(q.last_instalment),
        "total_interest": str(q.total_interest),
        "fee": str(q.fee),
        "total_paid": str(q.total_paid),
    }


def _fin_choices(ctx: KindContext) -> dict:
    from m4s.catalogue.models import Trim
    from m4s.catalogue.selectors import finance_products

    trims = (
        Trim.objects.for_group(ctx.group_id)
        .filter(active=True, car_model__published=True)
        .select_related("car_model__brand")
        .order_by("car_model__sort", "sort")
    )
    return {
        "products": [
            (p.pk, p.t("name"), p.allowed_terms) for p in finance_products([ctx.group_id])
        ],
        "trims": [
            (t.pk, f"{_model_name(t.car_model)} {t.t('name')}", t.dealer_price) for t in trims
        ],
    }


FINANCE = RequestKind(
    key="finance",
    label=gettext_lazy("Finance"),
    icon="calculator",
    role=Role.SALES_CONSULTANT,
    sla_minutes=120,
    schema=RequestsFinanceIn,
    prepare=_fin_prepare,
    sales=True,
    lead_source="finance",
    owner_form_template="requests/kinds/finance_form.html",
    owner_detail_template="requests/kinds/finance_detail.html",
    console_detail_template="requests/kinds/finance_detail.html",
    choices=_fin_choices,
)


# --- insurance -----------------------------------------------------------------------------------
class RequestsInsuranceIn(Schema):
    insurer: str = Field("", max_length=60)
    policy_ends_on: SaneDate | None = None
    cover: Literal["", "compulsory", "commercial"] = ""
    note: str = Field("", max_length=500)


def _current_policy(ctx: KindContext):
    if ctx.vehicle is None:
        return None
    from m4s.care.models import InsurancePolicy

    return (
        InsurancePolicy.objects.for_group(ctx.vehicle.dealer_group_id)
        .filter(vehicle=ctx.vehicle)
        .order_by("-ends_on")
        .first()
    )


def _ins_prepare(ctx: KindContext, data: dict) -> dict:
    policy = _current_policy(ctx)
    return {
        "insurer": data.get("insurer") or (policy.insurer if policy else ""),
        "policy_ends_on": data.get("policy_ends_on") or (policy.ends_on if policy else None),
        "cover": data.get("cover") or (policy.cover if policy else ""),
        "note": data.get("note", ""),
        "from_policy": bool(policy),
    }


def _ins_choices(ctx: KindContext) -> dict:
    policy = _current_policy(ctx)
    return {"policy": policy}


def _ins_accepted(request, quote) -> None:
    _services().add_event(
        request,
        gettext_noop("Insurance handler: issue the policy of the accepted offer"),
        visible_to_owner=False,
    )


def _ins_transition(actor, request, to_status) -> None:
    if to_status != RequestStatus.DONE or request.vehicle_id is None:
        return
    from m4s.care import services as care

    accepted = request.quotes.filter(status="accepted").first()
    upsert = getattr(care, "upsert_insurance_policy", None)
    if accepted is None or upsert is None:
        return
    today = timezone.localdate()
    old_end = request.details.get("policy_ends_on")
    starts = dt.date.fromisoformat(old_end) if old_end else today
    if starts < today:
        starts = today
    ends = (
        starts.replace(year=starts.year + 1)
        if not (starts.month == 2 and starts.day == 29)
        else starts + dt.timedelta(days=365)
    )
    upsert(
        request.customer,
        request.vehicle,
        insurer=accepted.label,
        starts_on=starts,
        ends_on=ends,
        cover=request.details.get("cover") or "commercial",
    )
    _services().add_event(
        request, gettext_noop("Policy renewed until %(date)s"), {"date": ends.isoformat()}
    )


INSURANCE = RequestKind(
    key="insurance_quote",
    label=gettext_lazy("Insurance quote"),
    icon="shield-check",
    role=Role.SALES_CONSULTANT,
    sla_minutes=240,
    schema=RequestsInsuranceIn,
    prepare=_ins_prepare,
    sales=True,
    lead_source="insurance",
    needs_vehicle=True,
    quotes=True,
    on_quote_accepted=_ins_accepted,
    on_transition=_ins_transition,
    owner_form_template="requests/kinds/insurance_form.html",
    owner_detail_template="requests/kinds/insurance_detail.html",
    console_detail_template="requests/kinds/insurance_detail.html",
    choices=_ins_choices,
)


# --- trade-in ------------------------------------------------------------------------------------
class RequestsTradeInIn(Schema):
    odometer_km: int | None = Field(None, ge=0, le=2_000_000)
    asking_price: Money | None = None
    note: str = Field("", max_length=1000)


class RequestsValuationIn(Schema):
    low: Money
    high: Money


def _odometer(vehicle) -> int | None:
    try:
        from m4s.telematics.selectors import health_record

        record = health_record(vehicle, days=365)
    except Exception:  # noqa: BLE001 - no telematics data is no prefill, never an error
        return None
    state = record.get("state")
    km = getattr(state, "odometer_km", None)
    if km is None and record.get("odometer_series"):
        km = record["odometer_series"][-1][1]
    return int(km) if km is not None else None


def _ti_prepare(ctx: KindContext, data: dict) -> dict:
    from m4s.core.uploads import clean_images

    v = ctx.vehicle
    if v is None:
        raise DomainError("vehicle_required", _("Choose one of your cars."), status=422)
    images = clean_images(list(ctx.files), limit=MAX_TRADE_IN_PHOTOS) if ctx.files else []
    data["_images"] = images
    odometer = data.get("odometer_km")
    return {
        "plate": v.plate,
        "model": f"{v.brand} {v.model}".strip(),
        "model_year": v.model_year,
        "odometer_km": odometer if odometer is not None else _odometer(v),
        "odometer_from_telematics": odometer is None,
        "asking_price": str(data["asking_price"]) if data.get("asking_price") is not None else "",
        "note": data.get("note", ""),
    }


def _ti_after(request, data) -> None:
    for image in data.get("_images") or []:
        photo = TradeInPhoto(dealer_group_id=request.dealer_group_id, request=request)
        photo.image.save(image.name, image, save=False)
        photo.save()


def _ti_valuation(actor, request, data) -> None:
    if data["low"] > data["high"]:
        raise DomainError(
            "invalid_range", _("The low value cannot be above the high value."), status=422
        )
    request.details = {
        **request.details,
        "valuation_low": str(data["low"]),
        "valuation_high": str(data["high"]),
    }
    request.save(update_fields=["details", "updated_at"])
    _services().add_event(
        request,
        gettext_noop("Valuation: %(low)s – %(high)s; an inspection confirms the offer"),
        {"low": str(data["low"]), "high": str(data["high"])},
        actor=actor,
        tell=True,
    )


TRADE_IN = RequestKind(
    key="trade_in",
    label=gettext_lazy("Used-car trade-in"),
    icon="repeat",
    role=Role.SALES_CONSULTANT,
    sla_minutes=240,
    schema=RequestsTradeInIn,
    prepare=_ti_prepare,
    after_submit=_ti_after,
    sales=True,
    lead_source="trade_in",
    needs_vehicle=True,
    quotes=True,
    owner_form_template="requests/kinds/trade_in_form.html",
    owner_detail_template="requests/kinds/trade_in_detail.html",
    console_detail_template="requests/kinds/trade_in_detail.html",
    actions={
        "valuation": StaffAction(
            gettext_lazy("Valuation range"),
            Perm.HANDLE_REQUESTS,
            OPEN,
            RequestsValuationIn,
            _ti_valuation,
            "requests/kinds/valuation_form.html",
        )
    },
)


# --- new-car enquiry -----------------------------------------------------------------------------
class RequestsEnquiryIn(Schema):
    car_model_id: int = Field(..., ge=1, le=2**63 - 1)
    trim_id: int | None = Field(None, ge=1, le=2**63 - 1)
    contact_time: Literal["any", "morning", "afternoon", "evening"] = "any"
    message: str = Field("", max_length=1000)


def _enq_prepare(ctx: KindContext, data: dict) -> dict:
    from m4s.catalogue.selectors import get_model_of_group

    model = get_model_of_group(ctx.group_id, data["car_model_id"])
    trim_id = data.get("trim_id")
    trim_name = ""
    if trim_id:
        trim = model.trims.filter(pk=trim_id, active=True).first()
        if trim is None:
            raise DomainError("invalid_trim", _("No such trim of this model."), status=422)
        trim_name = trim.t("name")
    return {
        "car_model_id": model.pk,
        "trim_id": trim_id,
        "model": _model_name(model),
        "trim": trim_name,
        "contact_time": data["contact_time"],
        "message": data.get("message", ""),
    }


def _enq_choices(ctx: KindContext) -> dict:
    from m4s.catalogue.models import CarModel

    return {
        "models": [
            (m.pk, _model_name(m))
            for m in CarModel.objects.for_group(ctx.group_id)
            .filter(published=True)
            .select_related("brand")
        ]
    }


ENQUIRY = RequestKind(
    key="new_car_enquiry",
    label=gettext_lazy("Ask about a new car"),
    icon="message-circle",
    role=Role.SALES_CONSULTANT,
    sla_minutes=60,
    schema=RequestsEnquiryIn,
    prepare=_enq_prepare,
    sales=True,
    lead_source="enquiry",
    owner_form_template="requests/kinds/enquiry_form.html",
    owner_detail_template="requests/kinds/enquiry_detail.html",
    console_detail_template="requests/kinds/enquiry_detail.html",
    choices=_enq_choices,
)


def register_all() -> None:
    for kind in (TEST_DRIVE, FINANCE, INSURANCE, TRADE_IN, ENQUIRY):
        register(kind)

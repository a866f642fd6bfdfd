"""Rescue API: the owner follows a case and adds photos; staff dispatch a tow, record its
progress, notify the owner's insurer and turn the case into a repair order. Transport only
(m4s.telematics.rescue holds the writes, selectors the scoped reads): another owner's case is
404 for an owner, another group's case, tow partner, insurer or store is 404 for staff."""

import datetime as dt
from typing import Literal

from ninja import File, Header, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.idempotency import call_once
from m4s.core.types import DbId
from m4s.core.uploads import media_url
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import rescue, selectors
from .models import RescueRequest

owner_router = Router(tags=["owner: rescue"], auth=owner_auth)
staff_router = Router(tags=["staff: rescue"], auth=staff_auth)
IDEMPOTENCY = Header("", alias="Idempotency-Key", max_length=100)


class RescueStepOut(Schema):
    at: dt.datetime
    kind: str
    status: str
    text: str


class RescueMilestoneOut(Schema):
    key: str
    label: str
    done: bool
    at: dt.datetime | None


class RescuePhotoOut(Schema):
    id: int
    url: str


class RescueTowOut(Schema):
    partner: str
    phone: str
    status: str
    status_label: str
    eta_at: dt.datetime | None
    eta_minutes: int | None
    destination: str


class RescueCaseOut(Schema):
    id: int
    kind: str
    status: str
    opened_at: dt.datetime
    alarm_at: dt.datetime
    plate: str
    store: str
    tow: RescueTowOut | None
    insurer: str | None
    insurer_notified_at: dt.datetime | None
    repair_order_id: int | None
    milestones: list[RescueMilestoneOut]
    steps: list[RescueStepOut]
    photos: list[RescuePhotoOut]


class RescueStaffCaseOut(RescueCaseOut):
    lat: float | None
    lon: float | None
    speed_kmh: float | None
    customer: str | None
    phone: str | None
    insurer_reference: str


def _case_out(case, *, for_owner: bool) -> dict:
    from .rescue_choices import TowStatus

    steps = list(selectors.case_steps(case))
    case._prefetched_objects_cache = {"steps": steps}  # owner_progress reads them
    tow = None
    if case.tow_id:
        tow = {
            "partner": case.tow.name,
            "phone": case.tow.phone,
            "status": case.tow_status,
            "status_label": str(TowStatus(case.tow_status).label),
            "eta_at": case.tow_eta_at,
            "eta_minutes": rescue.eta_minutes_left(case),
            "destination": (case.destination or case.store).name,
        }
    out = {
        "id": case.pk,
        "kind": case.kind,
        "status": case.status,
        "opened_at": case.opened_at,
        "alarm_at": case.alarm_at,
        "plate": case.vehicle.plate,
        "store": case.store.name,
        "tow": tow,
        "insurer": case.insurer.name if case.insurer_id else None,
        "insurer_notified_at": case.insurer_notified_at,
        "repair_order_id": case.repair_order_id,
        "milestones": [{**m, "label": str(m["label"])} for m in rescue.owner_progress(case)],
        "steps": [
            {
                "at": s.at,
                "kind": s.kind,
                "status": s.status,
                "text": rescue.step_text(s, for_owner=for_owner),
            }
            for s in steps
        ],
        "photos": [{"id": p.pk, "url": media_url(p, "image")} for p in selectors.case_photos(case)],
    }
    if not for_owner:
        out.update(
            lat=case.lat,
            lon=case.lon,
            speed_kmh=case.speed_kmh,
            customer=case.customer.name if case.customer else None,
            phone=case.customer.phone if case.customer else None,
            insurer_reference=case.insurer_reference,
        )
    return out


# --- owner ---------------------------------------------------------------------------------------
@owner_router.get("/rescue-cases/{int:case_id}", response=RescueCaseOut, openapi_extra=errors(404))
def my_rescue_case(request, case_id: int):
    """One of the owner's rescue cases: milestones (case opened, tow on the way with its ETA,
    insurer notified, car at the store), the step log and the owner's photos."""
    return _case_out(selectors.owner_case(request.owner, case_id), for_owner=True)


@owner_router.post(
    "/rescue-cases/{int:case_id}/photos",
    response={201: RescuePhotoOut},
    openapi_extra={
        **errors(400, 404, 409, 413, 415),
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "properties": {
                            "photo": {"type": "string", "format": "binary", "minLength": 1}
                        }
                    }
                }
            }
        },
    },
)
def add_my_rescue_photo(request, case_id: int, photo: File[UploadedFile]):
    """A photo of the scene or the damage (JPEG, PNG or WebP; re-encoded without metadata) for
    the insurer's report; anything else is refused with `invalid_image`."""
    case = selectors.owner_case(request.owner, case_id)
    stored = rescue.add_case_photo(request.owner, case, photo)
    return Status(201, {"id": stored.pk, "url": media_url(stored, "image")})


# --- staff ---------------------------------------------------------------------------------------
class RescueDispatchIn(Schema):
    tow_partner_id: DbId
    eta_minutes: int = Field(..., ge=1, le=rescue.MAX_ETA_MINUTES)
    destination_store_id: DbId | None = None
    note: str = Field("", max_length=300)


class RescueTowStatusIn(Schema):
    status: Literal["on_the_way", "arrived", "delivered", "cancelled"]
    eta_minutes: int | None = Field(None, ge=1, le=rescue.MAX_ETA_MINUTES)
    note: str = Field("", max_length=300)


class RescueNotifyIn(Schema):
    insurer_id: DbId | None = None


class RescueRepairOrderIn(Schema):
    repair_order_id: DbId | None = None


def _staff_case(request, case_id: int):
    check_perm(request.user, Perm.USE_CONSOLE)
    return selectors.get_case(request.user, case_id)


def _once(request, idempotency_key: str, name: str, case_id: int, body: dict, run):
    """Run `run()` once per Idempotency-Key (when one is sent): a retry answers the same."""

    def go():
        run()
        return 200, {"case": case_id}

    if idempotency_key:
        call_once(
            RescueRequest.objects.all(),
            key={"staff": request.user, "key": idempotency_key},
            body={"op": name, "case": case_id, **body},
            create={},
            run=go,
        )
    else:
        go()
    return _case_out(selectors.get_case(request.user, case_id), for_owner=False)


@staff_router.get(
    "/rescue-cases/{int:case_id}", response=RescueStaffCaseOut, openapi_extra=errors(403, 404)
)
def staff_rescue_case(request, case_id: int):
    return _case_out(_staff_case(request, case_id), for_owner=False)


@staff_router.post(
    "/rescue-cases/{int:case_id}/dispatch-tow",
    response=RescueStaffCaseOut,
    openapi_extra=errors(400, 403, 404, 409, 422),
)
def dispatch_tow(
    request, case_id: int, payload: RescueDispatchIn, idempotency_key: str = IDEMPOTENCY
):
    """Send a tow partner of the group (ETA in minutes; destination: the owner's store unless
    another store of the group is given). 409 `tow_already_dispatched` while one is under way."""
    case = _staff_case(request, case_id)
    data = payload.dict()
    return _once(
        request,
        idempotency_key,
        "dispatch",
        case.pk,
        data,
        lambda: rescue.dispatch_tow(request.user, case, **data),
    )


@staff_router.post(
    "/rescue-cases/{int:case_id}/tow-status",
    response=RescueStaffCaseOut,
    openapi_extra=errors(400, 403, 404, 409, 422),
)
def tow_status(
    request, case_id: int, payload: RescueTowStatusIn, idempotency_key: str = IDEMPOTENCY
):
    """The tow's progress: on_the_way → arrived → delivered (to the destination store), or
    cancelled. 409 `invalid_tow_transition` backwards or without a tow."""
    case = _staff_case(request, case_id)
    data = payload.dict()
    return _once(
        request,
        idempotency_key,
        "tow-status",
        case.pk,
        data,
        lambda: rescue.update_tow(request.user, case, **data),
    )


@staff_router.post(
    "/rescue-cases/{int:case_id}/notify-insurer",
    response=RescueStaffCaseOut,
    openapi_extra=errors(400, 403, 404, 409, 422),
)
def notify_insurer(
    request, case_id: int, payload: RescueNotifyIn, idempotency_key: str = IDEMPOTENCY
):
    """The first notice of loss (time, position, speed, alarm data, the owner's photos) to the
    owner's insurer, sent once: a retry (with or without the same Idempotency-Key) sends
    nothing more. 409 `insurer_required` when no insurer is chosen or recorded."""
    case = _staff_case(request, case_id)
    data = payload.dict()
    return _once(
        request,
        idempotency_key,
        "notify-insurer",
        case.pk,
        data,
        lambda: rescue.notify_insurer(request.user, case, **data),
    )


@staff_router.post(
    "/rescue-cases/{int:case_id}/repair-order",
    response=RescueStaffCaseOut,
    openapi_extra=errors(400, 403, 404, 409, 422),
)
def repair_order(
    request, case_id: int, payload: RescueRepairOrderIn, idempotency_key: str = IDEMPOTENCY
):
    """The case becomes a repair order with insurance as the payer of its lines: a new one at
    the destination store, or the car's open one linked (`repair_order_id`)."""
    case = _staff_case(request, case_id)
    data = payload.dict()
    return _once(
        request,
        idempotency_key,
        "repair-order",
        case.pk,
        data,
        lambda: rescue.open_repair_order(request.user, case, **data),
    )

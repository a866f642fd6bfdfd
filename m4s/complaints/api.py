"""Complaints API: owners file, follow, answer, confirm, reopen and rate; staff work the desk
(queues, reply, notes, calls, wait, escalate, resolve) and read the figures. Transport only:
every write is a service, every read a selector."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Header, Query, Router, Status
from ninja.files import UploadedFile

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import NotFound
from m4s.core.i18n import translated
from m4s.core.types import DbId
from m4s.org.models import Store
from m4s.staff.choices import Perm, Role
from m4s.staff.permissions import check_perm

from . import selectors, services
from .choices import OPEN_STATUSES, REOPEN_WINDOW_DAYS, Level
from .choices import Status as CS
from .models import Complaint
from .schemas import (
    CallIn,
    CategoryOut,
    ChangeIn,
    CheckIn,
    ComplaintIn,
    EscalateIn,
    FiguresOut,
    FiguresQuery,
    MessageIn,
    OwnerComplaintListOut,
    OwnerComplaintOut,
    QueueQuery,
    RatingIn,
    ReasonIn,
    ResolveIn,
    StaffComplaintIn,
    StaffComplaintListOut,
    StaffComplaintOut,
    WaitIn,
)

owner_router = Router(tags=["owner: complaints"], auth=owner_auth)
staff_router = Router(tags=["staff: complaints"], auth=staff_auth)


# --- shaping answers ----------------------------------------------------------------------------
def _ref(obj, name: str | None = None) -> dict | None:
    if obj is None:
        return None
    return {"id": obj.pk, "name": name if name is not None else translated(obj)}


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _photos(ev) -> list[dict]:
    return [{"id": p.pk, "url": p.image.url} for p in ev.photos.all() if p.image]


def _owner_by(ev) -> str:
    if ev.author_owner_id:
        return _("You")
    if ev.author_staff_id and ev.author_staff is not None:
        return str(Role(ev.author_staff.role).label) if ev.author_staff.role in Role.values else ""
    return ""


def _owner_list_item(c: Complaint) -> dict:
    return {
        "id": c.pk,
        "reference": c.reference,
        "status": c.status,
        "stage": selectors.owner_stage(c),
        "category": _ref(c.category),
        "store": _ref(c.store, c.store.display_title),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def owner_out(c: Complaint) -> dict:
    now = timezone.now()
    since = c.closed_at or c.resolved_at
    return {
        **_owner_list_item(c),
        "level": c.level,
        "level_label": str(Level(c.level).label),
        "channel": c.channel,
        "severity": c.severity,
        "description": c.description,
        "vehicle_id": c.vehicle_id,
        "appointment_id": c.appointment_id,
        "repair_order_id": c.repair_order_id,
        "resolved_at": c.resolved_at,
        "closed_at": c.closed_at,
        "resolution": c.resolution,
        "rating": c.rating,
        "rating_comment": c.rating_comment,
        "can_reply": c.status in (*OPEN_STATUSES, CS.RESOLVED),
        "can_confirm": c.status == CS.RESOLVED,
        "can_reopen": c.status in (CS.RESOLVED, CS.CLOSED)
        and since is not None
        and now - since <= dt.timedelta(days=REOPEN_WINDOW_DAYS),
        "can_rate": c.status == CS.CLOSED and c.rating is None,
        "events": [
            {
                "id": ev.pk,
                "kind": ev.kind,
                "at": ev.at,
                "text": ev.display_text,
                "body": ev.body,
                "by": _owner_by(ev),
                "photos": _photos(ev),
            }
            for ev in selectors.owner_events(c)
        ],
    }


def _staff_list_item(c: Complaint) -> dict:
    return {
        "id": c.pk,
        "reference": c.reference,
        "status": c.status,
        "severity": c.severity,
        "level": c.level,
        "channel": c.channel,
        "category": _ref(c.category),
        "store": _ref(c.store, c.store.name),
        "customer": _ref(c.customer, c.customer.name),
        "assignee": _ref(c.assignee, _person(c.assignee)) if c.assignee_id else None,
        "created_at": c.created_at,
        "due_at": getattr(c, "due_at", None),
        "minutes_left": getattr(c, "minutes_left", None),
        "paused": c.paused_at is not None,
    }


def _action_out(ca) -> dict:
    return {
        "id": ca.pk,
        "root_cause": _ref(ca.root_cause),
        "action": ca.action,
        "responsible": _ref(ca.responsible, _person(ca.responsible)),
        "due_date": ca.due_date,
        "done_at": ca.done_at,
        "checked_at": ca.checked_at,
        "checked_by": _person(ca.checked_by),
    }


def staff_out(c: Complaint) -> dict:
    return {
        **_staff_list_item(c),
        "description": c.description,
        "vehicle_id": c.vehicle_id,
        "appointment_id": c.appointment_id,
        "repair_order_id": c.repair_order_id,
        "concerned_staff_id": c.concerned_staff_id,
        "survey_id": c.survey_id,
        "recorded_by": _person(c.recorded_by),
        "first_response_due_at": c.first_response_due_at,
        "resolution_due_at": c.resolution_due_at,
        "level_due_at": c.level_due_at,
        "paused_at": c.paused_at,
        "held_minutes": c.held_minutes,
        "first_responded_at": c.first_responded_at,
        "resolved_at": c.resolved_at,
        "closed_at": c.closed_at,
        "reopen_count": c.reopen_count,
        "handling_minutes": c.handling_minutes,
        "root_cause": _ref(c.root_cause),
        "resolution": c.resolution,
        "rating": c.rating,
        "rating_comment": c.rating_comment,
        "escalations": [
            {
                "from_level": e.from_level,
                "to_level": e.to_level,
                "reason": e.reason,
                "note": e.note,
                "at": e.at,
                "by": _person(e.by),
            }
            for e in c.escalations.select_related("by").order_by("at", "id")
        ],
        "corrective_actions": [
            _action_out(ca)
            for ca in c.corrective_actions.select_related(
                "root_cause", "responsible", "checked_by"
            ).order_by("id")
        ],
        "events": [
            {
                "id": ev.pk,
                "kind": ev.kind,
                "at": ev.at,
                "text": ev.display_text,
                "body": ev.body,
                "by": _person(ev.author_staff)
                if ev.author_staff_id
                else (_("Owner") if ev.author_owner_id else ""),
                "photos": _photos(ev),
                "owner_visible": ev.owner_visible,
                "call_direction": ev.call_direction,
                "call_minutes": ev.call_minutes,
            }
            for ev in selectors.staff_events(c)
        ],
    }


# --- owner --------------------------------------------------------------------------------------
@owner_router.get("/complaints", response=list[OwnerComplaintListOut])
def my_complaints(request):
    return [_owner_list_item(c) for c in selectors.list_for_owner(request.owner)[:200]]


@owner_router.get("/complaints/categories", response=list[CategoryOut])
def my_complaint_categories(request, store_id: DbId | None = None):
    """The categories an owner may choose from for a store (their home store by default)."""
    owner = request.owner
    groups = set(
        selectors.complaints_for_owner(owner).values_list("dealer_group_id", flat=True)
    ) | {s.dealer_group_id for s in selectors.customer_choices(owner)["stores"]}
    store = None
    if store_id:
        store = Store.objects.unscoped().filter(pk=store_id, dealer_group_id__in=groups).first()
        if store is None:
            raise NotFound(_("No such store."))
    else:
        store = owner.home_store
    if store is None:
        return []
    return [
        {
            "id": c.pk,
            "code": c.code,
            "name": translated(c),
            "parent_id": c.parent_id,
            "depth": c.depth,
        }
        for c in services.categories_for(store.dealer_group_id)
    ]


@owner_router.post(
    "/complaints",
    response={201: OwnerComplaintOut},
    openapi_extra=errors(400, 404, 409, 422),
)
def file_complaint(
    request,
    payload: ComplaintIn,
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=100),
):
    """File a complaint. Send an `Idempotency-Key` header: a retried call with the same key and
    body gets the first answer, and makes no second complaint."""
    owner = request.owner
    c = services.file_complaint(
        owner,
        description=payload.description,
        category_id=payload.category_id,
        severity=payload.severity,
        store_id=payload.store_id,
        vehicle_id=payload.vehicle_id,
        appointment_id=payload.appointment_id,
        repair_order_id=payload.repair_order_id,
        idempotency_key=idempotency_key,
    )
    return Status(201, owner_out(selectors.get_for_owner(owner, c.pk)))


@owner_router.get("/complaints/{int:complaint_id}", response=OwnerComplaintOut)
def my_complaint(request, complaint_id: int):
    return owner_out(selectors.get_for_owner(request.owner, complaint_id))


@owner_router.post(
    "/complaints/{int:complaint_id}/messages",
    response=OwnerComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def my_complaint_message(request, complaint_id: int, payload: MessageIn):
    c = selectors.get_for_owner(request.owner, complaint_id)
    services.owner_reply(request.owner, c, payload.body)
    return owner_out(selectors.get_for_owner(request.owner, complaint_id))


@owner_router.post(
    "/complaints/{int:complaint_id}/photos",
    response=OwnerComplaintOut,
    openapi_extra={
        **errors(400, 404, 409, 413, 415),
        # a photo is a non-empty file
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
def my_complaint_photo(request, complaint_id: int, photo: File[UploadedFile]):
    """Add a photo (JPEG, PNG or WebP, at most 8 MB; re-encoded without EXIF)."""
    c = selectors.get_for_owner(request.owner, complaint_id)
    services.add_owner_photos(request.owner, c, [photo])
    return owner_out(selectors.get_for_owner(request.owner, complaint_id))


@owner_router.post(
    "/complaints/{int:complaint_id}/confirm",
    response=OwnerComplaintOut,
    openapi_extra=errors(404, 409),
)
def my_complaint_confirm(request, complaint_id: int):
    c = selectors.get_for_owner(request.owner, complaint_id)
    services.confirm(request.owner, c)
    return owner_out(selectors.get_for_owner(request.owner, complaint_id))


@owner_router.post(
    "/complaints/{int:complaint_id}/reopen",
    response=OwnerComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def my_complaint_reopen(request, complaint_id: int, payload: ReasonIn):
    c = selectors.get_for_owner(request.owner, complaint_id)
    services.reopen(request.owner, c, payload.reason)
    return owner_out(selectors.get_for_owner(request.owner, complaint_id))


@owner_router.post(
    "/complaints/{int:complaint_id}/rating",
    response=OwnerComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def my_complaint_rating(request, complaint_id: int, payload: RatingIn):
    c = selectors.get_for_owner(request.owner, complaint_id)
    services.rate(request.owner, c, payload.rating, payload.comment)
    return owner_out(selectors.get_for_owner(request.owner, complaint_id))


# --- staff --------------------------------------------------------------------------------------
def _staff_case(request, complaint_id: int) -> Complaint:
    check_perm(request.user, Perm.HANDLE_COMPLAINTS)
    return selectors.get_for_staff(request.user, complaint_id)


def _staff_answer(request, complaint_id: int) -> dict:
    return staff_out(selectors.get_for_staff(request.user, complaint_id))


@staff_router.get("/complaints", response=list[StaffComplaintListOut])
def staff_queue(request, q: Query[QueueQuery]):
    """A desk queue: `mine`, `store` (my stores) or `breaching` (overdue or due within hours,
    most urgent first); `minutes_left` is in business minutes."""
    check_perm(request.user, Perm.HANDLE_COMPLAINTS)
    rows = selectors.queue(
        request.user,
        q.queue,
        status=q.status or "",
        severity=q.severity or "",
        category_id=q.category_id,
        store_id=q.store_id,
        level=q.level,
        search=q.q,
    )
    return [_staff_list_item(c) for c in rows]


@staff_router.post(
    "/complaints",
    response={201: StaffComplaintOut},
    openapi_extra=errors(400, 404),
)
def staff_record(request, payload: StaffComplaintIn):
    """Record a phone, walk-in, e-mail or social-media complaint on the customer's behalf."""
    c = services.record_complaint(
        request.user,
        customer_id=payload.customer_id,
        channel=payload.channel,
        description=payload.description,
        category_id=payload.category_id,
        severity=payload.severity,
        store_id=payload.store_id,
        vehicle_id=payload.vehicle_id,
        appointment_id=payload.appointment_id,
        repair_order_id=payload.repair_order_id,
        concerned_staff_id=payload.concerned_staff_id,
    )
    return Status(201, _staff_answer(request, c.pk))


@staff_router.get("/complaints/figures", response=FiguresOut)
def staff_figures(request, q: Query[FiguresQuery]):
    """Figures of one month (`YYYY-MM`, default this month) for the group or one store."""
    check_perm(request.user, Perm.VIEW_COMPLAINT_FIGURES)
    if q.month:
        year, month = (int(x) for x in q.month.split("-"))
        day = dt.date(year, month, 1)
    else:
        day = timezone.localdate().replace(day=1)
    f = selectors.figures(request.user, day, store_id=q.store_id)
    return {
        **f,
        "by_category": [{"name": n, "count": k} for n, k in f["by_category"]],
        "by_store": [{"name": n, "count": k} for n, k in f["by_store"]],
        "by_month": [{"month": m, "count": k} for m, k in f["by_month"]],
        "top_root_causes": [
            {
                "root_cause": _ref(r["root_cause"]),
                "count": r["count"],
                "open_actions": [_action_out(ca) for ca in r["open_actions"]],
            }
            for r in f["top_root_causes"]
        ],
    }


@staff_router.get("/complaints/categories", response=list[CategoryOut])
def staff_categories(request):
    check_perm(request.user, Perm.HANDLE_COMPLAINTS)
    if request.user.dealer_group_id is None:
        return []
    return [
        {
            "id": c.pk,
            "code": c.code,
            "name": translated(c),
            "parent_id": c.parent_id,
            "depth": c.depth,
        }
        for c in services.categories_for(request.user.dealer_group_id)
    ]


@staff_router.get("/complaints/{int:complaint_id}", response=StaffComplaintOut)
def staff_case(request, complaint_id: int):
    _staff_case(request, complaint_id)
    return _staff_answer(request, complaint_id)


@staff_router.patch(
    "/complaints/{int:complaint_id}",
    response=StaffComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def staff_change(request, complaint_id: int, payload: ChangeIn):
    """Change category or severity (audited) or hand the case to someone else."""
    c = _staff_case(request, complaint_id)
    if payload.category_id is not None or payload.severity is not None:
        c = services.change_complaint(
            request.user, c, category_id=payload.category_id, severity=payload.severity
        )
    if payload.assignee_id is not None:
        services.assign(request.user, c, payload.assignee_id)
    return _staff_answer(request, complaint_id)


@staff_router.post(
    "/complaints/{int:complaint_id}/acknowledge",
    response=StaffComplaintOut,
    openapi_extra=errors(404, 409),
)
def staff_acknowledge(request, complaint_id: int):
    services.acknowledge(request.user, _staff_case(request, complaint_id))
    return _staff_answer(request, complaint_id)


@staff_router.post(
    "/complaints/{int:complaint_id}/reply",
    response=StaffComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def staff_reply(request, complaint_id: int, payload: MessageIn):
    """Reply to the owner (they see it); the first reply is the first response."""
    services.reply_to_owner(request.user, _staff_case(request, complaint_id), payload.body)
    return _staff_answer(request, complaint_id)


@staff_router.post(
    "/complaints/{int:complaint_id}/notes",
    response=StaffComplaintOut,
    openapi_extra=errors(400, 404),
)
def staff_note(request, complaint_id: int, payload: MessageIn):
    """An internal note (the owner never sees it)."""
    services.add_note(request.user, _staff_case(request, complaint_id), payload.body)
    return _staff_answer(request, complaint_id)


@staff_router.post(
    "/complaints/{int:complaint_id}/calls",
    response=StaffComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def staff_call(request, complaint_id: int, payload: CallIn):
    """Log a call with the owner: it counts as a first response."""
    services.log_call(
        request.user,
        _staff_case(request, complaint_id),
        summary=payload.summary,
        direction=payload.direction,
        minutes=payload.minutes,
    )
    return _staff_answer(request, complaint_id)


@staff_router.post(
    "/complaints/{int:complaint_id}/wait",
    response=StaffComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def staff_wait(request, complaint_id: int, payload: WaitIn):
    """Wait for the customer: the clocks pause until they answer (or staff resume)."""
    services.set_waiting_for_customer(
        request.user, _staff_case(request, complaint_id), payload.question
    )
    return _staff_answer(request, complaint_id)


@staff_router.post(
    "/complaints/{int:complaint_id}/resume",
    response=StaffComplaintOut,
    openapi_extra=errors(404, 409),
)
def staff_resume(request, complaint_id: int):
    services.resume(request.user, _staff_case(request, complaint_id))
    return _staff_answer(request, complaint_id)


@staff_router.post(
    "/complaints/{int:complaint_id}/escalate",
    response=StaffComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def staff_escalate(request, complaint_id: int, payload: EscalateIn):
    """Pass the case one level up (store CS → store manager → group customer care)."""
    services.escalate(request.user, _staff_case(request, complaint_id), note=payload.reason)
    return _staff_answer(request, complaint_id)


@staff_router.post(
    "/complaints/{int:complaint_id}/resolve",
    response=StaffComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def staff_resolve(request, complaint_id: int, payload: ResolveIn):
    """Resolve with the root cause and the corrective action; the owner is asked to confirm."""
    services.resolve(
        request.user,
        _staff_case(request, complaint_id),
        root_cause_id=payload.root_cause_id,
        resolution=payload.resolution,
        action=payload.action,
        responsible_id=payload.responsible_id,
        due_date=payload.due_date,
    )
    return _staff_answer(request, complaint_id)


@staff_router.post(
    "/complaints/actions/{int:action_id}/check",
    response=StaffComplaintOut,
    openapi_extra=errors(400, 404, 409),
)
def staff_check_action(request, action_id: int, payload: CheckIn):
    """A manager confirms the preventive action was carried out."""
    ca = services.check_preventive_action(request.user, action_id, payload.note)
    return _staff_answer(request, ca.complaint_id)

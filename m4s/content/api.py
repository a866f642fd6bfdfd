"""content API. Transport only: every write is a service, every read a selector."""

from typing import Literal

from ninja import Query, Router, Status

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.uploads import media_url

from . import rights, selectors, services, stats
from .choices import Status as ContentStatus
from .models import ContentItem
from .schemas import (
    ConsoleItemIn,
    ConsoleItemOut,
    ConsoleItemPatch,
    ConsoleItemsQuery,
    ConsoleItemStatsOut,
    ConsoleRejectIn,
    ConsoleVersionOut,
)

owner_router = Router(tags=["owner: content"], auth=owner_auth)
staff_router = Router(tags=["staff: content"], auth=staff_auth)
public_router = Router(tags=["content"])


# --- staff ---
# The content console's endpoints: the caller's own publisher's items (headquarters, their local
# organisation, their dealer group or store); anyone else's item is 404.
def _item_out(item: ContentItem) -> dict:
    targets: dict[str, list[str]] = {}
    for target in sorted(item.targets.all(), key=lambda t: (t.kind, t.value)):
        targets.setdefault(target.kind, []).append(target.value)
    return {
        "id": item.pk,
        "level": item.level,
        "module": item.module,
        "status": item.status,
        "status_label": str(ContentStatus(item.status).label),
        "source_language": item.source_language,
        "pinned": item.pinned,
        "publish_at": item.publish_at,
        "expire_at": item.expire_at,
        "published_at": item.published_at,
        "action_kind": item.action_kind,
        "action_target": item.action_target,
        "tags": [str(t) for t in item.tags or []],
        "places": [
            {
                "name": str(p.get("name") or ""),
                "address": str(p.get("address") or ""),
                "lat": p.get("lat"),
                "lon": p.get("lon"),
            }
            for p in item.places or []
            if isinstance(p, dict)
        ],
        "category_id": item.category_id,
        "issue_id": item.issue_id,
        "store_id": item.store_id,
        "version": item.version,
        "reject_reason": item.reject_reason,
        "translations": {
            t.language: {"title": t.title, "summary": t.summary, "body_html": t.body_html}
            for t in item.translations.all()
        },
        "targets": targets,
        "bound_car": item.target_bound_car,
        "cover_url": media_url(item, "cover") if item.cover else None,
        "images": [
            {"id": img.pk, "url": media_url(img, "image"), "caption": img.caption}
            for img in item.images.all()
        ],
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _fields(
    payload: ConsoleItemIn | ConsoleItemPatch,
) -> tuple[dict, dict | None, dict | None, object]:
    """(item fields, translations, targets, bound_car) of what the client sent."""
    sent = payload.model_dump(exclude_unset=True)
    translations = sent.pop("translations", None)
    targets = sent.pop("targets", None)
    bound_car = sent.pop("bound_car", services.KEEP)
    action = sent.pop("action", None)
    if action is not None:
        sent["action_kind"], sent["action_target"] = action["kind"], action.get("target", "")
    if targets is not None:
        targets = {k: [str(v) for v in values] for k, values in targets.items()}
    for key in (
        "module",
        "source_language",
        "pinned",
        "action_kind",
        "action_target",
        "tags",
        "places",
    ):
        if key in sent and sent[key] is None:
            del sent[key]  # null: leave as it is
    return sent, translations, targets, bound_car


@staff_router.get("/content/items", response=list[ConsoleItemOut])
def staff_items(request, query: Query[ConsoleItemsQuery]):
    """The caller's publisher's items, most recently changed first (403-free: staff who do not
    publish get an empty list)."""
    qs = rights.console_items(request.user).prefetch_related("translations", "images", "targets")
    if query.status:
        qs = qs.filter(status=query.status)
    if query.module:
        qs = qs.filter(module=query.module)
    qs = qs.order_by("-updated_at", "-id")[query.offset : query.offset + query.limit]
    return [_item_out(item) for item in qs]


@staff_router.post("/content/items", response={201: ConsoleItemOut}, openapi_extra=errors(403, 404))
def staff_create_item(request, payload: ConsoleItemIn):
    """A new draft of the caller's publisher."""
    fields, translations, targets, bound_car = _fields(payload)
    module = fields.pop("module")
    item = services.create_item(
        request.user,
        module=module,
        translations=translations or {},
        targets=targets,
        bound_car=None if bound_car is services.KEEP else bound_car,
        **fields,
    )
    return Status(201, _item_out(item))


@staff_router.get(
    "/content/items/{int:item_id}", response=ConsoleItemOut, openapi_extra=errors(404)
)
def staff_item(request, item_id: int):
    return _item_out(rights.get_console_item(request.user, item_id))


@staff_router.patch(
    "/content/items/{int:item_id}", response=ConsoleItemOut, openapi_extra=errors(403, 404)
)
def staff_update_item(request, item_id: int, payload: ConsoleItemPatch):
    """Change a draft (or take a live item back to draft with the change)."""
    item = rights.get_console_item(request.user, item_id)
    fields, translations, targets, bound_car = _fields(payload)
    item = services.update_item(
        request.user,
        item,
        translations=translations,
        targets=targets,
        bound_car=bound_car,
        **fields,
    )
    return _item_out(item)


@staff_router.get(
    "/content/items/{int:item_id}/stats", response=ConsoleItemStatsOut, openapi_extra=errors(404)
)
def staff_item_stats(request, item_id: int):
    """Views (every read) and unique readers, per target of the item and per day (new readers
    of the last 30 days)."""
    item = rights.get_console_item(request.user, item_id)
    figures = selectors.item_stats(item)
    return {
        "views": figures["views"],
        "readers": figures["readers"],
        "per_target": [
            {
                "kind": t.get("kind", ""),
                "value": t.get("value", ""),
                "label": t.get("label") or t.get("value", ""),
                "readers": t.get("readers", 0),
                "views": t.get("views", 0),
            }
            for t in figures.get("per_target", [])
        ],
        "days": [
            {"day": d.day, "readers": d.readers, "views": d.views}
            for d in stats.readers_per_day(item)
        ],
    }


@staff_router.get(
    "/content/items/{int:item_id}/versions",
    response=list[ConsoleVersionOut],
    openapi_extra=errors(404),
)
def staff_item_versions(request, item_id: int):
    """Every saved version, newest first."""
    item = rights.get_console_item(request.user, item_id)
    out = []
    for v in item.versions.select_related("created_by")[:200]:
        texts = v.snapshot.get("translations") or {}
        text = texts.get(item.source_language) or next(iter(texts.values()), {})
        out.append(
            {
                "number": v.number,
                "created_at": v.created_at,
                "created_by": str(v.created_by or ""),
                "title": str(text.get("title", "")),
            }
        )
    return out


@staff_router.post(
    "/content/items/{int:item_id}/versions/{int:number}/restore",
    response=ConsoleItemOut,
    openapi_extra=errors(403, 404),
)
def staff_restore_version(request, item_id: int, number: int):
    """Bring back an earlier version's texts, settings and targets as a new draft version."""
    item = rights.get_console_item(request.user, item_id)
    return _item_out(services.restore_version(request.user, item, number))


_ACTIONS = {
    "submit": services.submit,
    "approve": services.approve,
    "expire": services.expire,
}


@staff_router.post(
    "/content/items/{int:item_id}/reject",
    response=ConsoleItemOut,
    openapi_extra=errors(403, 404, 409),
)
def staff_reject_item(request, item_id: int, payload: ConsoleRejectIn):
    """Review → rejected, with the reason the editor reads (approvers of the level only)."""
    item = rights.get_console_item(request.user, item_id)
    return _item_out(services.reject(request.user, item, payload.reason))


@staff_router.post(
    "/content/items/{int:item_id}/{action}",
    response=ConsoleItemOut,
    openapi_extra=errors(403, 404, 409),
)
def staff_item_action(request, item_id: int, action: Literal["submit", "approve", "expire"]):
    """The workflow: `submit` (draft → review), `approve` (review → published, at its
    publication time; approvers of the level only), `expire` (published → expired now).
    409 `invalid_status` from any other state."""
    item = rights.get_console_item(request.user, item_id)
    return _item_out(_ACTIONS[action](request.user, item))


# --- owner ---
# The owners' endpoints (feed, item, search, prices) are in owner_api.py, on the routers above.
from . import owner_api  # noqa: E402, F401

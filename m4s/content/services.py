"""Writes of the content area: items (create, edit, targets, pictures), the publishing workflow
(draft → review → published → expired, or rejected back to the editor), scheduled expiry and
the version history. Every save appends a version snapshot; every body is sanitised with nh3.

Editing an item that is in review, published or expired puts it back to draft: what owners see
is always what an approver approved."""

import datetime as dt
import importlib
from typing import Any
from urllib.parse import urlparse

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.audit import record_audit
from m4s.core.errors import DomainError, NotFound, PermissionDenied
from m4s.core.models import AuditEntry
from m4s.core.uploads import clean_image

from . import rights
from .choices import (
    BODY_MAX,
    GALLERY_MAX,
    HAS_TARGET_FIELD,
    LANGUAGES,
    PLACES_MAX,
    REASON_MAX,
    SUMMARY_MAX,
    TAG_MAX,
    TAGS_MAX,
    TARGET_VALUES_MAX,
    TITLE_MAX,
    ActionKind,
    Level,
    Module,
    Status,
    TargetKind,
)
from .models import (
    ContentImage,
    ContentItem,
    ContentTarget,
    ContentTranslation,
    ContentVersion,
    KnowledgeCategory,
    MagazineIssue,
)
from .sanitise import clean_html

# Fields of an item an editor sets (besides translations and targets), as kept in versions.
ITEM_FIELDS = (
    "module",
    "source_language",
    "store_id",
    "pinned",
    "publish_at",
    "expire_at",
    "action_kind",
    "action_target",
    "tags",
    "places",
    "category_id",
    "issue_id",
)
KEEP: Any = object()  # update_item: leave bound-car targeting as it is
# Target kinds whose values are compared case-insensitively (stored lowercased).
_LOWERCASED = {TargetKind.BRAND, TargetKind.MODEL, TargetKind.TIER}


def _bad(code: str, message: str) -> DomainError:
    return DomainError(code, message)


# --- hooks into the search index (m4s.content.search, written alongside) -----------------------
def _search_hook(name: str, item: ContentItem) -> None:
    try:
        search = importlib.import_module("m4s.content.search")
    except ImportError:
        return
    hook = getattr(search, name, None)
    if hook is not None:
        hook(item)


# --- input cleaning ------------------------------------------------------------------------------
def _clean_translations(translations: dict[str, Any]) -> dict[str, dict[str, str]]:
    if not isinstance(translations, dict):
        raise _bad("invalid_translations", _("Texts must be given per language."))
    out: dict[str, dict[str, str]] = {}
    for lang, fields in translations.items():
        if lang not in LANGUAGES:
            raise _bad("invalid_language", _("Unknown language: %(lang)s.") % {"lang": lang})
        fields = fields or {}
        title = str(fields.get("title") or "").strip()
        summary = str(fields.get("summary") or "").strip()
        body = str(fields.get("body_html") or "")
        if not title and not summary and not body.strip():
            continue  # an empty tab: no text in that language
        if not title:
            raise _bad("title_required", _("Every language with a text needs a title."))
        if len(title) > TITLE_MAX:
            raise _bad(
                "title_too_long", _("A title has at most %(n)d characters.") % {"n": TITLE_MAX}
            )
        if len(summary) > SUMMARY_MAX:
            raise _bad(
                "summary_too_long",
                _("A summary has at most %(n)d characters.") % {"n": SUMMARY_MAX},
            )
        if len(body) > BODY_MAX:
            raise _bad("body_too_long", _("The text is too long."))
        out[lang] = {"title": title, "summary": summary, "body_html": clean_html(body)}
    return out


def _clean_tags(tags: Any) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    out: list[str] = []
    for tag in tags:
        tag = str(tag).strip()
        if not tag or tag in out:
            continue
        if len(tag) > TAG_MAX:
            raise _bad("tag_too_long", _("A tag has at most %(n)d characters.") % {"n": TAG_MAX})
        out.append(tag)
    if len(out) > TAGS_MAX:
        raise _bad("too_many_tags", _("At most %(n)d tags.") % {"n": TAGS_MAX})
    return out


def _number(value: Any, low: float, high: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad("invalid_place", _("A place's position is not a number.")) from None
    if not (low <= number <= high):
        raise _bad("invalid_place", _("A place's position is out of range."))
    return number


def _clean_places(places: Any) -> list[dict[str, Any]]:
    if not places:
        return []
    if not isinstance(places, list) or len(places) > PLACES_MAX:
        raise _bad("invalid_places", _("At most %(n)d places.") % {"n": PLACES_MAX})
    out = []
    for place in places:
        if not isinstance(place, dict):
            raise _bad("invalid_places", _("A place needs a name."))
        name = str(place.get("name") or "").strip()[:120]
        if not name:
            raise _bad("invalid_places", _("A place needs a name."))
        out.append(
            {
                "name": name,
                "address": str(place.get("address") or "").strip()[:200],
                "lat": _number(place.get("lat"), -90, 90),
                "lon": _number(place.get("lon"), -180, 180),
            }
        )
    return out


def clean_action(kind: Any, target: Any) -> tuple[str, str]:
    kind = str(kind or ActionKind.NONE)
    target = str(target or "").strip()
    if kind not in ActionKind.values:
        raise _bad("invalid_action", _("Unknown action."))
    if len(target) > 300:
        raise _bad("invalid_action", _("The action's target is too long."))
    if kind == ActionKind.LINK:
        try:
            parsed = urlparse(target)
        except ValueError:
            raise _bad("invalid_action", _("A link must be an http(s) address.")) from None
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise _bad("invalid_action", _("A link must be an http(s) address."))
    elif kind in (ActionKind.EVENT, ActionKind.REWARD):
        if not target.isdigit():
            raise _bad("invalid_action", _("Give the number of the event or reward."))
    elif kind == ActionKind.NONE:
        target = ""
    return kind, target


def _as_time(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value
    raise _bad("invalid_time", _("Not a date and time."))


def _apply_fields(actor: Any, item: ContentItem, publisher: rights.Publisher, fields: dict) -> None:
    """Validate and set the editor's fields on `item` (not saved)."""
    if "module" in fields:
        module = str(fields["module"])
        if module not in Module.values:
            raise _bad("invalid_module", _("Unknown module."))
        rights.require_publish(actor, item.level, module)
        item.module = module
    if "source_language" in fields:
        if fields["source_language"] not in LANGUAGES:
            raise _bad(
                "invalid_language",
                _("Unknown language: %(lang)s.") % {"lang": fields["source_language"]},
            )
        item.source_language = fields["source_language"]
    if "store_id" in fields:
        store_id = fields["store_id"] or None
        if store_id is not None:
            from m4s.org.models import Store

            if item.level != Level.DEALER:
                raise DomainError(
                    "invalid_store", _("Only a dealer group's item belongs to a store."), status=404
                )
            allowed = (
                publisher.store_ids
                if publisher.store_ids is not None
                else set(Store.objects.for_group(item.dealer_group_id).values_list("id", flat=True))
            )
            if int(store_id) not in allowed:
                raise DomainError("invalid_store", _("This store is not yours."), status=404)
        elif publisher.store_ids is not None:
            # depends on who asks (a store's staff), not on the body's shape: a conflict
            raise DomainError("store_required", _("Choose one of your stores."), status=409)
        item.store_id = store_id
    if "pinned" in fields:
        item.pinned = bool(fields["pinned"])
    if "publish_at" in fields:
        item.publish_at = _as_time(fields["publish_at"])
    if "expire_at" in fields:
        item.expire_at = _as_time(fields["expire_at"])
    if item.publish_at and item.expire_at and item.expire_at <= item.publish_at:
        raise DomainError(
            "invalid_schedule", _("The expiry must come after the publication."), status=409
        )
    if "action_kind" in fields or "action_target" in fields:
        item.action_kind, item.action_target = clean_action(
            fields.get("action_kind", item.action_kind),
            fields.get("action_target", item.action_target),
        )
    if "tags" in fields:
        item.tags = _clean_tags(fields["tags"])
    if "places" in fields:
        item.places = _clean_places(fields["places"])
    if "category_id" in fields:
        cat = fields["category_id"] or None
        if cat is not None and not KnowledgeCategory.objects.filter(pk=cat).exists():
            raise DomainError("invalid_category", _("Unknown category."), status=404)
        item.category_id = cat
    if "issue_id" in fields:
        issue = fields["issue_id"] or None
        if issue is not None and not MagazineIssue.objects.filter(pk=issue).exists():
            raise DomainError("invalid_issue", _("Unknown magazine issue."), status=404)
        item.issue_id = issue


def _write_translations(item: ContentItem, translations: dict[str, dict[str, str]]) -> None:
    for lang in LANGUAGES:
        if lang in translations:
            ContentTranslation.objects.update_or_create(
                item=item, language=lang, defaults=translations[lang]
            )
        else:
            ContentTranslation.objects.filter(item=item, language=lang).delete()


def _require_source_text(item: ContentItem) -> None:
    langs = set(item.translations.values_list("language", flat=True))
    if not langs:
        raise _bad("title_required", _("Write a title in at least one language."))
    if item.source_language not in langs:
        raise DomainError(
            "source_text_missing", _("The item needs a text in its source language."), status=409
        )


# --- versions ------------------------------------------------------------------------------------
def snapshot(item: ContentItem) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in ITEM_FIELDS:
        value = getattr(item, name)
        data[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    data["target_bound_car"] = item.target_bound_car
    data["translations"] = {
        t.language: {"title": t.title, "summary": t.summary, "body_html": t.body_html}
        for t in item.translations.order_by("language")
    }
    targets: dict[str, list[str]] = {}
    for kind, value in item.targets.order_by("kind", "value").values_list("kind", "value"):
        targets.setdefault(kind, []).append(value)
    data["targets"] = targets
    return data


def _save_version(actor: Any, item: ContentItem, *, bump: bool = True) -> ContentVersion:
    if bump:
        item.version = (
            item.versions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
    item.updated_by = actor
    item.save()
    return ContentVersion.objects.create(
        item=item, number=item.version, snapshot=snapshot(item), created_by=actor
    )


def _back_to_draft(item: ContentItem) -> None:
    if item.status != Status.DRAFT:
        item.status = Status.DRAFT
        item.published_at = None
        transaction.on_commit(lambda: _search_hook("remove_item", item))


# --- items ---------------------------------------------------------------------------------------
@transaction.atomic
def create_item(
    actor: Any,
    *,
    module: str,
    translations: dict[str, Any],
    targets: dict[str, list[str]] | None = None,
    bound_car: bool | None = None,
    **fields: Any,
) -> ContentItem:
    """A new draft of `actor`'s publisher (headquarters, their local organisation, their group
    or store) in `module`; `fields` are any of ITEM_FIELDS."""
    publisher = rights.publisher_for(actor)
    if publisher is None:
        raise PermissionDenied()
    rights.require_publish(actor, publisher.level, module)
    texts = _clean_translations(translations)
    item = ContentItem(
        level=publisher.level,
        headquarters_id=publisher.headquarters_id,
        local_org_id=publisher.local_org_id,
        dealer_group_id=publisher.dealer_group_id,
        module=module,
        created_by=actor,
    )
    if publisher.store_ids is not None and "store_id" not in fields:
        fields["store_id"] = min(publisher.store_ids) if publisher.store_ids else None
    _apply_fields(actor, item, publisher, {"module": module, **fields})
    if not texts:
        raise _bad("title_required", _("Write a title in at least one language."))
    if item.source_language not in texts:
        item.source_language = next(lang for lang in LANGUAGES if lang in texts)
    item.version = 0
    item.save()
    _write_translations(item, texts)
    _replace_targets(publisher, item, targets or {}, bound_car)
    _save_version(actor, item)
    return item


@transaction.atomic
def update_item(
    actor: Any,
    item: ContentItem,
    *,
    translations: dict[str, Any] | None = None,
    targets: dict[str, Any] | None = None,
    bound_car: Any = KEEP,
    **fields: Any,
) -> ContentItem:
    """Change an item's texts, settings and (when given) targets: one new version; back to
    draft if it was in review or live."""
    item = _locked(actor, item)
    publisher = _require_editor(actor, item)
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise _bad("invalid_field", _("Unknown field: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    _apply_fields(actor, item, publisher, fields)
    if translations is not None:
        texts = _clean_translations(translations)
        if not texts:
            raise _bad("title_required", _("Write a title in at least one language."))
        _write_translations(item, texts)
        if item.source_language not in texts:
            item.source_language = next(lang for lang in LANGUAGES if lang in texts)
    _require_source_text(item)
    _back_to_draft(item)
    if targets is not None:
        _replace_targets(
            publisher, item, targets, item.target_bound_car if bound_car is KEEP else bound_car
        )
    elif "store_id" in fields or bound_car is not KEEP:
        _refresh_implicit_targets(publisher, item)
        if bound_car is not KEEP:
            item.target_bound_car = bound_car
    _save_version(actor, item)
    return item


def _locked(actor: Any, item: ContentItem) -> ContentItem:
    """The item re-read under a row lock, within the actor's scope (else NotFound)."""
    locked = rights.console_items(actor).select_for_update().filter(pk=item.pk).first()
    if locked is None:
        raise NotFound()
    return locked


def _require_editor(actor: Any, item: ContentItem) -> rights.Publisher:
    publisher = rights.publisher_for(actor)
    if publisher is None or not rights.owns(publisher, item):
        raise NotFound()
    rights.require_publish(actor, item.level, item.module)
    return publisher


# --- targets ------------------------------------------------------------------------------------
def _clean_targets(targets: dict[str, Any]) -> dict[str, list[str]]:
    if not isinstance(targets, dict):
        raise _bad("invalid_targets", _("Targets must be given per kind."))
    out: dict[str, list[str]] = {}
    for kind, values in targets.items():
        if kind not in TargetKind.values:
            raise _bad("invalid_targets", _("Unknown kind of target: %(k)s.") % {"k": kind})
        if isinstance(values, str):
            values = values.split(",")
        clean: list[str] = []
        for value in values or []:
            value = str(value).strip()
            if len(value) > 80:
                raise _bad("invalid_targets", _("A target has at most 80 characters."))
            if kind in _LOWERCASED:
                value = value.lower()[:80]
            if not value or value in clean:
                continue
            if kind in (TargetKind.GROUP, TargetKind.STORE) and not value.isdigit():
                raise _bad("invalid_targets", _("Give dealer groups and stores by number."))
            clean.append(value)
        if len(clean) > TARGET_VALUES_MAX:
            raise _bad("invalid_targets", _("Too many targets of one kind."))
        if clean:
            out[kind] = clean
    return out


def _implicit_targets(publisher: rights.Publisher, item: ContentItem) -> dict[str, list[str]]:
    """What an item of this publisher always targets: a local organisation's city, a dealer
    group's own customers, a store's own customers."""
    if item.level == Level.LOCAL_ORG:
        return {TargetKind.CITY: [publisher.city]}
    if item.level == Level.DEALER:
        implicit = {TargetKind.GROUP: [str(item.dealer_group_id)]}
        if item.store_id:
            implicit[TargetKind.STORE] = [str(item.store_id)]
        return implicit
    return {}


def _replace_targets(
    publisher: rights.Publisher,
    item: ContentItem,
    targets: dict[str, Any],
    bound_car: bool | None,
) -> None:
    clean = _clean_targets(targets)
    rights.check_targets(publisher, clean)
    for kind, values in _implicit_targets(publisher, item).items():
        if kind == TargetKind.STORE and clean.get(kind):
            continue  # the editor chose stores of their own (checked above)
        clean[kind] = values
    item.targets.all().delete()
    ContentTarget.objects.bulk_create(
        [ContentTarget(item=item, kind=k, value=v) for k, values in clean.items() for v in values]
    )
    for kind, field_name in HAS_TARGET_FIELD.items():
        setattr(item, field_name, bool(clean.get(kind)))
    item.target_bound_car = bound_car


def _current_targets(item: ContentItem) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, value in item.targets.values_list("kind", "value"):
        out.setdefault(kind, []).append(value)
    return out


def _refresh_implicit_targets(publisher: rights.Publisher, item: ContentItem) -> None:
    current = _current_targets(item)
    current.pop(TargetKind.STORE, None)
    _replace_targets(publisher, item, current, item.target_bound_car)


@transaction.atomic
def set_targets(
    actor: Any, item: ContentItem, targets: dict[str, Any], bound_car: bool | None = None
) -> ContentItem:
    """Replace an item's targeting: an owner sees it only if every set criterion matches."""
    item = _locked(actor, item)
    publisher = _require_editor(actor, item)
    _replace_targets(publisher, item, targets, bound_car)
    _back_to_draft(item)
    _save_version(actor, item)
    return item


# --- pictures -----------------------------------------------------------------------------------
@transaction.atomic
def set_cover(actor: Any, item: ContentItem, upload: Any) -> ContentItem:
    item = _locked(actor, item)
    _require_editor(actor, item)
    if upload is None:
        item.cover = None
    else:
        picture = clean_image(upload)
        item.cover.save(picture.name or "cover", picture, save=False)
    item.updated_by = actor
    item.save()
    return item


@transaction.atomic
def add_image(actor: Any, item: ContentItem, upload: Any, caption: str = "") -> ContentImage:
    item = _locked(actor, item)
    _require_editor(actor, item)
    if item.images.count() >= GALLERY_MAX:
        raise _bad("too_many_photos", _("At most %(n)d photos.") % {"n": GALLERY_MAX})
    picture = clean_image(upload)
    position = (
        item.images.order_by("-position").values_list("position", flat=True).first() or 0
    ) + 1
    image = ContentImage(item=item, caption=str(caption or "").strip()[:200], position=position)
    image.image.save(picture.name or "image", picture, save=False)
    image.save()
    return image


@transaction.atomic
def remove_image(actor: Any, item: ContentItem, image_id: int) -> None:
    item = _locked(actor, item)
    _require_editor(actor, item)
    image = item.images.filter(pk=image_id).first()
    if image is None:
        raise NotFound()
    image.delete()


# --- the workflow ---------------------------------------------------------------------------------
def _audit_step(actor: Any, item: ContentItem, before: str, **more: Any) -> None:
    """A workflow step in the group's audit log (headquarters' and local organisations' items
    have no group: the audit log is tenant data, and their version history tells the story)."""
    record_audit(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        obj=item,
        before={"status": before},
        after={"status": item.status, **more},
        group_id=item.dealer_group_id,
    )


@transaction.atomic
def submit(actor: Any, item: ContentItem) -> ContentItem:
    """Draft (or rejected) → in review."""
    item = _locked(actor, item)
    before = item.status
    _require_editor(actor, item)
    if item.status not in (Status.DRAFT, Status.REJECTED):
        raise DomainError("invalid_status", _("Only a draft can be sent for review."), status=409)
    _require_source_text(item)
    if item.expire_at and item.expire_at <= timezone.now():
        raise DomainError("expiry_past", _("The expiry is already past."), status=409)
    item.status = Status.REVIEW
    item.reject_reason = ""
    item.updated_by = actor
    item.save()
    _audit_step(actor, item, before)
    return item


@transaction.atomic
def approve(actor: Any, item: ContentItem) -> ContentItem:
    """In review → published (now, or at its publish time: owners see it from then on)."""
    item = _locked(actor, item)
    before = item.status
    rights.require_approver(actor, item)
    if item.status != Status.REVIEW:
        raise DomainError(
            "invalid_status", _("Only an item in review can be approved."), status=409
        )
    now = timezone.now()
    if item.expire_at and item.expire_at <= now:
        raise DomainError("expiry_past", _("The expiry is already past."), status=409)
    if item.publish_at is None:
        item.publish_at = now
    item.status = Status.PUBLISHED
    item.published_at = max(now, item.publish_at)
    item.updated_by = actor
    item.save()
    _audit_step(actor, item, before)
    transaction.on_commit(lambda: _search_hook("index_item", item))
    return item


@transaction.atomic
def reject(actor: Any, item: ContentItem, reason: str) -> ContentItem:
    """In review → rejected, with the reason the editor reads."""
    item = _locked(actor, item)
    before = item.status
    rights.require_approver(actor, item)
    reason = str(reason or "").strip()
    if not reason:
        raise _bad("reason_required", _("Say why the item is rejected."))
    if len(reason) > REASON_MAX:
        raise _bad(
            "reason_too_long", _("A reason has at most %(n)d characters.") % {"n": REASON_MAX}
        )
    if item.status != Status.REVIEW:
        raise DomainError(
            "invalid_status", _("Only an item in review can be rejected."), status=409
        )
    item.status = Status.REJECTED
    item.reject_reason = reason
    item.updated_by = actor
    item.save()
    _audit_step(actor, item, before, reason=item.reject_reason)
    return item


@transaction.atomic
def expire(actor: Any, item: ContentItem) -> ContentItem:
    """Published → expired now (the editor or an approver takes it down)."""
    item = _locked(actor, item)
    before = item.status
    publisher = rights.publisher_for(actor)
    if publisher is None or not rights.owns(publisher, item):
        raise NotFound()
    if not (rights.can_approve(actor, item) or rights.can_publish(actor, item.level, item.module)):
        raise PermissionDenied()
    if item.status != Status.PUBLISHED:
        raise DomainError("invalid_status", _("Only a published item can expire."), status=409)
    item.status = Status.EXPIRED
    if item.expire_at is None or item.expire_at > timezone.now():
        item.expire_at = timezone.now()
    item.updated_by = actor
    item.save()
    _audit_step(actor, item, before)
    transaction.on_commit(lambda: _search_hook("remove_item", item))
    return item


def expire_due(now: dt.datetime | None = None) -> int:
    """Published items whose expiry has passed → expired (set-based; safe to run twice).
    Owners' reads also filter by time, so an item never shows late between two runs."""
    now = now or timezone.now()
    due = ContentItem.objects.filter(status=Status.PUBLISHED, expire_at__lte=now)
    ids = list(due.values_list("id", flat=True))
    if not ids:
        return 0
    count = ContentItem.objects.filter(pk__in=ids, status=Status.PUBLISHED).update(
        status=Status.EXPIRED, updated_at=now
    )
    for item in ContentItem.objects.filter(pk__in=ids):
        _search_hook("remove_item", item)
    return count


@transaction.atomic
def restore_version(actor: Any, item: ContentItem, number: int) -> ContentItem:
    """Bring back the texts, settings and targets of an earlier version, as a new draft version."""
    item = _locked(actor, item)
    publisher = _require_editor(actor, item)
    version = item.versions.filter(number=number).first()
    if version is None:
        raise NotFound()
    data = dict(version.snapshot)
    fields = {name: data[name] for name in ITEM_FIELDS if name in data}
    for name in ("publish_at", "expire_at"):
        if fields.get(name):
            fields[name] = dt.datetime.fromisoformat(fields[name])
    if fields.get("module") and not rights.can_publish(actor, item.level, fields["module"]):
        fields.pop("module")
    stores = publisher.store_ids
    if fields.get("store_id") and stores is not None and fields["store_id"] not in stores:
        fields.pop("store_id")
    # a version may name a category / issue / store deleted since: leave those empty
    if (
        fields.get("category_id")
        and not KnowledgeCategory.objects.filter(pk=fields["category_id"]).exists()
    ):
        fields["category_id"] = None
    if fields.get("issue_id") and not MagazineIssue.objects.filter(pk=fields["issue_id"]).exists():
        fields["issue_id"] = None
    try:
        _apply_fields(actor, item, publisher, fields)
    except DomainError:
        # the old schedule may be past: keep everything else of the version
        fields.pop("publish_at", None)
        fields.pop("expire_at", None)
        fields.pop("store_id", None)
        _apply_fields(actor, item, publisher, fields)
    _write_translations(item, _clean_translations(data.get("translations") or {}))
    targets = data.get("targets") or {}
    try:
        _replace_targets(publisher, item, targets, data.get("target_bound_car"))
    except DomainError:
        _replace_targets(publisher, item, {}, data.get("target_bound_car"))
    _back_to_draft(item)
    _save_version(actor, item)
    return item


# --- headquarters' catalogues: knowledge categories and magazine issues -------------------------
def _require_headquarters(actor: Any) -> None:
    publisher = rights.publisher_for(actor)
    if publisher is None or publisher.level != Level.HEADQUARTERS:
        raise PermissionDenied()


def _clean_names(name: str, name_i18n: dict | None, max_length: int) -> tuple[str, dict]:
    name = str(name or "").strip()
    if not name or len(name) > max_length:
        raise _bad("invalid_name", _("A name has 1 to %(n)d characters.") % {"n": max_length})
    out = {}
    for lang, value in (name_i18n or {}).items():
        value = str(value or "").strip()
        if lang not in LANGUAGES or len(value) > max_length:
            raise _bad("invalid_name", _("A name has 1 to %(n)d characters.") % {"n": max_length})
        if value:
            out[lang] = value
    return name, out


def create_category(
    actor: Any, *, name: str, name_i18n: dict | None = None, position: int = 0
) -> KnowledgeCategory:
    """A knowledge-base category (headquarters)."""
    _require_headquarters(actor)
    name, names = _clean_names(name, name_i18n, 80)
    return KnowledgeCategory.objects.create(
        name=name, name_i18n=names, position=max(0, min(int(position), 32767))
    )


@transaction.atomic
def create_issue(
    actor: Any,
    *,
    title: str,
    number: int,
    title_i18n: dict | None = None,
    cover: Any = None,
    published_on: dt.date | None = None,
) -> MagazineIssue:
    """An issue of the interest magazine (headquarters); its articles are items of the
    magazines module that name it."""
    _require_headquarters(actor)
    title, titles = _clean_names(title, title_i18n, 120)
    if not isinstance(number, int) or not 0 < number < 100_000:
        raise _bad("invalid_number", _("An issue number is 1 to 99999."))
    issue = MagazineIssue(title=title, title_i18n=titles, number=number, published_on=published_on)
    if cover is not None:
        picture = clean_image(cover)
        issue.cover.save(picture.name or "cover", picture, save=False)
    issue.save()
    return issue

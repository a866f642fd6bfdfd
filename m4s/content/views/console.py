"""The content console at /console/content/: the items of the staff member's publisher
(headquarters, their local organisation, their dealer group or store) with status filters; the
editor (module limited by the level's rights, texts per language, rich text sanitised on save,
cover and gallery, action, tags, places, schedule, pinning, targeting); sending for review; the
review queue of approvers (approve, reject with a reason); version history with restore;
preview as an owner on a phone-sized frame; and each item's reads (per day and per target)."""

import datetime as dt
from functools import wraps
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST

from m4s.content import rights, selectors, services, stats
from m4s.content.choices import LANGUAGES, ActionKind, Level, Module, Status, TargetKind
from m4s.content.models import ContentItem, KnowledgeCategory, MagazineIssue
from m4s.core import charts
from m4s.core.errors import DomainError
from m4s.core.i18n import language_codes

PAGE_SIZE = 50
TEXT_TARGETS = (TargetKind.CITY, TargetKind.BRAND, TargetKind.MODEL, TargetKind.TIER)
STATUS_PILL = {
    Status.DRAFT: "",
    Status.REVIEW: "warn",
    Status.PUBLISHED: "ok",
    Status.EXPIRED: "off",
    Status.REJECTED: "off",
}


def content_page(view):
    """Signed-in staff who publish or approve content (else 403)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        publisher = rights.publisher_for(request.user)
        if publisher is None:
            raise PermissionDenied
        request.publisher = publisher
        return view(request, *args, **kwargs)

    return wrapper


def _item(request, item_id: int) -> ContentItem:
    item = rights.console_items(request.user).filter(pk=item_id).first()
    if item is None:
        raise Http404
    return item


def _ctx(request, **extra) -> dict[str, Any]:
    user = request.user
    return {
        "nav": "content",
        "publisher": request.publisher,
        "level_label": Level(request.publisher.level).label,
        "review_count": _review_queue(user).count() if _approver(user) else 0,
        "is_approver": _approver(user),
        **extra,
    }


def _approver(user) -> bool:
    return any(
        user.has_perm_m4s(p)
        for p in ("approve_content", "manage_platform", "publish_local_content")
    )


def _review_queue(user):
    return rights.console_items(user).filter(status=Status.REVIEW)


def _decorate(items, language: str) -> list[ContentItem]:
    out = list(items)
    for item in out:
        text = item.translation(language)
        item.title_shown = text.title if text else f"#{item.pk}"
        item.pill = STATUS_PILL.get(item.status, "")
        item.scheduled = bool(
            item.status == Status.PUBLISHED and item.publish_at and item.publish_at > timezone.now()
        )
    return out


def _language() -> str:
    from m4s.content.presenting import reader_language

    return reader_language()


# --- the list ------------------------------------------------------------------------------------
@content_page
def items(request):
    status = request.GET.get("status", "")
    module = request.GET.get("module", "")
    qs = rights.console_items(request.user).select_related("store").prefetch_related("translations")
    if status in Status.values:
        qs = qs.filter(status=status)
    if module in Module.values:
        qs = qs.filter(module=module)
    qs = qs.order_by("-updated_at", "-id")
    total = qs.count()
    shown = _decorate(qs[:PAGE_SIZE], _language())
    counts = dict(rights.console_items(request.user).values_list("status").annotate(n=Count("id")))
    return render(
        request,
        "content/console/items.html",
        _ctx(
            request,
            tab="items",
            items=shown,
            total=total,
            status=status,
            module=module,
            statuses=[(v, label, counts.get(v, 0)) for v, label in Status.choices],
            modules=[(m, Module(m).label) for m in rights.allowed_modules(request.publisher.level)],
        ),
    )


@content_page
def review(request):
    if not _approver(request.user):
        raise PermissionDenied
    qs = (
        _review_queue(request.user)
        .select_related("store")
        .prefetch_related("translations")
        .order_by("updated_at")
    )
    return render(
        request,
        "content/console/review.html",
        _ctx(request, tab="review", items=_decorate(qs[:PAGE_SIZE], _language())),
    )


# --- the editor -------------------------------------------------------------------------------------
def _moment(raw: str, label: str) -> dt.datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    value = parse_datetime(raw.replace("T", " "))
    if value is None:
        raise DomainError("invalid_date", _("%(field)s: enter a date and time.") % {"field": label})
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _int_or_none(raw: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise DomainError("invalid_number", _("Not a number."))
    return int(raw)


def _places(raw: str) -> list[dict[str, Any]]:
    """One place a line: name | address | latitude | longitude."""
    out = []
    for line in (raw or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + ["", "", ""]
        out.append({"name": parts[0], "address": parts[1], "lat": parts[2], "lon": parts[3]})
    return out


def _places_text(places) -> str:
    lines = []
    for p in places or []:
        lat = "" if p.get("lat") is None else p["lat"]
        lon = "" if p.get("lon") is None else p["lon"]
        lines.append(f"{p.get('name', '')} | {p.get('address', '')} | {lat} | {lon}".rstrip(" |"))
    return "\n".join(lines)


def _parse(request) -> dict[str, Any]:
    post = request.POST
    translations = {
        lang: {
            "title": post.get(f"title_{lang}", ""),
            "summary": post.get(f"summary_{lang}", ""),
            "body_html": post.get(f"body_{lang}", ""),
        }
        for lang in LANGUAGES
    }
    targets: dict[str, list[str]] = {}
    for kind in TEXT_TARGETS:
        targets[kind] = [v for v in post.get(f"target_{kind}", "").split(",") if v.strip()]
    targets[TargetKind.GROUP] = post.getlist("target_group")
    targets[TargetKind.STORE] = post.getlist("target_store")
    bound = post.get("bound_car", "")
    fields: dict[str, Any] = {
        "source_language": post.get("source_language") or "zh-hans",
        "pinned": post.get("pinned") == "on",
        "publish_at": _moment(post.get("publish_at", ""), _("Publish at")),
        "expire_at": _moment(post.get("expire_at", ""), _("Expire at")),
        "action_kind": post.get("action_kind") or ActionKind.NONE,
        "action_target": post.get("action_target", ""),
        "tags": post.get("tags", ""),
        "places": _places(post.get("places", "")),
        "category_id": _int_or_none(post.get("category", "")),
        "issue_id": _int_or_none(post.get("issue", "")),
    }
    if request.publisher.level == Level.DEALER and "store" in post:
        fields["store_id"] = _int_or_none(post.get("store", ""))
    return {
        "module": post.get("module", ""),
        "translations": translations,
        "targets": targets,
        "bound_car": {"yes": True, "no": False}.get(bound),
        "fields": fields,
    }


def _save_pictures(request, item: ContentItem) -> None:
    if request.FILES.get("cover"):
        services.set_cover(request.user, item, request.FILES["cover"])
    elif request.POST.get("remove_cover") == "on":
        services.set_cover(request.user, item, None)
    for upload in request.FILES.getlist("gallery"):
        services.add_image(request.user, item, upload, request.POST.get("caption", ""))


def _reach(publisher: rights.Publisher):
    """Groups and stores this publisher may choose as targets."""
    from m4s.org.models import DealerGroup, Store

    if publisher.level == Level.HEADQUARTERS:
        return list(DealerGroup.objects.order_by("name")), []
    if publisher.level == Level.LOCAL_ORG:
        groups = list(
            DealerGroup.objects.filter(local_org_id=publisher.local_org_id).order_by("name")
        )
        stores = list(
            Store.objects.unscoped()
            .filter(dealer_group__local_org_id=publisher.local_org_id)
            .order_by("name")
        )
        return groups, stores
    stores_qs = Store.objects.for_group(publisher.dealer_group_id).order_by("name")
    if publisher.store_ids is not None:
        stores_qs = stores_qs.filter(pk__in=publisher.store_ids)
    return [], list(stores_qs)


def _form_state(item: ContentItem | None, parsed: dict | None = None) -> dict[str, Any]:
    """What the editor shows: the posted values after an error, else the item's."""
    if parsed is not None:
        f = parsed["fields"]
        return {
            "module": parsed["module"],
            "texts": parsed["translations"],
            "targets": {k: list(v) for k, v in parsed["targets"].items()},
            "bound_car": {True: "yes", False: "no"}.get(parsed["bound_car"], ""),
            **{k: f.get(k) for k in f},
            "places_text": _places_text([p for p in f.get("places") or [] if isinstance(p, dict)]),
            "tags_text": f.get("tags") or "",
        }
    if item is None:
        return {
            "module": "",
            "texts": {lang: {"title": "", "summary": "", "body_html": ""} for lang in LANGUAGES},
            "targets": {},
            "bound_car": "",
            "source_language": "zh-hans",
            "pinned": False,
            "action_kind": ActionKind.NONE,
            "action_target": "",
            "tags_text": "",
            "places_text": "",
        }
    texts = {lang: {"title": "", "summary": "", "body_html": ""} for lang in LANGUAGES}
    for t in item.translations.all():
        texts[t.language] = {"title": t.title, "summary": t.summary, "body_html": t.body_html}
    targets: dict[str, list[str]] = {}
    for kind, value in item.targets.values_list("kind", "value"):
        targets.setdefault(kind, []).append(value)
    return {
        "module": item.module,
        "texts": texts,
        "targets": targets,
        "bound_car": {True: "yes", False: "no"}.get(item.target_bound_car, ""),
        "source_language": item.source_language,
        "pinned": item.pinned,
        "publish_at": item.publish_at,
        "expire_at": item.expire_at,
        "action_kind": item.action_kind,
        "action_target": item.action_target,
        "tags_text": ", ".join(item.tags or []),
        "places_text": _places_text(item.places),
        "store_id": item.store_id,
        "category_id": item.category_id,
        "issue_id": item.issue_id,
    }


def _local_input(value) -> str:
    if not isinstance(value, dt.datetime):
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _editor(request, item: ContentItem | None, parsed: dict | None = None, error: str = ""):
    publisher = request.publisher
    state = _form_state(item, parsed)
    groups, stores = _reach(publisher)
    names = dict(settings.LANGUAGES)
    targets = state["targets"]
    return render(
        request,
        "content/console/editor.html",
        _ctx(
            request,
            tab="items",
            item=item,
            state=state,
            error=error,
            publish_at=_local_input(state.get("publish_at")),
            expire_at=_local_input(state.get("expire_at")),
            modules=[(m, Module(m).label) for m in rights.allowed_modules(publisher.level)],
            languages=[
                (code, names.get(code, code), state["texts"].get(code, {})) for code in LANGUAGES
            ],
            language_choices=[(c, names.get(c, c)) for c in language_codes()],
            actions=ActionKind.choices,
            text_targets=[
                (kind, TargetKind(kind).label, ", ".join(targets.get(kind, [])))
                for kind in TEXT_TARGETS
            ],
            groups=[(g, str(g.pk) in targets.get(TargetKind.GROUP, [])) for g in groups],
            stores=[(s, str(s.pk) in targets.get(TargetKind.STORE, [])) for s in stores],
            store_choices=stores if publisher.level == Level.DEALER else [],
            categories=list(KnowledgeCategory.objects.all()),
            issues=list(MagazineIssue.objects.all()[:50]),
            images=list(item.images.all()) if item else [],
            can_approve=bool(item and rights.can_approve(request.user, item)),
            can_edit=bool(
                item is None or rights.can_publish(request.user, item.level, item.module)
            ),
            city=publisher.city,
            pill=STATUS_PILL.get(item.status, "") if item else "",
        ),
        status=400 if error else 200,
    )


@content_page
@require_http_methods(["GET", "POST"])
def new(request):
    if request.method == "GET":
        return _editor(request, None)
    parsed: dict | None = None
    try:
        parsed = _parse(request)
        with transaction.atomic():
            item = services.create_item(
                request.user,
                module=parsed["module"],
                translations=parsed["translations"],
                targets=parsed["targets"],
                bound_car=parsed["bound_car"],
                **parsed["fields"],
            )
            _save_pictures(request, item)
    except DomainError as exc:
        return _editor(request, None, parsed, exc.message)
    messages.success(request, _("Draft saved."))
    return redirect("console-content-item", item_id=item.pk)


@content_page
@require_http_methods(["GET", "POST"])
def edit(request, item_id: int):
    item = _item(request, item_id)
    if request.method == "GET":
        return _editor(request, item)
    parsed: dict | None = None
    try:
        parsed = _parse(request)
        with transaction.atomic():
            fields = dict(parsed["fields"])
            if parsed["module"]:
                fields["module"] = parsed["module"]
            services.update_item(
                request.user,
                item,
                translations=parsed["translations"],
                targets=parsed["targets"],
                bound_car=parsed["bound_car"],
                **fields,
            )
            _save_pictures(request, item)
    except DomainError as exc:
        item.refresh_from_db()
        return _editor(request, item, parsed, exc.message)
    messages.success(request, _("Saved as a draft. Send it for review to publish it."))
    return redirect("console-content-item", item_id=item.pk)


@content_page
@require_POST
def remove_image(request, item_id: int, image_id: int):
    item = _item(request, item_id)
    try:
        services.remove_image(request.user, item, image_id)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, exc.message)
    return redirect("console-content-item", item_id=item.pk)


ACTIONS = {
    "submit": (services.submit, gettext_lazy("Sent for review.")),
    "approve": (services.approve, gettext_lazy("Approved: published at its publication time.")),
    "expire": (services.expire, gettext_lazy("Taken down.")),
}


@content_page
@require_POST
def act(request, item_id: int, action: str):
    item = _item(request, item_id)
    try:
        if action == "reject":
            services.reject(request.user, item, request.POST.get("reason", ""))
            messages.success(request, _("Rejected: the editor sees your reason."))
        elif action in ACTIONS:
            call, done = ACTIONS[action]
            call(request.user, item)
            messages.success(request, str(done))
        else:
            raise Http404
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, exc.message)
    back = request.POST.get("next", "")
    if back == "review":
        return redirect("console-content-review")
    return redirect("console-content-item", item_id=item.pk)


# --- versions ---------------------------------------------------------------------------------------
@content_page
def versions(request, item_id: int):
    item = _item(request, item_id)
    rows = []
    for v in item.versions.select_related("created_by"):
        texts = v.snapshot.get("translations") or {}
        title = (texts.get(item.source_language) or next(iter(texts.values()), {})).get("title", "")
        rows.append({"v": v, "title": title, "languages": sorted(texts)})
    return render(
        request,
        "content/console/versions.html",
        _ctx(request, tab="items", item=item, rows=rows, title=_title(item)),
    )


@content_page
@require_POST
def restore(request, item_id: int, number: int):
    item = _item(request, item_id)
    try:
        services.restore_version(request.user, item, number)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, exc.message)
        return redirect("console-content-versions", item_id=item.pk)
    messages.success(request, _("Version %(n)d restored as a new draft.") % {"n": number})
    return redirect("console-content-item", item_id=item.pk)


def _title(item: ContentItem) -> str:
    text = item.translation(_language())
    return text.title if text else f"#{item.pk}"


# --- preview ----------------------------------------------------------------------------------------
@content_page
def preview(request, item_id: int):
    item = _item(request, item_id)
    lang = request.GET.get("lang", "")
    if lang not in LANGUAGES:
        lang = _language()
    return render(
        request,
        "content/console/preview.html",
        _ctx(
            request,
            tab="items",
            item=item,
            title=_title(item),
            lang=lang,
            languages=[(c, n) for c, n in settings.LANGUAGES],
            frame_url=reverse("console-content-preview-frame", args=[item.pk]) + f"?lang={lang}",
        ),
    )


@csp_replace({"frame-ancestors": ["'self'"]})
@xframe_options_sameorigin
@content_page
def preview_frame(request, item_id: int):
    """The item as an owner reads it (the owner app's template when it offers a preview)."""
    from django.utils import translation

    item = _item(request, item_id)
    lang = request.GET.get("lang", "")
    if lang not in LANGUAGES:
        lang = _language()
    with translation.override(lang):
        try:
            from . import owner as owner_views  # the owner pages, when they exist
        except ImportError:
            owner_views = None  # type: ignore[assignment]
        render_preview = getattr(owner_views, "render_preview", None)
        if render_preview is not None:
            response: HttpResponse = render_preview(request, item)
            if hasattr(response, "render"):
                response.render()
            return response
        from m4s.content.presenting import item_detail

        return render(
            request,
            "content/console/preview_frame.html",
            {"item": item, "detail": item_detail(item, lang), "lang": lang},
        )


# --- reads ------------------------------------------------------------------------------------------
@content_page
def item_stats(request, item_id: int):
    item = _item(request, item_id)
    figures = selectors.item_stats(item)
    days = stats.readers_per_day(item)
    chart = charts.bar_chart(
        [
            charts.Series(_("New readers"), [d.readers for d in days], key="readers"),
            charts.Series(_("Their reads"), [d.views for d in days], colour="#e67e22", key="views"),
        ],
        labels=[d.day.strftime("%m-%d") if i % 5 == 0 else "" for i, d in enumerate(days)],
        width=860,
        height=260,
    )
    labels = dict(TargetKind.choices)
    rows = [
        {
            "label": t.get("label")
            or f"{labels.get(t.get('kind', ''), t.get('kind', ''))}: {t.get('value', '')}",
            "readers": t.get("readers", 0),
            "views": t.get("views", 0),
        }
        for t in figures.get("per_target", [])
    ]
    return render(
        request,
        "content/console/stats.html",
        _ctx(
            request,
            tab="items",
            item=item,
            title=_title(item),
            figures=figures,
            chart=chart,
            rows=rows,
            days=len(days),
        ),
    )

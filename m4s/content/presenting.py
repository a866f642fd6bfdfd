"""How an item reads to an owner, shared by the owner pages and the owner API: its texts in the
reader's language, its action's address in the app, its places with a map link."""

from urllib.parse import quote, urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import translation

from m4s.core.i18n import translated
from m4s.core.uploads import media_url

from .choices import ActionKind
from .models import ContentItem

# Where each action opens in the owner app: (url name, takes the target as its argument).
_ACTION_PAGES: dict[str, tuple[tuple[str, bool], ...]] = {
    ActionKind.BOOK: (("app-service-book", False),),
    ActionKind.TEST_DRIVE: (("app-sales-test-drive", False), ("app-sales", False)),
    ActionKind.EVENT: (("app-event", True), ("app-events", False)),
    ActionKind.REWARD: (("app-loyalty-rewards", False),),
}


def reader_language() -> str:
    code = (translation.get_language() or "zh-hans").lower()
    if code.startswith("zh"):
        return "zh-hans"
    return "ko" if code.startswith("ko") else "en"


def action_url(item: ContentItem) -> str | None:
    """The app page the item's button opens (None: no button)."""
    if item.action_kind == ActionKind.LINK:
        return item.action_target or None
    for name, with_target in _ACTION_PAGES.get(item.action_kind, ()):
        try:
            if with_target:
                if not item.action_target.isdigit():
                    continue
                return reverse(name, args=[int(item.action_target)])
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def map_url(place: dict) -> str:
    """A map link for a place (AMap's URI API: opens the AMap app or its web map)."""
    name = str(place.get("name") or "")
    lat, lon = place.get("lat"), place.get("lon")
    if lat is not None and lon is not None:
        return "https://uri.amap.com/marker?" + urlencode(
            {"position": f"{lon},{lat}", "name": name, "coordinate": "gaode", "callnative": 1}
        )
    keyword = str(place.get("address") or "") or name
    return f"https://uri.amap.com/search?keyword={quote(keyword)}"


def cover_url(item: ContentItem) -> str | None:
    return media_url(item, "cover") if item.cover else None


def places_of(item: ContentItem) -> list[dict]:
    return [
        {
            "name": str(p.get("name") or ""),
            "address": str(p.get("address") or ""),
            "lat": p.get("lat"),
            "lon": p.get("lon"),
            "map_url": map_url(p),
        }
        for p in (item.places or [])
        if isinstance(p, dict)
    ]


def feed_entry(item: ContentItem) -> dict:
    """A feed card: `item` comes from `selectors.feed_for_owner` (t_title / t_summary)."""
    return {
        "id": item.pk,
        "module": item.module,
        "level": item.level,
        "title": getattr(item, "t_title", None) or "",
        "summary": getattr(item, "t_summary", None) or "",
        "cover_url": cover_url(item),
        "pinned": item.pinned,
        "publish_at": item.publish_at,
        "tags": [str(t) for t in (item.tags or [])],
        "action_kind": item.action_kind,
    }


def item_detail(item: ContentItem, language: str) -> dict:
    """The whole item in `language` (else its source language)."""
    text = item.translation(language)
    return {
        **feed_entry(item),
        "title": text.title if text else "",
        "summary": text.summary if text else "",
        "language": text.language if text else item.source_language,
        "body_html": text.body_html if text else "",
        "images": [
            {"url": media_url(img, "image"), "caption": img.caption} for img in item.images.all()
        ],
        "action": {
            "kind": item.action_kind,
            "target": item.action_target,
            "url": action_url(item),
        },
        "places": places_of(item),
        "category": (
            {"id": item.category.pk, "name": translated(item.category, "name")}
            if item.category
            else None
        ),
        "issue": (
            {"id": item.issue.pk, "name": translated(item.issue, "title")} if item.issue else None
        ),
    }

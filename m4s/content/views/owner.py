"""The owner app's content pages at /app/content/: a module's feed (cards with cover, title,
summary, pinned badge), one item (sanitised text, gallery, the M4S action, places with a map
link; the read is counted), the knowledge base (categories + search), magazines (issues →
articles), search, and the published price list of the owner's store.

Thin views over m4s.content.selectors / search / prices (the same ones the owner API uses). An
item that does not reach the owner, another group's store or an unknown module is a 404 page,
never a 500."""

from functools import wraps

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from m4s.content import prices, reading, search, selectors
from m4s.content.choices import Level, Module
from m4s.content.presenting import action_url, cover_url, places_of, reader_language
from m4s.core.errors import DomainError
from m4s.core.i18n import translated
from m4s.core.uploads import media_url
from m4s.customers.selectors import vehicles_of_owner
from m4s.owners.decorators import owner_required

PAGE = 20
MAX_PAGE = 50
LOCAL_LIFE = (
    Module.CITY_FOOD,
    Module.NIGHTLIFE,
    Module.CITY_TOURS,
    Module.FASHION,
    Module.TRAVEL_CHINA,
    Module.TRAVEL_INFO,
    Module.VIOLATION_INFO,
    Module.VIOLATION_AREAS,
)
# The icon of each module's cards without a cover (Lucide names, m4s/web/icons.py).
MODULE_ICONS = {
    Module.NEW_CARS: "car",
    Module.SALES_EVENTS: "megaphone",
    Module.SERVICE_NEWS: "wrench",
    Module.VIOLATION_INFO: "triangle-alert",
    Module.TRAVEL_INFO: "map",
    Module.VIOLATION_AREAS: "map-pin",
    Module.PRICES: "receipt",
    Module.INSURANCE: "shield-check",
    Module.MAGAZINES: "newspaper",
    Module.KNOWLEDGE: "notebook",
    Module.GUIDE: "book-open",
    Module.CITY_FOOD: "coffee",
    Module.NIGHTLIFE: "sparkles",
    Module.CITY_TOURS: "compass",
    Module.FASHION: "star",
    Module.TRAVEL_CHINA: "globe",
}
# Modules with their own page (the tile opens it, not the plain feed).
OWN_PAGES = {
    Module.KNOWLEDGE: "app-content-knowledge",
    Module.MAGAZINES: "app-content-magazines",
    Module.PRICES: "app-content-prices",
}


def module_url_name(module: str) -> str:
    return OWN_PAGES.get(module, "app-content-" + module.replace("_", "-"))


def _error_page(request, exc: DomainError):
    return render(
        request,
        "content/app/error.html",
        {"error": exc.message, "back": reverse("app-home")},
        status=exc.status,
    )


def domain_errors(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_page(request, exc)

    return wrapper


def _page(request) -> int:
    raw = (request.GET.get("page") or "1").strip()[:6]
    return min(int(raw), MAX_PAGE) if _whole(raw) and int(raw) > 0 else 1


def _id(request, name: str) -> int | None:
    raw = (request.GET.get(name) or "").strip()
    return int(raw) if _whole(raw) and len(raw) <= 18 and int(raw) > 0 else None


def _whole(raw: str) -> bool:
    return bool(raw) and raw.isascii() and raw.isdecimal()


def _cards(items) -> list:
    for i in items:
        i.cover_src = cover_url(i)
        i.icon = MODULE_ICONS.get(i.module, "newspaper")
        i.module_label = Module(i.module).label
    return items


def _city(profile) -> str:
    return ", ".join(sorted(profile.cities))


# --- a module's feed -----------------------------------------------------------------------------
@owner_required
@require_GET
@domain_errors
def module_feed(request, module: str):
    if module not in Module.values:
        raise Http404(_("No such module."))
    owner = request.owner
    profile = selectors.owner_profile(owner)
    page = _page(request)
    items = selectors.feed_for_owner(
        owner,
        module=module,
        language=reader_language(),
        limit=PAGE + 1,
        offset=(page - 1) * PAGE,
        profile=profile,
    )
    return render(
        request,
        "content/app/module.html",
        {
            "module": module,
            "module_label": Module(module).label,
            "icon": MODULE_ICONS.get(module, "newspaper"),
            "items": _cards(items[:PAGE]),
            "page": page,
            "more": len(items) > PAGE,
            "city": _city(profile) if module in LOCAL_LIFE else "",
            "here": reverse(module_url_name(module)),
        },
    )


# --- one item ------------------------------------------------------------------------------------
@owner_required
@require_GET
@domain_errors
def item(request, item_id: int):
    owner = request.owner
    found = selectors.item_for_owner(owner, item_id)
    reading.record_view(owner, found)
    return render(request, "content/app/item.html", _item_context(found))


def _item_context(found) -> dict:
    text = found.translation(reader_language())
    back = reverse(module_url_name(found.module))
    if found.module == Module.MAGAZINES and found.issue_id:
        back = reverse("app-content-magazine-issue", args=[found.issue_id])
    elif found.module == Module.KNOWLEDGE and found.category_id:
        back = f"{reverse('app-content-knowledge')}?category={found.category_id}"
    publisher = ""
    if found.level == Level.LOCAL_ORG and found.local_org:
        publisher = found.local_org.name
    elif found.level == Level.DEALER:
        publisher = (found.store.display_title if found.store else "") or (
            found.dealer_group.name if found.dealer_group else ""
        )
    return {
        "item": found,
        "text": text,
        "cover": cover_url(found),
        "images": [{"url": _media(img), "caption": img.caption} for img in found.images.all()],
        "action_url": action_url(found),
        "action_label": found.get_action_kind_display(),
        "places": places_of(found),
        "module_label": Module(found.module).label,
        "category": translated(found.category, "name") if found.category else "",
        "issue": translated(found.issue, "title") if found.issue else "",
        "publisher": publisher,
        "back": back,
    }


def render_preview(request, item):
    """The item's owner page for the console's phone preview (any status; no read counted).
    The caller (the console) has checked that the staff member may see the item."""
    return render(request, "content/app/item.html", {**_item_context(item), "preview": True})


def _media(img) -> str:
    return media_url(img, "image")


# --- knowledge base ------------------------------------------------------------------------------
@owner_required
@require_GET
@domain_errors
def knowledge(request):
    owner = request.owner
    profile = selectors.owner_profile(owner)
    category_id = _id(request, "category")
    category = selectors.get_category(category_id) if category_id else None
    q = (request.GET.get("q") or "").strip()[: search.MAX_QUERY]
    if q:
        items = search.search(owner, q, reader_language(), module=Module.KNOWLEDGE)
    else:
        items = selectors.feed_for_owner(
            owner,
            module=Module.KNOWLEDGE,
            category_id=category_id,
            language=reader_language(),
            limit=50,
            profile=profile,
        )
    categories = selectors.knowledge_categories(owner, profile=profile)
    for c in categories:
        c.name = translated(c.category, "name")
    return render(
        request,
        "content/app/knowledge.html",
        {
            "categories": categories,
            "category": category,
            "category_name": translated(category, "name") if category else "",
            "items": _cards(items),
            "q": q,
        },
    )


# --- magazines -----------------------------------------------------------------------------------
@owner_required
@require_GET
@domain_errors
def magazines(request):
    issues = selectors.magazine_issues(request.owner, language=reader_language())
    for entry in issues:
        entry.title = translated(entry.issue, "title") if entry.issue else _("Articles")
        entry.cover_src = _issue_cover(entry.issue)
        _cards(entry.articles)
    return render(request, "content/app/magazines.html", {"issues": issues})


def _issue_cover(issue) -> str:
    if issue is None or not issue.cover:
        return ""
    return media_url(issue, "cover")


@owner_required
@require_GET
@domain_errors
def magazine_issue(request, issue_id: int):
    owner = request.owner
    issue = selectors.get_issue(issue_id)
    articles = selectors.feed_for_owner(
        owner, module=Module.MAGAZINES, issue_id=issue.pk, language=reader_language(), limit=100
    )
    if not articles:
        raise Http404(_("No such issue."))
    return render(
        request,
        "content/app/issue.html",
        {
            "issue": issue,
            "title": translated(issue, "title"),
            "cover": _issue_cover(issue),
            "items": _cards(articles),
        },
    )


# --- search --------------------------------------------------------------------------------------
@owner_required
@require_GET
@domain_errors
def search_page(request):
    q = (request.GET.get("q") or "").strip()[: search.MAX_QUERY]
    items = search.search(request.owner, q, reader_language()) if q else []
    return render(request, "content/app/search.html", {"q": q, "items": _cards(items)})


# --- prices --------------------------------------------------------------------------------------
@owner_required
@require_GET
@domain_errors
def prices_page(request):
    owner = request.owner
    stores = prices.stores_for_owner(owner)
    store_id = _id(request, "store")
    store = prices.store_for_owner(owner, store_id) if store_id else (stores[0] if stores else None)
    my_cars = sorted({(v.brand, v.model) for v in vehicles_of_owner(owner) if v.brand})
    models = sorted({m for _b, m in my_cars if m})
    model = (request.GET.get("model") or "").strip()[:60]
    if model == "all":
        book = prices.price_book(store) if store else None
    elif model:
        book = prices.price_book(store, model=model) if store else None
    else:
        book = prices.price_book(store, cars=my_cars or None) if store else None
    news = selectors.feed_for_owner(
        owner, module=Module.PRICES, language=reader_language(), limit=5
    )
    return render(
        request,
        "content/app/prices.html",
        {
            "stores": stores,
            "store": store,
            "book": book,
            "model": model,
            "models": models,
            "news": _cards(news),
        },
    )

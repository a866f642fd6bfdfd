"""Owners' content API (registered on the routers of `m4s.content.api`): the feed, one item
(counted as a read), search and the published price list of a store. Transport only."""

from ninja import Query

from m4s.core.api import errors
from m4s.core.auth import owner_auth

from . import prices, reading, search, selectors
from .api import owner_router, public_router
from .presenting import feed_entry, item_detail, reader_language
from .reader_schemas import (
    ContentFeedItemOut,
    ContentFeedQuery,
    ContentItemOut,
    ContentPricesOut,
    ContentPricesQuery,
    ContentSearchQuery,
)


def _row(r) -> dict:
    return {
        "kind": r.kind,
        "id": r.id,
        "code": r.code,
        "name": r.name,
        "price": r.price,
        "net": r.net,
        "unit": r.unit,
        "detail": r.detail,
    }


@owner_router.get("/feed", response=list[ContentFeedItemOut])
def my_feed(request, q: Query[ContentFeedQuery]):
    """The content that reaches the owner (their city, groups, store, cars and tier), pinned
    first, then newest; one module with `module`."""
    items = selectors.feed_for_owner(
        request.owner,
        module=q.module.value if q.module else None,
        category_id=q.category,
        issue_id=q.issue,
        language=reader_language(),
        limit=q.limit,
        offset=q.offset,
    )
    return [feed_entry(i) for i in items]


@public_router.get(
    "/content/search", response=list[ContentFeedItemOut], auth=owner_auth, openapi_extra=errors(404)
)
def search_content(request, q: Query[ContentSearchQuery]):
    """Search what the owner may read, in Chinese, English or Korean; best match first."""
    found = search.search(
        request.owner,
        q.q,
        reader_language(),
        module=q.module.value if q.module else None,
        limit=q.limit,
    )
    return [feed_entry(i) for i in found]


@public_router.get(
    "/content/{int:item_id}", response=ContentItemOut, auth=owner_auth, openapi_extra=errors(404)
)
def content_item(request, item_id: int):
    """One item in the reader's language (else its source language); counted as a read.
    An item that does not reach the owner is not found."""
    item = selectors.item_for_owner(request.owner, item_id)
    reading.record_view(request.owner, item)
    return item_detail(item, reader_language())


@public_router.get(
    "/stores/{int:store_id}/prices",
    response=ContentPricesOut,
    auth=owner_auth,
    openapi_extra=errors(404),
)
def store_prices(request, store_id: int, q: Query[ContentPricesQuery]):
    """The store's published price list as settlement charges it: packages, operations, parts
    and accessories with their prices (with tax and net), and maintenance prices by car model.
    A store of a group the owner is not a customer of is not found."""
    store = prices.store_for_owner(request.owner, store_id)
    book = prices.price_book(store, model=q.model.strip())
    return {
        "store_id": store.pk,
        "store": store.display_title,
        "on": book.on,
        "tax_rate": book.tax_rate,
        "packages": [_row(r) for r in book.packages],
        "operations": [_row(r) for r in book.operations],
        "parts": [_row(r) for r in book.parts],
        "accessories": [_row(r) for r in book.accessories],
        "by_model": [
            {"brand": m.brand, "model": m.model, "rows": [_row(r) for r in m.rows]}
            for m in book.by_model
        ],
    }

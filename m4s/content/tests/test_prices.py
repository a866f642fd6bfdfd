"""Prices: the owner reads the published list settlement enforces (the service area's
`published_prices`/`quote_package`), with tax; unpublished or future lists are not shown; a store
of another group is not found."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from m4s.content import prices
from m4s.core.errors import NotFound
from m4s.core.tests.factories import owner_token
from m4s.demo.starters import service as service_starter
from m4s.service import selectors as service
from m4s.service.models import Part, Price, PriceList

from .reading_helpers import customer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    w = world
    w.catalogue = service_starter.install_catalogue(w.group_a)
    w.catalogue_b = service_starter.install_catalogue(w.group_b)
    customer_of(w.owner, w.store_a)
    w.mats = Part.objects.create(
        dealer_group=w.group_a, part_number="ACC-MAT", name="Floor mats", kind="accessory"
    )
    Price.objects.create(
        dealer_group=w.group_a, price_list=w.catalogue.price_list, part=w.mats, amount="300.00"
    )
    return w


def test_price_book_is_the_settlement_list(shop):
    book = prices.price_book(shop.store_a)
    s10k = shop.catalogue.packages["S10K"]
    quote = service.quote_package(s10k, store=shop.store_a)
    row = next(r for r in book.packages if r.code == "S10K")
    assert row.price == quote.total_incl_tax and row.net == quote.total
    op = shop.catalogue.operations["DIAG"]
    published = service.published_prices(shop.group_a.pk, timezone.localdate(), operations=[op.pk])
    diag = next(r for r in book.operations if r.code == "DIAG")
    assert diag.net == published[("op", op.pk)]
    assert diag.price == service.with_tax(diag.net, book.tax_rate)
    assert [r.code for r in book.accessories] == ["ACC-MAT"]
    assert book.parts and book.by_model


def test_a_newer_published_list_wins_and_drafts_are_not_shown(shop):
    op = shop.catalogue.operations["DIAG"]
    today = timezone.localdate()
    draft = PriceList.objects.create(dealer_group=shop.group_a, name="draft", effective_from=today)
    Price.objects.create(dealer_group=shop.group_a, price_list=draft, operation=op, amount="1.00")
    future = PriceList.objects.create(
        dealer_group=shop.group_a,
        name="next year",
        effective_from=today + dt.timedelta(days=30),
        published_at=timezone.now(),
    )
    Price.objects.create(dealer_group=shop.group_a, price_list=future, operation=op, amount="2.00")
    diag = next(r for r in prices.price_book(shop.store_a).operations if r.code == "DIAG")
    assert diag.net not in (Decimal("1.00"), Decimal("2.00"))
    newer = PriceList.objects.create(
        dealer_group=shop.group_a,
        name="today",
        effective_from=today,
        published_at=timezone.now(),
    )
    Price.objects.create(dealer_group=shop.group_a, price_list=newer, operation=op, amount="99.00")
    diag = next(r for r in prices.price_book(shop.store_a).operations if r.code == "DIAG")
    assert diag.net == Decimal("99.00")


def test_unpriced_items_are_not_listed(shop):
    Part.objects.create(dealer_group=shop.group_a, part_number="NO-PRICE", name="Secret")
    book = prices.price_book(shop.store_a)
    assert "NO-PRICE" not in {r.code for r in book.parts + book.accessories}


def test_stores_of_other_groups_are_not_found(shop):
    assert prices.store_for_owner(shop.owner, shop.store_a.pk) == shop.store_a
    with pytest.raises(NotFound):
        prices.store_for_owner(shop.owner, shop.store_b.pk)


def test_prices_api(shop, api_client):
    token = owner_token(shop.owner)
    r = api_client.get(f"/api/v1/stores/{shop.store_a.pk}/prices", token=token)
    assert r.status_code == 200, r.content
    body = r.json_body
    assert body["store_id"] == shop.store_a.pk
    codes = {p["code"] for p in body["packages"]}
    assert "S10K" in codes
    assert body["accessories"][0]["code"] == "ACC-MAT"
    assert Decimal(body["accessories"][0]["net"]) == Decimal("300.00")
    assert (
        api_client.get(f"/api/v1/stores/{shop.store_b.pk}/prices", token=token).status_code == 404
    )
    assert api_client.get(f"/api/v1/stores/{shop.store_a.pk}/prices").status_code == 401
    only = api_client.get(
        f"/api/v1/stores/{shop.store_a.pk}/prices", token=token, params={"model": "Camry"}
    )
    assert all(m["model"] in ("", "Camry") for m in only.json_body["by_model"])

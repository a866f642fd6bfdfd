"""The catalogue and finance API: an owner reads the published catalogue of their groups (never
another group's, never an unpublished model); anybody reads a group's catalogue by its slug;
the quote endpoint computes a product's schedule for a trim or a price and refuses what does
not fit with a code."""

import pytest
from django.test import Client

from m4s.core.tests.factories import owner_token

pytestmark = pytest.mark.django_db


def test_owner_sees_the_published_catalogue_of_their_group_only(cat, api_client):
    w = cat
    tok = owner_token(w.owner)
    r = api_client.get("/api/v1/catalogue/models", tok)
    assert r.status_code == 200
    ids = [m["id"] for m in r.json_body]
    assert ids == [w.a.model.pk]
    m = r.json_body[0]
    assert m["energy_type"] == "bev" and m["from_price"] == "189900.00"
    assert [t["name"] for t in m["trims"]] == ["Standard", "Long range"]
    assert m["trims"][0]["msrp"] == "199900.00" and m["trims"][0]["discount"] == "10000.00"
    assert m["colours"][0]["hex"] == "#F4F6F8"
    assert len(m["pictures"]) == 1 and m["cover_url"]
    # the picture URL is served to anybody (a published model's marketing picture)
    assert Client().get(m["pictures"][0]["url"]).status_code == 200
    # filters
    r = api_client.get("/api/v1/catalogue/models", tok, params={"energy": "petrol"})
    assert r.json_body == []
    r = api_client.get("/api/v1/catalogue/models", tok, params={"brand": w.b.brand.pk})
    assert r.json_body == []


def test_another_groups_or_unpublished_model_is_404(cat, api_client):
    w = cat
    tok = owner_token(w.owner)
    assert api_client.get(f"/api/v1/catalogue/models/{w.a.model.pk}", tok).status_code == 200
    for pk in (w.b.model.pk, w.a.draft.pk, 10**9):
        r = api_client.get(f"/api/v1/catalogue/models/{pk}", tok)
        assert r.status_code == 404 and r.json_body["code"] == "not_found"
    # owner B sees B's catalogue and not A's
    r = api_client.get("/api/v1/catalogue/models", owner_token(w.owner_b))
    assert [m["id"] for m in r.json_body] == [w.b.model.pk]


def test_unpublished_pictures_are_not_served_to_owners_or_visitors(cat, api_client):
    w = cat
    url = w.a.draft_picture.image.url
    assert Client().get(url).status_code == 404
    staff = Client()
    staff.force_login(w.admin_a)
    assert staff.get(url).status_code == 200
    other = Client()
    other.force_login(w.admin_b)
    assert other.get(url).status_code == 404


def test_anonymous_names_a_group(cat, api_client):
    w = cat
    r = api_client.get("/api/v1/catalogue/models")
    assert r.status_code == 401
    r = api_client.get("/api/v1/catalogue/models", params={"group": w.group_b.slug})
    assert r.status_code == 200 and [m["id"] for m in r.json_body] == [w.b.model.pk]
    assert r.json_body[0]["group"] == w.group_b.slug
    r = api_client.get("/api/v1/catalogue/models", params={"group": "no-such-group"})
    assert r.status_code == 404
    r = api_client.get("/api/v1/catalogue/models", "not-a-token")
    assert r.status_code == 401


def test_translated_names(cat, api_client):
    w = cat
    r = api_client.request(
        "GET",
        "/api/v1/catalogue/models",
        None,
        owner_token(w.owner),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert r.json_body[0]["name"] == "Aurora 电动5" and r.json_body[0]["energy_label"] == "纯电动"


def test_quote_for_a_trim(cat, api_client):
    w = cat
    tok = owner_token(w.owner)
    body = {
        "product_id": w.a.product.pk,
        "trim_id": w.a.trim.pk,
        "down_payment": "57000",
        "term_months": 36,
    }
    r = api_client.post("/api/v1/finance/quote", body, tok)
    assert r.status_code == 200, r.json_body
    q = r.json_body
    assert q["price"] == "189900.00" and q["amount_financed"] == "132900.00"
    assert len(q["schedule"]) == 36 and q["fee"] == "500.00"
    assert q["schedule"][-1]["balance"] == "0.00"
    # products listed
    r = api_client.get("/api/v1/finance/products", tok)
    assert [p["id"] for p in r.json_body] == [w.a.product.pk]
    assert r.json_body[0]["terms"] == [12, 24, 36]


def test_quote_for_a_price_and_refusals(cat, api_client):
    w = cat
    tok = owner_token(w.owner)
    base = {"product_id": w.a.product.pk, "price": "100000", "down_payment": "20000"}
    r = api_client.post("/api/v1/finance/quote", {**base, "term_months": 12}, tok)
    assert r.status_code == 200 and r.json_body["amount_financed"] == "80000.00"
    cases = [
        ({"term_months": 0}, 422, "validation_error"),
        ({"term_months": 12, "down_payment": "-1"}, 422, "validation_error"),
        ({"term_months": 48}, 409, "term_not_offered"),
        ({"term_months": 12, "down_payment": "10000"}, 409, "down_payment_out_of_range"),
        ({"term_months": 12, "price": None}, 409, "price_required"),
    ]
    for extra, status, code in cases:
        r = api_client.post("/api/v1/finance/quote", {**base, **extra}, tok)
        assert (r.status_code, r.json_body["code"]) == (status, code), extra
    # another group's product or trim: 404
    r = api_client.post(
        "/api/v1/finance/quote", {**base, "product_id": w.b.product.pk, "term_months": 12}, tok
    )
    assert r.status_code == 404
    r = api_client.post(
        "/api/v1/finance/quote",
        {"product_id": w.a.product.pk, "trim_id": w.b.trim.pk, "term_months": 12},
        tok,
    )
    assert r.status_code == 404
    # the draft model's trim is not for sale
    draft_trim = w.a.draft.trims.get()
    r = api_client.post(
        "/api/v1/finance/quote",
        {"product_id": w.a.product.pk, "trim_id": draft_trim.pk, "term_months": 12},
        tok,
    )
    assert r.status_code == 404

"""The catalogue pages per role: the owner's new cars (cards, filter chips), a model's page (MSRP
struck through, buttons to the requests), the finance calculator (htmx redraw, apply link); the
console's models, model page with trims, colours, pictures (uploads refuse non-images), brands,
finance products and insurers. Another group's or an unpublished model is a 404; staff without
MANAGE_CATALOGUE get a 403."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from m4s.catalogue.models import CarModel, FinanceProduct, ModelPicture, Trim
from m4s.owners.middleware import SESSION_KEY

from .factories import png_upload

pytestmark = pytest.mark.django_db


def owner_client(owner, lang="en") -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_owner_list_and_model_page(cat):
    w = cat
    c = owner_client(w.owner)
    r = c.get(reverse("app-catalogue"))
    body = r.content.decode()
    assert r.status_code == 200
    assert f'data-testid="model-{w.a.model.pk}"' in body
    assert f'data-testid="model-{w.b.model.pk}"' not in body
    assert f'data-testid="model-{w.a.draft.pk}"' not in body
    assert "189,900" in body and reverse("app-content-new-cars") in body
    r = c.get(reverse("app-catalogue") + "?energy=petrol")
    assert f'data-testid="model-{w.a.model.pk}"' not in r.content.decode()

    r = c.get(reverse("app-catalogue-model", args=[w.a.model.pk]))
    body = r.content.decode()
    assert r.status_code == 200
    # the Standard trim is cheaper than its MSRP: struck through; Long range is not
    assert body.count('data-testid="msrp"') == 1 and "¥199,900" in body
    assert reverse("app-request-new", args=["test_drive"]) + f"?model={w.a.model.pk}" in body
    assert reverse("app-request-new", args=["new_car_enquiry"]) + f"?model={w.a.model.pk}" in body
    assert "#F4F6F8" in body
    for pk in (w.b.model.pk, w.a.draft.pk):
        assert c.get(reverse("app-catalogue-model", args=[pk])).status_code == 404


def test_owner_page_in_chinese(cat):
    w = cat
    r = owner_client(w.owner, "zh-hans").get(reverse("app-catalogue-model", args=[w.a.model.pk]))
    body = r.content.decode()
    assert "Aurora 电动5" in body and "安静又迅捷" in body and "预约试驾" in body


def test_finance_calculator(cat):
    w = cat
    c = owner_client(w.owner)
    url = reverse("app-catalogue-finance")
    r = c.get(url, {"trim": w.a.trim.pk, "down": "57000", "term": "36"})
    body = r.content.decode()
    assert r.status_code == 200 and 'data-testid="balance-chart"' in body
    assert 'data-testid="schedule"' in body
    apply = reverse("app-request-new", args=["finance"])
    assert (
        f"{apply}?product={w.a.product.pk}&amp;trim={w.a.trim.pk}&amp;down=57000.00&amp;term=36"
        in body
    )
    # the htmx redraw answers only the calculator
    r = c.get(url, {"trim": w.a.trim.pk, "term": "12"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in r.content.decode()
    assert 'data-testid="monthly"' in r.content.decode()
    # a down payment outside the product's range is shown as an error, not a quote
    r = c.get(url, {"trim": w.a.trim.pk, "down": "1000", "term": "12"})
    assert 'data-testid="quote-error"' in r.content.decode()
    # another group's trim is not offered: the page falls back to a car of mine
    r = c.get(url, {"trim": w.b.trim.pk})
    assert r.status_code == 200 and "Borealis" not in r.content.decode()


def test_staff_pages_and_roles(cat):
    w = cat
    c = staff_client(w.admin_a)
    for name, args in [
        ("console-catalogue", []),
        ("console-catalogue-new", []),
        ("console-catalogue-model", [w.a.model.pk]),
        ("console-catalogue-trim", [w.a.model.pk, w.a.trim.pk]),
        ("console-catalogue-trim-new", [w.a.model.pk]),
        ("console-catalogue-colour", [w.a.model.pk, w.a.colour.pk]),
        ("console-catalogue-brands", []),
        ("console-catalogue-products", []),
        ("console-catalogue-insurers", []),
    ]:
        assert c.get(reverse(name, args=args)).status_code == 200, name
    # another group's model, trim, product: 404
    assert c.get(reverse("console-catalogue-model", args=[w.b.model.pk])).status_code == 404
    assert (
        c.get(reverse("console-catalogue-trim", args=[w.a.model.pk, w.b.trim.pk])).status_code
        == 404
    )
    assert c.get(reverse("console-catalogue-product", args=[w.b.product.pk])).status_code == 404
    # a technician may not manage the catalogue
    assert staff_client(w.tech_a).get(reverse("console-catalogue")).status_code == 403
    # the owner app's pages are not for staff sessions without an owner
    assert Client().get(reverse("app-catalogue")).status_code in (302, 403)


def test_staff_edit_model_trim_publish(cat):
    w = cat
    c = staff_client(w.admin_a)
    r = c.post(
        reverse("console-catalogue-new"),
        {
            "brand": w.a.brand.pk,
            "name": "City Hatch",
            "body_type": "hatchback",
            "energy_type": "hybrid",
            "sort": "3",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    car = CarModel.objects.for_group(w.group_a).get(name="City Hatch")
    r = c.post(reverse("console-catalogue-publish", args=[car.pk]), {"published": "1"})
    car.refresh_from_db()
    assert not car.published  # no trim on sale yet
    trim_url = reverse("console-catalogue-trim-new", args=[car.pk])
    r = c.post(
        trim_url,
        {
            "name": "Base",
            "msrp": "100000",
            "dealer_price": "120000",
            "seats": "5",
            "drive": "fwd",
            "sort": "0",
        },
    )
    assert (
        r.status_code == 422
        and not Trim.objects.for_group(w.group_a).filter(car_model=car).exists()
    )
    r = c.post(
        trim_url,
        {
            "name": "Base",
            "msrp": "120000",
            "dealer_price": "110000",
            "seats": "5",
            "drive": "fwd",
            "active": "on",
            "sort": "0",
        },
    )
    assert r.status_code == 302
    c.post(reverse("console-catalogue-publish", args=[car.pk]), {"published": "1"})
    car.refresh_from_db()
    assert car.published
    # another group's staff cannot touch it
    assert (
        staff_client(w.admin_b)
        .post(reverse("console-catalogue-publish", args=[car.pk]), {"published": "0"})
        .status_code
        == 404
    )


def test_uploads_refuse_non_images(cat):
    w = cat
    c = staff_client(w.admin_a)
    url = reverse("console-catalogue-pictures", args=[w.a.model.pk])
    before = ModelPicture.objects.for_group(w.group_a).count()
    svg = SimpleUploadedFile(
        "car.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/png"
    )
    r = c.post(url, {"pictures": [png_upload("ok.png"), svg]})
    assert r.status_code == 400 and ModelPicture.objects.for_group(w.group_a).count() == before
    r = c.post(url, {"cover": SimpleUploadedFile("c.html", b"<html></html>")})
    assert r.status_code == 400 and b"JPEG, PNG or WebP" in r.content
    r = c.post(url, {"pictures": [png_upload("ok.png")], "caption": "Front"})
    assert r.status_code == 302 and ModelPicture.objects.for_group(w.group_a).count() == before + 1


def test_finance_product_form(cat):
    w = cat
    c = staff_client(w.admin_a)
    r = c.post(
        reverse("console-catalogue-products"),
        {
            "name": "Zero 12",
            "annual_rate": "0",
            "min_down_payment_pct": "50",
            "max_down_payment_pct": "80",
            "fee": "0",
            "allowed": ["12"],
            "active": "on",
            "sort": "0",
        },
    )
    assert r.status_code == 302
    p = FinanceProduct.objects.for_group(w.group_a).get(name="Zero 12")
    assert p.allowed_terms == [12] and p.annual_rate == Decimal("0")
    r = c.post(
        reverse("console-catalogue-products"),
        {
            "name": "Bad",
            "annual_rate": "3",
            "min_down_payment_pct": "60",
            "max_down_payment_pct": "20",
            "fee": "0",
            "allowed": ["12"],
            "sort": "0",
        },
    )
    assert r.status_code == 422


def test_owner_without_a_catalogue_sees_empty_pages(cat):
    w = cat
    from m4s.core.tests.factories import OwnerFactory
    from m4s.org.models import DealerGroup

    lonely = OwnerFactory(home_store=w.store_a)
    group = DealerGroup.objects.get(pk=w.group_a.pk)
    CarModel.objects.for_group(group).update(published=False)
    FinanceProduct.objects.for_group(group).update(active=False)
    c = owner_client(lonely)
    r = c.get(reverse("app-catalogue"))
    assert r.status_code == 200 and 'data-testid="no-models"' in r.content.decode()
    r = c.get(reverse("app-catalogue-finance"))
    assert r.status_code == 200 and 'data-testid="no-products"' in r.content.decode()

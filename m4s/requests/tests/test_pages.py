"""Owner pages of requests: the new-request pages of every kind, booking a test drive through
the form (day + free slot), the detail with its history, cancel; isolation (another owner's
request is a 404)."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from m4s.owners.middleware import SESSION_KEY
from m4s.requests.models import ServiceRequest

pytestmark = pytest.mark.django_db


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_every_kind_page_renders_and_a_test_drive_is_booked_through_the_form(rq):
    w = rq
    c = owner_client(w.owner)
    for name in (
        "app-request-test-drive",
        "app-request-finance",
        "app-request-insurance",
        "app-request-trade-in",
        "app-requests",
    ):
        assert c.get(reverse(name)).status_code == 200, name
    page = c.get(
        reverse("app-request-new", args=["test_drive"]),
        {"car_model_id": w.cat.model.pk, "date": w.slot.date().isoformat()},
    )
    html = page.content.decode()
    assert 'data-testid="slot-09:00"' in html
    r = c.post(
        reverse("app-request-new", args=["test_drive"]),
        {
            "store_id": w.store_a.pk,
            "car_model_id": w.cat.model.pk,
            "date": w.slot.date().isoformat(),
            "slot_start": w.slot.isoformat(),
            "idempotency_key": "form-1",
        },
    )
    assert r.status_code == 302, r.content.decode()[:500]
    req = ServiceRequest.objects.unscoped().get()
    detail = c.get(r["Location"])
    assert detail.status_code == 200 and "Request submitted" in detail.content.decode()
    # the same form posted again (double tap) makes no second request
    c.post(
        reverse("app-request-new", args=["test_drive"]),
        {
            "store_id": w.store_a.pk,
            "car_model_id": w.cat.model.pk,
            "slot_start": w.slot.isoformat(),
            "idempotency_key": "form-1",
        },
    )
    assert ServiceRequest.objects.unscoped().count() == 1
    other = owner_client(w.other_owner)
    assert other.get(reverse("app-request", args=[req.pk])).status_code == 404
    assert other.post(reverse("app-request-cancel", args=[req.pk])).status_code == 404
    assert owner_client(w.owner_b).get(reverse("app-request", args=[req.pk])).status_code == 404
    assert c.post(reverse("app-request-cancel", args=[req.pk])).status_code == 302
    req.refresh_from_db()
    assert req.status == "cancelled"


def test_every_page_renders_in_every_language(rq):
    """Owner and console pages of a request of each kind, in zh-hans, en and ko."""
    from m4s.requests import services

    w = rq
    made = [
        services.submit_request(
            w.owner,
            kind="test_drive",
            store_id=w.store_a.pk,
            data={"car_model_id": w.cat.model.pk, "slot_start": w.slot.isoformat()},
        ),
        services.submit_request(
            w.owner,
            kind="finance",
            store_id=w.store_a.pk,
            data={
                "finance_product_id": w.cat.product.pk,
                "trim_id": w.cat.trim.pk,
                "down_payment": "60000",
                "term_months": 36,
            },
        ),
        services.submit_request(
            w.owner,
            kind="insurance_quote",
            store_id=w.store_a.pk,
            vehicle_id=w.my_car.pk,
            data={},
        ),
        services.submit_request(
            w.owner, kind="trade_in", store_id=w.store_a.pk, vehicle_id=w.my_car.pk, data={}
        ),
        services.submit_request(
            w.owner,
            kind="new_car_enquiry",
            store_id=w.store_a.pk,
            data={"car_model_id": w.cat.model.pk},
        ),
    ]
    services.add_quote(w.sales_a, made[2], label="Ping An", lines=[{"label": "A", "amount": "1"}])
    staff = Client()
    staff.force_login(w.sales_a)
    for lang in ("zh-hans", "en", "ko"):
        owner = owner_client(w.owner)
        owner.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        staff.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        pages = [reverse("app-requests")]
        for r in made:
            pages += [
                reverse("app-request", args=[r.pk]),
                reverse("app-request-new", args=[r.kind]),
            ]
        for path in pages:
            assert owner.get(path).status_code == 200, (lang, path)
        pages = [
            reverse("console-requests"),
            reverse("console-request-figures"),
            reverse("console-request-figures-xlsx"),
        ] + [reverse("console-request", args=[r.pk]) for r in made]
        for path in pages:
            assert staff.get(path).status_code == 200, (lang, path)

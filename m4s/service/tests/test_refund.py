"""Refunding a settled repair order: a credit note with a reason, once, by a manager; the
console shows it on the workbench and the printable invoice."""

from django.test import Client
from django.urls import reverse

from m4s.core.tests.factories import staff_token
from m4s.service.models import CreditNote

from .helpers import ready_order


def _ready_order(w, *, settle=True):
    return ready_order(w, settle=settle)[0]


def test_refund_over_the_api(workshop, api_client):
    w = workshop
    ro = _ready_order(w)
    url = f"/api/v1/staff/repair-orders/{ro.pk}/refund"
    # An advisor settles but may not refund; a manager must say why.
    r = api_client.post(url, {"reason": "wrong part"}, token=staff_token(w.advisor_a))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    manager = staff_token(w.manager_a)
    for body in ({}, {"reason": ""}, {"reason": "x" * 301}):
        r = api_client.post(url, body, token=manager)
        assert r.status_code == 422 and r.json()["code"], body
    r = api_client.post(url, {"reason": "   "}, token=manager)
    assert r.status_code == 400 and r.json()["code"] == "reason_required"
    assert not CreditNote.objects.for_group(w.group_a).exists()

    r = api_client.post(url, {"reason": "Complaint: noise came back"}, token=manager)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["invoice"] == ro.invoice.number and body["number"].startswith("CN")
    assert body["amount"] == str(ro.invoice.total)
    assert body["customer_amount"] == str(ro.invoice.customer_pay_total)
    # A retry (or a second click) refunds nothing more.
    r = api_client.post(url, {"reason": "again"}, token=manager)
    assert r.status_code == 409 and r.json()["code"] == "already_refunded"
    assert CreditNote.objects.for_group(w.group_a).count() == 1


def test_only_a_settled_order_can_be_refunded(workshop, api_client):
    w = workshop
    ro = _ready_order(w, settle=False)
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro.pk}/refund",
        {"reason": "x"},
        token=staff_token(w.manager_a),
    )
    assert r.status_code == 409 and r.json()["code"] == "not_settled"
    assert not CreditNote.objects.for_group(w.group_a).exists()


def test_refund_from_the_workbench(workshop, client):
    w = workshop
    ro = _ready_order(w)
    page = reverse("console-service-order", args=[ro.pk])
    client.force_login(w.advisor_a)
    assert 'data-testid="refund"' not in client.get(page).content.decode()
    r = client.post(reverse("console-service-order-refund", args=[ro.pk]), {"reason": "x"})
    assert r.status_code == 403 and not CreditNote.objects.for_group(w.group_a).exists()

    client.force_login(w.manager_a)
    html = client.get(page).content.decode()
    assert 'data-testid="refund"' in html
    r = client.post(reverse("console-service-order-refund", args=[ro.pk]), {"reason": ""})
    assert r.status_code == 302 and not CreditNote.objects.for_group(w.group_a).exists()
    r = client.post(
        reverse("console-service-order-refund", args=[ro.pk]),
        {"reason": "Goodwill refund"},
        follow=True,
    )
    note = CreditNote.objects.for_group(w.group_a).get()
    html = r.content.decode()
    assert note.number in html and 'data-testid="credit-note"' in html
    assert 'data-testid="refund"' not in html  # nothing left to refund
    invoice = client.get(reverse("console-service-invoice", args=[ro.pk])).content.decode()
    assert note.number in invoice and "Goodwill refund" in invoice
    # The owner sees it on the visit in the app.
    from m4s.web.tests.test_service_owner_pages import sign_in

    owner = Client()
    sign_in(owner, w.owner)
    html = owner.get(reverse("app-service-order", args=[ro.pk])).content.decode()
    assert 'data-testid="refunded"' in html and f"¥{note.customer_amount}" in html


def test_another_groups_manager_cannot_refund(workshop, client):
    w = workshop
    ro = _ready_order(w)
    client.force_login(w.admin_b)
    r = client.post(reverse("console-service-order-refund", args=[ro.pk]), {"reason": "x"})
    assert r.status_code == 404
    assert not CreditNote.objects.unscoped().exists()

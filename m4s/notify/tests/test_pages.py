"""The owner's notification settings page, the app's push-subscription endpoint, WeChat binding
pages, and the customer 360's contact panel."""

import json

import pytest
from django.test import Client

from m4s.notify import policy
from m4s.notify.models import PushSubscription
from m4s.owners.middleware import SESSION_KEY
from m4s.owners.models import Owner

from .pushservice import Browser, b64e


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    return client


def form(**extra):
    data = {
        "channels": ["sms"],
        "first": "sms",
        "service-enabled": "on",
        "service-channels": ["sms"],
        "care-enabled": "on",
        "care-channels": ["sms"],
        "marketing-channels": ["sms"],
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:00",
        "time_zone": "Asia/Seoul",
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_settings_page_shows_and_saves(world):
    client = owner_client(world.owner)
    page = client.get("/app/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="push-enable"' in html and "data-vapid-key=" in html
    assert 'data-testid="category-care"' in html
    r = client.post("/app/notifications/", form())
    assert r.status_code == 200 and 'role="status"' in r.content.decode()
    owner = Owner.objects.get(pk=world.owner.pk)
    assert owner.time_zone == "Asia/Seoul"
    assert str(owner.quiet_hours_start) == "22:00:00"
    assert not policy.category_enabled(owner, "marketing")  # its box was not ticked
    assert policy.category_enabled(owner, "care")
    assert policy.channel_order(owner, "care") == ["inapp", "sms"]


@pytest.mark.django_db
def test_bad_settings_on_the_page_change_nothing(world):
    client = owner_client(world.owner)
    before = Owner.objects.filter(pk=world.owner.pk).values().get()
    for bad in (
        form(time_zone="Mars/Olympus"),
        form(quiet_hours_start="25:99"),
        form(quiet_hours_end=""),
        form(channels=["sms", "pigeon"]),
    ):
        r = client.post("/app/notifications/", bad)
        assert r.status_code == 400, bad
        assert 'data-testid="settings-error"' in r.content.decode()
    assert Owner.objects.filter(pk=world.owner.pk).values().get() == before


@pytest.mark.django_db
def test_pages_need_a_signed_in_owner(client):
    r = client.get("/app/notifications/")
    assert r.status_code == 302 and "/app/login/" in r["Location"]
    r = client.post("/app/notifications/push-subscriptions/", "{}", content_type="application/json")
    assert r.status_code == 302


@pytest.mark.django_db
def test_the_page_keeps_this_browsers_push_subscription(world):
    client = owner_client(world.owner)
    browser = Browser()
    body = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/xyz",
        "expirationTime": None,
        "keys": {"p256dh": browser.p256dh, "auth": b64e(browser.auth)},
    }
    r = client.post(
        "/app/notifications/push-subscriptions/", json.dumps(body), content_type="application/json"
    )
    assert r.status_code == 201
    sub = PushSubscription.objects.get()
    assert sub.owner == world.owner
    bad = client.post(
        "/app/notifications/push-subscriptions/", "not json", content_type="application/json"
    )
    assert bad.status_code == 400
    bad = client.post(
        "/app/notifications/push-subscriptions/",
        json.dumps({**body, "endpoint": "https://10.0.0.1/x"}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_endpoint"
    # another owner cannot remove it
    other = owner_client(world.owner_b)
    assert other.post(f"/app/notifications/push-subscriptions/{sub.pk}/forget/").status_code == 404
    r = client.post(f"/app/notifications/push-subscriptions/{sub.pk}/forget/")
    assert r.status_code == 302 and not PushSubscription.objects.exists()


@pytest.mark.django_db
def test_wechat_binding_refuses_a_forged_state(world, settings):
    settings.WECHAT_ENABLED = True
    client = owner_client(world.owner)
    r = client.get("/app/notifications/wechat/done/?code=GOOD-CODE&state=forged")
    assert r.status_code == 400
    world.owner.refresh_from_db()
    assert world.owner.wechat_openid == ""
    settings.WECHAT_APP_ID = "wx0123"
    r = client.post("/app/notifications/wechat/")
    assert r.status_code == 302 and "snsapi_base" in r["Location"]


@pytest.mark.django_db
def test_customer_360_shows_the_contact_decisions(cars, world, monkeypatch):
    from m4s.core.tests.factories import make_staff
    from m4s.notify import services
    from m4s.staff.choices import Role

    monkeypatch.setattr("m4s.notify.outbox.transaction.on_commit", lambda f, *a, **k: f())
    services.tell_customer(
        cars.known, "marketing.offer", lambda: ("Offer", "10% off"), dedupe="offer:1"
    )
    services.tell_customer(cars.known, "service.ready", lambda: ("Ready", "Car"), dedupe="ro:1")
    staff = Client()
    staff.force_login(world.advisor_a)
    page = staff.get(f"/console/customers/{cars.known.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="customer-contacts"' in html
    assert 'data-outcome="dropped"' in html and "service.ready" in html
    # another group's staff do not see this customer at all
    other = Client()
    other.force_login(world.advisor_b)
    assert other.get(f"/console/customers/{cars.known.pk}/").status_code == 404
    # staff who may not see customers' data get no panel
    tech = make_staff("tech-x", Role.TECHNICIAN, world.group_a, [world.store_a])
    client = Client()
    client.force_login(tech)
    r = client.get(f"/console/customers/{cars.known.pk}/")
    assert (
        r.status_code in (403, 404) or 'data-testid="customer-contacts"' not in r.content.decode()
    )


@pytest.mark.django_db
def test_group_admin_sets_the_groups_contact_cap_in_the_back_office(world):
    from m4s.notify.models import ContactRules

    client = Client()
    client.force_login(world.admin_a)
    assert client.get("/admin/notify/contactrules/add/").status_code == 200
    r = client.post("/admin/notify/contactrules/add/", {"cap_count": 3, "cap_days": 7})
    assert r.status_code == 302, r.content[:500]
    rules = ContactRules.objects.unscoped().get()
    assert (rules.dealer_group, rules.cap_count) == (world.group_a, 3)
    assert policy.cap_for(world.group_a.pk) == (3, 7)
    other = Client()
    other.force_login(world.admin_b)
    assert other.get(f"/admin/notify/contactrules/{rules.pk}/change/").status_code == 404
    # one row per group: the group changes it; a cap of 0 is refused
    assert client.get("/admin/notify/contactrules/add/").status_code == 403
    r = client.post(
        f"/admin/notify/contactrules/{rules.pk}/change/", {"cap_count": 0, "cap_days": 7}
    )
    assert r.status_code == 200 and ContactRules.objects.unscoped().get().cap_count == 3

"""GET/PUT /api/v1/me/notification-settings and the push-subscription endpoints: validation
(nothing changed on bad input) and isolation (another owner's subscription is a 404)."""

import datetime as dt

import pytest

from m4s.core.tests.factories import owner_token, staff_token
from m4s.notify import policy
from m4s.notify.models import PushSubscription, Unsubscribe
from m4s.owners.models import ConsentRecord, Owner

from .pushservice import Browser, b64e


def put(api_client, owner, data):
    return api_client.request("PUT", "/api/v1/me/notification-settings", data, owner_token(owner))


@pytest.mark.django_db
def test_settings_are_read_and_changed(api_client, world):
    owner = world.owner
    r = api_client.get("/api/v1/me/notification-settings", token=owner_token(owner))
    assert r.status_code == 200, r.content
    body = r.json_body
    assert body["channels"] == ["inapp", "sms"]
    assert [c["category"] for c in body["categories"]] == [
        "transactional",
        "service",
        "care",
        "marketing",
    ]
    assert body["categories"][0]["locked"] and body["push_public_key"]
    r = put(
        api_client,
        owner,
        {
            "channels": ["push", "sms"],
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:00",
            "time_zone": "Asia/Seoul",
            "categories": {"care": {"channels": ["push"]}, "marketing": {"enabled": False}},
        },
    )
    assert r.status_code == 200, r.content
    body = r.json_body
    assert body["channels"] == ["inapp", "push", "sms"]
    assert (body["quiet_hours_start"], body["quiet_hours_end"]) == ("22:00:00", "07:00:00")
    assert body["time_zone"] == body["effective_time_zone"] == "Asia/Seoul"
    care = next(c for c in body["categories"] if c["category"] == "care")
    assert care["channels"] == ["inapp", "push"] and care["enabled"]
    owner.refresh_from_db()
    assert not policy.category_enabled(owner, "marketing")
    assert policy.channel_order(owner, "care") == ["inapp", "push"]
    assert Unsubscribe.objects.get(owner=owner).source == "settings"
    # only what is sent changes
    r = put(api_client, owner, {"time_zone": ""})
    assert r.json_body["channels"] == ["inapp", "push", "sms"]
    assert r.json_body["time_zone"] == "" and r.json_body["effective_time_zone"] == "Asia/Shanghai"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"channels": ["pigeon"]}, 422, "validation_error"),
        ({"categories": {"care": {"channels": ["fax"]}}}, 422, "validation_error"),
        ({"categories": {"transactional": {"enabled": False}}}, 422, None),
        ({"categories": {"care": {"enabled": "no"}}}, 422, None),
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}, 422, None),
        ({"quiet_hours_start": "22:00"}, 400, "invalid_quiet_hours"),
        ({"quiet_hours_start": "07:00", "quiet_hours_end": "07:00"}, 400, "invalid_quiet_hours"),
        ({"time_zone": "Mars/Olympus"}, 400, "invalid_time_zone"),
        ({"time_zone": "../etc/passwd"}, 400, "invalid_time_zone"),
        ({"colour": "red"}, 422, None),
        ({"channels": ["email"]}, 400, "invalid_channel"),  # no e-mail address yet
    ],
)
def test_bad_settings_change_nothing(api_client, world, payload, status, code):
    owner = world.owner
    before = Owner.objects.filter(pk=owner.pk).values().get()
    r = put(api_client, owner, payload)
    assert r.status_code == status, r.content
    if code:
        assert r.json_body["code"] == code
    assert Owner.objects.filter(pk=owner.pk).values().get() == before


@pytest.mark.django_db
def test_switching_marketing_off_withdraws_the_consent(api_client, world):
    owner = world.owner
    owner.marketing_consent = True
    owner.save()
    put(api_client, owner, {"categories": {"marketing": {"enabled": False}}})
    owner.refresh_from_db()
    assert not owner.marketing_consent
    assert ConsentRecord.objects.get(owner=owner).granted is False


def _subscription(endpoint="https://fcm.googleapis.com/fcm/send/abc123"):
    browser = Browser()
    return {"endpoint": endpoint, "keys": {"p256dh": browser.p256dh, "auth": b64e(browser.auth)}}


@pytest.mark.django_db
def test_push_subscription_is_kept_once_and_deleted(api_client, world):
    token = owner_token(world.owner)
    body = _subscription()
    r = api_client.post("/api/v1/me/push-subscriptions", body, token=token)
    assert r.status_code == 201, r.content
    sub_id = r.json_body["id"]
    again = api_client.post("/api/v1/me/push-subscriptions", body, token=token)
    assert again.status_code == 200 and again.json_body["id"] == sub_id
    assert PushSubscription.objects.count() == 1
    got = api_client.get("/api/v1/me/notification-settings", token=token).json_body
    assert [s["id"] for s in got["push_subscriptions"]] == [sub_id]
    # another owner cannot see or delete it
    other = owner_token(world.owner_b)
    assert (
        api_client.delete(f"/api/v1/me/push-subscriptions/{sub_id}", token=other).status_code == 404
    )
    assert (
        api_client.get("/api/v1/me/notification-settings", token=other).json_body[
            "push_subscriptions"
        ]
        == []
    )
    # staff tokens are not owners
    r = api_client.delete(
        f"/api/v1/me/push-subscriptions/{sub_id}", token=staff_token(world.advisor_a)
    )
    assert r.status_code in (401, 403)
    r = api_client.delete(f"/api/v1/me/push-subscriptions/{sub_id}", token=token)
    assert r.status_code == 204
    assert not PushSubscription.objects.exists()
    assert (
        api_client.delete(f"/api/v1/me/push-subscriptions/{sub_id}", token=token).status_code == 404
    )


@pytest.mark.django_db
def test_a_browser_moves_to_whoever_signs_in_on_it(api_client, world):
    body = _subscription()
    api_client.post("/api/v1/me/push-subscriptions", body, token=owner_token(world.owner))
    api_client.post("/api/v1/me/push-subscriptions", body, token=owner_token(world.owner_b))
    assert list(PushSubscription.objects.values_list("owner_id", flat=True)) == [world.owner_b.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, code",
    [
        ({"endpoint": "https://169.254.169.254/latest/meta-data"}, "invalid_endpoint"),
        ({"endpoint": "http://fcm.googleapis.com/fcm/send/x"}, "invalid_endpoint"),
        ({"endpoint": "https://internal.example/push"}, "invalid_endpoint"),
        ({"keys": {"p256dh": "B" * 87, "auth": "A" * 22}}, "invalid_keys"),  # not a curve point
        ({"keys": {"p256dh": "BB", "auth": "A" * 22}}, None),
    ],
)
def test_bad_push_subscriptions_are_refused(api_client, world, change, code):
    body = {**_subscription(), **change}
    r = api_client.post("/api/v1/me/push-subscriptions", body, token=owner_token(world.owner))
    assert 400 <= r.status_code < 500, r.content
    if code:
        assert r.json_body["code"] == code
    assert not PushSubscription.objects.exists()


@pytest.mark.django_db
def test_settings_need_an_owner(api_client, world):
    assert api_client.get("/api/v1/me/notification-settings").status_code == 401
    r = api_client.post("/api/v1/me/push-subscriptions", _subscription())
    assert r.status_code == 401


@pytest.mark.django_db
def test_settings_time_zone_moves_quiet_hours(api_client, world):
    owner = world.owner
    put(
        api_client,
        owner,
        {"quiet_hours_start": "22:00", "quiet_hours_end": "07:00", "time_zone": "Asia/Seoul"},
    )
    owner.refresh_from_db()
    # 13:30 UTC: 21:30 in Shanghai (not quiet), 22:30 in Seoul (quiet)
    assert policy.quiet_hours_end(owner, dt.datetime(2026, 12, 7, 13, 30, tzinfo=dt.UTC))

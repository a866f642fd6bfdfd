"""Web push end to end: contact policy -> outbox -> pywebpush -> a local push service that
verifies the VAPID signature with the server's public key and decrypts the payload with the
subscription's private key (m4s/notify/tests/pushservice.py). Never the internet."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.notify import policy, webpush
from m4s.notify.choices import Category, Status
from m4s.notify.models import Message, PushSubscription

from .pushservice import PushService


@pytest.fixture(autouse=True)
def _push_settings(settings, monkeypatch):
    settings.WEBPUSH_ENABLED = True
    settings.WEBPUSH_ALLOW_HTTP = True
    settings.WEBPUSH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.VAPID_SUBJECT = "mailto:care@m4s.test"
    monkeypatch.setattr("m4s.notify.outbox.transaction.on_commit", lambda f, *a, **k: f())


@pytest.fixture
def service():
    with PushService() as s:
        yield s


def _subscribe(owner, service, name="phone"):
    endpoint, browser = service.subscribe(name)
    sub = PushSubscription.objects.create(
        owner=owner,
        endpoint=endpoint,
        p256dh=browser.p256dh,
        auth=webpush._b64(browser.auth),
        created_at=timezone.now(),
    )
    return sub, browser


def _remind(owner, reason="care:insurance:1"):
    return policy.contact(
        owner=owner,
        category=Category.CARE,
        kind="care.insurance",
        compose=lambda: (
            text(gettext_noop("Insurance renewal")),
            text(gettext_noop("Your policy ends on %(date)s."), date="2027-01-31"),
        ),
        reason=reason,
        cycle="2027-01-31",
        link="/app/care/",
    )


@pytest.mark.django_db
def test_a_reminder_reaches_the_browser_signed_and_encrypted(world, service, sms_outbox):
    owner = world.owner
    owner.channels = ["inapp", "push", "sms"]
    owner.language = "en"
    owner.save()
    sub, _browser = _subscribe(owner, service)
    decisions = _remind(owner)
    assert [d.channel for d in decisions] == ["inapp", "push"]  # push comes before SMS
    assert not sms_outbox
    assert service.refused == []
    [got] = service.received
    # the VAPID key is the server's, the signature checked with it, aud is the push service
    assert got.vapid_key == webpush.application_server_key()
    assert got.claims["aud"] == service.origin and got.claims["sub"] == "mailto:care@m4s.test"
    assert got.payload["title"] == "Insurance renewal"
    assert got.payload["body"] == "Your policy ends on 2027-01-31."
    assert got.payload["url"] == "/app/care/"
    push = Message.objects.get(channel="push")
    assert got.payload["tag"] == f"m4s-{push.pk}"
    assert push.status == Status.SENT and push.provider_ref == "push:1"
    sub.refresh_from_db()
    assert sub.last_success_at is not None and sub.gone_at is None


@pytest.mark.django_db
def test_payload_in_the_owners_language(world, service):
    owner = world.owner
    owner.channels = ["inapp", "push"]
    owner.language = "zh-hans"
    owner.save()
    _subscribe(owner, service)
    policy.contact(
        owner=owner,
        category=Category.CARE,
        kind="care.maintenance",
        compose=lambda: (text(gettext_noop("Welcome")), ""),
        reason="care:maintenance:1",
    )
    [got] = service.received
    assert got.payload["title"] == "欢迎"  # rendered in the owner's language


@pytest.mark.django_db
def test_a_gone_subscription_is_marked_and_not_used_again(world, service, sms_outbox):
    owner = world.owner
    owner.channels = ["inapp", "push", "sms"]
    owner.save()
    sub, _ = _subscribe(owner, service)
    service.gone.add("/push/phone")
    _remind(owner)
    sub.refresh_from_db()
    assert sub.gone_at is not None
    push = Message.objects.get(channel="push")
    assert push.status == Status.FAILED  # undeliverable: not retried
    # the next reminder goes by SMS: push cannot reach the owner any more
    decisions = _remind(owner, reason="care:insurance:2")
    assert [d.channel for d in decisions] == ["inapp", "sms"]
    assert len(sms_outbox) == 1


@pytest.mark.django_db
def test_a_push_service_failure_is_retried_by_the_outbox(world, service):
    from unittest import mock

    from m4s.notify import services

    owner = world.owner
    owner.channels = ["inapp", "push"]
    owner.save()
    _subscribe(owner, service)
    service.fail_next = 1
    _remind(owner)
    push = Message.objects.get(channel="push")
    assert push.status == Status.RETRY and "500" in push.last_error
    later = timezone.now() + dt.timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert services.sweep_outbox() == 1
    push.refresh_from_db()
    assert push.status == Status.SENT and len(service.received) == 1


@pytest.mark.django_db
def test_endpoints_outside_the_known_push_services_are_refused(settings):
    settings.WEBPUSH_ALLOW_HTTP = False
    settings.WEBPUSH_ALLOWED_HOSTS = ["fcm.googleapis.com", ".push.services.mozilla.com"]
    ok = webpush.endpoint_allowed
    assert ok("https://fcm.googleapis.com/fcm/send/abc")
    assert ok("https://updates.push.services.mozilla.com/wpush/v2/abc")
    assert not ok("http://fcm.googleapis.com/fcm/send/abc")  # plain http
    assert not ok("https://evil.example/fcm.googleapis.com")
    assert not ok("https://fcm.googleapis.com.evil.example/x")
    assert not ok("https://user:pw@fcm.googleapis.com/x")
    assert not ok("https://127.0.0.1/push")
    assert not ok("not a url")


def test_vapid_key_pair_round_trip():
    private, public = webpush.generate_key_pair()
    from py_vapid import Vapid02

    assert len(private) == 43 and len(public) == 87
    assert Vapid02.from_raw(private.encode()).public_key is not None

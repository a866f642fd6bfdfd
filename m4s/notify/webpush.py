"""Web push to the installed owner app (RFC 8030 push, RFC 8291 aes128gcm encryption, RFC 8292
VAPID), through pywebpush.

The server's VAPID key pair: settings.VAPID_PRIVATE_KEY (kept like the other keys: from the
environment, else generated once into DATA_DIR; `m4s vapid-keys` makes a new pair). The owner
app subscribes with the public key (`application_server_key()`), and POSTs the subscription to
/api/v1/me/push-subscriptions; a push service that answers 404 or 410 has dropped the
subscription, which is then marked gone and never used again.
"""

import base64
import json
import logging
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone

from .channels import Undeliverable
from .models import Message, PushSubscription

logger = logging.getLogger("m4s.notify")
TTL_SECONDS = 24 * 3600  # a push service keeps an undelivered message a day
GONE = {404, 410}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@lru_cache(maxsize=4)
def _vapid(private_key: str) -> Any:
    from py_vapid import Vapid02

    return Vapid02.from_raw(private_key.encode())


def vapid() -> Any:
    return _vapid(settings.VAPID_PRIVATE_KEY)


def application_server_key() -> str:
    """The VAPID public key as the browser's pushManager.subscribe wants it (url-safe base64
    of the uncompressed P-256 point)."""
    from cryptography.hazmat.primitives import serialization

    point = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64(point)


def generate_key_pair() -> tuple[str, str]:
    """(private, public): a new VAPID key pair, both url-safe base64 (`m4s vapid-keys`)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64(private), _b64(public)


def endpoint_allowed(endpoint: str) -> bool:
    """Whether the server may POST to this push endpoint: https (http only when
    WEBPUSH_ALLOW_HTTP, for tests) on a host of WEBPUSH_ALLOWED_HOSTS (a suffix starting with a
    dot matches subdomains; other entries match exactly)."""
    try:
        url = urlparse(endpoint)
    except ValueError:
        return False
    if url.scheme != "https" and not (url.scheme == "http" and settings.WEBPUSH_ALLOW_HTTP):
        return False
    host = (url.hostname or "").lower()
    if not host or url.username or url.password:
        return False
    for allowed in settings.WEBPUSH_ALLOWED_HOSTS:
        allowed = allowed.lower()
        if host == allowed.lstrip(".") or (allowed.startswith(".") and host.endswith(allowed)):
            return True
    return False


def payload(message: Message) -> str:
    """What the service worker shows (m4s/web/static/m4s/js/sw.js `push` handler)."""
    return json.dumps(
        {
            "title": message.subject or message.body[:60],
            "body": message.body if message.subject else "",
            "url": message.link or "/app/inbox/",
            "tag": f"m4s-{message.pk}",  # a retried send replaces, never doubles, the notice
            "kind": message.kind,
        },
        ensure_ascii=False,
    )


def push_to(subscription: PushSubscription, data: str) -> None:
    """One encrypted, VAPID-signed POST to one subscription's push service."""
    from pywebpush import webpush

    webpush(
        subscription_info={
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        },
        data=data,
        vapid_private_key=vapid(),
        vapid_claims={"sub": settings.VAPID_SUBJECT},
        content_encoding="aes128gcm",
        ttl=TTL_SECONDS,
        timeout=10,
    )


class WebPushChannel:
    """Sends a message to every live push subscription of its owner. Subscriptions the push
    service has dropped (404/410) are marked gone; if none is left the message is undeliverable.
    Any other failure is retried by the outbox (the notice's tag keeps a repeat from doubling)."""

    def send(self, message: Message) -> str:
        if not settings.WEBPUSH_ENABLED:
            raise Undeliverable("web push is switched off (WEBPUSH_ENABLED)")
        from pywebpush import WebPushException

        if message.owner_id is None:
            raise Undeliverable("a push message needs an owner")
        subscriptions = list(
            PushSubscription.objects.filter(owner_id=message.owner_id, gone_at__isnull=True)
        )
        if not subscriptions:
            raise Undeliverable("the owner has no live push subscription")
        data = payload(message)
        delivered, failure = 0, None
        for sub in subscriptions:
            if not endpoint_allowed(sub.endpoint):
                PushSubscription.objects.filter(pk=sub.pk).update(gone_at=timezone.now())
                continue
            try:
                push_to(sub, data)
            except WebPushException as exc:
                status = getattr(exc.response, "status_code", None)
                if status in GONE:
                    PushSubscription.objects.filter(pk=sub.pk).update(gone_at=timezone.now())
                    continue
                failure = exc
                continue
            except Exception as exc:  # network: retried
                failure = exc
                continue
            delivered += 1
            PushSubscription.objects.filter(pk=sub.pk).update(last_success_at=timezone.now())
        if delivered:
            return f"push:{delivered}"
        if failure is not None:
            raise failure
        raise Undeliverable("every push subscription of the owner is gone")

"""Delivery channels behind one adapter interface.

Each channel is a class with `send(message) -> str` (the provider's reference for the message,
kept on the row) named in settings.NOTIFY_CHANNELS (so a deployment swaps one by environment:
SMS_BACKEND picks the SMS gateway, WEBPUSH_ENABLED / WECHAT_ENABLED switch those channels).
A send that raises is retried by the outbox with backoff (m4s/notify/services.deliver_message);
`Undeliverable` means retrying cannot help (an expired push subscription, an unknown openid, a
number the gateway refuses): the message is marked failed at once.
"""

import re
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from m4s.core.i18n import render

from .models import Message


class Undeliverable(Exception):
    """A permanent failure: the outbox marks the message failed without retrying."""


class ChannelBackend(Protocol):
    def send(self, message: Message) -> str:
        """Deliver one outbox message; return the provider's reference (may be empty)."""
        ...


class InboxChannel:
    """In-app messages are delivered by becoming visible in the inbox: nothing to send."""

    def send(self, message: Message) -> str:
        return ""


CODE_RE = re.compile(r"(?<!\d)(\d{4,8})(?!\d)")


def template_params(message: Message) -> dict[str, str]:
    """The values an SMS or WeChat template may use: the placeholders of the message's system
    text (rendered), `title`, `body`, `link`, and `code` (the digits of a sign-in code)."""
    params: dict[str, str] = {}
    for key in ("subject", "body"):
        value = (message.texts or {}).get(key)
        if isinstance(value, dict) and isinstance(value.get("p"), dict):
            for name, raw in value["p"].items():
                params[str(name)] = render(raw) if isinstance(raw, dict) else str(raw)
    params["title"] = message.subject
    params["body"] = message.body
    params["link"] = message.link
    if message.kind == "otp" and "code" not in params:
        found = CODE_RE.search(message.body)
        params["code"] = found.group(1) if found else ""
    return params


def template_for(kind: str, mapping: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(template id, parameter names) for a message kind from a settings mapping
    {kind or "prefix." or "default": {"id": ..., "params": [...]}}: the exact kind, else the
    longest prefix, else "default"; None when nothing matches."""
    entry = mapping.get(kind)
    if entry is None:
        prefixes = [p for p in mapping if p.endswith(".") and kind.startswith(p)]
        entry = mapping[max(prefixes, key=len)] if prefixes else mapping.get("default")
    if not entry:
        return None
    if isinstance(entry, str):
        return entry, []
    return str(entry["id"]), [str(p) for p in entry.get("params", [])]


class SmsChannel:
    """SMS through the gateway adapter named by SMS_BACKEND (m4s/notify/sms.py)."""

    def send(self, message: Message) -> str:
        backend = import_string(settings.SMS_BACKEND)()
        return str(
            backend.send(
                to=message.to_address,
                body=message.body,
                reference=f"m4s-msg-{message.pk}",
                kind=message.kind,
                params=template_params(message),
            )
            or ""
        )


class EmailChannel:
    """E-mail through Django's mail backend (EMAIL_BACKEND)."""

    def send(self, message: Message) -> str:
        send_mail(
            message.subject or message.kind,
            message.body,
            None,
            [message.to_address],
            fail_silently=False,
        )
        return ""


def backend_for(channel: str) -> ChannelBackend:
    path = settings.NOTIFY_CHANNELS.get(channel)
    if not path:
        raise Undeliverable(f"no backend for channel {channel!r}")
    backend: ChannelBackend = import_string(path)()
    return backend


def deliver(message: Message) -> str:
    """Send one message on its channel (raises to retry, `Undeliverable` to give up)."""
    return backend_for(message.channel).send(message)

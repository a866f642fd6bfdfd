"""Delivery channels. Each turns one outbox Message into a real-world send."""

from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from .choices import Channel
from .models import Message


def deliver_inapp(message: Message) -> None:
    """In-app messages are delivered by becoming visible in the inbox: nothing to send."""


def deliver_sms(message: Message) -> None:
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(to=message.to_address, body=message.body, reference=f"m4s-msg-{message.pk}")


def deliver_email(message: Message) -> None:
    send_mail(
        message.subject or message.kind,
        message.body,
        None,
        [message.to_address],
        fail_silently=False,
    )


CHANNELS: dict[str, Callable[[Message], None]] = {
    Channel.INAPP: deliver_inapp,
    Channel.SMS: deliver_sms,
    Channel.EMAIL: deliver_email,
}

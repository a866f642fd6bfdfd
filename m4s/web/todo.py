"""The owner's to-do list on the home screen, computed from real state. Later areas add items
(a car to bind, a repair to approve, a service that falls due)."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from m4s.notify import selectors as inbox


@dataclass(frozen=True)
class Todo:
    key: str
    title: str
    url: str


def owner_todos(owner) -> list[Todo]:
    todos = []
    unread = inbox.count_unread(owner=owner)
    if unread:
        todos.append(
            Todo(
                "inbox",
                ngettext("%(n)d unread message", "%(n)d unread messages", unread) % {"n": unread},
                reverse("app-inbox"),
            )
        )
    from m4s.customers.selectors import vehicles_of_owner

    if not vehicles_of_owner(owner).exists():
        todos.append(
            Todo(
                "bind",
                _("Bind your car to get reminders and service in one tap"),
                reverse("app-cars"),
            )
        )
    if not owner.name:
        todos.append(Todo("profile", _("Tell us your name"), reverse("app-profile")))
    if owner.telematics_consent_at is None:
        todos.append(
            Todo(
                "consent",
                _("Decide whether your car's data may be used to look after it"),
                reverse("app-profile"),
            )
        )
    return todos

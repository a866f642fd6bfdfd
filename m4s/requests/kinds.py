"""The registry of request kinds. Each kind (test drive, finance, insurance, trade-in, enquiry
here; scratch repair, rental, ... in the assistance area) is a `RequestKind` registered from its
app's `AppConfig.ready()`. The framework (services.py) validates the owner's fields with the
kind's `schema`, calls `prepare(ctx, data)` inside the submit transaction for the `details` to
store, then `after_submit(request, data)`; staff run the common actions (accept, schedule, done,
decline, claim, transfer) and the kind's own `actions`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from m4s.core.errors import NotFound


@dataclass(frozen=True)
class KindContext:
    """What a kind's `prepare` and `choices` know of the submission."""

    owner: Any
    customer: Any
    store: Any
    vehicle: Any | None
    group_id: int
    now: dt.datetime
    files: tuple = ()  # uploaded files of the form (photos), for the kind to clean
    values: dict = field(default_factory=dict)  # the form's current values (choices hooks)


@dataclass(frozen=True)
class StaffAction:
    """A staff action of a kind: `handler(actor, request, data) -> None` runs inside a
    transaction with the request row locked; `data` is the validated `schema` (a ninja Schema
    instance's dict) or {}."""

    label: Any
    perm: str
    allowed_from: tuple[str, ...]
    schema: type | None
    handler: Callable[[Any, Any, dict], Any]
    form_template: str = ""  # console form partial (optional; else a generic form)


@dataclass(frozen=True)
class OwnerAction:
    """An owner-side action of a kind (e.g. feedback after a test drive): `handler(owner,
    request, data)` runs in a transaction with the request row locked."""

    label: Any
    allowed_from: tuple[str, ...]
    schema: type | None
    handler: Callable[[Any, Any, dict], Any]


@dataclass(frozen=True)
class RequestKind:
    key: str
    label: Any  # lazy
    icon: str  # a Lucide name from m4s/web/icons.py
    role: str  # m4s.staff.choices.Role value
    schema: type  # a ninja Schema of the owner's kind-specific fields
    prepare: Callable[[KindContext, dict], dict]
    sla_minutes: int = 120
    after_submit: Callable[[Any, dict], Any] | None = None
    actions: dict[str, StaffAction] = field(default_factory=dict)
    sales: bool = False
    lead_source: str = ""
    needs_vehicle: bool = False
    owner_form_template: str = ""
    owner_detail_template: str = ""
    console_detail_template: str = ""
    choices: Callable[[KindContext], dict] | None = None
    summary: Callable[[Any], str] | None = None  # one line for lists (from the request)
    on_transition: Callable[[Any, Any, str], Any] | None = None  # (actor, request, to_status)
    on_quote_accepted: Callable[[Any, Any], Any] | None = None  # (request, quote)
    owner_actions: dict[str, OwnerAction] = field(default_factory=dict)
    quotes: bool = False  # staff may offer quotes the owner accepts


_KINDS: dict[str, RequestKind] = {}


def register(kind: RequestKind) -> RequestKind:
    """Add a kind (idempotent for the same key: the latest registration wins)."""
    _KINDS[kind.key] = kind
    return kind


def get_kind(key: str) -> RequestKind:
    kind = _KINDS.get(key or "")
    if kind is None:
        raise NotFound(_("No such kind of request."))
    return kind


def all_kinds() -> list[RequestKind]:
    return list(_KINDS.values())


def kind_label(key: str) -> str:
    kind = _KINDS.get(key)
    return str(kind.label) if kind else key

"""Shared by the complaints write modules (filing, handling, resolution): defaults, input
checks, locking, the event + customer-timeline line every write appends, notifications."""

import datetime as dt
import uuid
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import name_of, text
from m4s.core.uploads import clean_image
from m4s.customers.choices import TimelineKind
from m4s.customers.services import record_timeline
from m4s.notify.services import tell_customer, tell_staff
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from .choices import (
    DEFAULT_CATEGORIES,
    DEFAULT_ROOT_CAUSES,
    MAX_PHOTOS,
    PHOTO_MAX_BYTES,
    EventKind,
    Level,
    Severity,
)
from .models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    RootCause,
)

KIND = "complaint"  # notification kind
TIMELINE_TITLE = gettext_noop("Complaint %(ref)s: %(what)s")


# --- defaults -----------------------------------------------------------------------------------
def ensure_defaults(group_id: int) -> None:
    """Give a group the default category tree and root causes the first time it needs them."""
    if not ComplaintCategory.objects.for_group(group_id).exists():
        by_code: dict[str, ComplaintCategory] = {}
        for position, (code, name, parent) in enumerate(DEFAULT_CATEGORIES):
            with translation.override("zh-hans"):
                zh = _(name)
            with translation.override("ko"):
                ko = _(name)
            try:
                with transaction.atomic():
                    by_code[code] = ComplaintCategory.objects.create(
                        dealer_group_id=group_id,
                        code=code,
                        name=name,
                        name_i18n={"en": name, "zh-hans": zh, "ko": ko},
                        parent=by_code.get(parent),
                        position=position,
                    )
            except IntegrityError:  # a parallel first use
                by_code[code] = ComplaintCategory.objects.for_group(group_id).get(code=code)
    if not RootCause.objects.for_group(group_id).exists():
        for position, (code, name) in enumerate(DEFAULT_ROOT_CAUSES):
            with translation.override("zh-hans"):
                zh = _(name)
            with translation.override("ko"):
                ko = _(name)
            try:
                with transaction.atomic():
                    RootCause.objects.create(
                        dealer_group_id=group_id,
                        code=code,
                        name=name,
                        name_i18n={"en": name, "zh-hans": zh, "ko": ko},
                        position=position,
                    )
            except IntegrityError:
                pass


def categories_for(group_id: int) -> list[ComplaintCategory]:
    """The group's active categories in tree order (defaults created on first use)."""
    from .selectors import list_categories

    ensure_defaults(group_id)
    return list_categories(group_id)


def root_causes_for(group_id: int) -> list[RootCause]:
    from .selectors import list_root_causes

    ensure_defaults(group_id)
    return list_root_causes(group_id)


# --- small helpers ------------------------------------------------------------------------------
def _clean_text(value, *, field: str, maximum: int, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if "\x00" in value:
        raise DomainError("invalid_input", _("Text may not contain NUL characters."))
    if required and not value:
        raise DomainError(
            f"{field}_required", _("Please write a few words (%(field)s).") % {"field": field}
        )
    if len(value) > maximum:
        raise DomainError(
            f"{field}_too_long",
            _("At most %(n)d characters (%(field)s).") % {"n": maximum, "field": field},
        )
    return value


def _clean_photos(files) -> list:
    files = [f for f in (files or []) if f]
    if len(files) > MAX_PHOTOS:
        raise DomainError("too_many_photos", _("At most %(n)d photos.") % {"n": MAX_PHOTOS})
    return [clean_image(f, max_bytes=PHOTO_MAX_BYTES) for f in files]


def _severity(value) -> str:
    if value not in Severity.values:
        raise DomainError("invalid_severity", _("Unknown severity."))
    return value


def _category(group_id: int, category_id) -> ComplaintCategory:
    ensure_defaults(group_id)
    qs = ComplaintCategory.objects.for_group(group_id).filter(is_active=True)
    found = qs.filter(pk=category_id).first() if category_id else qs.filter(code="other").first()
    if found is None:
        found = None if category_id else qs.first()
    if found is None:
        raise NotFound(_("No such complaint category."))
    return found


def _new_reference() -> str:
    return f"C-{uuid.uuid4().hex[:10].upper()}"


def _link(name: str, pk: int) -> str:
    try:
        return reverse(name, kwargs={"complaint_id": pk})
    except NoReverseMatch:
        return ""


def owner_link(c: Complaint) -> str:
    return _link("app-complaint", c.pk)


def console_link(c: Complaint) -> str:
    return _link("console-complaint", c.pk)


def _lock(complaint: Complaint) -> Complaint:
    return (
        Complaint.objects.for_group(complaint.dealer_group_id)
        .select_for_update(of=("self",))
        .select_related("store", "customer__owner", "category__parent", "assignee")
        .get(pk=complaint.pk)
    )


def _require(c: Complaint, *statuses) -> None:
    if c.status not in statuses:
        raise DomainError(
            "wrong_status",
            _("Not possible while the complaint is “%(status)s”.")
            % {"status": c.get_status_display()},
            status=409,
            status_now=c.status,
        )


def _handler(actor) -> None:
    check_perm(actor, Perm.HANDLE_COMPLAINTS)


def event(
    c: Complaint,
    kind: str,
    *,
    at: dt.datetime,
    msg: dict | None = None,
    body: str = "",
    owner_visible: bool = False,
    staff=None,
    owner=None,
    data: dict | None = None,
    call_direction: str = "",
    call_minutes: int | None = None,
) -> ComplaintEvent:
    """Append one event to the complaint and a line to the customer 360 timeline."""
    ev = ComplaintEvent.objects.create(
        dealer_group_id=c.dealer_group_id,
        complaint=c,
        kind=kind,
        at=at,
        author_staff=staff,
        author_owner=owner,
        text=msg or {},
        body=body,
        owner_visible=owner_visible,
        call_direction=call_direction,
        call_minutes=call_minutes,
        data=data or {},
    )
    record_timeline(
        c.customer,
        TimelineKind.COMPLAINT,
        TIMELINE_TITLE,
        params=text(TIMELINE_TITLE, ref=c.reference, what=EventKind(kind).label)["p"],
        data={"complaint": c.pk, "event": kind},
        actor=staff,
        at=at,
    )
    return ev


def _tell_owner(c: Complaint, ev: ComplaintEvent, title: dict, body: dict) -> None:
    tell_customer(
        c.customer,
        KIND,
        lambda: (title, body),
        dedupe=f"complaint:{c.pk}:event:{ev.pk}",
        link=owner_link(c),
    )


def _tell_people(people: Sequence, c: Complaint, title: dict, body: dict, key: str) -> None:
    tell_staff(
        [p for p in people if p is not None],
        KIND,
        lambda: (title, body),
        group_id=c.dealer_group_id,
        link=console_link(c),
        dedupe=f"complaint:{c.pk}:{key}",
    )


def _tell_assignee(c: Complaint, key: str) -> None:
    _tell_people(
        [c.assignee],
        c,
        text(gettext_noop("Complaint %(ref)s is yours"), ref=c.reference),
        text(
            gettext_noop("%(severity)s · %(category)s · %(customer)s"),
            severity=Severity(c.severity).label,
            category=name_of(c.category),
            customer=c.customer.name,
        ),
        key,
    )


def _role_label(level: int):
    return Level(level).label


def _first_response(c: Complaint, now: dt.datetime) -> None:
    if c.first_responded_at is None:
        c.first_responded_at = now

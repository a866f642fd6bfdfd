"""Writes of the car-pal events area: staff create, edit, open and cancel events; owners sign up
(a place while there are places, else the waiting list) and cancel (the first on the waiting list
moves up and is told); the day-before reminders; the QR check-in at the event (points after
commit); the photos owners add after the event, which become a story.

Capacity holds under parallel sign-ups: every sign-up, cancellation and capacity change locks
the event's row (SELECT ... FOR UPDATE) and counts the places under that lock."""

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import text
from m4s.core.uploads import clean_images
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer
from m4s.customers.services import get_or_create_customer_for_owner, record_timeline
from m4s.notify.services import tell_customer
from m4s.org.models import Store
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from .choices import (
    ACTIVE,
    HOLDS_PLACE,
    KIND_CANCELLED,
    KIND_PROMOTED,
    KIND_REMINDER,
    MAX_PHOTOS,
    EventStatus,
    SignupStatus,
)
from .models import Event, EventPhoto, Signup
from .selectors import owner_group_ids

EDITABLE = (
    "title",
    "title_i18n",
    "description",
    "description_i18n",
    "place_name",
    "address",
    "latitude",
    "longitude",
    "starts_at",
    "ends_at",
    "signup_deadline",
    "capacity",
    "status",
    "store_id",
)
REMIND_BEFORE = dt.timedelta(days=1)


def new_token() -> str:
    return secrets.token_urlsafe(18)


def event_link(event_id: int) -> str:
    return reverse("app-event", args=[event_id])


# --- staff: events -------------------------------------------------------------------------------
def _clean_event(group_id: int, data: dict, *, current: Event | None = None) -> dict:
    out = {k: v for k, v in data.items() if k in EDITABLE}
    for key in ("title", "place_name"):
        if key in out:
            out[key] = (out[key] or "").strip()
            if not out[key]:
                raise DomainError("invalid_" + key, _("This field is required."), status=422)
    for key in ("title_i18n", "description_i18n"):
        if key in out:
            out[key] = {
                k: (v or "").strip() for k, v in (out[key] or {}).items() if (v or "").strip()
            }
    if (
        out.get("store_id") is not None
        and not Store.objects.for_group(group_id).filter(pk=out["store_id"]).exists()
    ):
        raise DomainError(
            "invalid_store",
            _("That store is not one of this dealer group's stores."),
            status=422,
        )
    starts = out.get("starts_at", getattr(current, "starts_at", None))
    ends = out.get("ends_at", getattr(current, "ends_at", None))
    deadline = out.get("signup_deadline", getattr(current, "signup_deadline", None))
    if starts is None or ends is None:
        raise DomainError("invalid_time", _("Give the start and the end."), status=422)
    if deadline is None:
        out["signup_deadline"] = deadline = starts
    if ends < starts:
        raise DomainError("invalid_time", _("The event cannot end before it starts."), status=422)
    if deadline > starts:
        raise DomainError(
            "invalid_deadline", _("The sign-up deadline must be before the start."), status=422
        )
    for key in ("latitude", "longitude"):
        if isinstance(out.get(key), float | int):
            out[key] = Decimal(str(round(out[key], 6)))
    if "status" in out and out["status"] not in EventStatus.values:
        raise DomainError("invalid_status", _("Unknown status."), status=422)
    return out


def create_event(actor, *, group_id: int | None = None, cover=None, **data) -> Event:
    check_perm(actor, Perm.MANAGE_EVENTS)
    group_id = actor.dealer_group_id or group_id
    if not group_id:
        raise DomainError(
            "no_group", _("Only a dealer group's staff can create events."), status=422
        )
    data.setdefault("status", EventStatus.DRAFT)
    if data["status"] == EventStatus.CANCELLED:
        raise DomainError("invalid_status", _("A new event cannot be cancelled."), status=422)
    fields = _clean_event(group_id, data)
    image = clean_images([cover], limit=1) if cover else []
    with transaction.atomic():
        event = Event(dealer_group_id=group_id, created_by=actor, **fields)
        if image:
            event.cover.save(image[0].name, image[0], save=False)
        event.save()
    return event


def update_event(actor, event: Event, *, cover=None, **data) -> Event:
    """Edit an event (staff of its group). Cancelling goes through `cancel_event`; more places
    move the waiting list up; fewer places than are taken are refused."""
    check_perm(actor, Perm.MANAGE_EVENTS)
    if data.get("status") == EventStatus.CANCELLED:
        return cancel_event(actor, event)
    image = clean_images([cover], limit=1) if cover else []
    with transaction.atomic():
        event = _lock(event.pk)
        if event.status == EventStatus.CANCELLED:
            raise DomainError("event_cancelled", _("This event was cancelled."), status=409)
        fields = _clean_event(event.dealer_group_id, data, current=event)
        if (
            fields.get("status") == EventStatus.DRAFT
            and event.status != EventStatus.DRAFT
            and event.signups.filter(status__in=ACTIVE).exists()
        ):
            raise DomainError(
                "has_signups",
                _("Owners are signed up: the event cannot go back to draft. Cancel it instead."),
                status=409,
            )
        if "capacity" in fields:
            taken = event.signups.filter(status__in=HOLDS_PLACE).count()
            if fields["capacity"] < taken:
                raise DomainError(
                    "capacity_below_signups",
                    _("%(n)d places are already taken: the capacity cannot be lower.")
                    % {"n": taken},
                    status=409,
                )
        for key, value in fields.items():
            setattr(event, key, value)
        if image:
            event.cover.save(image[0].name, image[0], save=False)
        event.save()
        if event.status == EventStatus.OPEN:
            _fill_places(event)
    return event


def cancel_event(actor, event: Event) -> Event:
    """Staff cancel an event: every active sign-up is cancelled and its owner told."""
    check_perm(actor, Perm.MANAGE_EVENTS)
    with transaction.atomic():
        event = _lock(event.pk)
        if event.status == EventStatus.CANCELLED:
            return event
        event.status = EventStatus.CANCELLED
        event.save(update_fields=["status", "updated_at"])
        now = timezone.now()
        told = list(event.signups.filter(status__in=ACTIVE).values_list("pk", flat=True))
        event.signups.filter(pk__in=told).update(
            status=SignupStatus.CANCELLED, cancelled_at=now, position=None
        )
        transaction.on_commit(lambda: _enqueue_tell(told, "cancelled"))
    return event


def _lock(event_id: int) -> Event:
    return Event.objects.unscoped().select_for_update().get(pk=event_id)


def _fill_places(event: Event) -> list[int]:
    """Under the event's lock: the first ones waiting take the free places (told after commit)."""
    free = event.capacity - event.signups.filter(status__in=HOLDS_PLACE).count()
    if free <= 0:
        return []
    ids = list(
        event.signups.filter(status=SignupStatus.WAITLISTED)
        .order_by("position", "id")
        .values_list("pk", flat=True)[:free]
    )
    if ids:
        event.signups.filter(pk__in=ids).update(
            status=SignupStatus.CONFIRMED, position=None, promoted_at=timezone.now()
        )
        transaction.on_commit(lambda: _enqueue_tell(ids, "promoted"))
        _renumber_waitlist(event)
    return ids


def _renumber_waitlist(event: Event) -> None:
    """Under the event's lock: the waiting list numbered 1, 2, 3 … again, in its order, so that an
    owner's number is always how many wait before them plus one."""
    waiting = list(
        event.signups.filter(status=SignupStatus.WAITLISTED)
        .order_by("position", "id")
        .only("pk", "position")
    )
    moved = []
    for number, signup in enumerate(waiting, 1):
        if signup.position != number:
            signup.position = number
            moved.append(signup)
    if moved:
        Signup.objects.unscoped().bulk_update(moved, ["position"])


def _enqueue_tell(signup_ids: list[int], what: str) -> None:
    from .tasks import tell_signups_task

    if signup_ids:
        tell_signups_task.enqueue(signup_ids, what)


# --- owners: sign up and cancel -------------------------------------------------------------------
@dataclass
class SignupResult:
    signup: Signup
    created: bool


def _customer_in(owner, event: Event) -> Customer:
    customer = Customer.objects.for_group(event.dealer_group_id).filter(owner=owner).first()
    if customer is not None:
        return customer
    store = event.store
    home = getattr(owner, "home_store", None)
    if store is None and home is not None and home.dealer_group_id == event.dealer_group_id:
        store = home
    if store is None:
        store = Store.objects.for_group(event.dealer_group_id).order_by("pk").first()
    if store is None:
        raise NotFound(_("No such event."))
    return get_or_create_customer_for_owner(owner, store)


def _visible_event(owner, event_id: int) -> Event:
    event = (
        Event.objects.unscoped()
        .filter(pk=event_id, dealer_group_id__in=owner_group_ids(owner))
        .exclude(status=EventStatus.DRAFT)
        .first()
    )
    if event is None:
        raise NotFound(_("No such event."))
    return event


def sign_up(owner, event_id: int, *, now=None, key: str = "") -> SignupResult:
    """A place while there are places, else the waiting list (in order). Signing up again while
    signed up answers the same sign-up; after a cancellation it signs up anew, except for a
    retry of the request that made the sign-up (same `key`, the Idempotency-Key), which answers
    the sign-up as it is now."""
    now = now or timezone.now()
    event = _visible_event(owner, event_id)
    customer = _customer_in(owner, event)
    with transaction.atomic():
        event = _lock(event.pk)
        if event.status == EventStatus.CANCELLED:
            raise DomainError("event_cancelled", _("This event was cancelled."), status=409)
        if event.status == EventStatus.DONE or event.ends_at < now:
            raise DomainError("event_over", _("This event is over."), status=409)
        signup = event.signups.filter(customer=customer).first()
        if signup is not None and (signup.status in ACTIVE or (key and signup.request_key == key)):
            return SignupResult(signup, False)
        if now > event.signup_deadline:
            raise DomainError(
                "signup_closed", _("The sign-up deadline for this event has passed."), status=409
            )
        taken = event.signups.filter(status__in=HOLDS_PLACE).count()
        if taken < event.capacity:
            status, position = SignupStatus.CONFIRMED, None
        else:
            last = event.signups.aggregate(m=Max("position"))["m"] or 0
            status, position = SignupStatus.WAITLISTED, last + 1
        if signup is None:
            signup = Signup.objects.create(
                dealer_group_id=event.dealer_group_id,
                event=event,
                customer=customer,
                status=status,
                position=position,
                token=new_token(),
                request_key=key,
            )
        else:
            signup.status, signup.position, signup.cancelled_at = status, position, None
            signup.token, signup.request_key = new_token(), key
            signup.checked_in_at, signup.checked_in_by = None, None
            signup.save()
        record_timeline(
            customer,
            TimelineKind.COMMUNITY,
            gettext_noop("Signed up for the event %(event)s")
            if status == SignupStatus.CONFIRMED
            else gettext_noop("On the waiting list of the event %(event)s"),
            params={"event": event.title},
            data={"event": event.pk},
        )
    return SignupResult(signup, True)


def cancel_signup(owner, event_id: int, *, now=None) -> Signup:
    """The owner cancels: a place they held goes to the first one waiting (who is told)."""
    now = now or timezone.now()
    event = _visible_event(owner, event_id)
    with transaction.atomic():
        event = _lock(event.pk)
        signup = (
            Signup.objects.for_owner(owner)
            .filter(event=event)
            .select_for_update(of=("self",))
            .select_related("customer")
            .first()
        )
        if signup is None or signup.status == SignupStatus.CANCELLED:
            raise DomainError(
                "not_signed_up", _("You are not signed up for this event."), status=409
            )
        if signup.status == SignupStatus.CHECKED_IN:
            raise DomainError("checked_in", _("You were already checked in."), status=409)
        if event.starts_at <= now:
            raise DomainError("event_started", _("The event has already started."), status=409)
        held = signup.status == SignupStatus.CONFIRMED
        signup.status, signup.position, signup.cancelled_at = SignupStatus.CANCELLED, None, now
        signup.save(update_fields=["status", "position", "cancelled_at", "updated_at"])
        record_timeline(
            signup.customer,
            TimelineKind.COMMUNITY,
            gettext_noop("Cancelled the sign-up for the event %(event)s"),
            params={"event": event.title},
            data={"event": event.pk},
        )
        if held and event.status == EventStatus.OPEN:
            _fill_places(event)
        _renumber_waitlist(event)
    return signup


# --- messages (tasks call these) -------------------------------------------------------------------
def tell_signups(signup_ids: list[int], what: str) -> int:
    """Tell owners their sign-up moved up from the waiting list, or that the event was
    cancelled. Deduplicated per sign-up and message: safe to run twice."""
    n = 0
    for s in (
        Signup.objects.unscoped().filter(pk__in=signup_ids).select_related("event", "customer")
    ):
        e = s.event
        if what == "promoted":
            kind = KIND_PROMOTED
            title = text(gettext_noop("You have a place at %(event)s"), event=e.title)
            body = text(
                gettext_noop("A place freed up: you are signed up for %(event)s on %(when)s."),
                event=e.title,
                when=timezone.localtime(e.starts_at).strftime("%Y-%m-%d %H:%M"),
            )
            dedupe = f"event-signup:{s.pk}:promoted:{s.promoted_at and s.promoted_at.isoformat()}"
        else:
            kind = KIND_CANCELLED
            title = text(gettext_noop("%(event)s is cancelled"), event=e.title)
            body = text(
                gettext_noop("We are sorry: the event %(event)s on %(when)s is cancelled."),
                event=e.title,
                when=timezone.localtime(e.starts_at).strftime("%Y-%m-%d %H:%M"),
            )
            dedupe = f"event-signup:{s.pk}:event-cancelled"
        tell_customer(
            s.customer,
            kind,
            lambda t=title, b=body: (t, b),
            dedupe=dedupe,
            link=event_link(e.pk),
            sms=what == "cancelled",
        )
        n += 1
    return n


def send_reminders(now=None) -> int:
    """The day before: one reminder per confirmed sign-up of an open event starting within a
    day. Each sign-up is claimed (reminded_at set) under a row lock before the message is
    written, in the same transaction: safe to run twice or on parallel workers."""
    now = now or timezone.now()
    due = Signup.objects.unscoped().filter(
        status=SignupStatus.CONFIRMED,
        reminded_at__isnull=True,
        event__status=EventStatus.OPEN,
        event__starts_at__gt=now,
        event__starts_at__lte=now + REMIND_BEFORE,
    )
    sent = 0
    for pk in list(due.values_list("pk", flat=True)[:5000]):
        with transaction.atomic():
            s = (
                due.filter(pk=pk)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("event", "customer")
                .first()
            )
            if s is None:
                continue
            s.reminded_at = now
            s.save(update_fields=["reminded_at"])
            e = s.event
            title = text(gettext_noop("Tomorrow: %(event)s"), event=e.title)
            body = text(
                gettext_noop(
                    "%(event)s starts at %(when)s, %(place)s. Show your ticket at the entrance."
                ),
                event=e.title,
                when=timezone.localtime(e.starts_at).strftime("%Y-%m-%d %H:%M"),
                place=e.place_name,
            )
            tell_customer(
                s.customer,
                KIND_REMINDER,
                lambda t=title, b=body: (t, b),
                dedupe=f"event-signup:{s.pk}:reminder",
                link=reverse("app-event-ticket", args=[e.pk]),
            )
            sent += 1
    return sent


def close_ended_events(now=None) -> int:
    """Open events that have ended are done."""
    now = now or timezone.now()
    return (
        Event.objects.unscoped()
        .filter(status=EventStatus.OPEN, ends_at__lt=now)
        .update(status=EventStatus.DONE, updated_at=now)
    )


# --- staff: check-in --------------------------------------------------------------------------------
def check_in(actor, event: Event, token: str, *, now=None) -> Signup:
    """Staff scan (or type) a ticket at the event. A ticket of another group is unknown (404),
    of another event of the group 409 `wrong_event`, twice 409 `already_checked_in`. Points for
    the check-in are earned after commit (once per sign-up)."""
    check_perm(actor, Perm.MANAGE_EVENTS)
    now = now or timezone.now()
    token = (token or "").strip()
    with transaction.atomic():
        signup = (
            Signup.objects.for_actor(actor)
            .filter(token=token)
            .select_for_update(of=("self",))
            .select_related("customer", "event")
            .first()
            if token
            else None
        )
        if signup is None:
            raise NotFound(_("No such ticket."))
        if signup.event_id != event.pk:
            raise DomainError(
                "wrong_event",
                _("This ticket is for another event: %(event)s.") % {"event": signup.event.title},
                status=409,
            )
        if event.status in (EventStatus.CANCELLED, EventStatus.DRAFT):
            raise DomainError("event_not_open", _("This event is not open."), status=409)
        if signup.status == SignupStatus.CHECKED_IN:
            raise DomainError(
                "already_checked_in",
                _("Already checked in at %(when)s.")
                % {"when": timezone.localtime(signup.checked_in_at).strftime("%H:%M")},
                status=409,
            )
        if signup.status == SignupStatus.CANCELLED:
            raise DomainError("signup_cancelled", _("This sign-up was cancelled."), status=409)
        if signup.status == SignupStatus.WAITLISTED:
            raise DomainError(
                "waitlisted", _("This owner is on the waiting list, without a place."), status=409
            )
        signup.status, signup.checked_in_at, signup.checked_in_by = (
            SignupStatus.CHECKED_IN,
            now,
            actor,
        )
        signup.save(update_fields=["status", "checked_in_at", "checked_in_by", "updated_at"])
        record_timeline(
            signup.customer,
            TimelineKind.COMMUNITY,
            gettext_noop("Checked in at the event %(event)s"),
            params={"event": signup.event.title},
            data={"event": signup.event_id},
            actor=actor,
        )
        pk = signup.pk
        transaction.on_commit(lambda: _enqueue_points(pk))
    return signup


def _enqueue_points(signup_id: int) -> None:
    from .tasks import checkin_points_task

    checkin_points_task.enqueue(signup_id)


def earn_checkin_points(signup_id: int) -> bool:
    """The loyalty event of a check-in: once per sign-up (its source), whatever runs twice."""
    from m4s.loyalty.choices import Event as LoyaltyEvent
    from m4s.loyalty.services import record_event

    s = Signup.objects.unscoped().filter(pk=signup_id).select_related("customer", "event").first()
    if s is None or s.status != SignupStatus.CHECKED_IN:
        return False
    earned = record_event(
        s.customer,
        LoyaltyEvent.EVENT_CHECKIN,
        source=f"event-checkin:{s.pk}",
        key=f"event:{s.event_id}",
        store_id=s.event.store_id,
        now=s.checked_in_at,
    )
    return bool(getattr(earned, "created", True))


# --- owners: photos after the event -----------------------------------------------------------------
def add_photos(owner, event_id: int, files, *, story_text: str = "", now=None) -> list[EventPhoto]:
    """An owner who was at the event adds photos (up to 9) once it has ended: they are kept with
    the event and become the owner's story (pre-moderated by the community area)."""
    now = now or timezone.now()
    event = _visible_event(owner, event_id)
    signup = Signup.objects.for_owner(owner).filter(event=event).select_related("customer").first()
    if signup is None or signup.status not in (SignupStatus.CHECKED_IN, SignupStatus.CONFIRMED):
        raise DomainError(
            "not_attended", _("Only owners who came to the event can add photos."), status=409
        )
    if event.ends_at > now and event.status != EventStatus.DONE:
        raise DomainError("event_not_over", _("Photos can be added after the event."), status=409)
    if len(story_text or "") > 2000:
        raise DomainError("text_too_long", _("At most 2000 characters."), status=422)
    images = clean_images(files, limit=MAX_PHOTOS)
    if not images:
        raise DomainError("no_photos", _("Choose at least one photo."), status=422)
    with transaction.atomic():
        Signup.objects.for_owner(owner).select_for_update(of=("self",)).filter(pk=signup.pk).first()
        had = EventPhoto.objects.for_owner(owner).filter(event=event).count()
        if had + len(images) > MAX_PHOTOS:
            raise DomainError(
                "too_many_photos",
                _("At most %(n)d photos per event: you can add %(left)d more.")
                % {"n": MAX_PHOTOS, "left": max(MAX_PHOTOS - had, 0)},
                status=409,
            )
        photos = []
        for image in images:
            photo = EventPhoto(
                dealer_group_id=event.dealer_group_id, event=event, customer=signup.customer
            )
            photo.image.save(image.name, image, save=False)
            photo.save()
            photos.append(photo)
        story_id = _make_story(signup.customer, event, story_text, images)
        if story_id:
            EventPhoto.objects.for_group(event.dealer_group_id).filter(
                pk__in=[p.pk for p in photos]
            ).update(story_id=story_id)
            for p in photos:
                p.story_id = story_id
    return photos


def _make_story(customer: Customer, event: Event, story_text: str, images) -> int | None:
    try:
        from m4s.community.services import create_story
    except ImportError:  # the community area not installed yet: the photos stay with the event
        return None
    for image in images:
        image.seek(0)
    words = story_text.strip() or str(_("At %(event)s") % {"event": event.t("title")})
    story = create_story(customer, text=words, photos=list(images), event_id=event.pk)
    return getattr(story, "pk", None)

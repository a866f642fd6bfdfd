"""Scoped reads of car-pal events: an owner sees the open events of the dealer groups they belong
to (their home store's group and every group they are a customer of) and their own sign-ups;
staff see their group's events (platform admins every group's). Another group's event is a
NotFound (404)."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import NotFound
from m4s.customers.models import Customer

from .choices import ACTIVE, HOLDS_PLACE, EventStatus, SignupStatus
from .models import Event, EventPhoto, Signup

VISIBLE_TO_OWNERS = (EventStatus.OPEN, EventStatus.CANCELLED, EventStatus.DONE)


def owner_group_ids(owner) -> set[int]:
    if not owner or getattr(owner, "pk", None) is None:
        return set()
    ids = set(Customer.objects.for_owner(owner).values_list("dealer_group_id", flat=True))
    store = getattr(owner, "home_store", None)
    if store is not None:
        ids.add(store.dealer_group_id)
    return ids


def _with_counts(qs: QuerySet) -> QuerySet:
    return qs.annotate(
        taken=Count("signups", filter=Q(signups__status__in=HOLDS_PLACE)),
        waiting=Count("signups", filter=Q(signups__status=SignupStatus.WAITLISTED)),
        checked_in=Count("signups", filter=Q(signups__status=SignupStatus.CHECKED_IN)),
    )


def places_left(event) -> int:
    taken = getattr(event, "taken", None)
    if taken is None:
        taken = event.signups.filter(status__in=HOLDS_PLACE).count()
    return max(event.capacity - taken, 0)


# --- owner ---------------------------------------------------------------------------------------
def events_for_owner(owner) -> QuerySet:
    return _with_counts(
        Event.objects.unscoped()
        .filter(dealer_group_id__in=owner_group_ids(owner), status__in=VISIBLE_TO_OWNERS)
        .select_related("store")
    )


def get_event_for_owner(owner, event_id: int) -> Event:
    event = events_for_owner(owner).filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("No such event."))
    return event


def my_signups(owner) -> dict[int, Signup]:
    """{event id: the owner's sign-up} (every group)."""
    return {
        s.event_id: s
        for s in Signup.objects.for_owner(owner).select_related("event").order_by("created_at")
    }


def get_my_signup(owner, event_id: int) -> Signup | None:
    return Signup.objects.for_owner(owner).filter(event_id=event_id).first()


def owner_events(owner, *, now=None) -> dict[str, list]:
    """The owner app's lists: upcoming (open, not ended), my tickets (active sign-ups of events
    not ended) and past (ended or done events I signed up for or of my groups), each event with
    `.signup` (mine or None)."""
    now = now or timezone.now()
    mine = my_signups(owner)
    events = list(events_for_owner(owner).order_by("starts_at", "id"))
    for e in events:
        e.signup = mine.get(e.pk)
        e.left = places_left(e)
    upcoming = [e for e in events if e.status == EventStatus.OPEN and e.ends_at >= now]
    tickets = [e for e in upcoming if e.signup and e.signup.status in ACTIVE]
    past = [e for e in events if e.ends_at < now or e.status == EventStatus.DONE]
    past.reverse()
    return {"upcoming": upcoming, "tickets": tickets, "past": past[:30]}


def upcoming_for_owner(owner, *, now=None) -> list:
    return owner_events(owner, now=now)["upcoming"]


def my_photos(owner, event_id: int) -> list:
    return list(EventPhoto.objects.for_owner(owner).filter(event_id=event_id))


def event_photos(event) -> list:
    return list(event.photos.all())


# --- staff ---------------------------------------------------------------------------------------
def events_for_staff(actor) -> QuerySet:
    return _with_counts(Event.objects.for_actor(actor).select_related("store"))


def get_event_for_staff(actor, event_id: int) -> Event:
    event = events_for_staff(actor).filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("No such event."))
    return event


def signups_of(event) -> list[Signup]:
    """Confirmed and checked in first (by sign-up time), then the waiting list in order, then
    the cancelled ones."""
    rows = list(
        event.signups.select_related("customer", "checked_in_by").order_by("created_at", "id")
    )
    order = {
        SignupStatus.CHECKED_IN: 0,
        SignupStatus.CONFIRMED: 0,
        SignupStatus.WAITLISTED: 1,
        SignupStatus.CANCELLED: 2,
    }
    return sorted(rows, key=lambda s: (order[s.status], s.position or 0))

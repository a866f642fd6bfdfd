"""Reads of the conversations area, scoped to the owner or the acting staff member: the owner's
list and thread (never a note), the staff inbox boxes with search, the thread with notes, unread
counts, canned replies, the customer-360 side panel and the quality figures."""

import datetime as dt
import hashlib
import zoneinfo

from django.db.models import Avg, Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.complaints.choices import OPEN_STATUSES as OPEN_COMPLAINT
from m4s.complaints.models import Complaint
from m4s.core.dates import add_months
from m4s.core.errors import NotFound
from m4s.customers.models import Binding, Customer
from m4s.org.models import Store
from m4s.service.choices import OPEN_RO, AppointmentStatus
from m4s.service.models import Appointment, RepairOrder
from m4s.staff.choices import Perm, Role
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm

from .choices import QUEUE_ROLES, TOPIC_ROLE, Box, CallbackStatus, CallBasis, MessageKind, Stage
from .models import (
    CLOSED,
    OPEN,
    Call,
    CallbackRequest,
    CannedReply,
    Conversation,
    Handover,
    Message,
)

INBOX_LIMIT = 100
THREAD_LIMIT = 200
SEARCH_LIMIT = 200
ALL_TOPICS_ROLES = {Role.PLATFORM_ADMIN, Role.GROUP_ADMIN, Role.STORE_MANAGER}


# --- owner --------------------------------------------------------------------------------------
def conversations_for_owner(owner):
    return Conversation.objects.for_owner(owner)


def owner_conversations(owner):
    """The owner's conversations, the latest first (every group they are a customer of)."""
    return (
        conversations_for_owner(owner)
        .select_related("store", "assignee", "customer")
        .order_by("-last_message_at", "-id")
    )


def owner_conversation(owner, pk: int) -> Conversation:
    found = (
        conversations_for_owner(owner)
        .select_related("store", "assignee", "customer")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("No such conversation."))
    return found


def owner_messages(owner, conversation, after: int | None = None, limit: int = THREAD_LIMIT):
    """What the owner sees of a thread: messages and system lines, never a note. `after`: only
    messages after this id (polling); else the latest `limit`, oldest first."""
    conv = owner_conversation(owner, getattr(conversation, "pk", conversation))
    qs = (
        Message.objects.for_owner(owner)
        .filter(conversation=conv, kind=MessageKind.MESSAGE)
        .select_related("author_staff")
        .prefetch_related("photos")
    )
    return _thread(qs, after, limit)


def _thread(qs, after, limit) -> list[Message]:
    if after is not None:
        return list(qs.filter(id__gt=after).order_by("id")[:limit])
    rows = list(qs.order_by("-id")[:limit])
    rows.reverse()
    return rows


def owner_unread_count(owner) -> int:
    return conversations_for_owner(owner).aggregate(n=Sum("owner_unread"))["n"] or 0


def owner_callback_requests(owner):
    return (
        CallbackRequest.objects.for_owner(owner)
        .select_related("store")
        .order_by("-created_at", "-id")
    )


# --- staff: scope -------------------------------------------------------------------------------
def staff_store_ids(actor) -> set[int] | None:
    """None: every store of the actor's group."""
    if actor.has_perm_m4s(Perm.VIEW_ALL_STORES):
        return None
    return set(actor.store_ids())


def _staff_may_read(actor) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
        and (
            actor.has_perm_m4s(Perm.HANDLE_CONVERSATIONS)
            or actor.has_perm_m4s(Perm.VIEW_CONVERSATION_FIGURES)
        )
    )


def conversations_for_staff(actor):
    """Conversations the staff member may open: their group's, their stores' unless they see
    every store (and, where the group limits front-line staff to their own store, only those
    of customers they may see)."""
    if not _staff_may_read(actor):
        return Conversation.objects.for_group(None)
    if actor.is_platform_admin:  # the platform runs no group's inbox
        return Conversation.objects.for_group(None)
    qs = Conversation.objects.for_actor(actor)
    ids = staff_store_ids(actor)
    return qs if ids is None else qs.filter(store_id__in=ids)


def my_topics(actor) -> list[str] | None:
    """The topics of the staff member's role (None: all, for managers and admins)."""
    if actor.role in ALL_TOPICS_ROLES:
        return None
    topics = [t for t, role in TOPIC_ROLE.items() if role == actor.role]
    return [str(t) for t in topics]


def _offered_to(actor) -> Q:
    """Unassigned conversations offered to this person: the on-duty team of their role, the CS
    queue for the queue's roles, everything for managers."""
    topics = my_topics(actor)
    if topics is None:
        return Q(assignee__isnull=True)
    offered = Q(assignee__isnull=True, topic__in=topics)
    if actor.role in QUEUE_ROLES:
        offered |= Q(assignee__isnull=True, stage=Stage.CS_QUEUE)
    return offered


def _mine_or_topics(actor) -> Q:
    topics = my_topics(actor)
    if topics is None:
        return Q()
    return Q(assignee=actor) | Q(topic__in=topics) | _offered_to(actor)


def _search(actor, q: str) -> list[int] | None:
    q = (q or "").strip()
    if not q:
        return None
    from m4s.customers.selectors import search_customers

    return [c.pk for c in search_customers(actor, q, limit=SEARCH_LIMIT)]


def _inbox_queryset(actor, box: str, q: str = ""):
    if box not in Box.values:
        box = Box.MINE
    base = conversations_for_staff(actor)
    if not actor.has_perm_m4s(Perm.HANDLE_CONVERSATIONS):
        base = base.none()
    if box == Box.MINE:
        qs = base.filter(status=OPEN, assignee=actor).order_by("-last_message_at", "-id")
    elif box == Box.TEAM:
        topics = my_topics(actor)
        qs = base.filter(status=OPEN).exclude(assignee=actor)
        if topics is not None:
            qs = qs.filter(topic__in=topics)
        qs = qs.order_by("-last_message_at", "-id")
    elif box == Box.UNASSIGNED:
        qs = base.filter(_offered_to(actor), status=OPEN).order_by("-last_message_at", "-id")
    elif box == Box.WAITING:
        qs = (
            base.filter(status=OPEN, waiting_since__isnull=False)
            .filter(_mine_or_topics(actor))
            .order_by("waiting_since", "id")
        )
    else:
        qs = (
            base.filter(status=CLOSED)
            .filter(_mine_or_topics(actor) | Q(closed_by=actor))
            .order_by("-closed_at", "-id")
        )
    found = _search(actor, q)
    if found is not None:
        qs = qs.filter(customer_id__in=found)
    return qs


def staff_inbox(actor, box: str = Box.MINE, q: str = "", limit: int = INBOX_LIMIT):
    """One box of the inbox: `mine` (open, mine), `team` (open, my role's topics, with
    colleagues or offered), `unassigned` (open, offered to me), `waiting` (the owner waits on
    us, longest first), `closed`; narrowed by customer name, phone or plate."""
    qs = _inbox_queryset(actor, box, q)
    return list(qs.select_related("customer", "store", "assignee")[:limit])


INBOX_FIELDS = (
    "id",
    "topic",
    "stage",
    "status",
    "store_id",
    "store__name",
    "customer_id",
    "customer__name",
    "customer__phone",
    "assignee_id",
    "assignee__display_name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "waiting_since",
    "first_response_due_at",
    "last_message_at",
    "last_message_preview",
    "staff_unread",
    "created_at",
    "closed_at",
    "rating",
)


def staff_inbox_rows(actor, box: str = Box.MINE, q: str = "", limit: int = INBOX_LIMIT) -> list:
    """`staff_inbox` as plain dicts of the columns a list shows (no model objects: the API's
    polled inbox stays cheap); `assignee_name` is the handler's display name."""
    rows = list(_inbox_queryset(actor, box, q).values(*INBOX_FIELDS)[:limit])
    for r in rows:
        full = f"{r['assignee__first_name']} {r['assignee__last_name']}".strip()
        r["assignee_name"] = r["assignee__display_name"] or full or r["assignee__username"] or ""
    return rows


def inbox_signature(actor, box: str = Box.MINE, q: str = "", limit: int = INBOX_LIMIT) -> str:
    """A short fingerprint of what the box shows (the rows and every field of theirs that can
    change: last message, unread count, stage, handler, wait, status), read from the same index
    without joins: a poller compares it with the one it has and re-renders only on change."""
    rows = list(
        _inbox_queryset(actor, box, q).values_list(
            "id",
            "last_message_at",
            "staff_unread",
            "stage",
            "assignee_id",
            "waiting_since",
            "status",
            "rating",
        )[:limit]
    )
    return hashlib.sha1(repr(rows).encode(), usedforsecurity=False).hexdigest()[:16]


def inbox_counts(actor) -> dict[str, int]:
    """Badges of the inbox: open conversations mine / in my team / offered to me / waiting, and
    the owner messages I have not read in mine (one aggregate query)."""
    if not _staff_may_read(actor) or not actor.has_perm_m4s(Perm.HANDLE_CONVERSATIONS):
        return {"mine": 0, "mine_unread": 0, "team": 0, "unassigned": 0, "waiting": 0}
    topics = my_topics(actor)
    team = ~Q(assignee=actor) if topics is None else (~Q(assignee=actor) & Q(topic__in=topics))
    mine = Q(assignee=actor)
    row = (
        conversations_for_staff(actor)
        .filter(status=OPEN)
        .aggregate(
            mine=Count("id", filter=mine),
            mine_unread=Sum("staff_unread", filter=mine),
            team=Count("id", filter=team),
            unassigned=Count("id", filter=_offered_to(actor)),
            waiting=Count("id", filter=Q(waiting_since__isnull=False) & _mine_or_topics(actor)),
        )
    )
    return {k: int(v or 0) for k, v in row.items()}


def staff_unread_count(actor) -> int:
    """The console navigation's badge: unread owner messages in my conversations plus the
    conversations offered to me that nobody has taken."""
    counts = inbox_counts(actor)
    return counts["mine_unread"] + counts["unassigned"]


def staff_conversation(actor, pk: int, *, light: bool = False) -> Conversation:
    """One conversation the staff member may open (404 otherwise); `light`: the row alone,
    without the customer, consultants and handler joined in."""
    if light:
        found = conversations_for_staff(actor).filter(pk=pk).first()
        if found is None:
            raise NotFound(_("No such conversation."))
        return found
    found = (
        conversations_for_staff(actor)
        .select_related(
            "store",
            "customer__owner",
            "customer__sales_consultant",
            "customer__service_advisor",
            "customer__cs_agent",
            "assignee",
            "closed_by",
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("No such conversation."))
    found.checked_for_staff = actor.pk
    return found


def checked_conversation(actor, conversation) -> Conversation:
    """`conversation` as this staff member may open it: used as it is when this request already
    read it through `staff_conversation` for them (no second query), else read and checked."""
    if getattr(conversation, "checked_for_staff", None) == actor.pk:
        return conversation
    return staff_conversation(actor, getattr(conversation, "pk", conversation))


def staff_messages(actor, conversation, after: int | None = None, limit: int = THREAD_LIMIT):
    """The thread as staff see it: messages, notes and system lines. `conversation`: one read
    through `staff_conversation` (used as it is), or an id (checked here)."""
    if isinstance(conversation, Conversation):
        conv = conversation
    else:
        conv = staff_conversation(actor, conversation, light=True)
    qs = (
        Message.objects.for_group(conv.dealer_group_id)
        .filter(conversation=conv)
        .select_related("author_staff")
        .prefetch_related("photos")
    )
    return _thread(qs, after, limit)


def handovers(actor, conversation) -> list[Handover]:
    conv = checked_conversation(actor, conversation)
    return list(
        Handover.objects.for_group(conv.dealer_group_id)
        .filter(conversation=conv)
        .select_related("from_staff", "to_staff", "by_staff")
        .order_by("at", "id")
    )


def transfer_choices(actor, conversation) -> list:
    """Colleagues a conversation may be passed to: active, in its store, who answer
    conversations (the current handler left out)."""
    from ._common import can_handle

    conv = checked_conversation(actor, conversation)
    people = (
        StaffUser.objects.filter(dealer_group_id=conv.dealer_group_id, is_active=True)
        .filter(Q(stores=conv.store) | Q(role=Role.GROUP_ADMIN))
        .exclude(pk=conv.assignee_id or 0)
        .distinct()
        .prefetch_related("stores")
        .order_by("role", "username")
    )
    return [p for p in people if can_handle(p, conv.store)]


def canned_replies(actor, topic: str | None = None) -> list[CannedReply]:
    if actor.dealer_group_id is None:
        return []
    qs = CannedReply.objects.for_group(actor.dealer_group_id).filter(is_active=True)
    if topic:
        qs = qs.filter(Q(topic="") | Q(topic=topic))
    return list(qs.order_by("position", "id"))


def open_callback_requests(actor, store_id: int | None = None):
    """Owners waiting for a call back, the earliest window first."""
    if not _staff_may_read(actor) or actor.is_platform_admin:
        return CallbackRequest.objects.for_group(None)
    qs = CallbackRequest.objects.for_actor(actor).filter(status=CallbackStatus.OPEN)
    ids = staff_store_ids(actor)
    if ids is not None:
        qs = qs.filter(store_id__in=ids)
    if store_id:
        qs = qs.filter(store_id=store_id)
    return qs.select_related("customer", "store", "conversation").order_by("window_start", "id")


def calls_of_customer(actor, customer, limit: int = 20) -> list[Call]:
    customer = _panel_customer(actor, customer)
    return list(
        Call.objects.for_group(customer.dealer_group_id)
        .filter(customer=customer)
        .select_related("staff")
        .order_by("-started_at", "-id")[:limit]
    )


def conversations_of_customer(actor, customer):
    customer = _panel_customer(actor, customer)
    return (
        conversations_for_staff(actor)
        .filter(customer=customer)
        .select_related("assignee", "store")
        .order_by("-last_message_at", "-id")
    )


# --- customer 360 side panel ----------------------------------------------------------------------
def _panel_customer(actor, customer) -> Customer:
    from m4s.customers.selectors import customers_for

    if getattr(customer, "checked_for_staff", None) == actor.pk:
        return customer  # read and checked for this staff member earlier in this request
    pk = getattr(customer, "pk", customer)
    found = (
        customers_for(actor)
        .select_related("store", "owner", "sales_consultant", "service_advisor", "cs_agent")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("No such customer."))
    found.checked_for_staff = actor.pk
    return found


def customer_panel(actor, customer, now: dt.datetime | None = None) -> dict:
    """The customer 360 beside a conversation: cars, next visit, open repair order, open
    complaints, points (a handful of indexed queries)."""
    customer = _panel_customer(actor, customer)
    group = customer.dealer_group_id
    now = now or timezone.now()
    cars = [
        b.vehicle
        for b in Binding.objects.for_group(group)
        .filter(customer=customer, ended_at__isnull=True)
        .select_related("vehicle")
        .order_by("-created_at")
    ]
    next_visit = (
        Appointment.objects.for_group(group)
        .filter(customer=customer, status=AppointmentStatus.BOOKED, starts_at__gte=now)
        .select_related("store", "vehicle")
        .order_by("starts_at")
        .first()
    )
    open_ro = (
        RepairOrder.objects.for_group(group)
        .filter(customer=customer, status__in=OPEN_RO)
        .select_related("vehicle", "store")
        .order_by("-id")
        .first()
    )
    complaints = list(
        Complaint.objects.for_group(group)
        .filter(customer=customer, status__in=OPEN_COMPLAINT)
        .select_related("category")
        .order_by("-created_at")[:5]
    )
    points = None
    from m4s.loyalty.models import Member

    member = (
        Member.objects.for_group(group).filter(customer=customer).select_related("tier").first()
    )
    if member is not None:
        points = {"balance": member.balance, "tier": str(member.tier) if member.tier_id else ""}
    return {
        "customer": customer,
        "cars": cars,
        "next_visit": next_visit,
        "open_repair_order": open_ro,
        "open_complaints": complaints,
        "points": points,
        "consultants": {
            "sales": customer.sales_consultant,
            "service": customer.service_advisor,
            "cs": customer.cs_agent,
        },
    }


# --- figures ------------------------------------------------------------------------------------
def _month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = zoneinfo.ZoneInfo(str(timezone.get_default_timezone()))
    first = month.replace(day=1)
    return (
        dt.datetime.combine(first, dt.time.min, tzinfo=tz),
        dt.datetime.combine(add_months(first, 1), dt.time.min, tzinfo=tz),
    )


def _rounded(value) -> float | None:
    return None if value is None else round(float(value), 1)


def figures(actor, *, store=None, month: dt.date | None = None) -> dict:
    """Quality figures of one month (default this one) for the group or one store: first
    response and resolution in business minutes per staff member and per store, conversations
    per consultant, ratings, calls (unsolicited ones apart). Set-based queries only."""
    check_perm(actor, Perm.VIEW_CONVERSATION_FIGURES)
    month = (month or timezone.localdate()).replace(day=1)
    start, end = _month_bounds(month)
    stores = staff_store_ids(actor)
    store_id = getattr(store, "pk", store)
    group = actor.dealer_group_id
    if store_id:
        if (stores is not None and store_id not in stores) or not Store.objects.for_group(
            group
        ).filter(pk=store_id).exists():
            raise NotFound(_("No such store."))
        stores = {store_id}

    def scoped(qs, field="store_id"):
        qs = qs.for_group(group)
        return qs if stores is None else qs.filter(**{f"{field}__in": stores})

    responses = scoped(
        Message.objects.filter(
            response_minutes__isnull=False, created_at__gte=start, created_at__lt=end
        ),
        "conversation__store_id",
    )
    per_staff = list(
        responses.values("author_staff_id")
        .annotate(n=Count("id"), mean=Avg("response_minutes"), worst=Max("response_minutes"))
        .order_by("mean")
    )
    per_store_response = {
        r["conversation__store_id"]: r
        for r in responses.values("conversation__store_id").annotate(
            n=Count("id"), mean=Avg("response_minutes")
        )
    }
    closed = scoped(
        Conversation.objects.filter(closed_at__gte=start, closed_at__lt=end, status=CLOSED)
    )
    per_store_close = {
        r["store_id"]: r
        for r in closed.values("store_id").annotate(
            n=Count("id"),
            mean=Avg("resolution_minutes"),
            rated=Count("rating"),
            rating=Avg("rating"),
        )
    }
    resolution_staff = {
        r["closed_by_id"]: r
        for r in closed.values("closed_by_id").annotate(
            n=Count("id"), mean=Avg("resolution_minutes")
        )
    }
    started = scoped(Conversation.objects.filter(created_at__gte=start, created_at__lt=end))
    per_consultant = list(started.values("assignee_id").annotate(n=Count("id")).order_by("-n"))
    ratings = closed.aggregate(n=Count("rating"), mean=Avg("rating"))
    distribution = {
        r["rating"]: r["n"]
        for r in closed.filter(rating__isnull=False).values("rating").annotate(n=Count("id"))
    }
    calls = scoped(Call.objects.filter(started_at__gte=start, started_at__lt=end))
    call_totals = calls.aggregate(
        total=Count("id"),
        outbound=Count("id", filter=Q(direction="outbound")),
        # outbound calls the owner did not ask for (a case or an agreed reminder may justify them)
        without_owner_request=Count(
            "id", filter=Q(direction="outbound") & ~Q(basis=CallBasis.OWNER_REQUEST)
        ),
        # ... and those without any basis: unsolicited, each with the caller's reason
        unsolicited=Count("id", filter=Q(direction="outbound", basis=CallBasis.NONE)),
        reached=Count("id", filter=Q(reached=True)),
    )
    unsolicited_by_staff = list(
        calls.filter(direction="outbound", basis=CallBasis.NONE)
        .values("staff_id")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    people_ids = (
        {r["author_staff_id"] for r in per_staff}
        | set(resolution_staff)
        | {r["assignee_id"] for r in per_consultant}
        | {r["staff_id"] for r in unsolicited_by_staff}
    ) - {None}
    people = {p.pk: str(p) for p in StaffUser.objects.filter(pk__in=people_ids)}
    store_ids = set(per_store_response) | set(per_store_close)
    store_names = {s.pk: s.name for s in Store.objects.for_group(group).filter(pk__in=store_ids)}

    def name(pk):
        return people.get(pk, _("Unassigned") if pk is None else "?")

    return {
        "month": month,
        "first_response_by_staff": [
            {
                "staff_id": r["author_staff_id"],
                "name": name(r["author_staff_id"]),
                "responses": r["n"],
                "mean_minutes": _rounded(r["mean"]),
                "worst_minutes": r["worst"],
                "resolved": (resolution_staff.get(r["author_staff_id"]) or {}).get("n", 0),
                "mean_resolution_minutes": _rounded(
                    (resolution_staff.get(r["author_staff_id"]) or {}).get("mean")
                ),
            }
            for r in per_staff
        ],
        "by_store": [
            {
                "store_id": sid,
                "name": store_names.get(sid, "?"),
                "responses": (per_store_response.get(sid) or {}).get("n", 0),
                "mean_first_response_minutes": _rounded(
                    (per_store_response.get(sid) or {}).get("mean")
                ),
                "closed": (per_store_close.get(sid) or {}).get("n", 0),
                "mean_resolution_minutes": _rounded((per_store_close.get(sid) or {}).get("mean")),
                "mean_rating": _rounded((per_store_close.get(sid) or {}).get("rating")),
            }
            for sid in sorted(store_ids, key=lambda s: store_names.get(s, ""))
        ],
        "per_consultant": [
            {"staff_id": r["assignee_id"], "name": name(r["assignee_id"]), "conversations": r["n"]}
            for r in per_consultant
        ],
        "ratings": {
            "count": ratings["n"],
            "mean": _rounded(ratings["mean"]),
            "distribution": {score: distribution.get(score, 0) for score in range(1, 6)},
        },
        "calls": {
            **call_totals,
            "unsolicited_by_staff": [
                {"staff_id": r["staff_id"], "name": name(r["staff_id"]), "calls": r["n"]}
                for r in unsolicited_by_staff
            ],
        },
    }

"""The owner app's conversations at /app/conversations/: the list (my consultants to write to,
"Message the store", "Call me back", my conversations with unread badges), the thread (bubbles,
times, read ticks, cards, photos, a composer that takes a photo from the phone's camera) that
updates itself while open (htmx polls for what came after the last message), asking for a call
back in a time window, and rating a closed conversation 1–5.

Thin views over m4s.conversations.selectors and services (the same ones the owner API uses).
Another owner's conversation is a 404; a refused send shows the service's message with its 4xx
status and stores nothing."""

import datetime as dt
from functools import wraps
from types import SimpleNamespace

from django.contrib import messages as flash
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.complaints.choices import OPEN_STATUSES as OPEN_COMPLAINTS
from m4s.complaints.selectors import complaints_for_owner
from m4s.conversations import selectors, services
from m4s.conversations.choices import (
    BODY_MAX,
    CALLBACK_HORIZON_DAYS,
    COMMENT_MAX,
    MAX_PHOTOS,
    NOTE_MAX,
    TOPIC_FIELD,
    AuthorKind,
    CallbackStatus,
    Topic,
)
from m4s.conversations.models import Message
from m4s.core.errors import DomainError
from m4s.customers import selectors as customer_selectors
from m4s.customers import services as customer_services
from m4s.owners.decorators import owner_required
from m4s.service import selectors as service_selectors
from m4s.service.choices import OPEN_RO, AppointmentStatus

from .common import (
    POLL_SECONDS,
    card_value,
    decorate,
    last_id,
    new_key,
    photos,
    posted_key,
    whole,
)

LIST_LIMIT = 50
# Call-back windows the owner picks from: (key, label, start hour, end hour), store time.
WINDOWS = [
    ("morning", lambda: _("Morning, 9–12"), 9, 12),
    ("noon", lambda: _("Midday, 12–14"), 12, 14),
    ("afternoon", lambda: _("Afternoon, 14–18"), 14, 18),
    ("evening", lambda: _("Evening, 18–20"), 18, 20),
]


def topic_label(topic: str) -> str:
    """The topic in the owner's words: who they write to."""
    return {
        Topic.SALES: _("Sales consultant"),
        Topic.SERVICE: _("Service advisor"),
        Topic.CS: _("Customer service"),
        Topic.STORE: _("The store"),
    }[Topic(topic)]


# --- helpers -------------------------------------------------------------------------------------
def _error(request, exc: DomainError, *, back: str = ""):
    if request.htmx:
        return render(
            request, "conversations/app/_alert.html", {"error": exc.message}, status=exc.status
        )
    return render(
        request,
        "conversations/app/error.html",
        {"error": exc.message, "back": back or reverse("app-conversations")},
        status=exc.status,
    )


def domain_errors(view):
    """A DomainError the view did not handle (e.g. NotFound: another owner's conversation) as
    a clear 4xx page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error(request, exc)

    return wrapper


def _customer(owner):
    """The owner's customer record at their home store's group (None before they have one)."""
    return customer_selectors.consultants_of_owner(owner)


def _consultant(customer, topic: str):
    field = TOPIC_FIELD.get(Topic(topic)) if topic in Topic.values else None
    return getattr(customer, field, None) if (customer is not None and field) else None


def _home_store(owner, customer):
    if customer is not None:
        return customer.store
    return owner.home_store if owner.home_store_id else None


def _people(customer) -> list[SimpleNamespace]:
    """The owner's consultants, each with the topic a message to them is about."""
    out = []
    for topic in (Topic.SALES, Topic.SERVICE, Topic.CS):
        person = _consultant(customer, topic)
        if person is not None:
            out.append(SimpleNamespace(person=person, topic=topic.value, role=topic_label(topic)))
    return out


def _card_choices(owner, customer) -> list[tuple[str, str]]:
    """What the owner may attach as a card: their cars, coming visits, open repair orders and
    open complaints at this customer's group."""
    if customer is None:
        return []
    group = customer.dealer_group_id
    out = []
    for v in customer_selectors.vehicles_of_owner(owner).filter(dealer_group_id=group)[:10]:
        out.append((f"car:{v.pk}", f"{_('Car')}: {v.plate}"))
    now = timezone.now()
    for a in (
        service_selectors.appointments_of_owner(owner)
        .filter(dealer_group_id=group, status=AppointmentStatus.BOOKED, starts_at__gte=now)
        .order_by("starts_at")[:5]
    ):
        when = timezone.localtime(a.starts_at, customer.store.tz)
        out.append((f"visit:{a.pk}", f"{_('Visit')}: {when:%Y-%m-%d %H:%M}"))
    for ro in (
        service_selectors.repair_orders_of_owner(owner)
        .filter(dealer_group_id=group, status__in=OPEN_RO)
        .order_by("-id")[:5]
    ):
        out.append((f"repair_order:{ro.pk}", f"{_('Repair order')}: {ro.number}"))
    for c in (
        complaints_for_owner(owner)
        .filter(dealer_group_id=group, status__in=OPEN_COMPLAINTS)
        .order_by("-id")[:5]
    ):
        out.append((f"complaint:{c.pk}", f"{_('Complaint')}: {c.reference}"))
    return out


def _open_callbacks(owner) -> list:
    return list(selectors.owner_callback_requests(owner).filter(status=CallbackStatus.OPEN)[:5])


# --- the list ------------------------------------------------------------------------------------
@owner_required
@require_GET
def conversations(request):
    owner = request.owner
    customer = _customer(owner)
    rows = list(selectors.owner_conversations(owner)[:LIST_LIMIT])
    for c in rows:
        c.topic_label = topic_label(c.topic)
    return render(
        request,
        "conversations/app/list.html",
        {
            "customer": customer,
            "people": _people(customer),
            "rows": rows,
            "callbacks": _open_callbacks(owner),
            "can_start": customer is not None or owner.home_store_id is not None,
        },
    )


# --- a thread ------------------------------------------------------------------------------------
def _thread_context(request, conv, *, error: str = "", body: str = "") -> dict:
    owner = request.owner
    items = decorate(conv, selectors.owner_messages(owner, conv), reader="owner")
    person = conv.assignee or _consultant(conv.customer, conv.topic)
    callbacks = [c for c in _open_callbacks(owner) if c.customer_id == conv.customer_id]
    return {
        "conv": conv,
        "tz": conv.store.tz,
        "items": items,
        "reader": "owner",
        "poll_url": reverse("app-conversation-messages", args=[conv.pk]),
        "after": last_id(items),
        "seen": _seen(items),
        "person": person,
        "title": topic_label(conv.topic),
        "topic": conv.topic,
        "poll": POLL_SECONDS,
        "idempotency_key": new_key(),
        "send_url": reverse("app-conversation-send", args=[conv.pk]),
        "card_choices": _card_choices(owner, conv.customer),
        "callback": next((c for c in callbacks if c.topic == conv.topic), None),
        "can_rate": not conv.is_open and conv.rating is None,
        "stars": range(1, 6),
        "error": error,
        "body": body,
        "body_max": BODY_MAX,
        "comment_max": COMMENT_MAX,
        "max_photos": MAX_PHOTOS,
    }


def _seen(items) -> int:
    """The newest of my messages the other side has read (the ticks before it are blue)."""
    read = [m.pk for m in items if m.side == "mine" and m.tick == "read"]
    return max(read) if read else 0


@owner_required
@require_GET
@domain_errors
def thread(request, conversation_id: int):
    owner = request.owner
    conv = selectors.owner_conversation(owner, conversation_id)
    services.mark_read_by_owner(owner, conv)
    return render(request, "conversations/app/thread.html", _thread_context(request, conv))


@never_cache
@owner_required
@require_GET
@domain_errors
def messages_after(request, conversation_id: int):
    """htmx partial, polled while the thread is open: the messages after `after`, the read
    ticks of my messages the store has read since `seen`, and the next poller. Nothing new:
    204, and the poller keeps its place."""
    owner = request.owner
    conv = selectors.owner_conversation(owner, conversation_id)
    after = whole(request.GET.get("after"), digits=12) or 0
    seen = whole(request.GET.get("seen"), digits=12) or 0
    new = selectors.owner_messages(owner, conv, after=after)
    if any(m.author_kind != AuthorKind.OWNER for m in new):
        services.mark_read_by_owner(owner, conv)
    read = list(
        Message.objects.for_owner(owner)
        .filter(
            conversation=conv,
            author_kind=AuthorKind.OWNER,
            id__gt=seen,
            id__lte=after,
            read_at__isnull=False,
        )
        .values_list("pk", flat=True)
    )
    if not new and not read:
        return HttpResponse(status=204)
    previous = (
        Message.objects.for_owner(owner).filter(conversation=conv, pk=after).first()
        if after
        else None
    )
    items = decorate(conv, new, reader="owner", previous=previous)
    return render(
        request,
        "conversations/_items.html",
        {
            "conv": conv,
            "reader": "owner",
            "poll_url": reverse("app-conversation-messages", args=[conv.pk]),
            "items": items,
            "after": last_id(items, after),
            "seen": max([seen, *read, _seen(items)]),
            "read_ids": read,
            "poll": POLL_SECONDS,
        },
    )


# --- writing -------------------------------------------------------------------------------------
def _sent(request, conv):
    """After a send: htmx gets an empty alert, a fresh Idempotency-Key for the next message and
    a nudge to poll at once; a plain form post goes back to the thread."""
    if request.htmx:
        response = render(
            request, "conversations/_key.html", {"idempotency_key": new_key()}, status=200
        )
        response["HX-Trigger"] = "cv-refresh"
        return response
    return redirect("app-conversation", conversation_id=conv.pk)


@owner_required
@require_http_methods(["GET", "POST"])
@domain_errors
def start(request, topic: str):
    """Write to a consultant (or the store): an open conversation of that topic is simply
    opened; otherwise the first message starts one."""
    if topic not in Topic.values:
        raise Http404
    owner = request.owner
    customer = _customer(owner)
    if customer is not None:
        existing = (
            selectors.owner_conversations(owner)
            .filter(customer=customer, topic=topic, status="open")
            .first()
        )
        if existing is not None and request.method == "GET":
            return redirect("app-conversation", conversation_id=existing.pk)
    error, status = "", 200
    body = ""
    if request.method == "POST":
        body = (request.POST.get("body") or "")[: BODY_MAX + 1]
        try:
            if customer is None:
                if owner.home_store_id is None:
                    raise DomainError("no_store", _("Choose your store first."))
                customer = customer_services.get_or_create_customer_for_owner(
                    owner, owner.home_store
                )
            conv = services.start_conversation(
                owner,
                customer=customer,
                topic=topic,
                body=body,
                photos=photos(request),
                card=card_value(request.POST.get("card")),
                idempotency_key=posted_key(request),
            )
        except DomainError as exc:
            if request.htmx:
                return _error(request, exc)
            error, status = exc.message, exc.status
        else:
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("app-conversation", args=[conv.pk])
                return response
            return redirect("app-conversation", conversation_id=conv.pk)
    person = _consultant(customer, topic)
    return render(
        request,
        "conversations/app/thread.html",
        {
            "conv": None,
            "tz": _home_store(owner, customer).tz if _home_store(owner, customer) else None,
            "items": [],
            "person": person,
            "title": topic_label(topic),
            "topic": topic,
            "customer": customer,
            "no_store": customer is None and owner.home_store_id is None,
            "idempotency_key": new_key(),
            "send_url": reverse("app-conversation-start", args=[topic]),
            "card_choices": _card_choices(owner, customer),
            "error": error,
            "body": body,
            "body_max": BODY_MAX,
            "max_photos": MAX_PHOTOS,
        },
        status=status,
    )


@owner_required
@require_POST
@domain_errors
def send(request, conversation_id: int):
    owner = request.owner
    conv = selectors.owner_conversation(owner, conversation_id)
    body = (request.POST.get("body") or "")[: BODY_MAX + 1]
    try:
        services.post_owner_message(
            owner,
            conv,
            body=body,
            photos=photos(request),
            card=card_value(request.POST.get("card")),
            idempotency_key=posted_key(request),
        )
    except DomainError as exc:
        if request.htmx:
            return _error(request, exc)
        conv = selectors.owner_conversation(owner, conversation_id)
        return render(
            request,
            "conversations/app/thread.html",
            _thread_context(request, conv, error=exc.message, body=body),
            status=exc.status,
        )
    return _sent(request, conv)


@owner_required
@require_POST
@domain_errors
def rate(request, conversation_id: int):
    owner = request.owner
    conv = selectors.owner_conversation(owner, conversation_id)
    raw = (request.POST.get("score") or "").strip()
    score = int(raw) if raw.isascii() and raw.isdigit() and len(raw) == 1 else None
    try:
        services.rate(
            owner,
            conv,
            score=score,
            comment=(request.POST.get("comment") or "")[: COMMENT_MAX + 1],
        )
    except DomainError as exc:
        conv = selectors.owner_conversation(owner, conversation_id)
        return render(
            request,
            "conversations/app/thread.html",
            _thread_context(request, conv, error=exc.message),
            status=exc.status,
        )
    flash.success(request, _("Thank you for your rating."))
    return redirect("app-conversation", conversation_id=conv.pk)


# --- call me back --------------------------------------------------------------------------------
def _days(store) -> list[dt.date]:
    today = timezone.localtime(timezone.now(), store.tz).date()
    return [today + dt.timedelta(days=i) for i in range(min(7, CALLBACK_HORIZON_DAYS))]


def _window(store, day: dt.date | None, key: str) -> tuple[dt.datetime, dt.datetime] | None:
    found = next((w for w in WINDOWS if w[0] == key), None)
    if day is None or found is None:
        return None
    start = dt.datetime.combine(day, dt.time(found[2]), tzinfo=store.tz)
    return start, dt.datetime.combine(day, dt.time(found[3]), tzinfo=store.tz)


def _callback_context(request, customer, *, topic: str, data=None, error: str = "") -> dict:
    data = data or {}
    store = customer.store if customer is not None else None
    days = _days(store) if store is not None else []
    now_local = timezone.localtime(timezone.now(), store.tz) if store is not None else None
    windows = [
        SimpleNamespace(key=key, label=label(), start=start, end=end)
        for key, label, start, end in WINDOWS
    ]
    chosen_day = data.get("day") or (days[0].isoformat() if days else "")
    if (
        now_local is not None
        and len(days) > 1
        and chosen_day == days[0].isoformat()
        and all(now_local.hour >= w.end for w in windows)
    ):  # today's windows are all over: tomorrow first
        chosen_day = days[1].isoformat()
    return {
        "customer": customer,
        "topic": topic,
        "topics": [(t.value, topic_label(t)) for t in Topic],
        "days": days,
        "windows": windows,
        "chosen": SimpleNamespace(
            day=chosen_day,
            window=data.get("window") or "",
            note=(data.get("note") or "")[:NOTE_MAX],
        ),
        "callbacks": _open_callbacks(request.owner),
        "error": error,
        "note_max": NOTE_MAX,
        "phone": request.owner.phone,
    }


@owner_required
@require_http_methods(["GET", "POST"])
@domain_errors
def callback(request):
    owner = request.owner
    customer = _customer(owner)
    source = request.POST if request.method == "POST" else request.GET
    topic = source.get("topic", "")
    topic = topic if topic in Topic.values else Topic.STORE.value
    if request.method == "GET" or customer is None:
        return render(
            request,
            "conversations/app/callback.html",
            _callback_context(request, customer, topic=topic),
        )
    try:
        day = dt.date.fromisoformat((request.POST.get("day") or "")[:10])
    except ValueError:
        day = None
    window = _window(customer.store, day, request.POST.get("window", ""))
    try:
        if window is None:
            raise DomainError("invalid_window", _("Choose a day and a time."))
        made = services.request_callback(
            owner,
            customer=customer,
            topic=topic,
            window_start=window[0],
            window_end=window[1],
            note=(request.POST.get("note") or "")[: NOTE_MAX + 1],
        )
    except DomainError as exc:
        return render(
            request,
            "conversations/app/callback.html",
            _callback_context(request, customer, topic=topic, data=request.POST, error=exc.message),
            status=exc.status,
        )
    start_local = timezone.localtime(made.window_start, customer.store.tz)
    end_local = timezone.localtime(made.window_end, customer.store.tz)
    flash.success(
        request,
        _("We will call you on %(day)s between %(start)s and %(end)s.")
        % {
            "day": start_local.strftime("%Y-%m-%d"),
            "start": start_local.strftime("%H:%M"),
            "end": end_local.strftime("%H:%M"),
        },
    )
    if made.conversation_id:
        return redirect("app-conversation", conversation_id=made.conversation_id)
    return redirect("app-conversations")


@owner_required
@require_POST
@domain_errors
def cancel_callback(request, callback_id: int):
    services.cancel_callback(request.owner, callback_id)
    flash.success(request, _("Your call-back request is cancelled."))
    return redirect("app-conversations")

"""One conversation in the console at /console/conversations/<id>/: the thread (owner messages,
replies, internal notes in their own colour, hand-overs), updated live (htmx polls for what came
after the last message); the composer with canned replies in the customer's language (and the
two others), a photo or a card; an internal note; claim, transfer with a reason, close, reopen;
a `tel:` button and the call log (a call that answers no owner request, open case or agreed
reminder needs a reason); and the customer 360 beside it (cars, next visit, open repair order,
complaints, points).

Thin: reads through m4s.conversations.selectors (another group's or another store's
conversation is a 404), writes through m4s.conversations.services; a refused action shows the
service's message with its 4xx status and changes nothing."""

from django.conf import settings
from django.contrib import messages as flash
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from m4s.conversations import selectors, services
from m4s.conversations.choices import (
    BODY_MAX,
    NOTE_MAX,
    AuthorKind,
    CallbackStatus,
    CallBasis,
    CallDirection,
    CallOutcome,
    TransferReason,
)
from m4s.conversations.models import CallbackRequest, Message
from m4s.conversations.views.common import (
    POLL_SECONDS,
    card_value,
    decorate,
    last_id,
    new_key,
    photos,
    whole,
)
from m4s.conversations.views.owner import topic_label
from m4s.core.errors import DomainError
from m4s.core.i18n import translated
from m4s.staff.choices import Perm

from .common import READERS, conversations_page, ctx, or_404, wait_clock

LANGUAGE_NAMES = dict(settings.LANGUAGES)
BASIS_WORDS = {
    CallBasis.OWNER_REQUEST: lambda: _("The owner asked for a call back: no reason needed."),
    CallBasis.OPEN_CASE: lambda: _("There is an open case: no reason needed."),
    CallBasis.AGREED_REMINDER: lambda: _(
        "A reminder the owner agreed to is due: no reason needed."
    ),
    CallBasis.NONE: lambda: _(
        "Nothing asks for this call: owners are not called cold. An outgoing call needs a reason."
    ),
}


def _text(request, name: str, limit: int = BODY_MAX) -> str:
    return (request.POST.get(name) or "")[: limit + 1]  # over-long: the service refuses


def _canned(user, conv, vehicle=None) -> list[dict]:
    """The group's canned replies for this topic, each rendered with this customer's name, car
    and store in the customer's language first, then the others (one optgroup each)."""
    replies = selectors.canned_replies(user, conv.topic)
    if not replies:
        return []
    own = getattr(conv.customer.owner, "language", None) or settings.LANGUAGE_CODE
    languages = [own] + [code for code, _name in settings.LANGUAGES if code != own]
    groups = []
    for language in languages:
        options = []
        for reply in replies:
            with translation.override(language):
                title = translated(reply, "title")
            body = services.render_canned(
                reply, customer=conv.customer, language=language, store=conv.store, vehicle=vehicle
            )
            options.append({"pk": reply.pk, "title": title, "body": body})
        groups.append(
            {"language": language, "name": LANGUAGE_NAMES.get(language), "options": options}
        )
    return groups


def _card_choices(conv, panel) -> list[tuple[str, str]]:
    out = [(f"car:{v.pk}", f"{_('Car')}: {v.plate}") for v in panel.get("cars", [])]
    visit = panel.get("next_visit")
    if visit is not None:
        when = timezone.localtime(visit.starts_at, conv.store.tz)
        out.append((f"visit:{visit.pk}", f"{_('Visit')}: {when:%Y-%m-%d %H:%M}"))
    ro = panel.get("open_repair_order")
    if ro is not None:
        out.append((f"repair_order:{ro.pk}", f"{_('Repair order')}: {ro.number}"))
    for c in panel.get("open_complaints", []):
        out.append((f"complaint:{c.pk}", f"{_('Complaint')}: {c.reference}"))
    return out


def call_form_context(user, customer, *, conversation=None, callback_request=None) -> dict:
    """What the call-log form shows: the basis this call would have (so staff know whether a
    reason is needed), the directions and outcomes."""
    basis, request = services.call_basis(
        customer,
        CallDirection.OUTBOUND,
        callback_request=callback_request,
        conversation=conversation,
    )
    return {
        "call_basis": basis,
        "call_basis_text": BASIS_WORDS[CallBasis(basis)](),
        "call_reason_needed": basis == CallBasis.NONE,
        "call_request": request,
        "directions": CallDirection.choices,
        "outcomes": CallOutcome.choices,
        "note_max": NOTE_MAX,
    }


def _page(request, conv, *, error: str = "", form: str = "", status: int = 200, data=None):
    user = request.user
    can_handle = user.has_perm_m4s(Perm.HANDLE_CONVERSATIONS)
    if can_handle and conv.is_open and conv.assignee_id in (None, user.pk):
        services.mark_read_by_staff(user, conv)
    elif can_handle:
        services.mark_delivered_to_staff(user, conv)
    items = decorate(conv, selectors.staff_messages(user, conv), reader="staff", user=user)
    panel = or_404(selectors.customer_panel, user, conv.customer)
    callbacks = list(
        CallbackRequest.objects.for_group(conv.dealer_group_id)
        .filter(customer=conv.customer, status=CallbackStatus.OPEN)
        .order_by("window_start")
    )
    return render(
        request,
        "conversations/console/conversation.html",
        ctx(
            request,
            conv=conv,
            items=items,
            reader="staff",
            after=last_id(items),
            seen=_seen(items),
            read_ids=[],
            poll=POLL_SECONDS,
            poll_url=reverse("console-conversation-messages", args=[conv.pk]),
            topic_label=topic_label(conv.topic),
            clock=wait_clock(conv),
            handovers=selectors.handovers(user, conv),
            transfer_to=selectors.transfer_choices(user, conv) if can_handle else [],
            transfer_reasons=TransferReason.choices,
            canned=_canned(user, conv, vehicle=(panel.get("cars") or [None])[0])
            if can_handle
            else [],
            card_choices=_card_choices(conv, panel),
            panel=panel,
            calls=selectors.calls_of_customer(user, panel["customer"], limit=5),
            callbacks=callbacks,
            can_handle=can_handle,
            can_claim=can_handle and conv.is_open and conv.assignee_id is None,
            error=error,
            error_form=form,
            data=data or {},
            body_max=BODY_MAX,
            idempotency_key=new_key(),
            **call_form_context(user, conv.customer, conversation=conv),
        ),
        status=status,
    )


def _seen(items) -> int:
    read = [m.pk for m in items if m.side == "mine" and m.tick == "read"]
    return max(read) if read else 0


@conversations_page(*READERS)
@require_GET
def conversation(request, conversation_id: int):
    conv = or_404(selectors.staff_conversation, request.user, conversation_id)
    return _page(request, conv)


@never_cache
@conversations_page(*READERS)
@require_GET
def messages_after(request, conversation_id: int):
    """htmx partial, polled while the page is open: what came after `after` (notes too), the
    read ticks of our replies the owner has read since `seen`, the next poller; 204 when
    nothing changed."""
    user = request.user
    conv = or_404(selectors.staff_conversation, user, conversation_id)
    after = whole(request.GET.get("after"), digits=12) or 0
    seen = whole(request.GET.get("seen"), digits=12) or 0
    new = selectors.staff_messages(user, conv, after=after)
    if (
        any(m.author_kind == AuthorKind.OWNER for m in new)
        and user.has_perm_m4s(Perm.HANDLE_CONVERSATIONS)
        and conv.assignee_id in (None, user.pk)
    ):
        services.mark_read_by_staff(user, conv)
    read = list(
        Message.objects.for_group(conv.dealer_group_id)
        .filter(
            conversation=conv,
            author_kind=AuthorKind.STAFF,
            kind="message",
            id__gt=seen,
            id__lte=after,
            read_at__isnull=False,
        )
        .values_list("pk", flat=True)
    )
    if not new and not read:
        return HttpResponse(status=204)
    previous = (
        Message.objects.for_group(conv.dealer_group_id).filter(conversation=conv, pk=after).first()
        if after
        else None
    )
    items = decorate(conv, new, reader="staff", user=user, previous=previous)
    return render(
        request,
        "conversations/_items.html",
        {
            "conv": conv,
            "reader": "staff",
            "items": items,
            "after": last_id(items, after),
            "seen": max([seen, *read, _seen(items)]),
            "read_ids": read,
            "poll": POLL_SECONDS,
            "poll_url": reverse("console-conversation-messages", args=[conv.pk]),
        },
    )


# --- actions -------------------------------------------------------------------------------------
def _reply(request, user, conv):
    services.post_staff_message(
        user,
        conv,
        body=_text(request, "body"),
        photos=photos(request),
        card=card_value(request.POST.get("card")),
    )
    return _("Reply sent to the owner.")


def _note(request, user, conv):
    services.add_note(user, conv, body=_text(request, "body"))
    return _("Internal note added.")


def _claim(request, user, conv):
    services.claim(user, conv)
    return _("The conversation is yours now.")


def _transfer(request, user, conv):
    services.transfer(
        user,
        conv,
        to=whole(request.POST.get("to")),
        reason=request.POST.get("reason", ""),
        note=_text(request, "note", NOTE_MAX),
    )
    return _("Transferred.")


def _close(request, user, conv):
    services.close(user, conv)
    return _("Closed. The owner is asked to rate the conversation.")


def _reopen(request, user, conv):
    services.reopen(user, conv)
    return _("Open again.")


def _call(request, user, conv):
    log_call_from(request, user, conv.customer, conversation=conv)
    return _("Call logged.")


def log_call_from(request, user, customer, *, conversation=None):
    """The call-log form → services.log_call (shared with the callbacks page and the customer
    360)."""
    post = request.POST
    direction = post.get("direction", "")
    reached = post.get("reached", "")
    minutes = whole(post.get("minutes"), digits=4) or 0
    seconds = whole(post.get("seconds"), digits=4) or 0
    callback_id = whole(post.get("callback_request"))
    callback = None
    if callback_id is not None:
        callback = (
            CallbackRequest.objects.for_group(customer.dealer_group_id)
            .filter(pk=callback_id, customer=customer)
            .first()
        )
        if callback is None:
            raise DomainError("not_found", _("No such callback request."), status=404)
    return services.log_call(
        user,
        customer=customer,
        direction=direction,
        reached={"yes": True, "no": False}.get(reached),  # type: ignore[arg-type]  # None: refused
        duration_seconds=minutes * 60 + seconds,
        outcome=post.get("outcome", ""),
        note=_text(request, "note", NOTE_MAX),
        reason=_text(request, "reason", NOTE_MAX),
        callback_request=callback,
        conversation=conversation,
    )


ACTIONS = {
    "reply": _reply,
    "note": _note,
    "claim": _claim,
    "transfer": _transfer,
    "close": _close,
    "reopen": _reopen,
    "call": _call,
}
LIVE = {"reply", "note"}  # sent from the composer with htmx: no reload


@conversations_page(Perm.HANDLE_CONVERSATIONS)
@require_POST
def act(request, conversation_id: int, action: str):
    do = ACTIONS.get(action)
    if do is None:
        raise Http404
    user = request.user
    conv = or_404(selectors.staff_conversation, user, conversation_id)
    try:
        done = do(request, user, conv)
    except DomainError as exc:
        if request.htmx and action in LIVE:
            return render(
                request,
                "conversations/app/_alert.html",
                {"error": exc.message},
                status=exc.status,
            )
        if exc.status == 404 and action not in ("transfer", "reply", "call"):
            raise Http404(exc.message) from None
        conv = or_404(selectors.staff_conversation, user, conversation_id)
        return _page(
            request, conv, error=exc.message, form=action, status=exc.status, data=request.POST
        )
    if request.htmx and action in LIVE:
        response = render(request, "conversations/_key.html", {"idempotency_key": new_key()})
        response["HX-Trigger"] = "cv-refresh"
        return response
    flash.success(request, done)
    return redirect(f"{reverse('console-conversation', args=[conv.pk])}#{action}")

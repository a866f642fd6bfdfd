"""Calls in the console: the owners waiting for a call back at /console/conversations/callbacks/
(the earliest window first, a `tel:` button and the call-log form on each), and logging a call
from there or from the customer 360 (POST /console/conversations/calls/). Calls are never
cold: an outgoing call that answers no owner request, open case or agreed reminder needs a
reason, and the figures count it."""

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from m4s.conversations import selectors
from m4s.conversations.choices import NOTE_MAX, CallBasis, CallDirection, CallOutcome
from m4s.conversations.views.common import whole
from m4s.conversations.views.owner import topic_label
from m4s.core.errors import DomainError
from m4s.customers import selectors as customer_selectors
from m4s.staff.choices import Perm

from .common import conversations_page, ctx, my_stores
from .conversation import BASIS_WORDS, call_form_context, log_call_from

LIMIT = 200


def _requests(user, store_id):
    now = timezone.now()
    rows = list(selectors.open_callback_requests(user, store_id=store_id)[:LIMIT])
    for r in rows:
        r.topic_label = topic_label(r.topic)
        r.late = r.window_end < now
        r.due_now = r.window_start <= now <= r.window_end
    return rows


def _page(request, *, error: str = "", error_for=None, status: int = 200):
    user = request.user
    stores = my_stores(user)
    store_id = whole(request.GET.get("store"))
    if store_id is not None and not any(s.pk == store_id for s in stores):
        store_id = None
    return render(
        request,
        "conversations/console/callbacks.html",
        ctx(
            request,
            nav="conversations",
            rows=_requests(user, store_id),
            stores=stores,
            store_id=store_id,
            directions=CallDirection.choices,
            outcomes=CallOutcome.choices,
            basis_text=BASIS_WORDS[CallBasis.OWNER_REQUEST](),
            note_max=NOTE_MAX,
            error=error,
            error_for=error_for,
        ),
        status=status,
    )


@conversations_page(Perm.HANDLE_CONVERSATIONS)
@require_GET
def callbacks(request):
    return _page(request)


BACK = {"callbacks", "customer", "conversation"}


def _customer(user, raw):
    customer_id = whole(raw)
    customer = (
        customer_selectors.customers_for(user)
        .select_related("store", "owner")
        .filter(pk=customer_id)
        .first()
        if customer_id is not None
        else None
    )
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


def _conversation(user, customer, raw):
    conversation_id = whole(raw)
    if conversation_id is None:
        return None
    found = (
        selectors.conversations_for_staff(user)
        .filter(pk=conversation_id, customer=customer)
        .select_related("store")
        .first()
    )
    if found is None:
        raise Http404(_("No such conversation."))
    return found


def _call_page(request, customer, conversation, *, data=None, error: str = "", status: int = 200):
    user = request.user
    return render(
        request,
        "conversations/console/call.html",
        ctx(
            request,
            customer=customer,
            conversation=conversation,
            calls=selectors.calls_of_customer(user, customer, limit=10),
            data=data or {},
            error=error,
            back=(data or {}).get("back") or "customer",
            **call_form_context(user, customer, conversation=conversation),
        ),
        status=status,
    )


@conversations_page(Perm.HANDLE_CONVERSATIONS)
@require_http_methods(["GET", "POST"])
def log_call(request):
    """Log a call with a customer: the page (GET, from the customer 360) and the form's POST
    (from there, the callbacks page or a conversation). A refused call (no reason for an
    unsolicited one, a bad duration…) is shown again with its 4xx and nothing is stored."""
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    customer = _customer(user, source.get("customer"))
    conversation = _conversation(user, customer, source.get("conversation"))
    if request.method == "GET":
        return _call_page(request, customer, conversation, data={"back": "customer"})
    back = request.POST.get("back", "")
    back = back if back in BACK else "customer"
    try:
        log_call_from(request, user, customer, conversation=conversation)
    except DomainError as exc:
        if back == "callbacks":
            return _page(
                request,
                error=exc.message,
                error_for=whole(request.POST.get("callback_request")),
                status=exc.status,
            )
        return _call_page(
            request, customer, conversation, data=request.POST, error=exc.message, status=exc.status
        )
    flash.success(request, _("Call logged."))
    return redirect(_back_url(back, customer, conversation))


def _back_url(back: str, customer, conversation) -> str:
    if back == "callbacks":
        return reverse("console-callbacks")
    if back == "conversation" and conversation is not None:
        return reverse("console-conversation", args=[conversation.pk]) + "#call"
    return reverse("console-customer", args=[customer.pk]) + "#calls"

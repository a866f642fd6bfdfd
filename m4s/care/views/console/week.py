"""The advisor's care list at /console/care/: the reminders of this week (sent in the last seven
days, about to be sent, or due within a week either way) for the customers this staff member looks after, who gets what, what the contact policy
did with it, and the one-tap actions: call, book for the customer, mark handled. Broadcasts (a
weather warning, a festival greeting) are left out: nobody follows those up one by one."""

from urllib.parse import parse_qsl, urlencode, urlsplit

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from m4s.care import selectors, services
from m4s.care.choices import Kind
from m4s.care.views.common import (
    care_page,
    ctx,
    decorate,
    deliveries,
    my_stores,
    or_404,
    whole,
)
from m4s.staff.choices import Perm

SHOWN = 100
BOOKABLE = frozenset({Kind.MAINTENANCE, Kind.DECLINED_REPAIR, Kind.INSPECTION})
# Sent to everyone at once (a city's weather, the group's festival): nothing to follow up one by one.
BROADCAST = (Kind.WEATHER, Kind.FESTIVAL)


def booking_link(reminder) -> str:
    """The console booking form for this customer, filled in like the owner's one-tap link (the
    car, the package or the declined job in the problem box)."""
    query = {"customer": reminder.customer_id}
    if reminder.vehicle_id:
        query["vehicle"] = reminder.vehicle_id
    if reminder.kind in BOOKABLE and reminder.action_url.startswith("/app/service/book/"):
        for key, value in parse_qsl(urlsplit(reminder.action_url).query):
            if key in ("service", "problem"):
                query[key] = value
            elif key == "package":
                query["service"] = value
    return f"{reverse('console-service-book')}?{urlencode(query)}"


def _filters(request, stores):
    store_id = whole(request.GET.get("store"))
    store = next((s for s in stores if s.pk == store_id), None)
    kind = request.GET.get("kind") or ""
    return store, kind if kind in Kind.values else ""


@care_page(Perm.HANDLE_CARE)
@require_GET
def week(request):
    user = request.user
    stores = my_stores(user)
    store, kind = _filters(request, stores)
    qs = selectors.care_week(user, store).exclude(kind__in=BROADCAST)
    counts: dict[str, int] = {}
    for k in qs.values_list("kind", flat=True):
        counts[k] = counts.get(k, 0) + 1
    if kind:
        qs = qs.filter(kind=kind)
    rows = decorate(selectors.with_texts(list(qs[:SHOWN])), timezone.localdate())
    delivery = deliveries(rows)
    can_book = user.has_perm_m4s(Perm.BOOK_SERVICE)
    for r in rows:
        r.book_url = booking_link(r) if can_book and r.vehicle_id else ""
        r.delivery = delivery.get(r.pk)
    return render(
        request,
        "care/console/week.html",
        ctx(
            request,
            nav="care",
            rows=rows,
            more=len(rows) >= SHOWN,
            stores=stores,
            store=store,
            kind=kind,
            kinds=[(k, label, counts.get(k, 0)) for k, label in Kind.choices if counts.get(k)],
            total=sum(counts.values()),
            can_view_customers=user.has_perm_m4s(Perm.VIEW_CUSTOMERS),
        ),
    )


@care_page(Perm.HANDLE_CARE)
@require_POST
def handled(request, reminder_id: int):
    user = request.user
    reminder = or_404(services.get_staff_reminder, user, reminder_id)
    services.mark_handled(user, reminder)
    messages.success(
        request,
        _("Marked as handled: %(name)s.") % {"name": reminder.customer.name},
    )
    query = {k: v for k, v in request.POST.items() if k in ("store", "kind") and v}
    target = reverse("console-care")
    return redirect(f"{target}?{urlencode(query)}" if query else target)

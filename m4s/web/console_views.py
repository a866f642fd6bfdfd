"""The staff console at /console/: a role-aware home, the notification inbox."""

from django.contrib.auth import views as auth_views
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from m4s.identity.forms import StaffSignInForm
from m4s.notify import selectors as inbox
from m4s.notify import services as notify
from m4s.org.models import DealerGroup, EmergencyNumber, Store
from m4s.org.selectors import get_day_schedule, is_store_open_at, list_stores
from m4s.staff.choices import Perm, Role
from m4s.staff.permissions import staff_page
from m4s.staff.selectors import list_staff


class LoginView(auth_views.LoginView):
    template_name = "web/console/login.html"
    authentication_form = StaffSignInForm
    redirect_authenticated_user = True


def _context(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), **extra}


def _store_cards(user):
    stores = list_stores(user)
    if not user.has_perm_m4s(Perm.VIEW_ALL_STORES) and not user.is_platform_admin:
        stores = stores.filter(pk__in=user.store_ids())
    now = timezone.now()
    cards = []
    for store in stores[:20]:
        local = now.astimezone(store.tz)
        cards.append(
            {
                "store": store,
                "schedule": get_day_schedule(store, local.date()),
                "open_now": is_store_open_at(store, now),
                "local_time": local,
            }
        )
    return cards


def _service_card(user):
    """Today's service numbers for those who book or work on cars: appointments in their stores
    (each store's own date), orders waiting for the owner's approval, cars ready for pick-up."""
    if not (user.has_perm_m4s(Perm.WORK_REPAIR_ORDERS) or user.has_perm_m4s(Perm.BOOK_SERVICE)):
        return None
    from m4s.service import selectors as service
    from m4s.service.choices import AppointmentStatus, RepairOrderStatus

    stores = list_stores(user)
    ids = service.store_ids_for(user)
    if ids is not None:
        stores = stores.filter(pk__in=ids)
    now = timezone.now()
    today = Q(pk__in=[])
    for store in stores:
        today |= Q(store_id=store.pk, date=now.astimezone(store.tz).date())
    orders = service.repair_orders_for(user).aggregate(
        waiting=Count("id", filter=Q(status=RepairOrderStatus.WAITING_APPROVAL)),
        ready=Count("id", filter=Q(status=RepairOrderStatus.READY)),
    )
    return {
        "appointments": service.appointments_for(user)
        .filter(today)
        .exclude(status=AppointmentStatus.CANCELLED)
        .count(),
        "waiting_approval": orders["waiting"],
        "ready": orders["ready"],
    }


def _setup_gaps(user):
    """What a group admin must still set up: stores missing hours, SOS numbers or branding."""
    stores = Store.objects.for_actor(user).annotate(
        n_hours=Count("business_hours", distinct=True),
        n_sos=Count(
            "emergency_numbers",
            filter=Q(emergency_numbers__kind__in=["rescue", "insurance", "hotline"]),
            distinct=True,
        ),
    )
    gaps = []
    for store in stores:
        if store.n_hours == 0:
            gaps.append((store, "hours"))
        if store.n_sos == 0:
            gaps.append((store, "sos"))
        if not store.app_title:
            gaps.append((store, "branding"))
    return gaps


@staff_page(Perm.USE_CONSOLE)
def home(request):
    user = request.user
    ctx = _context(
        request,
        latest=list(inbox.list_inbox(staff=user).filter(read_at__isnull=True).order_by("-id")[:5]),
        store_cards=_store_cards(user),
        role=user.role,
        nav="home",
        service_card=_service_card(user),
    )
    if user.has_perm_m4s(Perm.MANAGE_GROUP_SETTINGS) and not user.is_platform_admin:
        ctx["setup_gaps"] = _setup_gaps(user)
        ctx["staff_by_role"] = (
            list_staff(user).order_by().values("role").annotate(n=Count("id")).order_by("role")
        )
        role_labels = dict(Role.choices)
        for row in ctx["staff_by_role"]:
            row["label"] = role_labels.get(row["role"], row["role"])
    if user.is_platform_admin:
        ctx["groups"] = DealerGroup.objects.annotate(
            n_staff=Count("staff", distinct=True)
        ).order_by("name")
        ctx["store_counts"] = dict(
            Store.objects.unscoped()
            .values_list("dealer_group")
            .annotate(n=Count("id"))
            .values_list("dealer_group", "n")
        )
        ctx["sos_missing"] = (
            Store.objects.unscoped()
            .exclude(pk__in=EmergencyNumber.objects.unscoped().values("store"))
            .count()
        )
        for g in ctx["groups"]:
            g.n_stores = ctx["store_counts"].get(g.pk, 0)
    return render(request, "web/console/home.html", ctx)


@staff_page(Perm.USE_CONSOLE)
def inbox_page(request):
    messages = list(inbox.list_inbox(staff=request.user).order_by("-id")[:100])
    return render(
        request, "web/console/inbox.html", _context(request, messages=messages, nav="inbox")
    )


@staff_page(Perm.USE_CONSOLE)
def inbox_latest(request):
    """The newest unread notification of the last minute, as a toast: the console's live
    channel asks for it when a notice for this person arrives (m4s/web/static/m4s/js/live.js)."""
    since = timezone.now() - timezone.timedelta(minutes=1)
    message = (
        inbox.list_inbox(staff=request.user)
        .filter(read_at__isnull=True, created_at__gte=since)
        .order_by("-id")
        .first()
    )
    response = render(request, "web/console/_toast.html", {"message": message})
    response["Cache-Control"] = "no-store"
    return response


@staff_page(Perm.USE_CONSOLE)
@require_POST
def inbox_read(request, message_id: int):
    message = notify.mark_read(message_id=message_id, staff=request.user)
    if request.htmx:
        return render(request, "web/console/_message.html", {"message": message})
    return redirect("console-inbox")


@staff_page(Perm.USE_CONSOLE)
@require_POST
def inbox_read_all(request):
    notify.mark_all_read(staff=request.user)
    return redirect("console-inbox")

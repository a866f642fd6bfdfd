"""The owner app's loyalty area at /app/loyalty/: points and tier, the history, the reward
catalogue with idempotent redemption, vouchers with their code and QR, missions, badges and the
store's monthly leaderboard, and the referral code with its public landing page.

Thin views over m4s.loyalty.selectors and m4s.loyalty.services (the same ones the owner API uses).
Every DomainError a service raises is shown with its message and its 4xx status, never a 500.
Vouchers of another member (another group's owner included) are 404 through the scoped selector.
"""

import io
import re
import uuid
from functools import wraps
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.core.errors import DomainError
from m4s.core.i18n import translated
from m4s.customers import services as customer_services
from m4s.customers.models import Customer
from m4s.loyalty import selectors, services
from m4s.loyalty.choices import Event, Measure, VoucherStatus
from m4s.loyalty.models import EarningRule, Member, Referral
from m4s.loyalty.rewards import redeem_reward
from m4s.owners.decorators import owner_required
from m4s.owners.selectors import owner_zone

KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
CODE_RE = re.compile(r"^[A-Za-z0-9]{4,12}$")
REFERRAL_KEY = "m4s_referral"
HISTORY_PAGE = 30
RECENT = 6
QR_DARK = "#12233a"


# --- plumbing ------------------------------------------------------------------------------------
def _page(request, template: str, *, status: int = 200, **extra):
    context = dict(**extra)
    context["tz"] = owner_zone(request.owner)  # shown on the owner's (home store's) clock
    return render(request, template, context, status=status)


def _error(request, exc: DomainError, *, back: str = ""):
    return _page(
        request,
        "loyalty/app/error.html",
        status=exc.status,
        error=exc.message,
        back=back or reverse("app-loyalty"),
    )


def member_page(view):
    """Signed-in owner who is a member (else the 'bind a car to join' page); a DomainError from a
    service or selector becomes its message with its 4xx status.

    An owner who is a customer of a group running a programme joins on their first visit: the
    membership is created here through the service (the selector only reads)."""

    @owner_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        customer = selectors.loyalty_customer_of_owner(request.owner)
        if customer is None:
            return _page(request, "loyalty/app/join.html")
        try:
            member = selectors.membership(customer)
            return view(request, member, *args, **kwargs)
        except DomainError as exc:
            return _error(request, exc)

    return wrapper


def _programme(group_id: int):
    config = selectors.programme_config(group_id)
    return config.programme if config else None


def _signed(entries) -> list:
    """Ledger entries with `magnitude` for "+300" / "−300" and `credit` for the colour."""
    entries = list(entries)
    for e in entries:
        e.magnitude = abs(e.points)
        e.credit = e.points > 0
    return entries


def _voucher_state(voucher, now) -> None:
    """Status as the owner should read it: an issued voucher past its date is expired."""
    state = voucher.status
    if state == VoucherStatus.ISSUED and voucher.expires_at <= now:
        state = VoucherStatus.EXPIRED
    voucher.state = state
    voucher.state_label = VoucherStatus(state).label


def _svg(data: str, *, scale: int = 8) -> HttpResponse:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=scale, border=2, dark=QR_DARK)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- points --------------------------------------------------------------------------------------
@member_page
@require_GET
def home(request, member: Member):
    s = selectors.summary(member, fresh=True)
    rewards = selectors.rewards_for(member, fresh=True)
    vouchers = list(selectors.vouchers_of(member).filter(status=VoucherStatus.ISSUED)[:50])
    now = timezone.now()
    ready = sum(1 for v in vouchers if v.expires_at > now)
    pending_referral = request.session.get(REFERRAL_KEY)
    if (
        pending_referral
        and Referral.objects.for_group(member.dealer_group_id).filter(referee=member).exists()
    ):
        request.session.pop(REFERRAL_KEY, None)
        pending_referral = None
    return _page(
        request,
        "loyalty/app/home.html",
        s=s,
        member=s.member,
        programme=_programme(member.dealer_group_id),
        pending=list(selectors.pending_lots(member)[:10]),
        entries=_signed(selectors.ledger_of(member, limit=RECENT)),
        affordable=sum(1 for _r, why in rewards if not why),
        ready_vouchers=ready,
        pending_referral=pending_referral,
    )


@member_page
@require_GET
def history(request, member: Member):
    raw = (request.GET.get("before") or "").strip()
    before = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
    entries = _signed(selectors.ledger_of(member, limit=HISTORY_PAGE + 1, before_id=before))
    more = len(entries) > HISTORY_PAGE
    entries = entries[:HISTORY_PAGE]
    return _page(
        request,
        "loyalty/app/history.html",
        member=member,
        entries=entries,
        older=entries[-1].pk if more else None,
        first_page=before is None,
    )


# --- rewards and vouchers --------------------------------------------------------------------------
def _rewards_page(request, member: Member, *, status: int = 200, error: str = ""):
    s = selectors.summary(member)
    rewards = []
    for reward, why in selectors.rewards_for(member):
        reward.why = why
        reward.short = max(reward.cost - s.balance, 0)
        rewards.append(reward)
    return _page(
        request,
        "loyalty/app/rewards.html",
        status=status,
        s=s,
        member=s.member,
        rewards=rewards,
        key=uuid.uuid4().hex,
        error=error,
    )


@member_page
@require_GET
def rewards(request, member: Member):
    return _rewards_page(request, member)


@member_page
@require_POST
def redeem(request, member: Member, reward_id: int):
    key = (request.POST.get("key") or "").strip()
    try:
        if not KEY_RE.match(key):
            raise DomainError(
                "idempotency_key_required", _("Please reload the page and try again.")
            )
        voucher, created = redeem_reward(member, reward_id, key=f"owner:{member.pk}:{key}")
    except DomainError as exc:
        return _rewards_page(request, member, status=exc.status, error=exc.message)
    if created:
        messages.success(
            request,
            _("Redeemed: %(reward)s. Show this code when you use it.")
            % {"reward": translated(voucher.reward, "name")},
        )
    return redirect("app-loyalty-voucher", voucher_id=voucher.pk)


@member_page
@require_GET
def vouchers(request, member: Member):
    now = timezone.now()
    items = list(selectors.vouchers_of(member)[:100])
    for v in items:
        _voucher_state(v, now)
    return _page(
        request,
        "loyalty/app/vouchers.html",
        member=member,
        ready=[v for v in items if v.state == VoucherStatus.ISSUED],
        done=[v for v in items if v.state != VoucherStatus.ISSUED],
    )


@member_page
@require_GET
def voucher(request, member: Member, voucher_id: int):
    v = selectors.get_voucher_for_owner(member, voucher_id)
    _voucher_state(v, timezone.now())
    return _page(request, "loyalty/app/voucher.html", member=member, voucher=v)


@member_page
@require_GET
def voucher_qr(request, member: Member, voucher_id: int):
    v = selectors.get_voucher_for_owner(member, voucher_id)
    return _svg(v.code)


# --- missions, badges, leaderboard -------------------------------------------------------------------
def _missions_page(request, member: Member, *, status: int = 200, error: str = ""):
    member = (
        Member.objects.for_group(member.dealer_group_id)
        .select_related("customer__store")
        .get(pk=member.pk)
    )
    month = timezone.localdate()
    views = selectors.missions_of(member)
    board = selectors.leaderboard(member.dealer_group_id, member.customer.store_id, month)
    for rank, row in enumerate(board, start=1):
        row["rank"] = rank
        row["me"] = row["member_id"] == member.pk
    return _page(
        request,
        "loyalty/app/missions.html",
        status=status,
        member=member,
        open_missions=[v for v in views if v.completed_at is None],
        done_missions=[v for v in views if v.completed_at is not None],
        badges=list(selectors.badges_of(member).order_by("-awarded_at")),
        board=board,
        month=month,
        board_store=member.customer.store,
        sum_measure=Measure.SUM,
        distinct_measure=Measure.DISTINCT,
        error=error,
    )


@member_page
@require_GET
def missions(request, member: Member):
    return _missions_page(request, member)


@member_page
@require_POST
def leaderboard_name(request, member: Member):
    raw = request.POST.get("name", "") if "opt_in" in request.POST else ""
    try:
        name = services.set_leaderboard_name(member, raw[:200])
    except DomainError as exc:
        return _missions_page(request, member, status=exc.status, error=exc.message)
    if name:
        messages.success(
            request, _("You appear on the leaderboard as “%(name)s”.") % {"name": name}
        )
    else:
        messages.success(request, _("You no longer appear on the leaderboard."))
    return redirect(f"{reverse('app-loyalty-missions')}#leaderboard")


# --- referrals ---------------------------------------------------------------------------------------
def _share_link(request, member: Member) -> str:
    return request.build_absolute_uri(reverse("app-loyalty-referral", args=[member.referral_code]))


def _referral_bonus(group_id: int) -> int:
    return sum(
        EarningRule.objects.for_group(group_id)
        .filter(event=Event.REFERRAL, is_active=True, referral_level=1)
        .values_list("points", flat=True)
    )


@member_page
@require_GET
def refer(request, member: Member):
    made = Referral.objects.for_group(member.dealer_group_id).filter(referrer=member)
    return _page(
        request,
        "loyalty/app/refer.html",
        member=member,
        link=_share_link(request, member),
        bonus=_referral_bonus(member.dealer_group_id),
        invited=made.count(),
        joined=made.filter(rewarded_at__isnull=False).count(),
    )


@member_page
@require_GET
def refer_qr(request, member: Member):
    return _svg(_share_link(request, member))


def _referrer(code: str) -> Member | None:
    """The member whose referral code this is, in whichever group (the link is public)."""
    if not CODE_RE.match(code):
        return None
    return (
        Member.objects.unscoped()
        .select_related("customer__store", "dealer_group")
        .filter(referral_code=code)
        .first()
    )


def _customer_in_group(owner, group_id: int) -> Customer | None:
    return (
        Customer.objects.for_group(group_id)
        .filter(Q(owner=owner) | Q(phone=owner.phone))
        .order_by("id")
        .first()
    )


@require_http_methods(["GET", "POST"])
def referral_landing(request, code: str):
    """A friend's share link. Signed out: remember the code and ask to sign in (coming back
    here). Signed in and a customer of the group: attribute the referral. Signed in but new to
    the group: one tap joins the club (a customer record at the friend's store), then attribute;
    the friend earns when the new member binds a car."""
    code = code.strip().upper()
    referrer = _referrer(code)
    if referrer is None:
        return _page(
            request,
            "loyalty/app/landing.html",
            status=404,
            state="invalid",
            error=_("This referral code is not valid."),
        )
    group_id = referrer.dealer_group_id
    request.session[REFERRAL_KEY] = code
    ctx = {
        "code": code,
        "group": referrer.dealer_group,
        "referrer_store": referrer.customer.store,
        "programme": services.programme_of(group_id),
        "bonus": _referral_bonus(group_id),
    }
    if not request.owner:
        query = urlencode(
            {
                "store": referrer.customer.store_id,
                "next": reverse("app-loyalty-referral", args=[code]),
            },
            safe="/",
        )
        ctx["login_url"] = f"{reverse('app-login')}?{query}"
        return _page(request, "loyalty/app/landing.html", state="sign_in", **ctx)
    customer = _customer_in_group(request.owner, group_id)
    if customer is None:
        if request.method != "POST":
            return _page(request, "loyalty/app/landing.html", state="join", **ctx)
        customer = customer_services.get_or_create_customer_for_owner(
            request.owner, referrer.customer.store
        )
    prior = (
        Referral.objects.for_group(group_id)
        .filter(referee__customer=customer)
        .select_related("referrer")
        .first()
    )
    if prior is not None and prior.referrer_id == referrer.pk:
        request.session.pop(REFERRAL_KEY, None)
        return _page(request, "loyalty/app/landing.html", state="done", **ctx)
    try:
        services.attribute_referral(customer, code)
    except DomainError as exc:
        request.session.pop(REFERRAL_KEY, None)
        own = referrer.customer_id == customer.pk or referrer.customer.owner_id == request.owner.pk
        state = "own" if exc.code == "self_referral" and own else ""
        return _page(
            request,
            "loyalty/app/landing.html",
            status=exc.status,
            state=state or "refused",
            error=exc.message,
            **ctx,
        )
    request.session.pop(REFERRAL_KEY, None)
    return _page(request, "loyalty/app/landing.html", state="done", **ctx)

"""The owner's side of notifications: the one-tap unsubscribe landing page (works without
signing in: the signed link names the owner and the category) and the notification settings."""

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.core.errors import DomainError
from m4s.notify import policy, preferences, services, wechat
from m4s.notify.choices import Category, Channel
from m4s.owners.decorators import owner_required


@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what the link would switch off, with one button (mail scanners that open links must
    not unsubscribe anyone); POST: switched off. A forged or damaged link: 404, nothing changed.
    Also answers RFC 8058 one-click POSTs (List-Unsubscribe-Post) from mail clients."""
    parsed = policy.read_unsubscribe_token(token)
    if parsed is None:
        return render(request, "notify/app/unsubscribe.html", {"invalid": True}, status=404)
    category = Category(parsed[1])
    if request.method == "POST":
        try:
            services.unsubscribe_by_token(token)
        except DomainError as exc:
            return render(
                request, "notify/app/unsubscribe.html", {"invalid": True}, status=exc.status
            )
        return render(request, "notify/app/unsubscribe.html", {"done": True, "category": category})
    return render(request, "notify/app/unsubscribe.html", {"category": category})


# --- the notification settings page ---------------------------------------------------------
COMMON_ZONES = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
]


def _zones(current: str) -> list[str]:
    return COMMON_ZONES + ([current] if current and current not in COMMON_ZONES else [])


def _changes_from(post: Any, owner: Any) -> dict[str, Any]:
    """The settings form as the changes preferences.update_settings takes."""
    channels = [c for c in post.getlist("channels") if c]
    first = post.get("first", "")
    if first and first in channels:
        channels.remove(first)
        channels.insert(0, first)
    categories = []
    for category in preferences.SWITCHABLE:
        categories.append(
            {
                "category": category,
                "enabled": post.get(f"{category}-enabled") == "on",
                "channels": [c for c in post.getlist(f"{category}-channels") if c],
            }
        )
    start, end = post.get("quiet_hours_start", ""), post.get("quiet_hours_end", "")
    return {
        "channels": channels,
        "quiet_hours_start": _time(start),
        "quiet_hours_end": _time(end),
        "time_zone": post.get("time_zone", "")[:64],
        "categories": categories,
    }


def _time(raw: str) -> dt.time | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        raise DomainError("invalid_quiet_hours", _("Enter times as HH:MM.")) from None


@never_cache
@owner_required
@require_http_methods(["GET", "POST"])
def settings_page(request: Any) -> HttpResponse:
    """Per category: on or off and on which channels; the channels in order; quiet hours and
    the time zone they are read in; web push on this phone; WeChat."""
    owner = request.owner
    error, saved, status = "", False, 200
    if request.method == "POST":
        try:
            owner = preferences.update_settings(
                owner, _changes_from(request.POST, owner), source="app"
            )
            saved = True
        except DomainError as exc:
            error, status = exc.message, exc.status
            owner.refresh_from_db()
    current = preferences.settings_of(owner)
    rows = [r for r in current["categories"]]
    return render(
        request,
        "notify/app/settings.html",
        {
            "tab": "profile",
            "settings": current,
            "rows": rows,
            "channel_choices": [
                (c.value, c.label) for c in Channel if c.value in current["available_channels"]
            ],
            "first": next((c for c in owner.channels if c != Channel.INAPP), ""),
            "zones": _zones(owner.time_zone),
            "saved": saved,
            "error": error,
            "wechat": settings.WECHAT_ENABLED and bool(settings.WECHAT_APP_ID),
        },
        status=status,
    )


@owner_required
@require_POST
def push_subscribe(request: Any) -> HttpResponse:
    """The page's JS posts the browser's PushSubscription.toJSON() here (the app's session;
    the API's POST /api/v1/me/push-subscriptions does the same for token clients)."""
    try:
        data = json.loads(request.body or b"{}")
        keys = data.get("keys") or {}
        sub, created = preferences.subscribe(
            request.owner,
            endpoint=str(data.get("endpoint", ""))[:1000],
            p256dh=str(keys.get("p256dh", ""))[:100],
            auth=str(keys.get("auth", ""))[:30],
            user_agent=request.headers.get("User-Agent", ""),
        )
    except (ValueError, AttributeError):
        return JsonResponse({"code": "invalid_input", "message": _("Not JSON.")}, status=400)
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse({"id": sub.pk}, status=201 if created else 200)


@owner_required
@require_POST
def push_forget(request: Any, subscription_id: int) -> HttpResponse:
    try:
        preferences.unsubscribe_push(request.owner, subscription_id)
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return redirect("app-notifications")


# --- binding WeChat from inside WeChat ----------------------------------------------------------
WECHAT_STATE_SALT = "m4s.notify.wechat-bind"


@owner_required
@require_POST
def wechat_start(request: Any) -> HttpResponse:
    if not settings.WECHAT_ENABLED:
        return redirect("app-notifications")
    state = signing.dumps(request.owner.pk, salt=WECHAT_STATE_SALT)
    back = request.build_absolute_uri(reverse("app-notifications-wechat-done"))
    return redirect(wechat.oauth_url(back, state))


@never_cache
@owner_required
@require_GET
def wechat_done(request: Any) -> HttpResponse:
    """WeChat sends the owner back with ?code&state: the state must be this owner's (signed,
    10 minutes), the code is exchanged for the openid."""
    try:
        owner_id = signing.loads(request.GET.get("state", ""), salt=WECHAT_STATE_SALT, max_age=600)
    except signing.BadSignature:
        owner_id = None
    code = request.GET.get("code", "")[:200]
    if owner_id != request.owner.pk or not code or not settings.WECHAT_ENABLED:
        return render(
            request, "notify/app/unsubscribe.html", {"invalid": True, "tab": "profile"}, status=400
        )
    try:
        openid = wechat.openid_from_code(code)
        services.bind_wechat_openid(request.owner, openid, source="oauth")
    except Exception:  # WeChat refused the code: nothing bound
        return render(
            request, "notify/app/unsubscribe.html", {"invalid": True, "tab": "profile"}, status=400
        )
    return redirect("app-notifications")

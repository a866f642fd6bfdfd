"""The owner's side of notifications: the one-tap unsubscribe landing page (works without
signing in: the signed link names the owner and the category) and the notification settings."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from m4s.core.errors import DomainError
from m4s.notify import policy, services
from m4s.notify.choices import Category


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

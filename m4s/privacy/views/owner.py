"""The owner app's privacy page at /app/privacy/: what is collected, why and for how long, the
data export (request, then download through the signed link) and erasure (request, cancel)."""

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from m4s.core.auth import resolve_token
from m4s.core.errors import NotFound
from m4s.owners.decorators import owner_required
from m4s.privacy import services
from m4s.privacy.collected import what_we_collect


@owner_required
@require_GET
@never_cache
def privacy(request):
    owner = request.owner
    export = services.latest_export(owner)
    return render(
        request,
        "privacy/app/privacy.html",
        {
            "tab": "profile",
            "collected": what_we_collect(),
            "export": export,
            "download_token": services.download_token(export)
            if export and services.is_downloadable(export)
            else None,
            "erasure": services.pending_erasure(owner),
            "cooling_off": settings.ERASURE_COOLING_OFF_DAYS,
        },
    )


@owner_required
@require_POST
def request_export(request):
    _export, created = services.request_export(request.owner)
    messages.success(
        request,
        _("We are preparing your data. It will be ready to download here in a few minutes.")
        if created
        else _("Your data is already being prepared."),
    )
    return redirect("app-privacy")


@owner_required
@require_POST
def request_erasure(request):
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that you want your account erased."))
        return redirect("app-privacy")
    services.request_erasure(request.owner)
    messages.success(request, _("Your erasure request is registered. You can cancel it here."))
    return redirect("app-privacy")


@owner_required
@require_POST
def cancel_erasure(request):
    try:
        services.cancel_erasure(request.owner)
    except NotFound as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your erasure request is cancelled. Nothing was erased."))
    return redirect("app-privacy")


def _owner_of(request):
    """The session's owner, or the owner of the API bearer token the client sends."""
    if request.owner:
        return request.owner
    scheme, _sep, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        token = resolve_token(key.strip())
        if token is not None and token.owner_id:
            return token.owner
    return None


@require_GET
@never_cache
def download(request, token: str):
    """The ZIP, to the owner it belongs to only, while the signed link is valid: anyone else
    (another owner, staff, nobody) gets 404."""
    try:
        export = services.export_for_token(token, _owner_of(request))
    except NotFound:
        raise Http404 from None
    try:
        handle = default_storage.open(export.file, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type="application/zip",
        as_attachment=True,
        filename=f"m4s-my-data-{export.ready_at:%Y%m%d}.zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response

"""The one way uploaded files leave the server: `/media/<area>/<pk>/<file>` after an access check."""

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from .auth import resolve_token
from .uploads import CONTENT_TYPES, PUBLIC, find_protected_file, protected_fields


def _sign_in_by_bearer_token(request: Any) -> None:  # sets request.owner (not on HttpRequest)
    """API clients fetch the photo URLs the API lists with their bearer token, not a session."""
    scheme, _sep, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return
    token = resolve_token(key.strip())
    if token is None:
        return
    if token.owner_id:
        request.owner = token.owner
    else:
        request.user = token.staff


@require_safe
def media_file(request: HttpRequest, area: str, pk: int, name: str) -> HttpResponse | FileResponse:
    """Answer 404 unless the owning area says this requester may see the file (an owner their
    own visits, staff their group and stores, anyone for public branding); then stream it, or
    hand it to the web server with X-Accel-Redirect / X-Sendfile when that is configured.
    The requester is the session's owner or staff member, or the API bearer token's."""
    _sign_in_by_bearer_token(request)
    file = find_protected_file(request, area, pk, name)
    if file is None:
        raise Http404
    _model, field = protected_fields()[area]
    stored = file.name or ""
    ext = PurePosixPath(stored).suffix.lower().lstrip(".")
    public = field.access == PUBLIC
    response: HttpResponse | FileResponse
    if settings.MEDIA_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=CONTENT_TYPES[ext])
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT_PREFIX + quote(stored)
    elif settings.MEDIA_X_SENDFILE:
        response = HttpResponse(content_type=CONTENT_TYPES[ext])
        response["X-Sendfile"] = file.path
    else:
        try:
            handle = file.storage.open(stored, "rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type=CONTENT_TYPES[ext])
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=86400" if public else "private, max-age=3600"
    if not public:
        response["Vary"] = "Cookie, Authorization"
    return response

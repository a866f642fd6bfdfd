"""Request guards that apply to every page and API call."""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

_FORM_BODIES = ("application/x-www-form-urlencoded", "multipart/form-data")
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# terminals are not always careful with their headers: the ingest endpoint parses its body as
# JSON whatever the content type says (the NUL check still reads it)
_ANY_CONTENT_TYPE = ("/api/v1/telematics/ingest",)


def _is_json(ctype: str) -> bool:
    return ctype == "application/json" or (
        ctype.startswith("application/") and ctype.endswith("+json")
    )


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    if any("\x00" in v for k, v in request.META.items() if k.startswith("HTTP_")):
        return True
    if any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.GET.lists()):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    ctype = request.content_type or ""
    if ctype in _FORM_BODIES:
        # uploaded files are not looked at: they are stored as bytes, never as text
        return any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.POST.lists())
    # any other body (JSON whatever its declared type, text, or something a parser may still
    # read as JSON) is checked as raw bytes, escaped or not
    body = request.body
    return b"\x00" in body or b"\\u0000" in body.lower()


def _refuse(
    request: HttpRequest, status: int, code: str, message: str, **headers: str
) -> HttpResponse:
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": code, "message": message}, status=status)
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    return response


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class RejectNulMiddleware:
    """Guards every request before any view runs:

    - a body larger than `MAX_REQUEST_BYTES` (uploads included) is refused with 413
      `request_too_large`, and a non-file body over Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` too;
    - an API call with a body must send it as JSON (`application/json`) or a form
      (`multipart/form-data`): anything else is 415 `unsupported_media_type`, so no parser reads
      a body the guards below did not;
    - a NUL character cannot be stored in PostgreSQL text: a request carrying one in its path,
      query, headers, form fields or body is refused with 400 `invalid_input`.

    API paths always answer JSON `{code, message}`; pages answer plain text."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        if _content_length(request) > limit:
            return self._too_large(request, limit)
        if (
            request.path.startswith("/api/")
            and request.method in _BODY_METHODS
            and _content_length(request) > 0
            and request.path not in _ANY_CONTENT_TYPE
        ):
            ctype = request.content_type or ""
            if not (_is_json(ctype) or ctype in _FORM_BODIES):
                return _refuse(
                    request,
                    415,
                    "unsupported_media_type",
                    _("Send the request body as JSON (Content-Type: application/json)."),
                )
        try:
            has_nul = _has_nul(request)
        except RequestDataTooBig:
            return self._too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if has_nul:
            return _refuse(
                request,
                400,
                "invalid_input",
                _("The request contains a NUL character, which is not allowed."),
            )
        return self.get_response(request)

    @staticmethod
    def _too_large(request: HttpRequest, limit: int) -> HttpResponse:
        return _refuse(
            request,
            413,
            "request_too_large",
            _("The request is too large (at most %(size)s MB).")
            % {"size": f"{limit / 1_000_000:g}"},
        )

"""Request guards that apply to every page and API call."""

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

_TEXT_BODIES = ("application/json", "text/")


def _has_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    if any("\x00" in v for k, v in request.META.items() if k.startswith("HTTP_")):
        return True
    if any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.GET.lists()):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    ctype = request.content_type or ""
    if ctype.startswith(_TEXT_BODIES):
        body = request.body
        return b"\x00" in body or b"\\u0000" in body.lower()
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.POST.lists())
    return False


class RejectNulMiddleware:
    """A NUL character cannot be stored in PostgreSQL text: a request carrying one in its path,
    query, form fields or JSON body is refused with 400 `invalid_input` before any view runs,
    instead of failing deep inside a query (uploaded files are not looked at)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            message = _("The request contains a NUL character, which is not allowed.")
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid_input", "message": message}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

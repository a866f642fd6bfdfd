"""The API's framework layer: one error envelope {"code", "message"} for every 4xx."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from .errors import DomainError


def _error(api: NinjaAPI, request, status: int, code: str, message: str, **extra):
    body = {"code": code, "message": message}
    if extra:
        body.update(extra)
    response = api.create_response(request, body, status=status)
    if (
        "details" in extra
        and isinstance(extra["details"], dict)
        and "retry_after" in extra["details"]
    ):
        response["Retry-After"] = str(extra["details"]["retry_after"])
    return response


def _validation_message(errors: list[dict]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(
            str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")
        )
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else err.get("msg", "invalid"))
    return "; ".join(parts) or "Invalid input."


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        extra = {"details": exc.details} if exc.details else {}
        return _error(api, request, exc.status, exc.code, exc.message, **extra)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors]
        return _error(
            api, request, 422, "validation_error", _validation_message(exc.errors), errors=errors
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return _error(
            api,
            request,
            401,
            "unauthenticated",
            _("Sign in first: send 'Authorization: Bearer <token>'."),
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = {
            400: "bad_request",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            429: "rate_limited",
        }
        return _error(api, request, exc.status_code, code.get(exc.status_code, "error"), str(exc))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return _error(api, request, 404, "not_found", _("Not found."))

    @api.exception_handler(DjangoPermissionDenied)
    def forbidden(request, exc):
        return _error(api, request, 403, "forbidden", _("You do not have permission to do this."))

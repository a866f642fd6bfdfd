"""The API's framework layer: one error envelope {"code", "message"} for every 4xx."""

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from .errors import DomainError

_Schema = TypeVar("_Schema", bound=dict[str, Any])


def _error(
    api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str, **extra: Any
) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": message}
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


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(
            str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")
        )
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else err.get("msg", "invalid"))
    return "; ".join(parts) or "Invalid input."


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        extra = {"details": exc.details} if exc.details else {}
        return _error(api, request, exc.status, exc.code, exc.message, **extra)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors]
        return _error(
            api, request, 422, "validation_error", _validation_message(exc.errors), errors=errors
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return _error(
            api,
            request,
            401,
            "unauthenticated",
            _("Sign in first: send 'Authorization: Bearer <token>'."),
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {
            400: "bad_request",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            429: "rate_limited",
        }
        return _error(api, request, exc.status_code, code.get(exc.status_code, "error"), str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _error(api, request, 404, "not_found", _("Not found."))

    @api.exception_handler(DjangoPermissionDenied)
    def forbidden(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
        return _error(api, request, 403, "forbidden", _("You do not have permission to do this."))


# --- the contract: every operation declares the errors it can answer -------------------------------
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "description": "Every 4xx answer of the API.",
    "properties": {
        "code": {"type": "string", "description": "Machine-readable, e.g. `not_found`."},
        "message": {"type": "string", "description": "For people, in the client's language."},
        "details": {"type": "object", "description": "More about this error, when useful."},
        "errors": {
            "type": "array",
            "items": {"type": "object"},
            "description": "`validation_error` only: each field refused (loc, msg, type).",
        },
    },
    "required": ["code", "message"],
}

ERROR_DESCRIPTIONS = {
    400: "Bad request: malformed JSON, a NUL character, or a refused value (`code` says which).",
    401: "Not signed in: send `Authorization: Bearer <token>`.",
    403: "Signed in, but not allowed to do this.",
    404: "No such object (objects of another dealer group are not found either).",
    409: "Conflicts with the current state (already done, taken meanwhile, ...).",
    410: "Gone: expired.",
    422: "The input does not match this operation's schema (`validation_error`).",
    429: "Too many requests: wait `Retry-After` seconds.",
}

# What any authenticated operation may answer besides its success: the API reserves these for
# every signed-in call, so a client handles them once. Operations without a token (sign-in)
# declare 400, 422 and 429 and name the rest with `errors(...)`.
AUTHENTICATED_ERRORS = (400, 401, 403, 404, 409, 422, 429)
PUBLIC_ERRORS = (400, 422, 429)
_EXTRA_KEY = "x-m4s-errors"


def errors(*statuses: int) -> dict[str, Any]:
    """`openapi_extra` for an operation that can answer more than the common set, e.g.
    `@router.post(..., openapi_extra=errors(410))`."""
    return {_EXTRA_KEY: list(statuses)}


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS.get(status, "Error."),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    return response


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """An API address that matches no operation (an id that is not a number, a typo) answers
    the JSON envelope too, not Django's HTML page."""
    return JsonResponse({"code": "not_found", "message": _("Not found.")}, status=404)


def document_errors(schema: _Schema) -> _Schema:
    """Add the `Error` schema and, to every operation, the error statuses it can answer.
    Integer path parameters are object ids: 1 to 2**63-1."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                s = param.get("schema", {})
                if param.get("in") == "path" and s.get("type") == "integer":
                    s.setdefault("minimum", 1)
                    s.setdefault("maximum", 2**63 - 1)
            extra = operation.pop(_EXTRA_KEY, [])
            statuses = set(AUTHENTICATED_ERRORS if operation.get("security") else PUBLIC_ERRORS)
            statuses.update(extra)
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            for status in sorted(statuses):
                responses.setdefault(str(status), _error_response(status))
            operation["responses"] = dict(sorted(responses.items()))
    return schema


class M4SNinjaAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document states the error answers of every operation."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        return document_errors(
            super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        )

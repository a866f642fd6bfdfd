"""Errors that services raise and the API and pages turn into clear 4xx answers."""

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Bad input or a refused action: a machine-readable code, a human message, an HTTP status."""

    status = 400

    def __init__(
        self, code: str, message: str, *, status: int | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str | None = None):
        super().__init__("not_found", str(message or _("Not found.")))


class PermissionDenied(DomainError):
    status = 403

    def __init__(self, message: str | None = None):
        super().__init__("forbidden", str(message or _("You do not have permission to do this.")))


class RateLimited(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__("rate_limited", message, retry_after=retry_after)
        self.retry_after = retry_after

"""Bearer-token authentication for the API: owners, staff, or either."""

from django.utils import translation
from ninja.security import HttpBearer

from .services import resolve_token


class _Bearer(HttpBearer):
    accepts = ("owner", "staff")

    def authenticate(self, request, token):
        api_token = resolve_token(token)
        if api_token is None:
            return None
        if api_token.owner_id and "owner" in self.accepts:
            request.owner = api_token.owner
        elif api_token.staff_id and "staff" in self.accepts:
            request.user = api_token.staff
        else:
            return None
        request.api_token = api_token
        _reader_language(request)
        return api_token


def _reader_language(request) -> None:
    """A client that sends no Accept-Language gets answers in the signed-in person's own
    language (names, points reasons, inbox messages), not the server default."""
    if request.META.get("HTTP_ACCEPT_LANGUAGE"):
        return
    person = getattr(request, "owner", None) or getattr(request, "user", None)
    language = getattr(person, "language", "") or ""
    if language and translation.check_for_language(language):
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class OwnerAuth(_Bearer):
    accepts = ("owner",)


class StaffAuth(_Bearer):
    accepts = ("staff",)


class AnyAuth(_Bearer):
    pass


owner_auth = OwnerAuth()
staff_auth = StaffAuth()
any_auth = AnyAuth()

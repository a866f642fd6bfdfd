"""Bearer-token authentication for the API: owners, staff, or either.

Every area's API declares `auth=owner_auth` (or `staff_auth`, `any_auth`) from here. The token
itself is looked up by the function `settings.M4S_TOKEN_RESOLVER` names (identity's
`resolve_token`), so areas depend on core and never on the sign-in area, as Django's
`AUTHENTICATION_BACKENDS` keep apps from importing the backend.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string
from ninja.security import HttpBearer


@cache
def _resolver() -> Callable[[str], Any]:
    return import_string(settings.M4S_TOKEN_RESOLVER)  # type: ignore[no-any-return]


def resolve_token(key: str) -> Any:
    """The live API token with this key (its `owner` or `staff` set), or None."""
    return _resolver()(key)


class _Bearer(HttpBearer):
    accepts: tuple[str, ...] = ("owner", "staff")

    def authenticate(self, request: Any, token: str) -> Any:
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


def _reader_language(request: Any) -> None:
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

"""Bearer-token authentication for the API: owners, staff, or either."""

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
        return api_token


class OwnerAuth(_Bearer):
    accepts = ("owner",)


class StaffAuth(_Bearer):
    accepts = ("staff",)


class AnyAuth(_Bearer):
    pass


owner_auth = OwnerAuth()
staff_auth = StaffAuth()
any_auth = AnyAuth()

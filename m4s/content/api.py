"""content API. Transport only: every write is a service, every read a selector."""

from ninja import Router

from m4s.core.auth import owner_auth, staff_auth

owner_router = Router(tags=["owner: content"], auth=owner_auth)
staff_router = Router(tags=["staff: content"], auth=staff_auth)
public_router = Router(tags=["content"])


# --- owner ---
# The owners' endpoints (feed, item, search, prices) are in owner_api.py, on the routers above.
from . import owner_api  # noqa: E402, F401

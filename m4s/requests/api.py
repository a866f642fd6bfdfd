"""Online-service requests: the API. Transport only: every write is a service, every read a selector."""

from ninja import Router

from m4s.core.auth import owner_auth, staff_auth

owner_router = Router(tags=["owner: requests"], auth=owner_auth)
staff_router = Router(tags=["staff: requests"], auth=staff_auth)
public_router = Router(tags=["requests"])

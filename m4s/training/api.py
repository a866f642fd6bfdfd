"""Training API (transport only)."""

from ninja import Router

from m4s.core.auth import staff_auth

router = Router(tags=["staff: training"], auth=staff_auth)

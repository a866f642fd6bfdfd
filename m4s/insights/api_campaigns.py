"""Insight API, segments and campaigns (transport only; its part fills this module)."""

from ninja import Router

from m4s.core.auth import staff_auth

router = Router(tags=["staff: segments and campaigns"], auth=staff_auth)

"""Insight API, staff scorecards (transport only; its part fills this module)."""

from ninja import Router

from m4s.core.auth import staff_auth

router = Router(tags=["staff: scorecards"], auth=staff_auth)

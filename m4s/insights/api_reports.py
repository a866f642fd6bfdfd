"""Insight API, insights (monthly service reports) (transport only; its part fills this module)."""

from ninja import Router

from m4s.core.auth import staff_auth

router = Router(tags=["staff: monthly service reports"], auth=staff_auth)

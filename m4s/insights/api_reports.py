"""Insight API, insights (scorecards and reports) (transport only; its part fills this module)."""

from ninja import Router

from m4s.core.auth import staff_auth

router = Router(tags=["staff: insights (scorecards and reports)"], auth=staff_auth)

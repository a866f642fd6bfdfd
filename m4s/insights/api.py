"""Insight API, insights (KPIs) (transport only; its part fills this module)."""

from ninja import Router

from m4s.core.auth import staff_auth

router = Router(tags=["staff: insights (KPIs)"], auth=staff_auth)

"""Insight API, insights (customers and churn risk) (transport only; its part fills this module)."""

from ninja import Router

from m4s.core.auth import staff_auth

router = Router(tags=["staff: insights (customers and churn risk)"], auth=staff_auth)

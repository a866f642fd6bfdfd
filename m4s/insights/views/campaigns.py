"""Insight console: the campaigns section (its part fills this module; see views/common.py)."""

from django.shortcuts import render
from django.urls import path

from m4s.staff.choices import Perm

from .common import ctx, insights_page


@insights_page(Perm.RUN_CAMPAIGNS)
def index(request):
    return render(request, "insights/console/base.html", ctx(request, "campaigns"))


urlpatterns = [
    path("campaigns/", index, name="console-insights-campaigns"),
]

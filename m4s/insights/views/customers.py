"""Insight console: the customers section (its part fills this module; see views/common.py)."""

from django.shortcuts import render
from django.urls import path

from m4s.staff.choices import Perm

from .common import ctx, insights_page


@insights_page(Perm.VIEW_INSIGHTS)
def index(request):
    return render(request, "insights/console/base.html", ctx(request, "customers"))


urlpatterns = [
    path("customers/", index, name="console-insights-customers"),
]

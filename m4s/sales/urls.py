"""The sales area's pages: `owner_urlpatterns` (owner app, included at /app/sales/) and
`console_urlpatterns` (staff console, included at /console/sales/)."""

from django.urls import URLPattern, path

from .views import console

owner_urlpatterns: list[URLPattern] = []

console_urlpatterns = [
    path("", console.board, name="console-sales"),
    path("new/", console.new_lead, name="console-sales-new"),
    path("figures/", console.figures, name="console-sales-figures"),
    path("figures/export.xlsx", console.export, name="console-sales-export"),
    path("<int:lead_id>/", console.lead_detail, name="console-sales-lead"),
    path("<int:lead_id>/move/", console.quick_move, name="console-sales-move"),
    path("<int:lead_id>/<str:action>/", console.lead_action, name="console-sales-lead-action"),
]

"""The requests area's pages: `owner_urlpatterns` (owner app, included at /app/requests/) and
`console_urlpatterns` (staff console, included at /console/requests/)."""

from django.urls import path

from .views import console, owner

owner_urlpatterns = [
    path("", owner.requests_list, name="app-requests"),
    path("new/<str:kind>/", owner.new_request, name="app-request-new"),
    path("test-drive/", owner.new_request, {"kind": "test_drive"}, name="app-request-test-drive"),
    path("finance/", owner.new_request, {"kind": "finance"}, name="app-request-finance"),
    path(
        "insurance/", owner.new_request, {"kind": "insurance_quote"}, name="app-request-insurance"
    ),
    path("trade-in/", owner.new_request, {"kind": "trade_in"}, name="app-request-trade-in"),
    path("<int:request_id>/", owner.detail, name="app-request"),
    path("<int:request_id>/cancel/", owner.cancel, name="app-request-cancel"),
    path("<int:request_id>/accept-quote/", owner.accept_quote, name="app-request-accept-quote"),
    path("<int:request_id>/do/<str:action>/", owner.owner_action, name="app-request-action"),
]

console_urlpatterns = [
    path("", console.queue, name="console-requests"),
    path("figures/", console.figures, name="console-request-figures"),
    path("figures.xlsx", console.figures_xlsx, name="console-request-figures-xlsx"),
    path("<int:request_id>/", console.detail, name="console-request"),
    path("<int:request_id>/<str:action>/", console.action, name="console-request-action"),
]

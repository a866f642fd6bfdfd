"""The complaints area's pages: `owner_urlpatterns` (owner app, included at /app/complaints/) and
`console_urlpatterns` (staff console, included at /console/complaints/)."""

from django.urls import path

from .views import owner
from .views.console import case, desk, figures

owner_urlpatterns = [
    path("", owner.complaints, name="app-complaints"),
    path("new/", owner.new_complaint, name="app-complaints-new"),
    path("<int:complaint_id>/", owner.complaint, name="app-complaint"),
    path("<int:complaint_id>/reply/", owner.reply, name="app-complaint-reply"),
    path("<int:complaint_id>/confirm/", owner.confirm, name="app-complaint-confirm"),
    path("<int:complaint_id>/reopen/", owner.reopen, name="app-complaint-reopen"),
    path("<int:complaint_id>/rate/", owner.rate, name="app-complaint-rate"),
]

console_urlpatterns = [
    path("", desk.desk, name="console-complaints"),
    path("queue/", desk.queue_rows, name="console-complaints-queue"),
    path("record/", desk.record, name="console-complaints-record"),
    path("<int:complaint_id>/", case.case, name="console-complaint"),
    path("<int:complaint_id>/<slug:action>/", case.act, name="console-complaint-act"),
    path(
        "actions/<int:action_id>/check/",
        case.check_action,
        name="console-complaint-check-action",
    ),
    path("figures/", figures.figures, name="console-complaints-figures"),
    path("figures/export.xlsx", figures.export, name="console-complaints-export"),
]

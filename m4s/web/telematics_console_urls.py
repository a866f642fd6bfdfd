"""Staff console pages of the connected car, included at /console/telematics/."""

from django.urls import path

from . import telematics_console_views as views

urlpatterns = [
    path("", views.terminals, name="console-telematics"),
    path("alerts/", views.alerts, name="console-telematics-alerts"),
    path("cases/<int:case_id>/", views.case, name="console-telematics-case"),
    path(
        "cases/<int:case_id>/acknowledge/",
        views.acknowledge,
        name="console-telematics-case-acknowledge",
    ),
    path("cases/<int:case_id>/close/", views.close, name="console-telematics-case-close"),
    path("vehicles/<int:vehicle_id>/", views.vehicle_health, name="console-telematics-vehicle"),
]

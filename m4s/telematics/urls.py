"""Connected-car pages: the owner app's car health (included at /app/cars/) and the console's
(at /console/telematics/)."""

from django.urls import path

from .views import console, owner

owner_urlpatterns = [
    path("<int:vehicle_id>/health/", owner.health, name="app-car-health"),
    path("<int:vehicle_id>/health/parked/", owner.parked, name="app-car-parked"),
    path("<int:vehicle_id>/health/geofences/", owner.geofence, name="app-car-geofence"),
    path(
        "<int:vehicle_id>/health/geofences/<int:fence_id>/remove/",
        owner.geofence_remove,
        name="app-car-geofence-remove",
    ),
]

console_urlpatterns = [
    path("", console.terminals, name="console-telematics"),
    path("alerts/", console.alerts, name="console-telematics-alerts"),
    path("cases/<int:case_id>/", console.case, name="console-telematics-case"),
    path(
        "cases/<int:case_id>/acknowledge/",
        console.acknowledge,
        name="console-telematics-case-acknowledge",
    ),
    path("cases/<int:case_id>/close/", console.close, name="console-telematics-case-close"),
    path("vehicles/<int:vehicle_id>/", console.vehicle_health, name="console-telematics-vehicle"),
]

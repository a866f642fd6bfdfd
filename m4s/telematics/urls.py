"""Connected-car pages: the owner app's car health (included at /app/cars/) and the console's
(at /console/telematics/)."""

from django.urls import path

from .views import console, owner, rescue

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

# the owner's rescue cases, at /app/rescue/
rescue_urlpatterns = [
    path("current/", rescue.owner_current, name="app-rescue-current"),
    path("<int:case_id>/", rescue.owner_case, name="app-rescue-case"),
    path("<int:case_id>/photos/", rescue.owner_photo, name="app-rescue-photo"),
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
    path("cases/<int:case_id>/tow/", rescue.dispatch, name="console-telematics-case-dispatch"),
    path(
        "cases/<int:case_id>/tow/status/",
        rescue.tow_status,
        name="console-telematics-case-tow-status",
    ),
    path(
        "cases/<int:case_id>/insurer/",
        rescue.notify_insurer,
        name="console-telematics-case-insurer",
    ),
    path(
        "cases/<int:case_id>/repair-order/",
        rescue.repair_order,
        name="console-telematics-case-ro",
    ),
    path("tow-partners/", rescue.tow_partners, name="console-telematics-tow-partners"),
    path("tow-partners/<int:pk>/", rescue.tow_partners, name="console-telematics-tow-partner"),
    path("insurers/", rescue.insurers, name="console-telematics-insurers"),
    path("insurers/<int:pk>/", rescue.insurers, name="console-telematics-insurer"),
    path("vehicles/<int:vehicle_id>/", console.vehicle_health, name="console-telematics-vehicle"),
]

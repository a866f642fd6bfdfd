"""Owner app car health pages, included at /app/cars/."""

from django.urls import path

from . import telematics_owner_views as views

urlpatterns = [
    path("<int:vehicle_id>/health/", views.health, name="app-car-health"),
    path("<int:vehicle_id>/health/parked/", views.parked, name="app-car-parked"),
    path("<int:vehicle_id>/health/geofences/", views.geofence, name="app-car-geofence"),
    path(
        "<int:vehicle_id>/health/geofences/<int:fence_id>/remove/",
        views.geofence_remove,
        name="app-car-geofence-remove",
    ),
]

"""Driving pages of the owner app (included at /app/cars/ beside the car health page)."""

from django.urls import path

from .views import owner

owner_urlpatterns = [
    path("<int:vehicle_id>/trips/", owner.trips, name="app-car-trips"),
    path("<int:vehicle_id>/driving-score/", owner.score, name="app-car-driving-score"),
    path(
        "<int:vehicle_id>/driving-score/insurer/",
        owner.insurer_consent,
        name="app-car-insurer-consent",
    ),
]

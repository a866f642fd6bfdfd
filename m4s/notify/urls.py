"""Notification pages: `owner_urlpatterns` (owner app, included at /app/notifications/)."""

from django.urls import path

from .views import owner

owner_urlpatterns = [
    path("unsubscribe/<str:token>/", owner.unsubscribe, name="notify-unsubscribe"),
]

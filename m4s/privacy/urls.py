"""The privacy area's pages: `owner_urlpatterns` (owner app, included at /app/privacy/)."""

from django.urls import path

from .views import owner

owner_urlpatterns = [
    path("", owner.privacy, name="app-privacy"),
    path("export/", owner.request_export, name="app-privacy-export"),
    path("export/<str:token>/", owner.download, name="app-privacy-download"),
    path("erasure/", owner.request_erasure, name="app-privacy-erasure"),
    path("erasure/cancel/", owner.cancel_erasure, name="app-privacy-erasure-cancel"),
]

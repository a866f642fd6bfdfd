"""The requests area's pages: `owner_urlpatterns` (owner app, included at /app/requests/) and
`console_urlpatterns` (staff console, included at /console/requests/)."""

from django.urls import URLPattern

owner_urlpatterns: list[URLPattern] = []

console_urlpatterns: list[URLPattern] = []

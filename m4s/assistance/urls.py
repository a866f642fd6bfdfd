"""The assistance area's pages: `owner_urlpatterns` (owner app, included at /app/assistance/) and
`console_urlpatterns` (staff console, included at /console/assistance/)."""

from django.urls import URLPattern

owner_urlpatterns: list[URLPattern] = []

console_urlpatterns: list[URLPattern] = []

"""The sales area's pages: `owner_urlpatterns` (owner app, included at /app/sales/) and
`console_urlpatterns` (staff console, included at /console/sales/)."""

from django.urls import URLPattern

owner_urlpatterns: list[URLPattern] = []

console_urlpatterns: list[URLPattern] = []

"""The catalogue area's pages: `owner_urlpatterns` (owner app, included at /app/catalogue/) and
`console_urlpatterns` (staff console, included at /console/catalogue/)."""

from django.urls import URLPattern

owner_urlpatterns: list[URLPattern] = []

console_urlpatterns: list[URLPattern] = []

"""The events area's pages: `owner_urlpatterns` (owner app, included at /app/events/) and
`console_urlpatterns` (staff console, included at /console/events/)."""

owner_urlpatterns: list = []

console_urlpatterns: list = []

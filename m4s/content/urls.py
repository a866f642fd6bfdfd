"""The content area's pages: `owner_urlpatterns` (owner app, included at /app/content/) and
`console_urlpatterns` (staff console, included at /console/content/)."""

owner_urlpatterns: list = []

console_urlpatterns: list = []

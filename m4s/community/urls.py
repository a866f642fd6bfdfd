"""The community area's pages: `owner_urlpatterns` (owner app, included at /app/community/) and
`console_urlpatterns` (staff console, included at /console/community/)."""

owner_urlpatterns: list = []

console_urlpatterns: list = []

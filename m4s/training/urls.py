"""Training pages of the staff console (included at /console/training/)."""

console_urlpatterns: list = []

"""The events area's pages: `owner_urlpatterns` (owner app, included at /app/events/) and
`console_urlpatterns` (staff console, included at /console/events/)."""

from django.urls import path

from .views import console, owner

owner_urlpatterns = [
    path("", owner.events, name="app-events"),
    path("<int:event_id>/", owner.event, name="app-event"),
    path("<int:event_id>/signup/", owner.signup, name="app-event-signup"),
    path("<int:event_id>/cancel/", owner.cancel, name="app-event-cancel"),
    path("<int:event_id>/ticket/", owner.ticket, name="app-event-ticket"),
    path("<int:event_id>/photos/", owner.photos, name="app-event-photos"),
]

console_urlpatterns = [
    path("", console.events, name="console-events"),
    path("new/", console.create, name="console-event-new"),
    path("<int:event_id>/", console.detail, name="console-event"),
    path("<int:event_id>/edit/", console.edit, name="console-event-edit"),
    path("<int:event_id>/cancel/", console.cancel, name="console-event-cancel"),
    path("<int:event_id>/check-in/", console.check_in, name="console-event-checkin"),
]

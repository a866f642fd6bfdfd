"""The assistance area's pages: `owner_urlpatterns` (owner app, included at /app/assistance/:
each owner-app tile of a kind opens the requests area's form of that kind) and
`console_urlpatterns` (staff console, included at /console/assistance/: fees, rental fleet,
courses and sessions)."""

from django.urls import path

from .choices import DESIGNATED, INSPECTION, NEW_DRIVER, RENTAL, SCRATCH, VIOLATIONS
from .views import console, owner

owner_urlpatterns = [
    path("scratch-repair/", owner.start(SCRATCH), name="app-assistance-scratch"),
    path("rental/", owner.start(RENTAL), name="app-assistance-rental"),
    path("inspection/", owner.start(INSPECTION), name="app-assistance-inspection"),
    path("violations/", owner.start(VIOLATIONS), name="app-assistance-violations"),
    path("new-driver/", owner.start(NEW_DRIVER), name="app-assistance-new-driver"),
    path("designated-driver/", owner.start(DESIGNATED), name="app-assistance-designated"),
]

console_urlpatterns = [
    path("", console.home, name="console-assistance"),
    path("fees/", console.fees, name="console-assistance-fees"),
    path("fleet/", console.fleet, name="console-assistance-fleet"),
    path("fleet/<int:car_id>/", console.car, name="console-assistance-car"),
    path("courses/", console.courses, name="console-assistance-courses"),
    path("courses/<int:course_id>/", console.course, name="console-assistance-course"),
]

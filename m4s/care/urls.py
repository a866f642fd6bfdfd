"""The care area's pages: `owner_urlpatterns` (owner app, included at /app/care/) and
`console_urlpatterns` (staff console, included at /console/care/)."""

from django.urls import path

from .views import owner
from .views.console import figures, violations, weather, week

owner_urlpatterns = [
    path("", owner.reminders, name="app-care"),
    path("reminders/<int:reminder_id>/", owner.reminder, name="app-care-reminder"),
    path("reminders/<int:reminder_id>/snooze/", owner.snooze, name="app-care-snooze"),
    path("reminders/<int:reminder_id>/quote/", owner.quote, name="app-care-quote"),
    path(
        "reminders/<int:reminder_id>/done-elsewhere/",
        owner.done_elsewhere,
        name="app-care-done-elsewhere",
    ),
    path("violations/", owner.violations, name="app-care-violations"),
    path(
        "violations/<int:violation_id>/clear/",
        owner.clear_violation,
        name="app-care-violation-clear",
    ),
]

console_urlpatterns = [
    path("", week.week, name="console-care"),
    path("<int:reminder_id>/handled/", week.handled, name="console-care-handled"),
    path("violations/", violations.violations, name="console-care-violations"),
    path("violations/import/", violations.import_file, name="console-care-violations-import"),
    path(
        "violations/<int:violation_id>/status/",
        violations.set_status,
        name="console-care-violation-status",
    ),
    path("weather/", weather.weather, name="console-care-weather"),
    path("figures/", figures.figures, name="console-care-figures"),
]

"""Insight pages of the staff console (included at /console/insights/), one module per
section."""

from .views import campaigns, customers, dashboard, reports, scorecards

console_urlpatterns = [
    *dashboard.urlpatterns,
    *customers.urlpatterns,
    *campaigns.urlpatterns,
    *scorecards.urlpatterns,
    *reports.urlpatterns,
]

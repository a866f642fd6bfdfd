"""Console loyalty pages, included at /console/loyalty/."""

from django.urls import path

from . import loyalty_console_views as views

urlpatterns = [
    path("", views.desk, name="console-loyalty"),
    path("members/<int:member_id>/", views.member, name="console-loyalty-member"),
    path("members/<int:member_id>/adjust/", views.adjust, name="console-loyalty-adjust"),
    path("members/<int:member_id>/events/", views.record_event, name="console-loyalty-event"),
    path("report/", views.report, name="console-loyalty-report"),
]

"""Owner app service pages, included at /app/service/."""

from django.urls import path

from . import service_owner_views as views

urlpatterns = [
    path("", views.visits, name="app-service"),
    path("book/", views.book, name="app-service-book"),
    path("book/slots/", views.book_slots, name="app-service-book-slots"),
    path(
        "appointments/<int:appointment_id>/reschedule/",
        views.reschedule,
        name="app-service-reschedule",
    ),
    path(
        "appointments/<int:appointment_id>/reschedule/slots/",
        views.reschedule_slots,
        name="app-service-reschedule-slots",
    ),
    path("appointments/<int:appointment_id>/cancel/", views.cancel, name="app-service-cancel"),
    path("orders/<int:ro_id>/", views.order, name="app-service-order"),
    path(
        "orders/<int:ro_id>/lines/<int:line_id>/approve/",
        views.approve_line,
        name="app-service-line-approve",
    ),
    path(
        "orders/<int:ro_id>/lines/<int:line_id>/decline/",
        views.decline_line,
        name="app-service-line-decline",
    ),
    path("surveys/", views.surveys, name="app-service-surveys"),
    path("surveys/<int:survey_id>/", views.survey, name="app-service-survey"),
]

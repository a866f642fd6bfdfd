"""Staff console pages of the service area, mounted at /console/service/."""

from django.urls import path

from . import service_console_views as views

urlpatterns = [
    path("", views.board, name="console-service"),
    path(
        "appointments/<int:appointment_id>/",
        views.appointment_detail,
        name="console-service-appointment",
    ),
    path(
        "appointments/<int:appointment_id>/check-in/",
        views.appointment_check_in,
        name="console-service-appointment-check-in",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        views.appointment_cancel,
        name="console-service-appointment-cancel",
    ),
    path("book/", views.book, name="console-service-book"),
    path("book/slots/", views.book_slots, name="console-service-slots"),
    path("check-in/", views.walk_in, name="console-service-walk-in"),
    path("orders/<int:ro_id>/", views.order, name="console-service-order"),
    path(
        "orders/<int:ro_id>/inspection/",
        views.order_inspection,
        name="console-service-order-inspection",
    ),
    path("orders/<int:ro_id>/lines/", views.order_add_line, name="console-service-order-add-line"),
    path(
        "orders/<int:ro_id>/lines/<int:line_id>/decide/",
        views.order_decide,
        name="console-service-order-decide",
    ),
    path(
        "orders/<int:ro_id>/lines/<int:line_id>/clock/",
        views.order_clock,
        name="console-service-order-clock",
    ),
    path("orders/<int:ro_id>/status/", views.order_status, name="console-service-order-status"),
    path("orders/<int:ro_id>/settle/", views.order_settle, name="console-service-order-settle"),
    path("orders/<int:ro_id>/deliver/", views.order_deliver, name="console-service-order-deliver"),
    path("orders/<int:ro_id>/refund/", views.order_refund, name="console-service-order-refund"),
    path("orders/<int:ro_id>/invoice/", views.invoice, name="console-service-invoice"),
    path("figures/", views.figures, name="console-service-figures"),
    path(
        "figures/follow-ups/<int:survey_id>/",
        views.follow_up,
        name="console-service-follow-up",
    ),
]

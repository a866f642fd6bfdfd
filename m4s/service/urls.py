"""The service area's pages: `owner_urlpatterns` (owner app, included at /app/service/) and
`console_urlpatterns` (staff console, included at /console/service/)."""

from django.urls import path

from .views import owner
from .views.console import board, figures, workbench
from .views.console import booking as staff_booking

owner_urlpatterns = [
    path("", owner.visits, name="app-service"),
    path("book/", owner.book, name="app-service-book"),
    path("book/slots/", owner.book_slots, name="app-service-book-slots"),
    path(
        "appointments/<int:appointment_id>/reschedule/",
        owner.reschedule,
        name="app-service-reschedule",
    ),
    path(
        "appointments/<int:appointment_id>/reschedule/slots/",
        owner.reschedule_slots,
        name="app-service-reschedule-slots",
    ),
    path("appointments/<int:appointment_id>/cancel/", owner.cancel, name="app-service-cancel"),
    path("orders/<int:ro_id>/", owner.order, name="app-service-order"),
    path(
        "orders/<int:ro_id>/lines/<int:line_id>/approve/",
        owner.approve_line,
        name="app-service-line-approve",
    ),
    path(
        "orders/<int:ro_id>/lines/<int:line_id>/decline/",
        owner.decline_line,
        name="app-service-line-decline",
    ),
    path("surveys/", owner.surveys, name="app-service-surveys"),
    path("surveys/<int:survey_id>/", owner.survey, name="app-service-survey"),
]

console_urlpatterns = [
    path("", board.board, name="console-service"),
    path(
        "appointments/<int:appointment_id>/",
        board.appointment_detail,
        name="console-service-appointment",
    ),
    path(
        "appointments/<int:appointment_id>/check-in/",
        board.appointment_check_in,
        name="console-service-appointment-check-in",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        board.appointment_cancel,
        name="console-service-appointment-cancel",
    ),
    path("book/", staff_booking.book, name="console-service-book"),
    path("book/slots/", staff_booking.book_slots, name="console-service-slots"),
    path("check-in/", staff_booking.walk_in, name="console-service-walk-in"),
    path("orders/<int:ro_id>/", workbench.order, name="console-service-order"),
    path(
        "orders/<int:ro_id>/inspection/",
        workbench.order_inspection,
        name="console-service-order-inspection",
    ),
    path(
        "orders/<int:ro_id>/lines/", workbench.order_add_line, name="console-service-order-add-line"
    ),
    path(
        "orders/<int:ro_id>/lines/<int:line_id>/decide/",
        workbench.order_decide,
        name="console-service-order-decide",
    ),
    path(
        "orders/<int:ro_id>/lines/<int:line_id>/clock/",
        workbench.order_clock,
        name="console-service-order-clock",
    ),
    path("orders/<int:ro_id>/status/", workbench.order_status, name="console-service-order-status"),
    path("orders/<int:ro_id>/settle/", workbench.order_settle, name="console-service-order-settle"),
    path(
        "orders/<int:ro_id>/deliver/", workbench.order_deliver, name="console-service-order-deliver"
    ),
    path("orders/<int:ro_id>/refund/", workbench.order_refund, name="console-service-order-refund"),
    path("orders/<int:ro_id>/invoice/", workbench.invoice, name="console-service-invoice"),
    path("figures/", figures.figures, name="console-service-figures"),
    path(
        "figures/follow-ups/<int:survey_id>/",
        figures.follow_up,
        name="console-service-follow-up",
    ),
]

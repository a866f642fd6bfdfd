"""The registration of the six store-services kinds with the requests framework (called from
`apps.Config.ready()`): labels, roles, SLAs, staff actions and templates. What each kind does
is in `kinds.py`."""

from django.utils.translation import gettext_lazy

from m4s.requests.kinds import RequestKind, StaffAction, register
from m4s.staff.choices import Perm, Role

from . import kinds as k
from .choices import (
    DESIGNATED,
    INSPECTION,
    MAX_SCRATCH_PHOTOS,
    NEW_DRIVER,
    PANELS,
    RENTAL,
    SCRATCH,
    VIOLATIONS,
)


def _summary(fmt):
    def summary(r) -> str:
        try:
            return fmt(r.details or {})
        except (KeyError, TypeError, ValueError):
            return ""

    return summary


def _t(name: str) -> str:
    return f"assistance/kinds/{name}.html"


H = Perm.HANDLE_REQUESTS


def register_kinds() -> None:
    register(
        RequestKind(
            key=SCRATCH,
            label=gettext_lazy("Scratch repair from photos"),
            icon="camera",
            role=Role.SERVICE_ADVISOR,
            schema=k.AssistScratchRepairIn,
            prepare=k._prepare_scratch,
            after_submit=k._after_scratch,
            needs_vehicle=True,
            quotes=True,
            sla_minutes=240,
            choices=lambda ctx: {"panels": list(PANELS.items()), "max_photos": MAX_SCRATCH_PHOTOS},
            on_quote_accepted=k._scratch_quote_accepted,
            actions={
                "estimate": StaffAction(
                    gettext_lazy("Send an estimate"),
                    H,
                    (k.S, k.A),
                    k.AssistEstimateIn,
                    k._estimate,
                    _t("scratch_estimate_form"),
                ),
                "book": StaffAction(
                    gettext_lazy("Book the body shop"),
                    Perm.BOOK_SERVICE,
                    (k.S, k.A),
                    k.AssistBookIn,
                    k._book,
                    _t("scratch_book_form"),
                ),
            },
            owner_form_template=_t("scratch_form"),
            owner_detail_template=_t("scratch_detail"),
            console_detail_template=_t("scratch_console"),
            summary=_summary(lambda d: ", ".join(str(PANELS.get(p, p)) for p in d["panels"])),
        )
    )
    register(
        RequestKind(
            key=RENTAL,
            label=gettext_lazy("Rental"),
            icon="car",
            role=Role.SALES_CONSULTANT,
            schema=k.AssistRentalIn,
            prepare=k._prepare_rental,
            after_submit=k._after_rental,
            sales=True,
            lead_source="rental",
            sla_minutes=120,
            choices=k._rental_choices,
            on_transition=k._rental_moved,
            actions={
                "confirm": StaffAction(
                    gettext_lazy("Confirm the rental"), H, (k.S, k.A), None, k._confirm_rental
                ),
                "returned": StaffAction(
                    gettext_lazy("Car returned"), H, (k.SC,), None, k._returned
                ),
            },
            owner_form_template=_t("rental_form"),
            owner_detail_template=_t("rental_detail"),
            console_detail_template=_t("rental_detail"),
            summary=_summary(lambda d: f"{d['car']} {d['starts_on']} – {d['ends_on']}"),
        )
    )
    register(
        RequestKind(
            key=INSPECTION,
            label=gettext_lazy("Annual inspection"),
            icon="clipboard-list",
            role=Role.SERVICE_ADVISOR,
            schema=k.AssistInspectionIn,
            prepare=k._prepare_inspection,
            needs_vehicle=True,
            sla_minutes=240,
            choices=k._inspection_choices,
            actions={
                "assign_driver": StaffAction(
                    gettext_lazy("Assign a driver"),
                    H,
                    (k.S, k.A),
                    k.AssistDriverIn,
                    k._assign_driver,
                    _t("driver_form"),
                ),
                "picked_up": StaffAction(gettext_lazy("Picked up"), H, (k.SC,), None, k._picked_up),
                "inspected": StaffAction(
                    gettext_lazy("Inspected"),
                    H,
                    (k.SC,),
                    k.AssistInspectedIn,
                    k._inspected,
                    _t("inspected_form"),
                ),
                "returned": StaffAction(
                    gettext_lazy("Car returned"), H, (k.SC,), None, k._returned_car
                ),
            },
            owner_form_template=_t("inspection_form"),
            owner_detail_template=_t("inspection_detail"),
            console_detail_template=_t("inspection_detail"),
            summary=_summary(lambda d: f"{d['due_on']} · {d['mode']}"),
        )
    )
    register(
        RequestKind(
            key=VIOLATIONS,
            label=gettext_lazy("Clear traffic violations"),
            icon="receipt",
            role=Role.CUSTOMER_SERVICE,
            schema=k.AssistClearViolationsIn,
            prepare=k._prepare_violations,
            after_submit=k._after_violations,
            sla_minutes=480,
            choices=k._violation_choices,
            on_transition=k._violations_moved,
            owner_form_template=_t("violations_form"),
            owner_detail_template=_t("violations_detail"),
            console_detail_template=_t("violations_detail"),
            summary=_summary(lambda d: f"{len(d['violations'])} · ¥{d['total']}"),
        )
    )
    register(
        RequestKind(
            key=NEW_DRIVER,
            label=gettext_lazy("New-driver training"),
            icon="book-open",
            role=Role.CUSTOMER_SERVICE,
            schema=k.AssistNewDriverIn,
            prepare=k._prepare_new_driver,
            after_submit=k._after_new_driver,
            sla_minutes=480,
            choices=k._new_driver_choices,
            on_transition=k._new_driver_moved,
            actions={
                "confirm": StaffAction(
                    gettext_lazy("Confirm the place"), H, (k.S, k.A), None, k._confirm_place
                ),
                "attended": StaffAction(gettext_lazy("Attended"), H, (k.SC,), None, k._attended),
            },
            owner_form_template=_t("new_driver_form"),
            owner_detail_template=_t("new_driver_detail"),
            console_detail_template=_t("new_driver_detail"),
            summary=_summary(lambda d: f"{d['course']} {str(d['starts_at'])[:16]}"),
        )
    )
    register(
        RequestKind(
            key=DESIGNATED,
            label=gettext_lazy("Designated driver"),
            icon="user",
            role=Role.CUSTOMER_SERVICE,
            schema=k.AssistDesignatedDriverIn,
            prepare=k._prepare_designated,
            needs_vehicle=True,
            sla_minutes=15,
            actions={
                "dispatch": StaffAction(
                    gettext_lazy("Dispatch a driver"),
                    H,
                    (k.S, k.A),
                    k.AssistDispatchIn,
                    k._dispatch,
                    _t("dispatch_form"),
                ),
                "en_route": StaffAction(gettext_lazy("On the way"), H, (k.SC,), None, k._en_route),
                "arrived": StaffAction(gettext_lazy("Arrived"), H, (k.SC,), None, k._arrived),
                "delivered": StaffAction(
                    gettext_lazy("Delivered home"), H, (k.SC,), None, k._delivered
                ),
            },
            owner_form_template=_t("designated_form"),
            owner_detail_template=_t("designated_detail"),
            console_detail_template=_t("designated_detail"),
            summary=_summary(lambda d: f"{str(d['pickup_at'])[:16]} {d['pickup_address']}"),
        )
    )

"""The owner app's five groups and 36 functions (PRODUCT.md item 3).

A function with a `url_name` is live; the others are shown as coming soon until their issue
lands, so owners see the whole app from day one and nothing pretends to work.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AppFunction:
    key: str
    label: str
    url_name: str | None = None


@dataclass(frozen=True)
class AppGroup:
    key: str
    label: str
    icon: str  # a Lucide icon name (m4s/web/icons.py), never an emoji
    functions: list[AppFunction] = field(default_factory=list)


GROUPS = [
    AppGroup(
        "info",
        _("Latest information"),
        "newspaper",
        [
            AppFunction("new_cars", _("New cars"), "app-catalogue"),
            AppFunction("sales_events", _("Sales events"), "app-content-sales-events"),
            AppFunction("service_news", _("Service news"), "app-content-service-news"),
            AppFunction("violation_notices", _("Traffic-violation notices"), "app-care-violations"),
            AppFunction("travel_info", _("Travel information"), "app-content-travel-info"),
            AppFunction(
                "violation_areas", _("Violation-prone areas"), "app-content-violation-areas"
            ),
            AppFunction("my_car", _("My car"), "app-cars"),
            AppFunction("car_pal_events", _("Car-pal events"), "app-events"),
            AppFunction("prices", _("Prices"), "app-content-prices"),
            AppFunction("insurance", _("Insurance"), "app-content-insurance"),
        ],
    ),
    AppGroup(
        "service",
        _("Online service"),
        "wrench",
        [
            AppFunction("test_drive", _("Test drive"), "app-request-test-drive"),
            AppFunction("finance", _("Finance"), "app-request-finance"),
            AppFunction("insurance_quote", _("Insurance quote"), "app-request-insurance"),
            AppFunction("booking", _("Maintenance booking"), "app-service-book"),
            AppFunction(
                "scratch_repair", _("Scratch repair from photos"), "app-assistance-scratch"
            ),
            AppFunction("rental", _("Rental"), "app-assistance-rental"),
            AppFunction("trade_in", _("Used-car trade-in"), "app-request-trade-in"),
            AppFunction("annual_inspection", _("Annual inspection"), "app-assistance-inspection"),
            AppFunction(
                "clear_violations", _("Clear traffic violations"), "app-assistance-violations"
            ),
            AppFunction("recommend", _("Recommend a friend"), "app-loyalty-refer"),
            AppFunction("new_driver", _("New-driver training"), "app-assistance-new-driver"),
            AppFunction("designated_driver", _("Designated driver"), "app-assistance-designated"),
        ],
    ),
    AppGroup(
        "community",
        _("Car-pal interaction"),
        "message-circle",
        [
            AppFunction("inbox", _("Inbox"), "app-inbox"),
            AppFunction("magazines", _("Magazines"), "app-content-magazines"),
            AppFunction("knowledge", _("Knowledge base"), "app-content-knowledge"),
            AppFunction("surveys", _("Revisit surveys"), "app-service-surveys"),
            AppFunction("complaints", _("Complaints"), "app-complaints"),
            AppFunction("stories", _("Owners' stories"), "app-community-stories"),
            AppFunction("city_food", _("City food"), "app-content-city-food"),
            AppFunction("nightlife", _("Nightlife"), "app-content-nightlife"),
            AppFunction("city_tours", _("City tours"), "app-content-city-tours"),
            AppFunction("fashion", _("Fashion"), "app-content-fashion"),
            AppFunction("travel_china", _("Travel in China"), "app-content-travel-china"),
            AppFunction("guide", _("User's guide"), "app-content-guide"),
        ],
    ),
    AppGroup("sos", _("SOS"), "siren", [AppFunction("sos", _("Emergency call"), "app-sos")]),
    AppGroup(
        "consultants",
        _("My consultants"),
        "users",
        [AppFunction("consultants", _("My consultants"), "app-consultants")],
    ),
]
GROUPS_BY_KEY = {g.key: g for g in GROUPS}

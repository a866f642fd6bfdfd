"""Constants of the content area: the three publishing levels, the app's content modules, the
default split of modules between levels (the paper's 3 / 11 / 22), item statuses, the M4S
actions an item can link to and the kinds of targeting criteria."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    HEADQUARTERS = "hq", _("Headquarters")
    LOCAL_ORG = "local", _("Local organisation")
    DEALER = "dealer", _("Dealer")


class Module(models.TextChoices):
    NEW_CARS = "new_cars", _("New cars")
    SALES_EVENTS = "sales_events", _("Sales events")
    SERVICE_NEWS = "service_news", _("Service news")
    VIOLATION_INFO = "violation_info", _("Traffic-violation information")
    TRAVEL_INFO = "travel_info", _("Travel information")
    VIOLATION_AREAS = "violation_areas", _("Violation-prone areas")
    PRICES = "prices", _("Prices")
    INSURANCE = "insurance", _("Car-accident insurance")
    MAGAZINES = "magazines", _("Interest magazines")
    KNOWLEDGE = "knowledge", _("Automobile knowledge")
    GUIDE = "guide", _("User's guide")
    CITY_FOOD = "city_food", _("A bite of the city")
    NIGHTLIFE = "nightlife", _("Nightlife")
    CITY_TOURS = "city_tours", _("City tour")
    FASHION = "fashion", _("Fashion")
    TRAVEL_CHINA = "travel_china", _("Tour around China")


# The paper's split, seeded into ModuleRight by a data migration (rights are data).
DEFAULT_RIGHTS: dict[str, tuple[str, ...]] = {
    Level.HEADQUARTERS: (Module.KNOWLEDGE, Module.MAGAZINES, Module.GUIDE),
    Level.LOCAL_ORG: (
        Module.VIOLATION_INFO,
        Module.TRAVEL_INFO,
        Module.VIOLATION_AREAS,
        Module.CITY_FOOD,
        Module.NIGHTLIFE,
        Module.CITY_TOURS,
        Module.FASHION,
        Module.TRAVEL_CHINA,
    ),
    Level.DEALER: (
        Module.NEW_CARS,
        Module.SALES_EVENTS,
        Module.SERVICE_NEWS,
        Module.PRICES,
        Module.INSURANCE,
    ),
}


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    EXPIRED = "expired", _("Expired")
    REJECTED = "rejected", _("Rejected")


# Statuses whose content an editor may still change (a published item goes back to draft).
EDITABLE_STATUSES = (Status.DRAFT, Status.REJECTED, Status.PUBLISHED, Status.EXPIRED)


class ActionKind(models.TextChoices):
    NONE = "none", _("No action")
    BOOK = "book", _("Book a service visit")
    TEST_DRIVE = "test_drive", _("Book a test drive")
    EVENT = "event", _("Open a car-pal event")
    REWARD = "reward", _("Open a reward")
    LINK = "link", _("Open a link")


class TargetKind(models.TextChoices):
    """Targeting criteria. `value` of a ContentTarget: CITY the city name as written on the
    local organisation / store; GROUP a dealer-group id; STORE a store id; BRAND / MODEL the
    car's brand / model as on the vehicle (compared case-insensitively); TIER a loyalty tier
    name (compared case-insensitively, so HQ can target "Gold" across groups)."""

    CITY = "city", _("Cities")
    GROUP = "group", _("Dealer groups")
    STORE = "store", _("Stores")
    BRAND = "brand", _("Car brands")
    MODEL = "model", _("Car models")
    TIER = "tier", _("Member tiers")


# ContentItem's boolean per kind: True when the item has targets of that kind (the feed query
# skips unset criteria without a join).
HAS_TARGET_FIELD: dict[str, str] = {
    TargetKind.CITY: "has_city_targets",
    TargetKind.GROUP: "has_group_targets",
    TargetKind.STORE: "has_store_targets",
    TargetKind.BRAND: "has_brand_targets",
    TargetKind.MODEL: "has_model_targets",
    TargetKind.TIER: "has_tier_targets",
}

LANGUAGES = ("zh-hans", "en", "ko")
TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 100_000
REASON_MAX = 500
TAG_MAX = 30
TAGS_MAX = 12
PLACES_MAX = 50
GALLERY_MAX = 12
TARGET_VALUES_MAX = 100

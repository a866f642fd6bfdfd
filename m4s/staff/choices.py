from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", _("Platform admin")
    LOCAL_ORG_EDITOR = "local_org_editor", _("Local organisation editor")
    GROUP_ADMIN = "group_admin", _("Group admin")
    STORE_MANAGER = "store_manager", _("Store manager")
    SALES_CONSULTANT = "sales_consultant", _("Sales consultant")
    SERVICE_ADVISOR = "service_advisor", _("Service advisor")
    CUSTOMER_SERVICE = "customer_service", _("Customer-service agent")
    TECHNICIAN = "technician", _("Technician")


# Roles that belong to the platform or a city, not to one dealer group.
GROUPLESS_ROLES = {Role.PLATFORM_ADMIN, Role.LOCAL_ORG_EDITOR}


class Perm(models.TextChoices):
    """Capabilities. Pages and API handlers ask for one of these, never for a role."""

    USE_CONSOLE = "use_console", _("Use the staff console")
    USE_BACK_OFFICE = "use_back_office", _("Use the back office")
    MANAGE_GROUP_SETTINGS = (
        "manage_group_settings",
        _("Manage branding, stores, hours and holidays"),
    )
    MANAGE_STAFF = "manage_staff", _("Manage staff and roles")
    VIEW_ALL_STORES = "view_all_stores", _("See every store of the group")
    VIEW_CUSTOMERS = "view_customers", _("See customers")
    EDIT_CUSTOMERS = "edit_customers", _("Change customer data")
    VIEW_AUDIT_LOG = "view_audit_log", _("Read the audit log")
    PUBLISH_LOCAL_CONTENT = "publish_local_content", _("Publish local-life content")
    MANAGE_PLATFORM = "manage_platform", _("Manage the platform and all groups")
    WORK_REPAIR_ORDERS = "work_repair_orders", _("Work on repair orders")
    VIEW_ID_NUMBERS = "view_id_numbers", _("See customers' full ID-document numbers")
    ASSIGN_CUSTOMERS = "assign_customers", _("Assign and reassign customers to staff")
    IMPORT_CUSTOMERS = "import_customers", _("Import and export customers")
    RESOLVE_TRANSFERS = "resolve_transfers", _("Decide car-ownership transfer requests")
    BOOK_SERVICE = "book_service", _("Book service visits for customers")
    SETTLE_REPAIR_ORDERS = "settle_repair_orders", _("Settle and deliver repair orders")
    REFUND_REPAIR_ORDERS = "refund_repair_orders", _("Refund settled repair orders")
    VIEW_SERVICE_FIGURES = "view_service_figures", _("See service figures and survey follow-ups")
    ADJUST_POINTS = "adjust_points", _("Adjust members' points")
    VIEW_LOYALTY_REPORT = "view_loyalty_report", _("See the loyalty programme report")
    USE_VOUCHERS = "use_vouchers", _("Mark loyalty vouchers used at the desk")
    HANDLE_COMPLAINTS = "handle_complaints", _("Handle customer complaints")
    VIEW_COMPLAINT_FIGURES = (
        "view_complaint_figures",
        _("See complaint figures and check preventive actions"),
    )
    HANDLE_CONVERSATIONS = "handle_conversations", _("Answer owners' conversations and log calls")
    VIEW_CONVERSATION_FIGURES = (
        "view_conversation_figures",
        _("See conversation and call figures"),
    )
    HANDLE_CARE = (
        "handle_care",
        _("Work the care list (reminders due this week) and record traffic violations"),
    )
    MANAGE_CARE = (
        "manage_care",
        _("Set reminder rules, import traffic violations, manage integration keys"),
    )
    VIEW_CARE_FIGURES = "view_care_figures", _("See care figures (reminders and what they bring)")
    PUBLISH_WEATHER = "publish_weather", _("Publish weather warnings")
    PUBLISH_CONTENT = "publish_content", _("Write and submit the group's content")
    APPROVE_CONTENT = "approve_content", _("Approve and publish the group's content")
    MODERATE_COMMUNITY = (
        "moderate_community",
        _("Moderate owners' stories and comments"),
    )
    MANAGE_EVENTS = "manage_events", _("Run car-pal events and check owners in")
    HANDLE_REQUESTS = "handle_requests", _("Handle owners' online-service requests")
    MANAGE_CATALOGUE = (
        "manage_catalogue",
        _("Manage the new-car catalogue, fleets, finance products and courses"),
    )
    WORK_LEADS = "work_leads", _("Work sales leads")
    VIEW_SALES_FIGURES = "view_sales_figures", _("See the sales pipeline, forecast and funnel")
    VIEW_INSIGHTS = (
        "view_insights",
        _("See the KPIs, customers at risk, scorecards and monthly reports"),
    )
    RUN_CAMPAIGNS = "run_campaigns", _("Build customer segments and run campaigns")
    MANAGE_TRAINING = "manage_training", _("Write training courses and quizzes and assign them")


_FRONT_LINE = {Perm.USE_CONSOLE, Perm.VIEW_CUSTOMERS, Perm.EDIT_CUSTOMERS}

ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.PLATFORM_ADMIN: frozenset(Perm.values),
    Role.LOCAL_ORG_EDITOR: frozenset(
        {Perm.USE_CONSOLE, Perm.PUBLISH_LOCAL_CONTENT, Perm.PUBLISH_WEATHER}
    ),
    Role.GROUP_ADMIN: frozenset(
        _FRONT_LINE
        | {
            Perm.USE_BACK_OFFICE,
            Perm.MANAGE_GROUP_SETTINGS,
            Perm.MANAGE_STAFF,
            Perm.VIEW_ALL_STORES,
            Perm.VIEW_AUDIT_LOG,
        }
        | {
            Perm.VIEW_ID_NUMBERS,
            Perm.ASSIGN_CUSTOMERS,
            Perm.IMPORT_CUSTOMERS,
            Perm.RESOLVE_TRANSFERS,
            Perm.VIEW_SERVICE_FIGURES,
            Perm.REFUND_REPAIR_ORDERS,
            Perm.ADJUST_POINTS,
            Perm.VIEW_LOYALTY_REPORT,
            Perm.USE_VOUCHERS,
            Perm.HANDLE_COMPLAINTS,
            Perm.VIEW_COMPLAINT_FIGURES,
            Perm.HANDLE_CONVERSATIONS,
            Perm.VIEW_CONVERSATION_FIGURES,
            Perm.HANDLE_CARE,
            Perm.MANAGE_CARE,
            Perm.VIEW_CARE_FIGURES,
            Perm.PUBLISH_WEATHER,
            Perm.PUBLISH_CONTENT,
            Perm.APPROVE_CONTENT,
            Perm.MODERATE_COMMUNITY,
            Perm.MANAGE_EVENTS,
            Perm.HANDLE_REQUESTS,
            Perm.MANAGE_CATALOGUE,
            Perm.WORK_LEADS,
            Perm.VIEW_SALES_FIGURES,
            Perm.VIEW_INSIGHTS,
            Perm.RUN_CAMPAIGNS,
            Perm.MANAGE_TRAINING,
        }
    ),
    Role.STORE_MANAGER: frozenset(
        _FRONT_LINE
        | {
            Perm.USE_BACK_OFFICE,
            Perm.VIEW_AUDIT_LOG,
            Perm.VIEW_ID_NUMBERS,
            Perm.ASSIGN_CUSTOMERS,
            Perm.RESOLVE_TRANSFERS,
            Perm.BOOK_SERVICE,
            Perm.WORK_REPAIR_ORDERS,
            Perm.SETTLE_REPAIR_ORDERS,
            Perm.REFUND_REPAIR_ORDERS,
            Perm.VIEW_SERVICE_FIGURES,
            Perm.ADJUST_POINTS,
            Perm.VIEW_LOYALTY_REPORT,
            Perm.USE_VOUCHERS,
            Perm.HANDLE_COMPLAINTS,
            Perm.VIEW_COMPLAINT_FIGURES,
            Perm.HANDLE_CONVERSATIONS,
            Perm.VIEW_CONVERSATION_FIGURES,
            Perm.HANDLE_CARE,
            Perm.VIEW_CARE_FIGURES,
            Perm.PUBLISH_CONTENT,
            Perm.MODERATE_COMMUNITY,
            Perm.MANAGE_EVENTS,
            Perm.HANDLE_REQUESTS,
            Perm.WORK_LEADS,
            Perm.VIEW_SALES_FIGURES,
            Perm.VIEW_INSIGHTS,
            Perm.RUN_CAMPAIGNS,
            Perm.MANAGE_TRAINING,
        }
    ),
    Role.SALES_CONSULTANT: frozenset(
        _FRONT_LINE
        | {Perm.VIEW_ID_NUMBERS, Perm.HANDLE_CONVERSATIONS, Perm.HANDLE_REQUESTS, Perm.WORK_LEADS}
    ),
    Role.SERVICE_ADVISOR: frozenset(
        _FRONT_LINE
        | {
            Perm.WORK_REPAIR_ORDERS,
            Perm.RESOLVE_TRANSFERS,
            Perm.BOOK_SERVICE,
            Perm.SETTLE_REPAIR_ORDERS,
            Perm.USE_VOUCHERS,
            Perm.HANDLE_CONVERSATIONS,
            Perm.HANDLE_CARE,
            Perm.HANDLE_REQUESTS,
        }
    ),
    Role.CUSTOMER_SERVICE: frozenset(
        _FRONT_LINE
        | {
            Perm.BOOK_SERVICE,
            Perm.USE_VOUCHERS,
            Perm.HANDLE_COMPLAINTS,
            Perm.HANDLE_CONVERSATIONS,
            Perm.HANDLE_CARE,
            Perm.HANDLE_REQUESTS,
            Perm.MODERATE_COMMUNITY,
            Perm.MANAGE_EVENTS,
        }
    ),
    Role.TECHNICIAN: frozenset({Perm.USE_CONSOLE, Perm.WORK_REPAIR_ORDERS}),
}

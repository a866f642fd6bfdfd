"""The one NinjaAPI of M4S at /api/v1/: each area adds its router here."""

from m4s.assistance.api import owner_router as my_assistance_router
from m4s.assistance.api import public_router as assistance_public_router
from m4s.assistance.api import staff_router as assistance_staff_router
from m4s.care.api import integration_router as care_integration_router
from m4s.care.api import owner_router as my_care_router
from m4s.care.api import staff_router as care_staff_router
from m4s.catalogue.api import owner_router as my_catalogue_router
from m4s.catalogue.api import public_router as catalogue_public_router
from m4s.catalogue.api import staff_router as catalogue_staff_router
from m4s.community.api import owner_router as my_community_router
from m4s.community.api import public_router as community_public_router
from m4s.community.api import staff_router as community_staff_router
from m4s.complaints.api import owner_router as my_complaints_router
from m4s.complaints.api import staff_router as complaints_staff_router
from m4s.content.api import owner_router as my_content_router
from m4s.content.api import public_router as content_public_router
from m4s.content.api import staff_router as content_staff_router
from m4s.conversations.api import owner_router as my_conversations_router
from m4s.conversations.api import staff_router as conversations_staff_router
from m4s.conversations.api import telephony_router
from m4s.core.api import M4SNinjaAPI, install_error_handlers
from m4s.customers.api import owner_router as my_cars_router
from m4s.customers.api import staff_router as customers_router
from m4s.driving.api import owner_router as my_driving_router
from m4s.driving.api import staff_router as driving_staff_router
from m4s.events.api import owner_router as my_events_router
from m4s.events.api import public_router as events_public_router
from m4s.events.api import staff_router as events_staff_router
from m4s.identity.api import router as auth_router
from m4s.insights.api import router as insights_kpis_router
from m4s.insights.api_campaigns import router as insights_campaigns_router
from m4s.insights.api_churn import router as insights_customers_router
from m4s.insights.api_reports import router as insights_reports_router
from m4s.insights.api_scorecards import router as insights_scorecards_router
from m4s.loyalty.api import owner_router as my_loyalty_router
from m4s.loyalty.api import partner_router
from m4s.loyalty.api import staff_router as loyalty_staff_router
from m4s.notify.api import router as inbox_router
from m4s.owners.api import router as me_router
from m4s.privacy.api import router as my_privacy_router
from m4s.requests.api import owner_router as my_requests_router
from m4s.requests.api import public_router as requests_public_router
from m4s.requests.api import staff_router as requests_staff_router
from m4s.sales.api import owner_router as my_sales_router
from m4s.sales.api import public_router as sales_public_router
from m4s.sales.api import staff_router as sales_staff_router
from m4s.service.api import owner_router as my_service_router
from m4s.service.api import public_router as service_public_router
from m4s.service.api import staff_router as service_staff_router
from m4s.staff.api import router as staff_router
from m4s.telematics.api import ingest_router
from m4s.telematics.api import owner_router as my_car_health_router
from m4s.telematics.api import staff_router as telematics_staff_router
from m4s.telematics.rescue_api import owner_router as my_rescue_router
from m4s.telematics.rescue_api import staff_router as rescue_staff_router
from m4s.training.api import router as training_router

api = M4SNinjaAPI(
    title="M4S API",
    version="1",
    description=(
        "Owner app, staff console and machine clients of M4S. Every error is JSON "
        "`{code, message}` (schema `Error`) with the status each operation declares. "
        "A NUL character anywhere in a request is refused with 400 `invalid_input`."
    ),
    urls_namespace="api-v1",
)
install_error_handlers(api)
api.add_router("/auth", auth_router)
api.add_router("/me", me_router)
api.add_router("/", inbox_router)
api.add_router("/staff", staff_router)
api.add_router("/me", my_cars_router)
api.add_router("/staff", customers_router)
api.add_router("/", service_public_router)
api.add_router("/me", my_service_router)
api.add_router("/staff", service_staff_router)
api.add_router("/me", my_loyalty_router)
api.add_router("/staff", loyalty_staff_router)
api.add_router("/partner", partner_router)
api.add_router("/telematics", ingest_router)
api.add_router("/me", my_car_health_router)
api.add_router("/staff", telematics_staff_router)
api.add_router("/me", my_driving_router)
api.add_router("/staff", driving_staff_router)
api.add_router("/staff", insights_kpis_router)
api.add_router("/staff", insights_customers_router)
api.add_router("/staff", insights_campaigns_router)
api.add_router("/staff", insights_reports_router)
api.add_router("/staff", insights_scorecards_router)
api.add_router("/staff", training_router)
api.add_router("/me", my_rescue_router)
api.add_router("/staff", rescue_staff_router)
api.add_router("/me", my_privacy_router)
api.add_router("/me", my_complaints_router)
api.add_router("/staff", complaints_staff_router)
api.add_router("/me", my_conversations_router)
api.add_router("/staff", conversations_staff_router)
api.add_router("/telephony", telephony_router)
api.add_router("/me", my_care_router)
api.add_router("/staff", care_staff_router)
api.add_router("/integrations", care_integration_router)
api.add_router("/me", my_content_router)
api.add_router("/", content_public_router)
api.add_router("/staff", content_staff_router)
api.add_router("/me", my_community_router)
api.add_router("/", community_public_router)
api.add_router("/staff", community_staff_router)
api.add_router("/me", my_events_router)
api.add_router("/", events_public_router)
api.add_router("/staff", events_staff_router)
api.add_router("/me", my_catalogue_router)
api.add_router("/", catalogue_public_router)
api.add_router("/staff", catalogue_staff_router)
api.add_router("/me", my_sales_router)
api.add_router("/", sales_public_router)
api.add_router("/staff", sales_staff_router)
api.add_router("/me", my_requests_router)
api.add_router("/", requests_public_router)
api.add_router("/staff", requests_staff_router)
api.add_router("/me", my_assistance_router)
api.add_router("/", assistance_public_router)
api.add_router("/staff", assistance_staff_router)

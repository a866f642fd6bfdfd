from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from m4s.assistance import urls as assistance_urls
from m4s.care import urls as care_urls
from m4s.catalogue import urls as catalogue_urls
from m4s.community import urls as community_urls
from m4s.complaints import urls as complaints_urls
from m4s.content import urls as content_urls
from m4s.conversations import urls as conversations_urls
from m4s.customers import urls as customers_urls
from m4s.driving import urls as driving_urls
from m4s.events import urls as events_urls
from m4s.insights import urls as insights_urls
from m4s.loyalty import urls as loyalty_urls
from m4s.notify import urls as notify_urls
from m4s.privacy import urls as privacy_urls
from m4s.requests import urls as requests_urls
from m4s.sales import urls as sales_urls
from m4s.service import urls as service_urls
from m4s.telematics import urls as telematics_urls
from m4s.training import urls as training_urls

from . import console_views, owner_views

urlpatterns = [
    path("", RedirectView.as_view(url="/app/", permanent=False)),
    path("favicon.ico", owner_views.favicon, name="favicon"),
    # owner app
    path("app/", owner_views.home, name="app-home"),
    path("app/login/", owner_views.login, name="app-login"),
    path("app/logout/", owner_views.logout, name="app-logout"),
    path("app/g/<slug:key>/", owner_views.group, name="app-group"),
    path("app/inbox/", owner_views.inbox_page, name="app-inbox"),
    path("app/inbox/<int:message_id>/read/", owner_views.inbox_read, name="app-inbox-read"),
    path("app/profile/", owner_views.profile, name="app-profile"),
    path("app/language/", owner_views.language, name="app-language"),
    path("app/sos/", owner_views.sos, name="app-sos"),
    path("app/", include(customers_urls.owner_urlpatterns)),
    path("", include(customers_urls.invitation_urlpatterns)),
    path("app/offline/", owner_views.offline, name="app-offline"),
    path("app/manifest.webmanifest", owner_views.manifest, name="app-manifest"),
    path("app/sw.js", owner_views.service_worker, name="app-sw"),
    path("app/service/", include(service_urls.owner_urlpatterns)),
    path("app/loyalty/", include(loyalty_urls.owner_urlpatterns)),
    path("app/cars/", include(telematics_urls.owner_urlpatterns)),
    path("app/rescue/", include(telematics_urls.rescue_urlpatterns)),
    path("app/cars/", include(driving_urls.owner_urlpatterns)),
    path("app/privacy/", include(privacy_urls.owner_urlpatterns)),
    path("app/complaints/", include(complaints_urls.owner_urlpatterns)),
    path("app/conversations/", include(conversations_urls.owner_urlpatterns)),
    path("app/care/", include(care_urls.owner_urlpatterns)),
    path("app/content/", include(content_urls.owner_urlpatterns)),
    path("app/community/", include(community_urls.owner_urlpatterns)),
    path("app/events/", include(events_urls.owner_urlpatterns)),
    path("app/catalogue/", include(catalogue_urls.owner_urlpatterns)),
    path("app/sales/", include(sales_urls.owner_urlpatterns)),
    path("app/requests/", include(requests_urls.owner_urlpatterns)),
    path("app/assistance/", include(assistance_urls.owner_urlpatterns)),
    path("app/notifications/", include(notify_urls.owner_urlpatterns)),
    # staff console
    path("console/service/", include(service_urls.console_urlpatterns)),
    path("console/loyalty/", include(loyalty_urls.console_urlpatterns)),
    path("console/telematics/", include(telematics_urls.console_urlpatterns)),
    path("console/complaints/", include(complaints_urls.console_urlpatterns)),
    path("console/conversations/", include(conversations_urls.console_urlpatterns)),
    path("console/care/", include(care_urls.console_urlpatterns)),
    path("console/content/", include(content_urls.console_urlpatterns)),
    path("console/community/", include(community_urls.console_urlpatterns)),
    path("console/events/", include(events_urls.console_urlpatterns)),
    path("console/catalogue/", include(catalogue_urls.console_urlpatterns)),
    path("console/sales/", include(sales_urls.console_urlpatterns)),
    path("console/requests/", include(requests_urls.console_urlpatterns)),
    path("console/assistance/", include(assistance_urls.console_urlpatterns)),
    path("console/insights/", include(insights_urls.console_urlpatterns)),
    path("console/training/", include(training_urls.console_urlpatterns)),
    path("console/", console_views.home, name="console-home"),
    path("console/login/", console_views.LoginView.as_view(), name="console-login"),
    path(
        "console/logout/",
        auth_views.LogoutView.as_view(next_page="/console/login/"),
        name="console-logout",
    ),
    path("console/inbox/", console_views.inbox_page, name="console-inbox"),
    path("console/inbox/read-all/", console_views.inbox_read_all, name="console-inbox-read-all"),
    path("console/inbox/latest/", console_views.inbox_latest, name="console-inbox-latest"),
    path(
        "console/inbox/<int:message_id>/read/", console_views.inbox_read, name="console-inbox-read"
    ),
    path("console/", include(customers_urls.console_urlpatterns)),
]

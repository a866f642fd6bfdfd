from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from m4s.service import urls as service_urls

from . import console_views, customer_views, owner_views

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
    path("app/cars/", owner_views.cars, name="app-cars"),
    path("app/consultants/", owner_views.consultants, name="app-consultants"),
    path("i/<slug:code>/", owner_views.invitation, name="invitation"),
    path("app/offline/", owner_views.offline, name="app-offline"),
    path("app/manifest.webmanifest", owner_views.manifest, name="app-manifest"),
    path("app/sw.js", owner_views.service_worker, name="app-sw"),
    path("app/service/", include(service_urls.owner_urlpatterns)),
    path("app/loyalty/", include("m4s.web.loyalty_owner_urls")),
    path("app/cars/", include("m4s.web.telematics_owner_urls")),
    # staff console
    path("console/service/", include(service_urls.console_urlpatterns)),
    path("console/loyalty/", include("m4s.web.loyalty_console_urls")),
    path("console/telematics/", include("m4s.web.telematics_console_urls")),
    path("console/", console_views.home, name="console-home"),
    path("console/login/", console_views.LoginView.as_view(), name="console-login"),
    path(
        "console/logout/",
        auth_views.LogoutView.as_view(next_page="/console/login/"),
        name="console-logout",
    ),
    path("console/inbox/", console_views.inbox_page, name="console-inbox"),
    path("console/inbox/read-all/", console_views.inbox_read_all, name="console-inbox-read-all"),
    path(
        "console/inbox/<int:message_id>/read/", console_views.inbox_read, name="console-inbox-read"
    ),
    path("console/customers/", customer_views.customer_list, name="console-customers"),
    path(
        "console/customers/<int:customer_id>/",
        customer_views.customer_detail,
        name="console-customer",
    ),
    path(
        "console/customers/import/", customer_views.customer_import, name="console-customer-import"
    ),
    path(
        "console/customers/export.<str:fmt>",
        customer_views.customer_export,
        name="console-customer-export",
    ),
    path(
        "console/customers/<int:customer_id>/assign/",
        customer_views.customer_assign,
        name="console-customer-assign",
    ),
    path(
        "console/customers/<int:customer_id>/bind/",
        customer_views.customer_bind,
        name="console-customer-bind",
    ),
    path(
        "console/transfers/<int:transfer_id>/decide/",
        customer_views.transfer_decide,
        name="console-transfer-decide",
    ),
    path("console/invitations/", customer_views.invitations_page, name="console-invitations"),
    path(
        "console/invitations/<slug:code>.<str:fmt>",
        customer_views.invitation_qr,
        name="console-invitation-qr",
    ),
    path("console/card/", customer_views.staff_card, name="console-card"),
    path(
        "console/staff/<int:staff_id>/card/", customer_views.staff_card, name="console-staff-card"
    ),
]

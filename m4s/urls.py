from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve

from m4s.api import api
from m4s.core.api import api_not_found
from m4s.web.admin_site import admin_site

urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),  # JSON 404, e.g. /api/v1/me/repair-orders/abc
    path("admin/", admin_site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("m4s.web.urls")),
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]

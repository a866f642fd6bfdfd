from django.urls import include, path, re_path

from m4s.api import api
from m4s.core.admin import admin_site
from m4s.core.api import api_not_found
from m4s.core.views import media_file

urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),  # JSON 404, e.g. /api/v1/me/repair-orders/abc
    path("admin/", admin_site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("m4s.ops.urls")),  # /health/live, /health/ready, /metrics
    path("", include("m4s.web.urls")),
    # Uploaded files only through the access check (MEDIA_ROOT itself is never routed).
    path("media/<slug:area>/<int:pk>/<str:name>", media_file, name="media-file"),
]

handler400 = "m4s.core.handlers.bad_request"
handler403 = "m4s.core.handlers.permission_denied"
handler404 = "m4s.core.handlers.page_not_found"
handler500 = "m4s.core.handlers.server_error"

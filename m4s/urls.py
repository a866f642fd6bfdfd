from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve

from m4s.api import api
from m4s.web.admin_site import admin_site

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin_site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("m4s.web.urls")),
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]

handler400 = "m4s.core.handlers.bad_request"
handler403 = "m4s.core.handlers.permission_denied"
handler404 = "m4s.core.handlers.page_not_found"
handler500 = "m4s.core.handlers.server_error"

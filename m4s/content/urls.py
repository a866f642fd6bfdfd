"""The content area's pages: `owner_urlpatterns` (owner app, included at /app/content/) and
`console_urlpatterns` (staff console, included at /console/content/)."""

from django.urls import path  # noqa: E402

from m4s.content.choices import Module  # noqa: E402
from m4s.content.views import owner  # noqa: E402

owner_urlpatterns = [
    path("items/<int:item_id>/", owner.item, name="app-content-item"),
    path("knowledge/", owner.knowledge, name="app-content-knowledge"),
    path("magazines/", owner.magazines, name="app-content-magazines"),
    path("magazines/<int:issue_id>/", owner.magazine_issue, name="app-content-magazine-issue"),
    path("search/", owner.search_page, name="app-content-search"),
    path("prices/", owner.prices_page, name="app-content-prices"),
    # one name per module (the app's tiles reverse a name without arguments), then any module
    *[
        path(f"m/{m}/", owner.module_feed, {"module": m}, name=owner.module_url_name(m))
        for m in Module.values
        if m not in owner.OWN_PAGES
    ],
    path("m/<str:module>/", owner.module_feed, name="app-content-module"),
]

from django.urls import path  # noqa: E402

from m4s.content.views import console  # noqa: E402

console_urlpatterns = [
    path("", console.items, name="console-content"),
    path("review/", console.review, name="console-content-review"),
    path("new/", console.new, name="console-content-new"),
    path("<int:item_id>/", console.edit, name="console-content-item"),
    path("<int:item_id>/versions/", console.versions, name="console-content-versions"),
    path(
        "<int:item_id>/versions/<int:number>/restore/",
        console.restore,
        name="console-content-restore",
    ),
    path("<int:item_id>/preview/", console.preview, name="console-content-preview"),
    path(
        "<int:item_id>/preview/frame/",
        console.preview_frame,
        name="console-content-preview-frame",
    ),
    path("<int:item_id>/stats/", console.item_stats, name="console-content-stats"),
    path(
        "<int:item_id>/images/<int:image_id>/delete/",
        console.remove_image,
        name="console-content-image-delete",
    ),
    path(
        "<int:item_id>/<str:action>/",
        console.act,
        name="console-content-action",
    ),
]

"""The catalogue area's pages: `owner_urlpatterns` (owner app, included at /app/catalogue/) and
`console_urlpatterns` (staff console, included at /console/catalogue/)."""

from django.urls import path

from .views import console, owner

owner_urlpatterns = [
    path("", owner.models, name="app-catalogue"),
    path("<int:model_id>/", owner.model, name="app-catalogue-model"),
    path("finance/", owner.finance, name="app-catalogue-finance"),
]

console_urlpatterns = [
    path("", console.models, name="console-catalogue"),
    path("new/", console.model_edit, name="console-catalogue-new"),
    path("<int:model_id>/", console.model_edit, name="console-catalogue-model"),
    path("<int:model_id>/publish/", console.publish, name="console-catalogue-publish"),
    path("<int:model_id>/trims/", console.trim_edit, name="console-catalogue-trim-new"),
    path("<int:model_id>/trims/<int:trim_id>/", console.trim_edit, name="console-catalogue-trim"),
    path("<int:model_id>/colours/", console.colour_edit, name="console-catalogue-colour-new"),
    path(
        "<int:model_id>/colours/<int:colour_id>/",
        console.colour_edit,
        name="console-catalogue-colour",
    ),
    path("<int:model_id>/pictures/", console.pictures, name="console-catalogue-pictures"),
    path(
        "<int:model_id>/pictures/<int:picture_id>/delete/",
        console.picture_delete,
        name="console-catalogue-picture-delete",
    ),
    path("brands/", console.brands, name="console-catalogue-brands"),
    path("brands/<int:brand_id>/", console.brands, name="console-catalogue-brand"),
    path("finance/", console.products, name="console-catalogue-products"),
    path("finance/<int:product_id>/", console.products, name="console-catalogue-product"),
    path("insurers/", console.insurers, name="console-catalogue-insurers"),
    path("insurers/<int:insurer_id>/", console.insurers, name="console-catalogue-insurer"),
]

"""Page URLs of the customers area, included by m4s/web/urls.py (names unchanged)."""

from django.urls import path

from .views import console, owner

# under /app/
owner_urlpatterns = [
    path("cars/", owner.cars, name="app-cars"),
    path("consultants/", owner.consultants, name="app-consultants"),
]

# at the site root: the link behind a store's or staff member's QR code
invitation_urlpatterns = [
    path("i/<slug:code>/", owner.invitation, name="invitation"),
]

# under /console/
console_urlpatterns = [
    path("customers/", console.customer_list, name="console-customers"),
    path("customers/<int:customer_id>/", console.customer_detail, name="console-customer"),
    path("customers/import/", console.customer_import, name="console-customer-import"),
    path("customers/export.<str:fmt>", console.customer_export, name="console-customer-export"),
    path(
        "customers/<int:customer_id>/assign/",
        console.customer_assign,
        name="console-customer-assign",
    ),
    path("customers/<int:customer_id>/bind/", console.customer_bind, name="console-customer-bind"),
    path(
        "transfers/<int:transfer_id>/decide/",
        console.transfer_decide,
        name="console-transfer-decide",
    ),
    path("invitations/", console.invitations_page, name="console-invitations"),
    path(
        "invitations/<slug:code>.<str:fmt>",
        console.invitation_qr,
        name="console-invitation-qr",
    ),
    path("card/", console.staff_card, name="console-card"),
    path("staff/<int:staff_id>/card/", console.staff_card, name="console-staff-card"),
]

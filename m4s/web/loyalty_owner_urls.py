"""Owner app loyalty pages, included at /app/loyalty/."""

from django.urls import path

from . import loyalty_owner_views as views

urlpatterns = [
    path("", views.home, name="app-loyalty"),
    path("history/", views.history, name="app-loyalty-history"),
    path("rewards/", views.rewards, name="app-loyalty-rewards"),
    path("rewards/<int:reward_id>/redeem/", views.redeem, name="app-loyalty-redeem"),
    path("vouchers/", views.vouchers, name="app-loyalty-vouchers"),
    path("vouchers/<int:voucher_id>/", views.voucher, name="app-loyalty-voucher"),
    path("vouchers/<int:voucher_id>/qr.svg", views.voucher_qr, name="app-loyalty-voucher-qr"),
    path("missions/", views.missions, name="app-loyalty-missions"),
    path("missions/name/", views.leaderboard_name, name="app-loyalty-leaderboard-name"),
    path("refer/", views.refer, name="app-loyalty-refer"),
    path("refer/qr.svg", views.refer_qr, name="app-loyalty-refer-qr"),
    path("r/<str:code>/", views.referral_landing, name="app-loyalty-referral"),
]

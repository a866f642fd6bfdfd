"""Loyalty pages: the owner app's (included at /app/loyalty/) and the console's (at
/console/loyalty/)."""

from django.urls import path

from .views import console, owner

owner_urlpatterns = [
    path("", owner.home, name="app-loyalty"),
    path("history/", owner.history, name="app-loyalty-history"),
    path("rewards/", owner.rewards, name="app-loyalty-rewards"),
    path("rewards/<int:reward_id>/redeem/", owner.redeem, name="app-loyalty-redeem"),
    path("vouchers/", owner.vouchers, name="app-loyalty-vouchers"),
    path("vouchers/<int:voucher_id>/", owner.voucher, name="app-loyalty-voucher"),
    path("vouchers/<int:voucher_id>/qr.svg", owner.voucher_qr, name="app-loyalty-voucher-qr"),
    path("missions/", owner.missions, name="app-loyalty-missions"),
    path("missions/name/", owner.leaderboard_name, name="app-loyalty-leaderboard-name"),
    path("refer/", owner.refer, name="app-loyalty-refer"),
    path("refer/qr.svg", owner.refer_qr, name="app-loyalty-refer-qr"),
    path("r/<str:code>/", owner.referral_landing, name="app-loyalty-referral"),
]

console_urlpatterns = [
    path("", console.desk, name="console-loyalty"),
    path("members/<int:member_id>/", console.member, name="console-loyalty-member"),
    path("members/<int:member_id>/adjust/", console.adjust, name="console-loyalty-adjust"),
    path("members/<int:member_id>/events/", console.record_event, name="console-loyalty-event"),
    path("report/", console.report, name="console-loyalty-report"),
]

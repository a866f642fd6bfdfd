"""Notification pages: `owner_urlpatterns` (owner app, included at /app/notifications/)."""

from django.urls import path

from .views import owner

owner_urlpatterns = [
    path("", owner.settings_page, name="app-notifications"),
    path("push-subscriptions/", owner.push_subscribe, name="app-notifications-push"),
    path(
        "push-subscriptions/<int:subscription_id>/forget/",
        owner.push_forget,
        name="app-notifications-push-forget",
    ),
    path("wechat/", owner.wechat_start, name="app-notifications-wechat"),
    path("wechat/done/", owner.wechat_done, name="app-notifications-wechat-done"),
    path("unsubscribe/<str:token>/", owner.unsubscribe, name="notify-unsubscribe"),
]

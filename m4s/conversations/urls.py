"""The conversations area's pages: `owner_urlpatterns` (owner app, included at
/app/conversations/) and `console_urlpatterns` (staff console, included at
/console/conversations/)."""

from django.urls import path

from .views import owner
from .views.console import calls, conversation, figures, inbox

owner_urlpatterns = [
    path("", owner.conversations, name="app-conversations"),
    path("new/<slug:topic>/", owner.start, name="app-conversation-start"),
    path("callback/", owner.callback, name="app-callback"),
    path("callback/<int:callback_id>/cancel/", owner.cancel_callback, name="app-callback-cancel"),
    path("<int:conversation_id>/", owner.thread, name="app-conversation"),
    path(
        "<int:conversation_id>/messages/",
        owner.messages_after,
        name="app-conversation-messages",
    ),
    path("<int:conversation_id>/send/", owner.send, name="app-conversation-send"),
    path("<int:conversation_id>/rate/", owner.rate, name="app-conversation-rate"),
]

console_urlpatterns = [
    path("", inbox.inbox, name="console-conversations"),
    path("rows/", inbox.rows, name="console-conversations-rows"),
    path("badge/", inbox.badge, name="console-conversations-badge"),
    path("callbacks/", calls.callbacks, name="console-callbacks"),
    path("calls/", calls.log_call, name="console-call-log"),
    path("figures/", figures.figures, name="console-conversation-figures"),
    path("<int:conversation_id>/", conversation.conversation, name="console-conversation"),
    path(
        "<int:conversation_id>/messages/",
        conversation.messages_after,
        name="console-conversation-messages",
    ),
    path(
        "<int:conversation_id>/<slug:action>/",
        conversation.act,
        name="console-conversation-act",
    ),
]

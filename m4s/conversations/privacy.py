"""Conversations: what an owner wrote and was written, their photos, callback requests and the
calls with them (m4s/privacy/registry.py).

Erasure keeps every conversation, message, hand-over and call row (times, counts, ratings and
the first-response and resolution minutes: the store's figures count them, and the reason
given for an unsolicited call is the evidence the "never cold" rule asks for) and removes what
people wrote (messages, notes, the rating comment, call and callback notes, hand-over notes,
the list preview) and every photo. Retention deletes photos older than
`settings.RETENTION_DAYS["photos"]`."""

import datetime as dt

from m4s.core.personal_data import rows

from .models import Call, CallbackRequest, Conversation, Handover, Message, MessagePhoto

PERSONAL_FIELDS = {
    "conversations.Conversation": {"rating_comment", "last_message_preview"},
    "conversations.Message": {"body"},
    "conversations.MessagePhoto": {"image"},
    "conversations.Handover": {"note"},
    "conversations.CallbackRequest": {"note"},
    "conversations.Call": {"note"},
}
NOT_PERSONAL = {
    "conversations.Message": {"text": "system text (a code and parameters), no free text"},
    "conversations.Handover": {
        "reason": "why it moved (a choice: routed, off duty, overdue, claimed, transfer)",
        "transfer_reason": "a choice (expertise, workload, ...)",
    },
    "conversations.Call": {
        "reason": "the staff member's justification of an unsolicited call, kept as the "
        "evidence the never-cold rule asks for",
    },
    "conversations.CannedReply": {
        "title": "catalogue",
        "title_i18n": "catalogue",
        "body": "catalogue (placeholders, no owner's data)",
        "body_i18n": "catalogue",
    },
}


def _conversations(owner):
    return Conversation.objects.unscoped().filter(customer__owner=owner)


def export_owner(owner) -> dict:
    conversations = _conversations(owner).select_related("store").order_by("created_at", "id")
    messages = (
        Message.objects.unscoped()
        .filter(conversation__in=_conversations(owner), kind="message")
        .order_by("conversation_id", "id")
    )
    out = rows(messages, ["conversation_id", "author_kind", "created_at", "display_text"])
    for row, message in zip(out, messages, strict=True):
        row["from"] = "you" if message.author_kind == "owner" else message.author_kind
        row["card"] = f"{message.card_kind}:{message.card_id}" if message.card_kind else ""
    callbacks = CallbackRequest.objects.unscoped().filter(customer__owner=owner).order_by("id")
    calls = Call.objects.unscoped().filter(customer__owner=owner).order_by("started_at", "id")
    photos = MessagePhoto.objects.unscoped().filter(
        conversation__in=_conversations(owner), message__kind="message"
    )
    return {
        "rows": {
            "conversations": rows(
                conversations,
                [
                    "id",
                    "store.name",
                    "topic",
                    "status",
                    "created_at",
                    "closed_at",
                    "rating",
                    "rating_comment",
                ],
            ),
            "conversation_messages": out,
            "callback_requests": rows(
                callbacks, ["topic", "window_start", "window_end", "note", "status", "created_at"]
            ),
            "calls": rows(
                calls, ["direction", "started_at", "duration_seconds", "reached", "outcome"]
            ),
        },
        "files": [p.image.name for p in photos if p.image],
    }


def _delete_photos(photos) -> int:
    names = [n for n in photos.values_list("image", flat=True) if n]
    deleted, _ = photos.delete()
    storage = MessagePhoto._meta.get_field("image").storage
    for name in names:
        storage.delete(name)
    return deleted


def erase_owner(owner) -> dict:
    ids = list(_conversations(owner).values_list("pk", flat=True))
    callbacks = (
        CallbackRequest.objects.unscoped()
        .filter(customer__owner=owner)
        .exclude(note="")
        .update(note="")
    )
    calls = Call.objects.unscoped().filter(customer__owner=owner).exclude(note="").update(note="")
    if not ids:
        return {"callback notes cleared": callbacks, "call notes cleared": calls}
    conversations = (
        Conversation.objects.unscoped()
        .filter(pk__in=ids)
        .update(rating_comment="", last_message_preview="")
    )
    messages = Message.objects.unscoped().filter(conversation_id__in=ids).exclude(body="")
    written = messages.update(body="")
    Handover.objects.unscoped().filter(conversation_id__in=ids).exclude(note="").update(note="")
    photos = _delete_photos(MessagePhoto.objects.unscoped().filter(conversation_id__in=ids))
    return {
        "conversations anonymised (kept for the figures)": conversations,
        "messages and notes cleared": written,
        "photos deleted": photos,
        "callback notes cleared": callbacks,
        "call notes cleared": calls,
    }


def enforce_retention(days: dict, now: dt.datetime) -> dict:
    cutoff = now - dt.timedelta(days=days["photos"])
    photos = _delete_photos(MessagePhoto.objects.unscoped().filter(created_at__lt=cutoff))
    return {"conversation photos deleted": photos}

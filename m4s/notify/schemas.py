import datetime as dt

from ninja import Schema

from .models import Message


class InboxMessageOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None

    @staticmethod
    def resolve_subject(obj: Message) -> str:
        return obj.display_subject  # in the reader's current language

    @staticmethod
    def resolve_body(obj: Message) -> str:
        return obj.display_body


class InboxOut(Schema):
    items: list[InboxMessageOut]
    unread: int
    next_before_id: int | None

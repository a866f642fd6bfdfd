import datetime as dt

from ninja import Schema


class InboxMessageOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxOut(Schema):
    items: list[InboxMessageOut]
    unread: int
    next_before_id: int | None

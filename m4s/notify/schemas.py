import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from m4s.core.types import Bool, LocalTime
from m4s.owners.services import time_zones

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


# --- notification settings and push subscriptions --------------------------------------------
ChannelName = Literal["inapp", "sms", "email", "push", "wechat"]


class CategorySettingOut(Schema):
    category: str
    label: str
    enabled: bool
    channels: list[str]
    locked: bool = Field(description="Transactional messages (sign-in codes, safety alerts).")


class PushSubscriptionOut(Schema):
    id: int
    user_agent: str
    created_at: dt.datetime
    last_success_at: dt.datetime | None


class NotificationSettingsOut(Schema):
    channels: list[str] = Field(description="The owner's channels in their order (inbox first).")
    categories: list[CategorySettingOut]
    quiet_hours_start: LocalTime | None
    quiet_hours_end: LocalTime | None
    time_zone: str = Field(description="The owner's own zone; empty: the home store's.")
    effective_time_zone: str = Field(description="The zone quiet hours are read in.")
    marketing_consent: bool
    available_channels: list[str]
    push_public_key: str = Field(description="VAPID key for pushManager.subscribe.")
    push_subscriptions: list[PushSubscriptionOut]
    wechat_bound: bool


class CategorySettingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    enabled: Bool | None = None
    channels: list[ChannelName] | None = Field(None, max_length=5)


class CategoriesIn(Schema):
    """The categories an owner may change (transactional messages cannot be switched off)."""

    model_config = ConfigDict(extra="forbid")

    service: CategorySettingIn | None = None
    care: CategorySettingIn | None = None
    marketing: CategorySettingIn | None = None


TimeZoneName = Annotated[
    str,
    WithJsonSchema({"type": "string", "enum": ["", *sorted(time_zones())]}),
]


class NotificationSettingsIn(Schema):
    """Only the fields sent are changed (null for channels, time_zone or categories: kept; null
    quiet hours: none). Unknown fields are refused; bad input changes nothing."""

    model_config = ConfigDict(extra="forbid")

    channels: list[ChannelName] | None = Field(None, max_length=5)
    quiet_hours_start: LocalTime | None = None
    quiet_hours_end: LocalTime | None = None
    time_zone: TimeZoneName | None = Field(
        None, max_length=64, description="An IANA zone; empty: the home store's."
    )
    categories: CategoriesIn | None = None


class PushKeysIn(Schema):
    model_config = ConfigDict(extra="forbid")

    p256dh: str = Field(min_length=80, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$")
    auth: str = Field(min_length=16, max_length=30, pattern=r"^[A-Za-z0-9_-]+=*$")


class PushSubscriptionIn(Schema):
    """What the browser's PushSubscription.toJSON() gives (expirationTime is ignored)."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(min_length=12, max_length=1000, pattern=r"^https?://")
    keys: PushKeysIn
    user_agent: str = Field("", max_length=200)

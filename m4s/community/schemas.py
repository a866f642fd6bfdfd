"""Community API schemas: bounded input (text lengths, reasons from a list), answers in the
reader's language."""

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

from m4s.core.types import NON_BLANK, DbId

from .choices import COMMENT_TEXT_MAX, REASON_MAX, STORY_TEXT_MAX

TEXT = NON_BLANK


# --- input --------------------------------------------------------------------------------------
class StoryIn(Schema):
    text: str = Field(..., min_length=1, max_length=STORY_TEXT_MAX, pattern=TEXT)


class StoryCommentIn(Schema):
    text: str = Field(..., min_length=1, max_length=COMMENT_TEXT_MAX, pattern=TEXT)


class StoryReportIn(Schema):
    """Report the story, or with `comment_id` one of its comments."""

    reason: Literal["spam", "abuse", "privacy", "false", "other"]
    note: str = Field("", max_length=REASON_MAX)
    comment_id: DbId | None = None


class StoryRejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=REASON_MAX, pattern=TEXT)


class StoryHideIn(Schema):
    reason: str = Field("", max_length=REASON_MAX)


class StoryFeedQuery(Schema):
    before_id: DbId | None = None
    limit: int = Field(20, ge=1, le=50)


class StaffStoriesQuery(Schema):
    status: Literal["", "pending", "approved", "rejected", "hidden"] = ""


# --- output -------------------------------------------------------------------------------------
class StoryPhotoOut(Schema):
    id: int
    url: str


class StoryOut(Schema):
    id: int
    text: str
    status: str
    status_label: str
    reason: str = Field("", description="why it was not approved or hidden (the author's own)")
    author: str
    mine: bool
    liked: bool
    likes_count: int
    comments_count: int
    photos: list[StoryPhotoOut]
    created_at: dt.datetime
    approved_at: dt.datetime | None
    share_url: str = Field("", description="a public link showing the text (published only)")
    event_id: int | None


class StoryCommentOut(Schema):
    id: int
    text: str
    author: str
    mine: bool
    created_at: dt.datetime


class StoryDetailOut(StoryOut):
    comments: list[StoryCommentOut]


class StoryLikeOut(Schema):
    liked: bool
    likes_count: int


class StoryReportOut(Schema):
    id: int
    story_id: int
    comment_id: int | None
    reason: str
    created_at: dt.datetime


class StaffCommentOut(Schema):
    id: int
    story_id: int
    text: str
    author: str
    customer_id: int
    status: str
    created_at: dt.datetime
    open_reports: int


class StaffStoryOut(Schema):
    id: int
    text: str
    status: str
    status_label: str
    reason: str
    author: str
    customer_id: int
    likes_count: int
    comments_count: int
    open_reports: int
    photos: list[StoryPhotoOut]
    created_at: dt.datetime
    approved_at: dt.datetime | None
    moderated_at: dt.datetime | None


class StaffStoryDetailOut(StaffStoryOut):
    comments: list[StaffCommentOut]
    reports: list[StoryReportOut]

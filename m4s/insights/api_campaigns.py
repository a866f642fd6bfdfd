"""Insight API, segments and campaigns (transport only: services in segments.py, campaigns.py,
uplift.py). Every call needs RUN_CAMPAIGNS (403); another group's segment or campaign, or a
store not the reader's, is a 404."""

import datetime as dt
from typing import Annotated, Literal

from django.db.models import Count, Q
from django.utils import timezone
from ninja import Field, Router, Schema

from m4s.core.auth import staff_auth
from m4s.core.errors import DomainError
from m4s.core.i18n import render
from m4s.core.types import DbId
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import campaigns, segments, uplift
from .models import Arm, Campaign, MemberOutcome, Segment

router = Router(tags=["staff: segments and campaigns"], auth=staff_auth)

Name = Annotated[str, Field(min_length=1, max_length=80)]
Text = Annotated[str, Field(max_length=2000)]


class SegmentCountIn(Schema):
    definition: segments.Definition = Field(default_factory=segments.Definition)


class SegmentCountOut(Schema):
    count: int


class SegmentIn(Schema):
    name: Name
    definition: segments.Definition = Field(default_factory=segments.Definition)


class SegmentOut(Schema):
    id: int
    name: str
    definition: dict
    count: int | None  # the live count (the detail and create answers; None in the list)
    created_at: dt.datetime


class SegmentListOut(Schema):
    items: list[SegmentOut]


class CampaignText(Schema):
    zh_hans: Text = Field("", alias="zh-hans")
    en: Text = ""
    ko: Text = ""


class CampaignIn(Schema):
    segment_id: DbId
    name: Annotated[str, Field(max_length=80)] = ""
    template: Literal["", "service_due", "we_miss_you", "coupon_gift"] = ""
    title: CampaignText | None = None
    body: CampaignText | None = None
    coupon_id: DbId | None = None
    control_pct: Annotated[int, Field(ge=0, le=50)] = 10


class CampaignOut(Schema):
    id: int
    name: str
    segment_id: int | None
    status: str
    control_pct: int
    title: str
    body: str
    coupon_id: int | None
    seed: str | None
    launched_at: dt.datetime | None
    treated: int
    control: int
    sent: int
    dropped: int
    created_at: dt.datetime


class CampaignListOut(Schema):
    items: list[CampaignOut]


class UpliftDiff(Schema):
    diff: float
    low: float
    high: float


class CampaignArmOut(Schema):
    n: int
    booked: int
    visited: int
    spend: str
    booked_share: float | None
    visited_share: float | None
    spend_per_member: float | None


class CampaignUplifts(Schema):
    booked: UpliftDiff | None
    visited: UpliftDiff | None
    spend: UpliftDiff | None


class CampaignWindowOut(Schema):
    days: int
    partial: bool
    until: dt.datetime
    treated: CampaignArmOut
    control: CampaignArmOut
    uplift: CampaignUplifts


class CampaignResultOut(Schema):
    campaign_id: int
    launched_at: dt.datetime | None
    windows: list[CampaignWindowOut]


def _segment_out(s: Segment, today: dt.date | None) -> dict:
    return {
        "id": s.pk,
        "name": s.name,
        "definition": s.definition,
        "count": None
        if today is None
        else segments.count(s.dealer_group_id, segments.parse(s.definition), today=today),
        "created_at": s.created_at,
    }


@router.post("/segments/count", response=SegmentCountOut)
def segment_count(request, payload: SegmentCountIn):
    """How many customers a definition selects now (the builder's live count)."""
    check_perm(request.user, Perm.RUN_CAMPAIGNS)
    d = segments.scoped(request.user, payload.definition)
    return {"count": segments.count(request.user.dealer_group_id, d)}


@router.get("/segments", response=SegmentListOut)
def segment_list(request):
    """The group's segments (a store manager: those of their stores), newest first (the live
    count is in each segment's own answer)."""
    check_perm(request.user, Perm.RUN_CAMPAIGNS)
    rows = list(segments.visible_segments(request.user)[:100])
    return {"items": [_segment_out(s, None) for s in rows]}


@router.post("/segments", response={201: SegmentOut})
def segment_create(request, payload: SegmentIn):
    check_perm(request.user, Perm.RUN_CAMPAIGNS)
    s = segments.create_segment(request.user, name=payload.name, definition=payload.definition)
    return 201, _segment_out(s, timezone.localdate())


@router.get("/segments/{segment_id}", response=SegmentOut)
def segment_detail(request, segment_id: DbId):
    check_perm(request.user, Perm.RUN_CAMPAIGNS)
    return _segment_out(segments.get_segment(request.user, segment_id), timezone.localdate())


def _campaigns_with_counts(qs):
    return qs.annotate(
        n_sent=Count(
            "members",
            filter=Q(members__outcome__in=[MemberOutcome.SENT, MemberOutcome.HELD]),
        ),
        n_dropped=Count("members", filter=Q(members__outcome=MemberOutcome.DROPPED)),
    )


def _campaign_out(c: Campaign) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "segment_id": c.segment_id,
        "status": c.status,
        "control_pct": c.control_pct,
        "title": render(c.title),
        "body": render(c.body),
        "coupon_id": c.coupon_id,
        "seed": str(c.seed) if c.seed is not None else None,
        "launched_at": c.launched_at,
        "treated": c.treated_count,
        "control": c.control_count,
        "sent": getattr(c, "n_sent", 0),
        "dropped": getattr(c, "n_dropped", 0),
        "created_at": c.created_at,
    }


@router.get("/campaigns", response=CampaignListOut)
def campaign_list(request):
    """The group's campaigns (a store manager: those of their stores), newest first."""
    check_perm(request.user, Perm.RUN_CAMPAIGNS)
    qs = _campaigns_with_counts(campaigns.visible_campaigns(request.user))[:100]
    return {"items": [_campaign_out(c) for c in qs]}


@router.post("/campaigns", response={201: CampaignOut})
def campaign_create(request, payload: CampaignIn):
    """A draft campaign to a segment: a template or the message in one or more languages
    (zh-hans, en, ko; each owner gets their language), an optional coupon, the control share
    (0..50 %, default 10)."""
    check_perm(request.user, Perm.RUN_CAMPAIGNS)
    c = campaigns.create_campaign(
        request.user,
        segment_id=payload.segment_id,
        name=payload.name,
        template=payload.template,
        title=payload.title.model_dump(by_alias=True) if payload.title else None,
        body=payload.body.model_dump(by_alias=True) if payload.body else None,
        coupon_id=payload.coupon_id,
        control_pct=payload.control_pct,
    )
    return 201, _campaign_out(c)


def _one(request, campaign_id: int) -> dict:
    campaigns.get_campaign(request.user, campaign_id)
    c = _campaigns_with_counts(Campaign.objects.for_group(request.user.dealer_group_id)).get(
        pk=campaign_id
    )
    return _campaign_out(c)


@router.get("/campaigns/{campaign_id}", response=CampaignOut)
def campaign_detail(request, campaign_id: DbId):
    check_perm(request.user, Perm.RUN_CAMPAIGNS)
    return _one(request, campaign_id)


@router.post("/campaigns/{campaign_id}/launch", response=CampaignOut)
def campaign_launch(request, campaign_id: DbId):
    """Launch: snapshot the segment's consenting members, draw the control arm (seeded; the
    seed is returned), message the treated arm through the contact policy after commit. A
    launched campaign is returned unchanged, so a client may simply retry."""
    check_perm(request.user, Perm.RUN_CAMPAIGNS)
    campaigns.launch_campaign(request.user, campaign_id)
    return _one(request, campaign_id)


def _arm(a: dict) -> dict:
    return {**a, "spend": str(a["spend"])}


@router.get("/campaigns/{campaign_id}/result", response=CampaignResultOut)
def campaign_result(request, campaign_id: DbId):
    """Treated vs control within 30/60/90 days of the launch: shares who booked and visited
    (Newcombe 95 % interval of the difference) and spend per member (Welch 95 % interval).
    Windows still running are partial; a draft has none."""
    check_perm(request.user, Perm.RUN_CAMPAIGNS)
    c = campaigns.get_campaign(request.user, campaign_id)
    r = uplift.result(c)
    if not isinstance(r, dict):  # pragma: no cover
        raise DomainError("no_result", "No result.", status=409)
    return {
        "campaign_id": c.pk,
        "launched_at": c.launched_at,
        "windows": [
            {
                "days": w["days"],
                "partial": w["partial"],
                "until": w["until"],
                "treated": _arm(w["arms"][Arm.TREATED]),
                "control": _arm(w["arms"][Arm.CONTROL]),
                "uplift": w["uplift"],
            }
            for w in r["windows"]
        ],
    }

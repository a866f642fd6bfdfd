"""Campaigns: a message (and an optional coupon) to a segment's consenting customers, keeping a
random control arm that gets nothing, so that what the campaign changed can be measured
(m4s/insights/uplift.py).

`create_campaign` writes a draft. `launch_campaign(actor, campaign_id)` in ONE transaction copies
the segment's definition, snapshots its members (marketing consent forced on: customers without
it are never members), draws the control arm at random with a recorded seed (the split is
redone exactly by `split(customer_ids, seed, pct)`: the sorted ids, `random.Random(seed)`), and
only after commit queues `send_campaign_task`. `send_campaign(campaign_id)` hands the treated
arm's pending members to the contact policy (category "marketing": consent, unsubscribe, quiet
hours and frequency caps apply) in batches with `contact_many`; each member's reason is
`campaign:<id>:<customer>`, so a second run (a retried task, two workers) never sends a second
message to anyone. The control arm is never handed to the policy.
"""

import logging
import random
import secrets
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from m4s.core.audit import record_audit
from m4s.core.errors import DomainError
from m4s.core.i18n import text
from m4s.core.models import AuditEntry

from . import segments
from .models import Arm, Campaign, CampaignMember, CampaignStatus, MemberOutcome

log = logging.getLogger(__name__)

LANGS = ("zh-hans", "en", "ko")
SEND_BATCH = 200
KIND = "marketing.campaign"

# Message templates a manager may pick instead of writing the three languages.
TEMPLATES: dict[str, tuple[str, str]] = {
    "service_due": (
        gettext_noop("Time for a check-up"),
        gettext_noop(
            "It has been a while since your car's last service. Book a visit in the app and "
            "we will have it ready for you."
        ),
    ),
    "we_miss_you": (
        gettext_noop("We miss you"),
        gettext_noop(
            "Come back for a free safety check: book a visit in the app whenever it suits you."
        ),
    ),
    "coupon_gift": (
        gettext_noop("A gift for your next visit"),
        gettext_noop("A coupon is waiting in your membership: use it at your next service visit."),
    ),
}


def localized(values: dict[str, str] | None) -> dict[str, Any] | None:
    """{"zh-hans": ..., "en": ..., "ko": ...} → stored text shown in the reader's language (the
    first filled language is the fallback); None when all are empty."""
    clean = {k: v.strip() for k, v in (values or {}).items() if k in LANGS and (v or "").strip()}
    if not clean:
        return None
    fallback = next(clean[k] for k in LANGS if k in clean)
    return {"n": fallback, "i18n": clean}


def split(customer_ids: list[int], seed: int, control_pct: int) -> set[int]:
    """The control arm: round(n × pct / 100) of the ids, drawn by `random.Random(seed)` from the
    sorted ids (reproducible from the recorded seed)."""
    ids = sorted(customer_ids)
    k = round(len(ids) * control_pct / 100)
    return set(random.Random(seed).sample(ids, k)) if k else set()


def visible_campaigns(user):
    """The group's campaigns; a store manager sees those whose segment is limited to their
    stores."""
    qs = Campaign.objects.for_group(user.dealer_group_id)
    allowed = segments.allowed_store_ids(user)
    if allowed is None:
        return qs
    ok = [
        c.pk
        for c in qs.only("pk", "definition", "segment_id").select_related(None)
        if _stores_of(c) and set(_stores_of(c)) <= allowed
    ]
    return qs.filter(pk__in=ok)


def _stores_of(c: Campaign) -> list[int]:
    return list((c.definition or {}).get("store_ids") or [])


def get_campaign(user, campaign_id: int) -> Campaign:
    campaign = visible_campaigns(user).select_related("segment", "coupon").filter(pk=campaign_id)
    found = campaign.first()
    if found is None:
        raise Http404
    return found


def create_campaign(
    actor,
    *,
    segment_id: int,
    name: str,
    template: str = "",
    title: dict[str, str] | None = None,
    body: dict[str, str] | None = None,
    coupon_id: int | None = None,
    control_pct: int = 10,
) -> Campaign:
    """A draft campaign to one of the actor's segments: a template's text or the title and body
    in one or more languages; an optional coupon of the group (still valid)."""
    from m4s.loyalty.models import Coupon

    segment = segments.get_segment(actor, segment_id)
    if not 0 <= control_pct <= 50:
        raise DomainError("invalid_control", _("The control share is 0 to 50 %."), status=422)
    if template:
        if template not in TEMPLATES:
            raise DomainError("invalid_template", _("Unknown message template."), status=422)
        t, b = TEMPLATES[template]
        stored_title: dict[str, Any] | None = text(t)
        stored_body: dict[str, Any] | None = text(b)
    else:
        stored_title, stored_body = localized(title), localized(body)
        if stored_body is None:
            raise DomainError(
                "invalid_message", _("Write the message or pick a template."), status=422
            )
    coupon = None
    if coupon_id is not None:
        coupon = (
            Coupon.objects.for_group(actor.dealer_group_id)
            .filter(pk=coupon_id, valid_to__gte=timezone.localdate())
            .first()
        )
        if coupon is None:
            raise Http404
    name = (name or "").strip() or segment.name
    return Campaign.objects.create(
        dealer_group_id=actor.dealer_group_id,
        name=name[:80],
        segment=segment,
        definition=segment.definition,
        title=stored_title or {},
        body=stored_body,
        coupon=coupon,
        control_pct=control_pct,
        created_by=actor,
    )


def launch_campaign(actor, campaign_id: int, *, seed: int | None = None, now=None) -> Campaign:
    """Snapshot the members, draw the control arm, mark the campaign sent; after commit the
    treated arm is messaged (a task). Launching a launched campaign changes nothing (a client's
    retry gets the same campaign back)."""
    now = now or timezone.now()
    with transaction.atomic():
        get_campaign(actor, campaign_id)  # 404 for another group's or store's campaign
        campaign = (
            Campaign.objects.for_group(actor.dealer_group_id)
            .select_for_update()
            .get(pk=campaign_id)
        )
        if campaign.status != CampaignStatus.DRAFT:
            return campaign
        definition = segments.parse(campaign.definition).model_copy(
            update={"marketing_consent": True}
        )
        ids = list(
            segments.customers(campaign.dealer_group_id, definition, today=now.date())
            .order_by("customer_id")
            .values_list("customer_id", flat=True)
        )
        seed = seed if seed is not None else secrets.randbits(62)
        control = split(ids, seed, campaign.control_pct)
        CampaignMember.objects.bulk_create(
            [
                CampaignMember(
                    dealer_group_id=campaign.dealer_group_id,
                    campaign=campaign,
                    customer_id=cid,
                    arm=Arm.CONTROL if cid in control else Arm.TREATED,
                    outcome=MemberOutcome.NONE if cid in control else MemberOutcome.PENDING,
                )
                for cid in ids
            ],
            batch_size=1000,
        )
        campaign.definition = definition.as_json()
        campaign.seed = seed
        campaign.status = CampaignStatus.SENT
        campaign.launched_at = now
        campaign.control_count = len(control)
        campaign.treated_count = len(ids) - len(control)
        campaign.save()
        record_audit(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            obj=campaign,
            before={"status": CampaignStatus.DRAFT},
            after={
                "status": campaign.status,
                "seed": str(seed),
                "treated": campaign.treated_count,
                "control": campaign.control_count,
            },
        )
        transaction.on_commit(lambda: send_campaign_task.enqueue(campaign.pk))
    return campaign


def _compose(campaign: Campaign):
    title = campaign.title or ""
    body = campaign.body or ""
    return lambda: (title, body)


def send_campaign(campaign_id: int, *, now=None) -> dict[str, int]:
    """Hand the treated arm's pending members to the contact policy, batch by batch (each in
    its own transaction with its rows locked). Safe to run twice: only pending members are
    read, and the policy's dedupe (reason `campaign:<id>:<customer>`) refuses a second message
    to anyone."""
    from m4s.loyalty.rewards import issue_coupon
    from m4s.notify.policy import contact_many

    now = now or timezone.now()
    campaign = Campaign.objects.unscoped().filter(pk=campaign_id).first()
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        return {}
    counts: dict[str, int] = {}
    while True:
        with transaction.atomic():
            rows = list(
                CampaignMember.objects.unscoped()
                .filter(campaign_id=campaign_id, arm=Arm.TREATED, outcome=MemberOutcome.PENDING)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("customer__owner")
                .order_by("id")[:SEND_BATCH]
            )
            if not rows:
                break
            for m in rows:
                if campaign.coupon_id and m.coupon_code_id is None and _consents(m.customer):
                    m.coupon_code = issue_coupon(m.customer, campaign.coupon_id, today=now.date())
            requests = [
                {
                    "owner": m.customer.owner,
                    "customer": m.customer,
                    "category": "marketing",
                    "kind": KIND,
                    "compose": _compose(campaign),
                    "reason": f"campaign:{campaign.pk}:{m.customer_id}",
                    "group": campaign.dealer_group_id,
                }
                for m in rows
            ]
            results = contact_many(requests, at=now)
            for m, decisions in zip(rows, results, strict=True):
                _record(m, decisions, now)
                counts[m.outcome] = counts.get(m.outcome, 0) + 1
            CampaignMember.objects.unscoped().bulk_update(
                rows, ["outcome", "why", "message_id", "coupon_code", "decided_at"]
            )
    Campaign.objects.unscoped().filter(pk=campaign_id, sent_at__isnull=True).update(sent_at=now)
    return counts


def _consents(customer) -> bool:
    owner = customer.owner
    return bool(owner.marketing_consent if owner is not None else customer.marketing_consent)


def _record(member: CampaignMember, decisions, now) -> None:
    from m4s.notify.choices import Outcome

    member.decided_at = now
    sent = [d for d in decisions if d.outcome in (Outcome.SENT, Outcome.HELD)]
    if sent:
        member.outcome = (
            MemberOutcome.SENT
            if any(d.outcome == Outcome.SENT for d in sent)
            else MemberOutcome.HELD
        )
        member.message_id = sent[0].message_id
        member.why = ""
    else:
        member.outcome = MemberOutcome.DROPPED
        member.why = (decisions[0].why if decisions else "no_recipient")[:24]


@task()
def send_campaign_task(campaign_id: int) -> dict[str, int]:
    return send_campaign(campaign_id)


def finish_due(now=None) -> int:
    """Campaigns whose 90-day window has passed are finished (their result no longer moves)."""
    import datetime as dt

    now = now or timezone.now()
    return (
        Campaign.objects.unscoped()
        .filter(status=CampaignStatus.SENT, launched_at__lte=now - dt.timedelta(days=90))
        .update(status=CampaignStatus.FINISHED, finished_at=now)
    )


def member_counts(campaign: Campaign) -> dict[str, int]:
    """Members by arm and outcome (one grouped query)."""
    from django.db.models import Count

    out: dict[str, int] = {}
    for row in (
        CampaignMember.objects.for_group(campaign.dealer_group_id)
        .filter(campaign=campaign)
        .values("arm", "outcome")
        .annotate(n=Count("id"))
    ):
        out[f"{row['arm']}:{row['outcome']}"] = row["n"]
    return out

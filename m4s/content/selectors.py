"""Owners' reads of content: who the owner is for targeting (`owner_profile`), the feed of one
module (`feed_for_owner`: one set-based query), one item (`item_for_owner`, 404 when not
visible), knowledge categories, magazine issues, and the publisher's read figures
(`item_stats`).

An item reaches an owner when it is published, inside its publish/expiry window, within its
level's reach (headquarters: everyone; a local organisation: owners in its city; a dealer group:
the group's owners, or one store's) and every targeting criterion it sets matches the owner
(`has_<kind>_targets` tells which are set; each set one is an EXISTS over `ContentTarget`)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import NotFound
from m4s.customers.models import Binding, Customer
from m4s.loyalty.models import Member
from m4s.org.models import DealerGroup, LocalOrganisation, Store

from .choices import HAS_TARGET_FIELD, Level, Module, Status, TargetKind
from .models import (
    ContentItem,
    ContentTarget,
    ContentTranslation,
    ContentView,
    KnowledgeCategory,
    MagazineIssue,
)

FEED_PAGE = 20
FEED_PAGE_MAX = 100


# --- who the owner is ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    """What targeting compares with. Brands, models and tiers are lower-cased (targets are
    compared case-insensitively); groups and stores are ids."""

    owner_id: int | None
    cities: frozenset[str] = frozenset()
    group_ids: frozenset[int] = frozenset()
    store_ids: frozenset[int] = frozenset()
    brands: frozenset[str] = frozenset()
    models: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    has_car: bool = False

    def values(self, kind: str) -> list[str]:
        return sorted(
            {
                TargetKind.CITY: self.cities,
                TargetKind.GROUP: {str(i) for i in self.group_ids},
                TargetKind.STORE: {str(i) for i in self.store_ids},
                TargetKind.BRAND: self.brands,
                TargetKind.MODEL: self.models,
                TargetKind.TIER: self.tiers,
            }[kind]
        )


def owner_profile(owner) -> Profile:
    """The owner's cities (the cities of the local organisations of their dealer groups), groups
    and stores (customer records and the home store), the brands and models of their bound cars,
    their member tiers and whether they have a bound car. A few small queries."""
    customers = list(
        Customer.objects.unscoped().filter(owner=owner).values_list("dealer_group_id", "store_id")
    )
    group_ids = {g for g, _s in customers}
    store_ids = {s for _g, s in customers}
    if owner.home_store_id:
        home = (
            Store.objects.unscoped()
            .filter(pk=owner.home_store_id)
            .values("dealer_group_id")
            .first()
        )
        if home is not None:
            store_ids.add(owner.home_store_id)
            group_ids.add(home["dealer_group_id"])
    cities = set(
        DealerGroup.objects.filter(pk__in=group_ids).values_list("local_org__city", flat=True)
    )
    cars = list(
        Binding.objects.unscoped()
        .filter(owner=owner, ended_at__isnull=True)
        .values_list("vehicle__brand", "vehicle__model")
    )
    tiers = set(
        Member.objects.unscoped()
        .filter(customer__owner=owner, tier__isnull=False)
        .values_list("tier__name", flat=True)
    )
    return Profile(
        owner_id=owner.pk,
        cities=frozenset(c for c in cities if c),
        group_ids=frozenset(group_ids),
        store_ids=frozenset(store_ids),
        brands=frozenset(b.strip().lower() for b, _m in cars if b),
        models=frozenset(m.strip().lower() for _b, m in cars if m),
        tiers=frozenset(t.strip().lower() for t in tiers if t),
        has_car=bool(cars),
    )


# --- what the owner may see ---------------------------------------------------------------------
def live_q(now: dt.datetime | None = None) -> Q:
    """Published and inside its publish/expiry window (an expiry task flips the status later;
    this never shows an item late)."""
    now = now or timezone.now()
    return (
        Q(status=Status.PUBLISHED)
        & (Q(publish_at__isnull=True) | Q(publish_at__lte=now))
        & (Q(expire_at__isnull=True) | Q(expire_at__gt=now))
    )


def reach_q(profile: Profile) -> Q:
    """The level scope: HQ items to everyone, a local organisation's to owners in its city, a
    dealer's to the group's owners (a store's item to that store's)."""
    local_orgs = LocalOrganisation.objects.filter(city__in=sorted(profile.cities)).values("pk")
    return (
        Q(level=Level.HEADQUARTERS)
        | Q(level=Level.LOCAL_ORG, local_org_id__in=Subquery(local_orgs))
        | (
            Q(level=Level.DEALER, dealer_group_id__in=sorted(profile.group_ids))
            & (Q(store_id__isnull=True) | Q(store_id__in=sorted(profile.store_ids)))
        )
    )


def targeting_q(profile: Profile) -> Q:
    """Every criterion the item sets must match: per kind, either the item has no targets of
    that kind or one of them is the owner's value (a semi-join on the (kind, value, item)
    index)."""
    q = Q(target_bound_car__isnull=True) | Q(target_bound_car=profile.has_car)
    for kind, flag in HAS_TARGET_FIELD.items():
        values = profile.values(kind)
        if not values:
            q &= Q(**{flag: False})
            continue
        # uncorrelated: PostgreSQL hashes the owner's matching item ids once (a correlated
        # EXISTS inside an OR is probed per row); the (kind, value, item) index answers it
        matching = ContentTarget.objects.filter(kind=kind, value__in=values).values("item_id")
        q &= Q(**{flag: False}) | Q(pk__in=matching)
    return q


def visible_items(owner, *, profile: Profile | None = None, now=None) -> QuerySet[ContentItem]:
    profile = profile or owner_profile(owner)
    return ContentItem.objects.filter(live_q(now) & reach_q(profile) & targeting_q(profile))


def with_texts(qs: QuerySet[ContentItem], language: str) -> QuerySet[ContentItem]:
    """Title and summary in `language`, else in the item's source language (in the same query)."""
    texts = ContentTranslation.objects.filter(item_id=OuterRef("pk"))
    annotations = {}
    for name in ("title", "summary"):
        annotations[f"t_{name}"] = Coalesce(
            Subquery(texts.filter(language=language).values(name)[:1]),
            Subquery(texts.filter(language=OuterRef("source_language")).values(name)[:1]),
        )
    return qs.annotate(**annotations)


def feed_for_owner(
    owner,
    *,
    module: str | None = None,
    language: str = "zh-hans",
    limit: int = FEED_PAGE,
    offset: int = 0,
    profile: Profile | None = None,
    category_id: int | None = None,
    issue_id: int | None = None,
) -> list[ContentItem]:
    """The owner's feed (one module, or all): pinned first, then newest. One query, with the
    title and summary in the reader's language as `t_title` / `t_summary`."""
    qs = visible_items(owner, profile=profile)
    if module:
        qs = qs.filter(module=module)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if issue_id:
        qs = qs.filter(issue_id=issue_id)
    qs = with_texts(qs, language).order_by("-pinned", F("publish_at").desc(nulls_last=True), "-id")
    limit = max(1, min(int(limit), FEED_PAGE_MAX))
    return list(qs[offset : offset + limit])


def item_for_owner(owner, item_id: int, *, profile: Profile | None = None) -> ContentItem:
    item = (
        visible_items(owner, profile=profile)
        .filter(pk=item_id)
        .select_related("category", "issue", "store", "local_org", "dealer_group")
        .prefetch_related("translations", "images")
        .first()
    )
    if item is None:
        raise NotFound(_("No such content."))
    return item


# --- knowledge base and magazines ---------------------------------------------------------------
@dataclass
class CategoryCount:
    category: KnowledgeCategory
    count: int


def knowledge_categories(owner, *, profile: Profile | None = None) -> list[CategoryCount]:
    """Knowledge categories with how many items the owner can read in each (empty ones left out)."""
    counts = dict(
        visible_items(owner, profile=profile)
        .filter(module=Module.KNOWLEDGE, category__isnull=False)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )
    return [
        CategoryCount(c, counts[c.pk])
        for c in KnowledgeCategory.objects.filter(pk__in=list(counts))
    ]


def get_category(category_id: int) -> KnowledgeCategory:
    found = KnowledgeCategory.objects.filter(pk=category_id).first()
    if found is None:
        raise NotFound(_("No such category."))
    return found


def get_issue(issue_id: int) -> MagazineIssue:
    found = MagazineIssue.objects.filter(pk=issue_id).first()
    if found is None:
        raise NotFound(_("No such issue."))
    return found


@dataclass
class IssueArticles:
    issue: MagazineIssue
    articles: list = field(default_factory=list)


def magazine_issues(owner, *, language: str, profile: Profile | None = None) -> list[IssueArticles]:
    """Magazine issues (newest first), each with the articles the owner can read."""
    articles = feed_for_owner(
        owner, module=Module.MAGAZINES, language=language, limit=FEED_PAGE_MAX, profile=profile
    )
    by_issue: dict[int | None, list] = defaultdict(list)
    for a in articles:
        by_issue[a.issue_id].append(a)
    issues = MagazineIssue.objects.filter(pk__in=[k for k in by_issue if k]).order_by("-number")
    out = [IssueArticles(i, by_issue[i.pk]) for i in issues]
    if by_issue.get(None):
        out.append(IssueArticles(None, by_issue[None]))  # type: ignore[arg-type]
    return out


# --- the publisher's figures --------------------------------------------------------------------
def _readers_by(kind: str, reads: QuerySet) -> dict[str, set[int]]:
    """{target value: owner ids} among the item's readers, for one target kind."""
    owner_ids = reads.values("owner_id")
    pairs: list[tuple[str, int]] = []
    if kind == TargetKind.CITY:
        pairs = list(
            Customer.objects.unscoped()
            .filter(owner_id__in=owner_ids)
            .values_list("dealer_group__local_org__city", "owner_id")
        )
    elif kind == TargetKind.GROUP:
        pairs = [
            (str(g), o)
            for g, o in Customer.objects.unscoped()
            .filter(owner_id__in=owner_ids)
            .values_list("dealer_group_id", "owner_id")
        ]
    elif kind == TargetKind.STORE:
        pairs = [
            (str(s), o)
            for s, o in Customer.objects.unscoped()
            .filter(owner_id__in=owner_ids)
            .values_list("store_id", "owner_id")
        ]
    elif kind in (TargetKind.BRAND, TargetKind.MODEL):
        column = "vehicle__brand" if kind == TargetKind.BRAND else "vehicle__model"
        pairs = [
            (v.strip().lower(), o)
            for v, o in Binding.objects.unscoped()
            .filter(owner_id__in=owner_ids, ended_at__isnull=True)
            .values_list(column, "owner_id")
        ]
    elif kind == TargetKind.TIER:
        pairs = [
            (v.strip().lower(), o)
            for v, o in Member.objects.unscoped()
            .filter(customer__owner_id__in=owner_ids, tier__isnull=False)
            .values_list("tier__name", "customer__owner_id")
        ]
    found: dict[str, set[int]] = defaultdict(set)
    for value, owner_id in pairs:
        found[value].add(owner_id)
    return found


def _target_label(kind: str, value: str, names: dict) -> str:
    shown = names.get((kind, value), value)
    return f"{TargetKind(kind).label}: {shown}"


def item_stats(item: ContentItem) -> dict:
    """Views (every read) and unique readers of the item, and per target of the item how many of
    its readers match that target and their views:
    {"views", "readers", "per_target": [{"kind", "value", "label", "views", "readers"}]}."""
    reads = ContentView.objects.filter(item=item)
    totals = reads.aggregate(views=Coalesce(Sum("count"), 0), readers=Count("id"))
    counts = dict(reads.values_list("owner_id", "count"))
    targets = list(ContentTarget.objects.filter(item=item).order_by("kind", "value"))
    names: dict[tuple[str, str], str] = {}
    ids = {
        k: [int(t.value) for t in targets if t.kind == k and t.value.isdecimal()]
        for k in (TargetKind.GROUP, TargetKind.STORE)
    }
    for pk, name in DealerGroup.objects.filter(pk__in=ids[TargetKind.GROUP]).values_list(
        "pk", "name"
    ):
        names[(TargetKind.GROUP, str(pk))] = name
    for pk, name in (
        Store.objects.unscoped().filter(pk__in=ids[TargetKind.STORE]).values_list("pk", "name")
    ):
        names[(TargetKind.STORE, str(pk))] = name
    by_kind: dict[str, dict[str, set[int]]] = {}
    rows = []
    for t in targets:
        if t.kind not in by_kind:
            by_kind[t.kind] = _readers_by(t.kind, reads)
        key = t.value.strip().lower() if t.kind in _CASELESS else t.value
        owners = by_kind[t.kind].get(key, set())
        rows.append(
            {
                "kind": t.kind,
                "value": t.value,
                "label": _target_label(t.kind, t.value, names),
                "readers": len(owners),
                "views": sum(counts.get(o, 0) for o in owners),
            }
        )
    return {"views": totals["views"], "readers": totals["readers"], "per_target": rows}


_CASELESS = (TargetKind.BRAND, TargetKind.MODEL, TargetKind.TIER)

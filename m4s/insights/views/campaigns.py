"""Insight console: segments and campaigns. The campaigns page lists both; the segment builder
shows a live count (htmx posts the form as it changes); a segment page starts a campaign; a
campaign page launches it (with a confirmation) and, once launched, shows treated vs control
per 30/60/90-day window with the 95 % intervals in words. RUN_CAMPAIGNS (403); another group's
segment or campaign, or a store not the reader's, is a 404."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from m4s.core import charts
from m4s.core.errors import DomainError
from m4s.core.i18n import render as render_text
from m4s.core.i18n import translated
from m4s.insights import campaigns, segments, uplift
from m4s.insights.choices import RiskBand
from m4s.insights.choices import Segment as RfmSegment
from m4s.insights.models import Arm, MemberOutcome
from m4s.staff.choices import Perm

from .common import ctx, insights_page, my_stores


def _stores(user) -> list:
    allowed = segments.allowed_store_ids(user)
    return [s for s in my_stores(user) if allowed is None or s.pk in allowed]


def _int(raw) -> int | None:
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) < 10:
        return int(raw)
    return None


def _list(raw: str) -> list[str]:
    return [p.strip() for p in (raw or "").replace("，", ",").split(",") if p.strip()]


def definition_from_form(data) -> dict[str, Any]:
    """The builder form → a definition dict (Definition validates it)."""
    d: dict[str, Any] = {
        "rfm_segments": data.getlist("rfm_segments"),
        "risk_bands": data.getlist("risk_bands"),
        "tiers": _list(data.get("tiers", "")),
        "car_models": _list(data.get("car_models", "")),
        "city": (data.get("city") or "").strip()[:80],
        "store_ids": [i for i in (_int(s) for s in data.getlist("store_ids")) if i],
        "marketing_consent": data.get("marketing_consent") in ("on", "1", "true"),
    }
    for key in (
        "car_age_min_years",
        "car_age_max_years",
        "mileage_min_km",
        "mileage_max_km",
        "not_visited_months",
    ):
        value = _int(data.get(key))
        if value is not None:
            d[key] = value
    for key in ("last_paid_visit_after", "last_paid_visit_before"):
        if (data.get(key) or "").strip():
            d[key] = data.get(key).strip()
    return d


def _builder_ctx(request, form: dict, **extra):
    return ctx(
        request,
        "campaigns",
        form=form,
        rfm_choices=RfmSegment.choices,
        band_choices=RiskBand.choices,
        stores=_stores(request.user),
        **extra,
    )


def _count_or_error(request, raw: dict) -> tuple[int | None, str]:
    try:
        d = segments.scoped(request.user, segments.parse(raw))
    except DomainError as exc:
        return None, exc.message
    return segments.count(request.user.dealer_group_id, d), ""


@insights_page(Perm.RUN_CAMPAIGNS)
def index(request):
    user = request.user
    segs = list(segments.visible_segments(user).select_related("created_by")[:100])
    camps = list(
        campaigns.visible_campaigns(user)
        .select_related("segment")
        .annotate(
            n_sent=Count(
                "members", filter=Q(members__outcome__in=[MemberOutcome.SENT, MemberOutcome.HELD])
            )
        )[:100]
    )
    return render(
        request,
        "insights/console/campaigns.html",
        ctx(request, "campaigns", segments=segs, campaigns=camps),
    )


@insights_page(Perm.RUN_CAMPAIGNS)
def segment_new(request):
    if request.method == "POST":
        raw = definition_from_form(request.POST)
        try:
            seg = segments.create_segment(
                request.user, name=request.POST.get("name", ""), definition=raw
            )
        except DomainError as exc:
            count, _err = _count_or_error(request, raw)
            return render(
                request,
                "insights/console/segment_new.html",
                _builder_ctx(request, request.POST, count=count, error=exc.message),
                status=422,
            )
        messages.success(request, _("Segment saved."))
        return redirect("console-insights-segment", seg.pk)
    count, error = _count_or_error(request, {})
    return render(
        request,
        "insights/console/segment_new.html",
        _builder_ctx(request, {}, count=count, error=error),
    )


@insights_page(Perm.RUN_CAMPAIGNS)
@require_POST
def segment_count(request):
    """The builder's live count (an htmx fragment)."""
    count, error = _count_or_error(request, definition_from_form(request.POST))
    return render(
        request, "insights/console/segment_count.html", {"count": count, "count_error": error}
    )


def _describe(definition: dict, stores: dict[int, str]) -> list[tuple[str, str]]:
    """A definition in words: (filter, value) pairs."""
    d = segments.parse(definition)
    out: list[tuple[str, str]] = []
    if d.rfm_segments:
        out.append((_("RFM segment"), ", ".join(str(s.label) for s in d.rfm_segments)))
    if d.risk_bands:
        out.append((_("Churn risk"), ", ".join(str(b.label) for b in d.risk_bands)))
    if d.tiers:
        out.append((_("Tier"), ", ".join(d.tiers)))
    if d.car_models:
        out.append((_("Car model"), ", ".join(d.car_models)))
    if d.car_age_min_years is not None or d.car_age_max_years is not None:
        out.append(
            (
                _("Car age (years)"),
                f"{d.car_age_min_years if d.car_age_min_years is not None else 0}"
                f" – {d.car_age_max_years if d.car_age_max_years is not None else '∞'}",
            )
        )
    if d.mileage_min_km is not None or d.mileage_max_km is not None:
        out.append(
            (
                _("Mileage (km)"),
                f"{d.mileage_min_km or 0} – "
                f"{d.mileage_max_km if d.mileage_max_km is not None else '∞'}",
            )
        )
    if d.last_paid_visit_after:
        out.append((_("Last paid visit on or after"), d.last_paid_visit_after.isoformat()))
    if d.last_paid_visit_before:
        out.append((_("Last paid visit before"), d.last_paid_visit_before.isoformat()))
    if d.not_visited_months:
        out.append(
            (_("No paid visit for (months)"), str(d.not_visited_months)),
        )
    if d.city:
        out.append((_("City"), d.city))
    if d.store_ids:
        out.append((_("Stores"), ", ".join(stores.get(i, str(i)) for i in d.store_ids)))
    if d.marketing_consent:
        out.append((_("Marketing consent"), _("required")))
    return out


@insights_page(Perm.RUN_CAMPAIGNS)
def segment_detail(request, segment_id: int):
    seg = segments.get_segment(request.user, segment_id)
    stores = {s.pk: translated(s) for s in my_stores(request.user)}
    count = segments.count(seg.dealer_group_id, segments.parse(seg.definition))
    consenting = segments.count(
        seg.dealer_group_id,
        segments.parse({**seg.definition, "marketing_consent": True}),
    )
    from m4s.loyalty.models import Coupon

    coupons = list(
        Coupon.objects.for_group(request.user.dealer_group_id)
        .filter(valid_to__gte=timezone.localdate())
        .order_by("name")[:50]
    )
    return render(
        request,
        "insights/console/segment_detail.html",
        ctx(
            request,
            "campaigns",
            segment=seg,
            filters=_describe(seg.definition, stores),
            count=count,
            consenting=consenting,
            coupons=[(c.pk, translated(c)) for c in coupons],
            templates=[(k, _(t)) for k, (t, _b) in campaigns.TEMPLATES.items()],
        ),
    )


@insights_page(Perm.RUN_CAMPAIGNS)
@require_POST
def campaign_new(request):
    seg_id = _int(request.POST.get("segment_id"))
    if not seg_id:
        raise Http404
    texts = {
        part: {lang: request.POST.get(f"{part}_{lang}", "")[:2000] for lang in campaigns.LANGS}
        for part in ("title", "body")
    }
    try:
        campaign = campaigns.create_campaign(
            request.user,
            segment_id=seg_id,
            name=request.POST.get("name", ""),
            template=request.POST.get("template", ""),
            title=texts["title"],
            body=texts["body"],
            coupon_id=_int(request.POST.get("coupon_id")),
            control_pct=_int(request.POST.get("control_pct")) or 0
            if (request.POST.get("control_pct") or "").strip()
            else 10,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("console-insights-segment", seg_id)
    messages.success(request, _("Campaign drafted: check it, then launch it."))
    return redirect("console-insights-campaign", campaign.pk)


def pts(value: float) -> str:
    return f"{value * 100:+.1f}"


def ci_words(kind: str, u: dict | None) -> str:
    """ "+4.2 points (95 % CI +1.1 to +7.3)" / "+¥35.10 per member (95 % CI …)"."""
    if not u:
        return _("not enough members to tell")
    if kind == "spend":
        return _("%(d)s CNY per member (95 %% CI %(lo)s to %(hi)s)") % {
            "d": f"{u['diff']:+.2f}",
            "lo": f"{u['low']:+.2f}",
            "hi": f"{u['high']:+.2f}",
        }
    return _("%(d)s points (95 %% CI %(lo)s to %(hi)s)") % {
        "d": pts(u["diff"]),
        "lo": pts(u["low"]),
        "hi": pts(u["high"]),
    }


def _result_view(r: dict) -> tuple[list[dict], dict | None, dict | None]:
    rows = []
    for w in r["windows"]:
        t, c = w["arms"][Arm.TREATED], w["arms"][Arm.CONTROL]
        rows.append(
            {
                "days": w["days"],
                "partial": w["partial"],
                "until": w["until"],
                "t": t,
                "c": c,
                "booked": ci_words("share", w["uplift"]["booked"]),
                "visited": ci_words("share", w["uplift"]["visited"]),
                "spend": ci_words("spend", w["uplift"]["spend"]),
                "significant": bool(w["uplift"]["visited"] and w["uplift"]["visited"]["low"] > 0),
            }
        )
    if not rows:
        return rows, None, None
    labels = [_("%(days)d days") % {"days": w["days"]} for w in rows]

    def pct(x):
        return round((x or 0) * 100, 1)

    share_chart = charts.bar_chart(
        [
            charts.Series(
                _("Treated: visited"), [pct(w["t"]["visited_share"]) for w in rows], key="treated"
            ),
            charts.Series(
                _("Control: visited"),
                [pct(w["c"]["visited_share"]) for w in rows],
                colour="#8a94a6",
                key="control",
            ),
            charts.Series(
                _("Treated: booked"),
                [pct(w["t"]["booked_share"]) for w in rows],
                colour="#2e7d32",
                key="treated-booked",
            ),
            charts.Series(
                _("Control: booked"),
                [pct(w["c"]["booked_share"]) for w in rows],
                colour="#c5cad3",
                key="control-booked",
            ),
        ],
        labels=labels,
        height=260,
        value_format=lambda v: f"{v:.1f}%",
    )
    spend_chart = charts.bar_chart(
        [
            charts.Series(
                _("Treated"),
                [round(w["t"]["spend_per_member"] or 0, 2) for w in rows],
                key="treated",
            ),
            charts.Series(
                _("Control"),
                [round(w["c"]["spend_per_member"] or 0, 2) for w in rows],
                colour="#8a94a6",
                key="control",
            ),
        ],
        labels=labels,
        width=480,
        height=240,
    )
    return rows, share_chart, spend_chart


@insights_page(Perm.RUN_CAMPAIGNS)
def campaign_detail(request, campaign_id: int):
    c = campaigns.get_campaign(request.user, campaign_id)
    stores = {s.pk: translated(s) for s in my_stores(request.user)}
    extra: dict[str, Any] = {}
    if c.status == "draft":
        d = segments.parse({**c.definition, "marketing_consent": True})
        extra["would_reach"] = segments.count(c.dealer_group_id, d)
    else:
        rows, share_chart, spend_chart = _result_view(uplift.result(c))
        extra.update(rows=rows, share_chart=share_chart, spend_chart=spend_chart)
        extra["counts"] = campaigns.member_counts(c)
    return render(
        request,
        "insights/console/campaign_detail.html",
        ctx(
            request,
            "campaigns",
            campaign=c,
            title=render_text(c.title),
            body=render_text(c.body),
            coupon=translated(c.coupon) if c.coupon_id else "",
            filters=_describe(c.definition, stores),
            **extra,
        ),
    )


@insights_page(Perm.RUN_CAMPAIGNS)
@require_POST
def campaign_launch(request, campaign_id: int):
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the confirmation to launch the campaign."))
        return redirect("console-insights-campaign", campaign_id)
    try:
        c = campaigns.launch_campaign(request.user, campaign_id)
    except PermissionDenied:
        raise
    messages.success(
        request,
        _("Launched: %(t)d owners get the message, %(c)d are kept as the control group.")
        % {"t": c.treated_count, "c": c.control_count},
    )
    return redirect(reverse("console-insights-campaign", args=[campaign_id]))


urlpatterns = [
    path("campaigns/", index, name="console-insights-campaigns"),
    path("campaigns/segments/new/", segment_new, name="console-insights-segment-new"),
    path("campaigns/segments/count/", segment_count, name="console-insights-segment-count"),
    path(
        "campaigns/segments/<int:segment_id>/",
        segment_detail,
        name="console-insights-segment",
    ),
    path("campaigns/new/", campaign_new, name="console-insights-campaign-new"),
    path("campaigns/<int:campaign_id>/", campaign_detail, name="console-insights-campaign"),
    path(
        "campaigns/<int:campaign_id>/launch/",
        campaign_launch,
        name="console-insights-campaign-launch",
    ),
]

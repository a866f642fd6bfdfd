"""Back-office screens of the loyalty programme, scoped to the staff member's group and audited.
Points themselves are never edited here: they move only through the ledger."""

import secrets

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from m4s.core.admin import ScopedAdminMixin, ScopedInline, admin_site

from .models import (
    Badge,
    Campaign,
    Coupon,
    CouponCode,
    EarningRule,
    Mission,
    Partner,
    Programme,
    Reward,
    Tier,
)
from .partners import hash_key


@admin.register(Programme, site=admin_site)
class ProgrammeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "pending_days", "expiry_months", "point_value"]


@admin.register(Tier, site=admin_site)
class TierAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "threshold", "earn_multiplier", "labour_discount_pct"]


@admin.register(EarningRule, site=admin_site)
class EarningRuleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "event",
        "points",
        "points_per_yuan",
        "daily_cap",
        "total_cap",
        "campaign",
        "is_active",
    ]
    list_filter = ["event", "is_active"]


@admin.register(Campaign, site=admin_site)
class CampaignAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "budget", "spent", "starts_on", "ends_on"]
    readonly_fields = ["spent"]


@admin.register(Reward, site=admin_site)
class RewardAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["icon", "name", "kind", "cost", "stock", "min_tier", "partner", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(Badge, site=admin_site)
class BadgeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["icon", "name"]


@admin.register(Mission, site=admin_site)
class MissionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "event",
        "measure",
        "target",
        "window_days",
        "points",
        "badge",
        "is_active",
    ]


class CouponCodeInline(ScopedInline):
    model = CouponCode
    fields = ["code", "member", "used_at", "used_on", "discount"]
    readonly_fields = ["used_at", "used_on", "discount"]


@admin.register(Coupon, site=admin_site)
class CouponAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "value", "min_spend", "valid_from", "valid_to"]
    inlines = [CouponCodeInline]

    def save_formset(self, request, form, formset, change):
        for f in formset.forms:
            if f.instance.code:
                f.instance.code = f.instance.code.strip().upper()
        super().save_formset(request, form, formset, change)


@admin.register(Partner, site=admin_site)
class PartnerAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Partner merchants. A new key is shown once; only its SHA-256 is stored."""

    list_display = ["name", "category", "key_prefix", "points_per_yuan", "is_active"]
    readonly_fields = ["key_prefix"]
    actions = ["issue_key"]

    def save_model(self, request, obj, form, change):
        if not obj.key_prefix:
            self._new_key(request, obj)
        super().save_model(request, obj, form, change)

    def _new_key(self, request, obj):
        prefix = "pk_" + secrets.token_hex(4)
        raw = f"{prefix}.{secrets.token_urlsafe(24)}"
        obj.key_prefix, obj.key_hash = prefix, hash_key(raw)
        messages.warning(
            request,
            _("API key for %(name)s (shown once): %(key)s") % {"name": obj.name, "key": raw},
        )

    @admin.action(description=_("Issue a new API key (the old one stops working)"))
    def issue_key(self, request, queryset):
        for partner in queryset:
            before_prefix = partner.key_prefix
            self._new_key(request, partner)
            partner.save(update_fields=["key_prefix", "key_hash"])
            from m4s.core.audit import record_audit

            record_audit(
                actor=request.user,
                action="update",
                obj=partner,
                before={"key_prefix": before_prefix},
                after={"key_prefix": partner.key_prefix},
            )

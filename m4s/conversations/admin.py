"""Back-office screens of the conversations area: each group's canned replies (zh-Hans/en/ko,
placeholders {customer} {car} {store}) and its first-response targets and telephony secret.
Scoped to the staff member's dealer group and written to the audit log."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from m4s.core.admin import ScopedAdminMixin, admin_site

from .models import CannedReply, ConversationSettings
from .telephony import rotate_secret


@admin.register(CannedReply, site=admin_site)
class CannedReplyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Ready answers staff insert in a reply: {customer}, {car} and {store} are filled in for
    the conversation, in the owner's language."""

    list_display = ["title", "topic", "position", "is_active"]
    list_filter = ["topic", "is_active"]
    search_fields = ["title", "body"]
    fields = ["title", "title_i18n", "body", "body_i18n", "topic", "position", "is_active"]


@admin.register(ConversationSettings, site=admin_site)
class ConversationSettingsAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """First-response targets in business minutes (the store's opening hours, holidays and
    make-up days count): first the customer's consultant, then the on-duty team, then the
    store's customer-service queue. A group without a row uses 30 + 30 minutes."""

    list_display = ["dealer_group", "first_response_minutes", "team_offer_minutes", "has_secret"]
    fields = ["first_response_minutes", "team_offer_minutes"]
    actions = ["new_telephony_secret"]

    @admin.display(boolean=True, description=gettext_lazy("telephony secret set"))
    def has_secret(self, obj) -> bool:
        return bool(obj.cti_secret_cipher)

    @admin.action(description=gettext_lazy("Make a new telephony (CTI) webhook secret"))
    def new_telephony_secret(self, request, queryset):
        secret = rotate_secret(request.user)
        self.message_user(
            request,
            _("New secret (shown once; the previous one stops working): %(secret)s")
            % {"secret": secret},
            messages.WARNING,
        )

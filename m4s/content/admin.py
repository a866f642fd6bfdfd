"""Back-office screens of the content area, for the platform: which level may publish in which
module (the split is data), the knowledge base's categories and the magazine's issues. Items
themselves are written in the content console (/console/content/), where the workflow applies."""

from django.contrib import admin

from m4s.core.admin import ScopedAdminMixin, admin_site
from m4s.staff.choices import Perm

from .models import KnowledgeCategory, MagazineIssue, ModuleRight


class PlatformContentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    manage_perm = Perm.MANAGE_PLATFORM
    view_perm = Perm.MANAGE_PLATFORM
    platform_only = True


@admin.register(ModuleRight, site=admin_site)
class ModuleRightAdmin(PlatformContentAdmin):
    list_display = ["level", "module"]
    list_filter = ["level"]


@admin.register(KnowledgeCategory, site=admin_site)
class KnowledgeCategoryAdmin(PlatformContentAdmin):
    list_display = ["name", "position"]
    fields = ["name", "name_i18n", "position"]


@admin.register(MagazineIssue, site=admin_site)
class MagazineIssueAdmin(PlatformContentAdmin):
    list_display = ["number", "title", "published_on"]
    fields = ["number", "title", "title_i18n", "cover", "published_on"]

"""Content: items published to owners by one of three levels (headquarters, a local
organisation, a dealer group or one of its stores), each in one of the app's modules; which
level may publish in which module is data (`ModuleRight`). An item has per-language texts
(`ContentTranslation`, body always sanitised by services), a gallery, targeting criteria and
an append-only version history. Owners' reads are counted per item and owner (`ContentView`).

Items are not a TenantModel: headquarters and local-organisation items have no dealer group.
Every read scopes explicitly (`m4s.content.rights.console_items` for staff, the selectors for
owners)."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.uploads import ProtectedImageField

from .choices import ActionKind, Level, Module, Status, TargetKind

PICTURE_ACCESS = "m4s.content.rights.can_see_picture"


def _no_list() -> list:
    return []


class ModuleRight(models.Model):
    """Level `level` may publish in module `module` (the paper's split is the default)."""

    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    module = models.CharField(_("module"), max_length=20, choices=Module.choices)

    class Meta:
        verbose_name = _("module right")
        verbose_name_plural = _("module rights")
        ordering = ["level", "module"]
        constraints = [
            models.UniqueConstraint(fields=["level", "module"], name="content_right_once")
        ]

    def __str__(self):
        return f"{self.get_level_display()}: {self.get_module_display()}"


class KnowledgeCategory(Translatable, models.Model):
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("knowledge category")
        verbose_name_plural = _("knowledge categories")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class MagazineIssue(Translatable, models.Model):
    title = models.CharField(_("title"), max_length=120)
    title_i18n = TranslationsField(_("title, translated"), max_length=120)
    number = models.PositiveIntegerField(_("number"))
    cover = ProtectedImageField(_("cover"), area="content-magazines", access="public", blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)

    class Meta:
        verbose_name = _("magazine issue")
        verbose_name_plural = _("magazine issues")
        ordering = ["-number"]

    def __str__(self):
        return f"{self.number}. {self.title}"


class ContentItem(models.Model):
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    headquarters = models.ForeignKey(
        "org.Headquarters",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("headquarters"),
    )
    local_org = models.ForeignKey(
        "org.LocalOrganisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("local organisation"),
    )
    dealer_group = models.ForeignKey(
        "org.DealerGroup",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dealer group"),
    )
    store = models.ForeignKey(
        "org.Store",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    module = models.CharField(_("module"), max_length=20, choices=Module.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    source_language = models.CharField(
        _("source language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans"
    )
    pinned = models.BooleanField(_("pinned"), default=False)
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    expire_at = models.DateTimeField(_("expire at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    cover = ProtectedImageField(
        _("cover"), area="content-covers", access=PICTURE_ACCESS, blank=True
    )
    action_kind = models.CharField(
        _("action"), max_length=12, choices=ActionKind.choices, default=ActionKind.NONE
    )
    action_target = models.CharField(_("action target"), max_length=300, blank=True)
    tags = models.JSONField(_("tags"), default=_no_list, blank=True)
    # violation_areas: [{"name", "address", "lat", "lon"}]
    places = models.JSONField(_("places"), default=_no_list, blank=True)
    category = models.ForeignKey(
        KnowledgeCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("knowledge category"),
    )
    issue = models.ForeignKey(
        MagazineIssue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("magazine issue"),
    )
    # None: any owner; True: only owners with a bound car; False: only owners without one
    target_bound_car = models.BooleanField(_("owners with a bound car"), null=True, blank=True)
    has_city_targets = models.BooleanField(default=False)
    has_group_targets = models.BooleanField(default=False)
    has_store_targets = models.BooleanField(default=False)
    has_brand_targets = models.BooleanField(default=False)
    has_model_targets = models.BooleanField(default=False)
    has_tier_targets = models.BooleanField(default=False)
    version = models.PositiveIntegerField(_("version"), default=1)
    reject_reason = models.TextField(_("reason for rejection"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("content item")
        verbose_name_plural = _("content items")
        ordering = ["-pinned", "-publish_at", "-id"]
        indexes = [
            models.Index(fields=["status", "module", "publish_at"], name="content_feed"),
            models.Index(fields=["pinned"], name="content_pinned"),
            models.Index(fields=["dealer_group", "status"], name="content_group_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level=Level.HEADQUARTERS.value, headquarters__isnull=False)
                    | Q(level=Level.LOCAL_ORG.value, local_org__isnull=False)
                    | Q(level=Level.DEALER.value, dealer_group__isnull=False)
                ),
                name="content_item_has_its_owner_level",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_module_display()}"

    def translation(self, language: str | None = None) -> "ContentTranslation | None":
        """The text in `language`, else in the source language, else any (prefetch-friendly)."""
        rows = list(self.translations.all())
        by_lang = {t.language: t for t in rows}
        for code in (language, self.source_language):
            if code and code in by_lang:
                return by_lang[code]
        return rows[0] if rows else None


class ContentTranslation(models.Model):
    item = models.ForeignKey(
        ContentItem, on_delete=models.CASCADE, related_name="translations", verbose_name=_("item")
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    body_html = models.TextField(_("text"), blank=True)  # always sanitised by services

    class Meta:
        verbose_name = _("translation")
        verbose_name_plural = _("translations")
        constraints = [
            models.UniqueConstraint(fields=["item", "language"], name="content_translation_once")
        ]

    def __str__(self):
        return self.title


class ContentImage(models.Model):
    item = models.ForeignKey(
        ContentItem, on_delete=models.CASCADE, related_name="images", verbose_name=_("item")
    )
    image = ProtectedImageField(_("picture"), area="content-gallery", access=PICTURE_ACCESS)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("picture")
        verbose_name_plural = _("pictures")
        ordering = ["position", "id"]

    def __str__(self):
        return self.caption or f"#{self.pk}"


class ContentTarget(models.Model):
    item = models.ForeignKey(
        ContentItem, on_delete=models.CASCADE, related_name="targets", verbose_name=_("item")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=TargetKind.choices)
    value = models.CharField(_("value"), max_length=80)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        indexes = [models.Index(fields=["kind", "value", "item"], name="content_target_lookup")]
        constraints = [
            models.UniqueConstraint(fields=["item", "kind", "value"], name="content_target_once")
        ]

    def __str__(self):
        return f"{self.kind}={self.value}"


class ContentVersion(models.Model):
    """An append-only snapshot of an item (texts, settings, targets) at each save."""

    item = models.ForeignKey(
        ContentItem, on_delete=models.CASCADE, related_name="versions", verbose_name=_("item")
    )
    number = models.PositiveIntegerField(_("number"))
    snapshot = models.JSONField(_("snapshot"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saved by"),
    )
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        verbose_name = _("version")
        verbose_name_plural = _("versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="content_version_once")
        ]

    def __str__(self):
        return f"v{self.number}"


class ContentView(models.Model):
    """One owner's reads of one item: views = sum(count), unique readers = number of rows."""

    item = models.ForeignKey(
        ContentItem, on_delete=models.CASCADE, related_name="views", verbose_name=_("item")
    )
    owner = models.ForeignKey(
        "owners.Owner", on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    first_seen = models.DateTimeField(_("first read"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last read"), auto_now=True)
    count = models.PositiveIntegerField(
        _("reads"), default=1, validators=[MaxValueValidator(10**9)]
    )

    class Meta:
        verbose_name = _("read")
        verbose_name_plural = _("reads")
        constraints = [models.UniqueConstraint(fields=["item", "owner"], name="content_view_once")]
        indexes = [models.Index(fields=["item", "first_seen"], name="content_view_item_day")]

    def __str__(self):
        return f"{self.item_id}/{self.owner_id}"


class SearchEntry(models.Model):
    """Search tokens of one item in one language (written by `m4s.content.search`)."""

    item = models.ForeignKey(
        ContentItem, on_delete=models.CASCADE, related_name="search_entries", verbose_name=_("item")
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    tokens = models.TextField(_("tokens"), blank=True)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        constraints = [
            models.UniqueConstraint(fields=["item", "language"], name="content_search_once")
        ]

    def __str__(self):
        return f"{self.item_id}/{self.language}"

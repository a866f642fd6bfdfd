import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from m4s.core.cache import BRANDING, InvalidatesConfig
from m4s.core.tenancy import TenantModel
from m4s.core.uploads import PUBLIC, ProtectedImageField

from .choices import (
    EmergencyKind,
    StatutoryHoliday,
    StatutoryKind,
    StatutorySource,
    Weekday,
)

phone_validator = RegexValidator(
    r"^\+?[0-9\-\s]{3,20}$", _("Enter a phone number (digits, spaces, dashes).")
)
colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour such as #0b6bcb."))


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a time zone such as Asia/Shanghai."), params={"value": value}
        ) from None


class Headquarters(models.Model):
    """The platform operator running the M4S cloud (one row)."""

    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("headquarters")
        verbose_name_plural = _("headquarters")

    def __str__(self):
        return self.name


class LocalOrganisation(models.Model):
    """A city or region that publishes local-life content to owners there."""

    headquarters = models.ForeignKey(
        Headquarters,
        on_delete=models.PROTECT,
        related_name="local_orgs",
        verbose_name=_("headquarters"),
    )
    name = models.CharField(_("name"), max_length=120)
    city = models.CharField(_("city"), max_length=80)

    class Meta:
        verbose_name = _("local organisation")
        verbose_name_plural = _("local organisations")

    def __str__(self):
        return self.name


class DealerGroup(models.Model):
    """The tenant: a dealer group owns its stores, staff, customers and everything they make."""

    local_org = models.ForeignKey(
        LocalOrganisation,
        on_delete=models.PROTECT,
        related_name="dealer_groups",
        verbose_name=_("local organisation"),
    )
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    limit_front_line_to_own_store = models.BooleanField(
        _("front-line staff see only their own store's customers"),
        default=False,
        help_text=_(
            "Sales consultants, service advisors and customer-service agents then see customers of their stores only."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dealer group")
        verbose_name_plural = _("dealer groups")

    def __str__(self):
        return self.name


class Store(InvalidatesConfig, TenantModel):
    """A 4S store: sales, spare parts, service, survey."""

    config_scopes = (BRANDING,)  # the owner app's shell caches a store's branding

    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("code"), max_length=40)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone]
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    # Branding of the owner app for this store's customers.
    app_title = models.CharField(_("app title"), max_length=60, blank=True)
    logo = ProtectedImageField(_("logo"), area="branding-logos", access=PUBLIC, blank=True)
    brand_colour = models.CharField(
        _("brand colour"), max_length=7, default="#0b6bcb", validators=[colour_validator]
    )
    is_active = models.BooleanField(_("active"), default=True)
    observes_statutory_holidays = models.BooleanField(
        _("closed on statutory holidays"),
        default=True,
        help_text=_(
            "Closed on China's statutory holidays; open with the Monday hours on their make-up working days."
        ),
    )

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "code"], name="store_code_unique_per_group"
            )
        ]
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def display_title(self) -> str:
        return self.app_title or self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class BusinessHours(TenantModel):
    """One opening period of a weekday; several per day make split shifts (08:30-12:00, 13:30-18:00)."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="business_hours", verbose_name=_("store")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="hours_close_after_open"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class Holiday(TenantModel):
    """A day the store is closed (or keeps special hours, given as a note)."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="holidays", verbose_name=_("store")
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["store", "date"], name="holiday_once_per_day")
        ]

    def __str__(self):
        return f"{self.date} {self.name}"


class StatutoryDay(models.Model):
    """A day of China's published holiday calendar, platform-wide: a statutory holiday or a
    make-up working day (调休). Loaded from the chinesecalendar library by `m4s sync-holidays`;
    headquarters may correct a day in the back office (the sync then leaves that day alone)."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=StatutoryKind.choices)
    holiday = models.CharField(
        _("festival"),
        max_length=32,
        choices=StatutoryHoliday.choices,
        default=StatutoryHoliday.OTHER,
    )
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=StatutorySource.choices,
        default=StatutorySource.BACK_OFFICE,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("statutory day")
        verbose_name_plural = _("statutory days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_holiday_display()} ({self.get_kind_display()})"


class EmergencyNumber(InvalidatesConfig, TenantModel):
    """A number on the owner app's SOS page (rescue, insurance, store hotline, public services)."""

    config_scopes = (BRANDING,)

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="emergency_numbers", verbose_name=_("store")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EmergencyKind.choices)
    label = models.CharField(_("label"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=20, validators=[phone_validator])
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("emergency number")
        verbose_name_plural = _("emergency numbers")
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.display_label}: {self.phone}"

    @property
    def display_label(self) -> str:
        return self.label or str(self.get_kind_display())

    @property
    def tel_uri(self) -> str:
        return "tel:" + "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")


class SplashPicture(InvalidatesConfig, TenantModel):
    config_scopes = (BRANDING,)
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="splash_pictures", verbose_name=_("store")
    )
    image = ProtectedImageField(_("image"), area="branding-splash", access=PUBLIC)
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("splash picture")
        verbose_name_plural = _("splash pictures")
        ordering = ["position", "id"]

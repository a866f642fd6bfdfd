"""New-car catalogue of a dealer group (brands, models, trims with the MSRP and the dealer's price,
colours, pictures) and its finance products and insurers. Names are typed by staff in one language
and translated in `<field>_i18n` (`obj.t("name")`). Pictures are marketing material: anybody sees
a published model's pictures, staff of the group see all of theirs (`m4s.catalogue.access`)."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.tenancy import TenantModel
from m4s.core.uploads import PUBLIC, ProtectedImageField

from .choices import BodyType, Drive, EnergyType

HEX = RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("A colour like #1A2B3C."))


class Brand(Translatable, TenantModel):
    name = models.CharField(_("name"), max_length=60)
    name_i18n = TranslationsField(_("name, translated"), max_length=60)
    logo = ProtectedImageField(_("logo"), area="catalogue-logos", access=PUBLIC, blank=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["sort", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "name"], name="catalogue_brand_once")
        ]

    def __str__(self):
        return self.name


class CarModel(Translatable, TenantModel):
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="models", verbose_name=_("brand")
    )
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    body_type = models.CharField(_("body"), max_length=12, choices=BodyType.choices)
    energy_type = models.CharField(_("energy"), max_length=8, choices=EnergyType.choices)
    tagline = models.CharField(_("tagline"), max_length=160, blank=True)
    tagline_i18n = TranslationsField(_("tagline, translated"), max_length=160)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    description_i18n = TranslationsField(_("description, translated"), max_length=4000)
    cover = ProtectedImageField(
        _("cover picture"),
        area="catalogue-covers",
        access="m4s.catalogue.access.can_see_model_picture",
        blank=True,
    )
    published = models.BooleanField(_("published"), default=False)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("car model")
        verbose_name_plural = _("car models")
        ordering = ["sort", "name", "id"]
        indexes = [
            models.Index(fields=["dealer_group", "published", "sort"], name="catalogue_list")
        ]

    def __str__(self):
        return self.name


class Trim(Translatable, TenantModel):
    car_model = models.ForeignKey(
        CarModel, on_delete=models.CASCADE, related_name="trims", verbose_name=_("model")
    )
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    msrp = models.DecimalField(
        _("MSRP"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    dealer_price = models.DecimalField(
        _("dealer price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    power_kw = models.PositiveIntegerField(_("power (kW)"), null=True, blank=True)
    torque_nm = models.PositiveIntegerField(_("torque (N·m)"), null=True, blank=True)
    acceleration_s = models.DecimalField(
        _("0–100 km/h (s)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    fuel_l_100km = models.DecimalField(
        _("fuel (L/100 km)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    electric_range_km = models.PositiveIntegerField(_("electric range (km)"), null=True, blank=True)
    battery_kwh = models.DecimalField(
        _("battery (kWh)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    seats = models.PositiveSmallIntegerField(
        _("seats"), default=5, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    length_mm = models.PositiveIntegerField(_("length (mm)"), null=True, blank=True)
    drive = models.CharField(_("drive"), max_length=3, choices=Drive.choices, default=Drive.FWD)
    active = models.BooleanField(_("on sale"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("trim")
        verbose_name_plural = _("trims")
        ordering = ["sort", "dealer_price", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dealer_price__lte=F("msrp")), name="catalogue_dealer_price_le_msrp"
            ),
            models.CheckConstraint(
                condition=Q(dealer_price__gte=0) & Q(msrp__gte=0), name="catalogue_price_ge_0"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def discount(self):
        return self.msrp - self.dealer_price


class Colour(Translatable, TenantModel):
    car_model = models.ForeignKey(
        CarModel, on_delete=models.CASCADE, related_name="colours", verbose_name=_("model")
    )
    name = models.CharField(_("name"), max_length=60)
    name_i18n = TranslationsField(_("name, translated"), max_length=60)
    hex = models.CharField(_("colour code"), max_length=7, validators=[HEX])
    extra_price = models.DecimalField(
        _("extra price"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("colour")
        verbose_name_plural = _("colours")
        ordering = ["sort", "id"]

    def __str__(self):
        return self.name


class ModelPicture(Translatable, TenantModel):
    car_model = models.ForeignKey(
        CarModel, on_delete=models.CASCADE, related_name="pictures", verbose_name=_("model")
    )
    image = ProtectedImageField(
        _("picture"),
        area="catalogue-pictures",
        access="m4s.catalogue.access.can_see_model_picture",
    )
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    caption_i18n = TranslationsField(_("caption, translated"), max_length=120)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("model picture")
        verbose_name_plural = _("model pictures")
        ordering = ["sort", "id"]

    def __str__(self):
        return f"picture {self.pk} of {self.car_model_id}"


def default_terms() -> list[int]:
    return [12, 24, 36, 48, 60]


class FinanceProduct(Translatable, TenantModel):
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    description_i18n = TranslationsField(_("description, translated"), max_length=300)
    annual_rate = models.DecimalField(
        _("annual rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(50)],
    )
    min_down_payment_pct = models.DecimalField(
        _("minimum down payment (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    max_down_payment_pct = models.DecimalField(
        _("maximum down payment (%)"),
        max_digits=5,
        decimal_places=2,
        default=80,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    terms = models.JSONField(_("terms (months)"), default=default_terms)
    fee = models.DecimalField(
        _("fee"), max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("finance product")
        verbose_name_plural = _("finance products")
        ordering = ["sort", "annual_rate", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_down_payment_pct__lte=F("max_down_payment_pct")),
                name="catalogue_down_payment_range",
            ),
            models.CheckConstraint(condition=Q(annual_rate__gte=0), name="catalogue_rate_ge_0"),
        ]

    def __str__(self):
        return self.name

    @property
    def allowed_terms(self) -> list[int]:
        return sorted(int(t) for t in (self.terms or []) if isinstance(t, int) and t > 0)


class Insurer(TenantModel):
    name = models.CharField(_("name"), max_length=80)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("insurer")
        verbose_name_plural = _("insurers")
        ordering = ["sort", "name", "id"]

    def __str__(self):
        return self.name

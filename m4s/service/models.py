"""Service: catalogue and published prices, maintenance schedules, workshop capacity, bookings,
repair orders with inspection and item-by-item owner approval, settlement, revisit surveys."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.tenancy import TenantModel
from m4s.core.uploads import ProtectedImageField

from .choices import (
    AppointmentStatus,
    Approval,
    ApprovalChannel,
    Channel,
    LineSource,
    Measure,
    PartKind,
    Payer,
    PhotoKind,
    Rating,
    RepairOrderStatus,
    ResourceKind,
    SkillLine,
    SurveyStatus,
    VisitMode,
    WorkStatus,
)

MONEY = {"max_digits": 12, "decimal_places": 2}


# --- catalogue ----------------------------------------------------------------------------------
class LabourOperation(Translatable, TenantModel):
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=120)
    name_i18n = TranslationsField(_("name, translated"), max_length=120)
    standard_hours = models.DecimalField(
        _("standard hours"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.05"))],
    )
    skill_line = models.CharField(_("skill line"), max_length=10, choices=SkillLine.choices)
    resource_kind = models.CharField(
        _("needs"), max_length=12, choices=ResourceKind.choices, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("labour operation")
        verbose_name_plural = _("labour operations")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "code"], name="operation_code_unique")
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def minutes(self) -> int:
        return int(self.standard_hours * 60)


class Part(Translatable, TenantModel):
    part_number = models.CharField(_("part number"), max_length=30)
    name = models.CharField(_("name"), max_length=120)
    name_i18n = TranslationsField(_("name, translated"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=PartKind.choices, default="part")
    unit = models.CharField(_("unit"), max_length=10, default="pcs")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts and accessories")
        ordering = ["part_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "part_number"], name="part_number_unique"
            )
        ]

    def __str__(self):
        return f"{self.part_number} {self.name}"


class PartStock(TenantModel):
    """Stock of one part at one store. `reserved` is held for booked visits; a reservation may
    also count on the next delivery when the visit is on or after the day it arrives."""

    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="part_stock")
    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="stock")
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.PositiveIntegerField(_("reserved"), default=0)
    incoming = models.PositiveIntegerField(_("incoming"), default=0)
    next_delivery_date = models.DateField(_("next delivery"), null=True, blank=True)

    class Meta:
        verbose_name = _("part stock")
        verbose_name_plural = _("part stock")
        constraints = [
            models.UniqueConstraint(fields=["store", "part"], name="one_stock_row_per_store_part")
        ]

    def __str__(self):
        return f"{self.part_id}@{self.store_id}: {self.on_hand} ({self.reserved} reserved)"


class ServicePackage(Translatable, TenantModel):
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=120)
    name_i18n = TranslationsField(_("name, translated"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True)
    description_i18n = TranslationsField(_("description, translated"), max_length=300)
    operations = models.ManyToManyField(LabourOperation, related_name="packages", blank=True)
    for_fuels = models.JSONField(
        _("for fuel types"), default=list, blank=True, help_text=_("Empty: every car.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service package")
        verbose_name_plural = _("service packages")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "code"], name="package_code_unique")
        ]

    def __str__(self):
        return self.name

    def fits(self, vehicle) -> bool:
        return not self.for_fuels or not vehicle.fuel or vehicle.fuel in self.for_fuels


class PackagePart(TenantModel):
    """A part the package uses, on the line of the operation it serves (the air filter on
    "Air filter replacement"). Without an operation it goes on the package's longest job."""

    package = models.ForeignKey(ServicePackage, on_delete=models.CASCADE, related_name="parts")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    operation = models.ForeignKey(
        LabourOperation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("used by"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["package", "part"], name="package_part_once")
        ]


class PriceList(TenantModel):
    """Published prices. The list in force on a day is the published one with the latest
    `effective_from` on or before it (and not ended)."""

    name = models.CharField(_("name"), max_length=80)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["-effective_from"]

    def __str__(self):
        return f"{self.name} ({self.effective_from})"


class Price(TenantModel):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    operation = models.ForeignKey(
        LabourOperation, on_delete=models.CASCADE, null=True, blank=True, related_name="prices"
    )
    part = models.ForeignKey(
        Part, on_delete=models.CASCADE, null=True, blank=True, related_name="prices"
    )
    amount = models.DecimalField(_("price"), validators=[MinValueValidator(0)], **MONEY)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(operation__isnull=False, part__isnull=True)
                    | Q(operation__isnull=True, part__isnull=False)
                ),
                name="price_for_exactly_one_item",
            ),
            models.UniqueConstraint(
                fields=["price_list", "operation"], name="price_once_per_operation"
            ),
            models.UniqueConstraint(fields=["price_list", "part"], name="price_once_per_part"),
        ]

    def __str__(self):
        return f"{self.operation or self.part}: {self.amount}"


# --- maintenance schedule ---------------------------------------------------------------------
class MaintenanceSchedule(TenantModel):
    brand = models.CharField(_("brand"), max_length=40)
    model = models.CharField(
        _("model"), max_length=60, blank=True, help_text=_("Empty: every model of the brand.")
    )
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("maintenance schedule")
        verbose_name_plural = _("maintenance schedules")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "brand", "model"], name="schedule_once_per_model"
            )
        ]

    def __str__(self):
        return self.name


class MaintenanceItem(Translatable, TenantModel):
    """Due every `interval_km` or every `interval_months`, whichever comes first."""

    schedule = models.ForeignKey(
        MaintenanceSchedule, on_delete=models.CASCADE, related_name="items"
    )
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    interval_km = models.PositiveIntegerField(_("every (km)"), null=True, blank=True)
    interval_months = models.PositiveSmallIntegerField(_("every (months)"), null=True, blank=True)
    operation = models.ForeignKey(
        LabourOperation, on_delete=models.PROTECT, related_name="+", verbose_name=_("served by")
    )
    package = models.ForeignKey(
        ServicePackage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("book as"),
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("maintenance item")
        verbose_name_plural = _("maintenance items")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_km__isnull=False) | Q(interval_months__isnull=False),
                name="maintenance_item_has_interval",
            )
        ]

    def __str__(self):
        return self.name


class MaintenanceRecord(TenantModel):
    """An item served on a car (append-only): the latest row per item is the last service."""

    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="maintenance_records"
    )
    item = models.ForeignKey(MaintenanceItem, on_delete=models.CASCADE, related_name="records")
    done_on = models.DateField()
    done_km = models.PositiveIntegerField(null=True, blank=True)
    repair_order = models.ForeignKey(
        "RepairOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["vehicle", "item", "-done_on"], name="maintenance_last")]


# --- capacity ------------------------------------------------------------------------------------
class ServiceSettings(TenantModel):
    store = models.OneToOneField(
        "org.Store", on_delete=models.CASCADE, related_name="service_settings"
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("reception slot (minutes)"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
    )
    waiting_per_slot = models.PositiveSmallIntegerField(
        _("waiting customers per advisor slot"), default=1
    )
    dropoff_per_slot = models.PositiveSmallIntegerField(
        _("drop-off customers per advisor slot"), default=1
    )
    walk_in_reserve_pct = models.PositiveSmallIntegerField(
        _("walk-in reserve (%)"), default=15, validators=[MaxValueValidator(90)]
    )
    max_overbooking_pct = models.PositiveSmallIntegerField(
        _("overbooking limit (%)"), default=10, validators=[MaxValueValidator(50)]
    )
    min_lead_minutes = models.PositiveSmallIntegerField(
        _("earliest booking (minutes ahead)"), default=60
    )
    booking_horizon_days = models.PositiveSmallIntegerField(_("bookable days ahead"), default=60)
    change_cutoff_hours = models.PositiveSmallIntegerField(
        _("owner can change until (hours before)"), default=2
    )
    no_show_after_minutes = models.PositiveSmallIntegerField(
        _("no-show after (minutes late)"), default=120
    )
    survey_delay_days = models.PositiveSmallIntegerField(
        _("survey after delivery (days)"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
    )
    survey_expiry_days = models.PositiveSmallIntegerField(_("survey open for (days)"), default=14)
    survey_quiet_days = models.PositiveSmallIntegerField(
        _("no repeat survey within (days)"), default=30
    )
    tax_rate = models.DecimalField(
        _("tax rate"), max_digits=4, decimal_places=3, default=Decimal("0.130")
    )

    class Meta:
        verbose_name = _("service settings")
        verbose_name_plural = _("service settings")

    def __str__(self):
        return str(self.store)


class TechnicianProfile(TenantModel):
    staff = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="technician_profile"
    )
    skill_line = models.CharField(_("skill line"), max_length=10, choices=SkillLine.choices)
    availability_pct = models.PositiveSmallIntegerField(
        _("availability (%)"), default=85, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")

    def __str__(self):
        return f"{self.staff} ({self.get_skill_line_display()})"


class Resource(TenantModel):
    """An exclusive workshop resource: one job at a time (lift, alignment bay, paint booth)."""

    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(_("kind"), max_length=12, choices=ResourceKind.choices)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        verbose_name = _("workshop resource")
        verbose_name_plural = _("workshop resources")

    def __str__(self):
        return self.name


# --- booking -------------------------------------------------------------------------------------
class Appointment(TenantModel):
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="appointments")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="appointments"
    )
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.PROTECT, related_name="appointments"
    )
    owner = models.ForeignKey(
        "owners.Owner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField(_("time"))
    date = models.DateField()  # the store's local date of starts_at
    mode = models.CharField(
        _("visit"), max_length=8, choices=VisitMode.choices, default=VisitMode.WAITING
    )
    package = models.ForeignKey(
        ServicePackage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    problem = models.TextField(_("problem in the owner's words"), blank=True)
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    idempotency_key = models.CharField(max_length=64, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    estimated_minutes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["store", "date", "status"], name="appointment_store_day"),
            models.Index(fields=["customer", "-starts_at"], name="appointment_customer"),
            models.Index(fields=["status", "starts_at"], name="appointment_status_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="appointment_idempotency_key",
            )
        ]

    def __str__(self):
        return f"{self.vehicle} @ {self.starts_at:%Y-%m-%d %H:%M}"


class CapacityDay(TenantModel):
    """One row per store and day, locked (SELECT … FOR UPDATE) while a booking for that day is
    checked and written: bookings of one day are serialised, other days run in parallel."""

    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "date"], name="capacity_day_once")]


class CapacityUse(TenantModel):
    """Minutes one active appointment takes from a day's pool (a skill line or a resource kind).
    Rows live while the appointment is active; cancelling deletes them."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="capacity_uses"
    )
    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    pool = models.CharField(max_length=24)
    minutes = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["store", "date", "pool"], name="capacity_use_day")]


class PartReservation(TenantModel):
    HELD, CONSUMED, RELEASED = "held", "consumed", "released"
    STATUS = [(HELD, _("Held")), (CONSUMED, _("Used")), (RELEASED, _("Released"))]

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="reservations"
    )
    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="+")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=STATUS, default=HELD)

    class Meta:
        indexes = [models.Index(fields=["appointment", "status"], name="reservation_appointment")]


class AppointmentPhoto(TenantModel):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="photos")
    image = ProtectedImageField(
        area="service-problems", access="m4s.service.photos.can_see_appointment_photo"
    )
    created_at = models.DateTimeField(auto_now_add=True)


# --- repair order ------------------------------------------------------------------------------
class RepairOrder(TenantModel):
    number = models.CharField(_("number"), max_length=24)
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="repair_orders")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="repair_orders"
    )
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.PROTECT, related_name="repair_orders"
    )
    appointment = models.OneToOneField(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="repair_order"
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="repair_orders"
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RepairOrderStatus.choices,
        default=RepairOrderStatus.CHECKED_IN,
    )
    odometer_in = models.PositiveIntegerField(_("odometer at check-in (km)"))
    fuel_pct = models.PositiveSmallIntegerField(
        _("fuel or charge (%)"), validators=[MaxValueValidator(100)]
    )
    symptoms = models.TextField(_("symptoms in the owner's words"), blank=True)
    belongings = models.CharField(_("belongings left in the car"), max_length=300, blank=True)
    checked_in_at = models.DateTimeField()
    promised_at = models.DateTimeField(_("promised for"), null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    odometer_out = models.PositiveIntegerField(
        _("odometer at delivery (km)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("repair order")
        verbose_name_plural = _("repair orders")
        ordering = ["-checked_in_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "number"], name="repair_order_number_unique"
            )
        ]
        indexes = [
            models.Index(fields=["store", "status"], name="ro_store_status"),
            models.Index(fields=["vehicle", "-checked_in_at"], name="ro_vehicle"),
            models.Index(fields=["store", "delivered_at"], name="ro_store_delivered"),
        ]

    def __str__(self):
        return self.number


class InspectionTemplate(TenantModel):
    store = models.ForeignKey(
        "org.Store", on_delete=models.CASCADE, related_name="inspection_templates"
    )
    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("inspection checklist")
        verbose_name_plural = _("inspection checklists")

    def __str__(self):
        return self.name


class InspectionPoint(Translatable, TenantModel):
    template = models.ForeignKey(
        InspectionTemplate, on_delete=models.CASCADE, related_name="points"
    )
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    measure = models.CharField(_("measure"), max_length=10, choices=Measure.choices, blank=True)
    operation = models.ForeignKey(
        LabourOperation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fix with"),
    )
    part = models.ForeignKey(
        Part, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    part_quantity = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class InspectionResult(TenantModel):
    repair_order = models.ForeignKey(
        RepairOrder, on_delete=models.CASCADE, related_name="inspection"
    )
    point = models.ForeignKey(InspectionPoint, on_delete=models.PROTECT, related_name="+")
    rating = models.CharField(max_length=6, choices=Rating.choices)
    note = models.CharField(max_length=300, blank=True)
    measurement = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["point__position", "point_id"]
        constraints = [
            models.UniqueConstraint(fields=["repair_order", "point"], name="inspection_point_once")
        ]


class RepairPhoto(TenantModel):
    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=12, choices=PhotoKind.choices)
    result = models.ForeignKey(
        InspectionResult, on_delete=models.CASCADE, null=True, blank=True, related_name="photos"
    )
    image = ProtectedImageField(area="service-ro", access="m4s.service.photos.can_see_repair_photo")
    created_at = models.DateTimeField(auto_now_add=True)


class RepairLine(Translatable, TenantModel):
    """One job on a repair order: a labour operation and the parts it needs. Only approved lines
    are worked on and billed; declined lines are kept so the owner can be reminded later."""

    owner_lookup = "repair_order__customer__owner"  # TenantQuerySet.for_owner

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="lines")
    operation = models.ForeignKey(LabourOperation, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=200)
    description_i18n = TranslationsField(_("description, translated"), max_length=200)
    reason = models.CharField(_("why"), max_length=300, blank=True)
    reason_i18n = TranslationsField(_("why, translated"), max_length=300)
    labour_list_price = models.DecimalField(**MONEY)
    labour_price = models.DecimalField(**MONEY)
    payer = models.CharField(
        _("payer"), max_length=10, choices=Payer.choices, default=Payer.CUSTOMER
    )
    source = models.CharField(max_length=10, choices=LineSource.choices)
    result = models.ForeignKey(
        InspectionResult, on_delete=models.SET_NULL, null=True, blank=True, related_name="lines"
    )
    approval = models.CharField(max_length=10, choices=Approval.choices, default=Approval.PENDING)
    approval_channel = models.CharField(max_length=12, choices=ApprovalChannel.choices, blank=True)
    approval_reason = models.CharField(max_length=200, blank=True)
    approval_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    work_status = models.CharField(
        max_length=12, choices=WorkStatus.choices, default=WorkStatus.TODO
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.description


class RepairLinePart(TenantModel):
    line = models.ForeignKey(RepairLine, on_delete=models.CASCADE, related_name="parts")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    list_price = models.DecimalField(**MONEY)
    unit_price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]


class TimeEntry(TenantModel):
    line = models.ForeignKey(RepairLine, on_delete=models.CASCADE, related_name="time_entries")
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["technician"],
                condition=Q(ended_at__isnull=True),
                name="one_open_clock_per_technician",
            )
        ]


class Invoice(TenantModel):
    repair_order = models.OneToOneField(
        RepairOrder, on_delete=models.PROTECT, related_name="invoice"
    )
    number = models.CharField(max_length=24)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    labour_total = models.DecimalField(**MONEY)
    parts_total = models.DecimalField(**MONEY)
    discount_total = models.DecimalField(**MONEY)
    net_total = models.DecimalField(**MONEY)
    tax_rate = models.DecimalField(max_digits=4, decimal_places=3)
    tax = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    customer_pay_net = models.DecimalField(
        **MONEY
    )  # what earns loyalty points: customer lines, no tax
    customer_pay_total = models.DecimalField(**MONEY)
    by_payer = models.JSONField(default=dict)  # payer -> net amount
    coupon_code = models.CharField(max_length=16, blank=True)
    coupon_discount = models.DecimalField(default=0, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "number"], name="invoice_number_unique")
        ]

    def __str__(self):
        return self.number


class PriceOverride(TenantModel):
    """Every charge below the published price, with who and why (append-only)."""

    repair_order = models.ForeignKey(
        RepairOrder, on_delete=models.CASCADE, related_name="price_overrides"
    )
    line = models.ForeignKey(RepairLine, on_delete=models.CASCADE, related_name="+")
    item = models.CharField(max_length=200)
    list_amount = models.DecimalField(**MONEY)
    charged_amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=200)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("price override")
        verbose_name_plural = _("price overrides")


class CreditNote(TenantModel):
    """A settled repair order refunded in full: the invoice stays as issued, this cancels it
    (append-only; one per invoice). The loyalty area claws back the points it earned."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="credit_note")
    number = models.CharField(max_length=24)
    amount = models.DecimalField(**MONEY)  # the invoice total, tax included
    customer_amount = models.DecimalField(**MONEY)  # what goes back to the customer
    reason = models.CharField(max_length=300)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "number"], name="credit_note_number_unique"
            )
        ]

    def __str__(self):
        return self.number


# --- revisit survey ----------------------------------------------------------------------------
class Survey(TenantModel):
    repair_order = models.OneToOneField(
        RepairOrder, on_delete=models.CASCADE, related_name="survey"
    )
    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="surveys")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="surveys"
    )
    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="surveys")
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.SCHEDULED
    )
    available_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    initiation = models.PositiveSmallIntegerField(null=True, blank=True)
    advisor_score = models.PositiveSmallIntegerField(null=True, blank=True)
    facility = models.PositiveSmallIntegerField(null=True, blank=True)
    pickup = models.PositiveSmallIntegerField(null=True, blank=True)
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    needs_follow_up = models.BooleanField(default=False)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    follow_up_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-available_at"]
        indexes = [
            models.Index(fields=["owner", "status"], name="survey_owner"),
            models.Index(fields=["status", "available_at"], name="survey_due"),
            models.Index(fields=["store", "answered_at"], name="survey_store_answered"),
        ]

    def score(self, factor: str):
        return getattr(self, "advisor_score" if factor == "advisor" else factor)

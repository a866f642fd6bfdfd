"""Connected car: devices, append-only telemetry, the current state of each car, a daily
odometer kept for ever, dead letters, alarms, rescue cases, geofences and mileage forecasts."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel
from m4s.core.uploads import ProtectedImageField

from .choices import Alarm, CaseStatus, ChargeState, OdometerSource, Protocol
from .rescue_choices import InsurerChannel, StepKind, TowStatus


def new_device_key() -> str:
    return secrets.token_hex(10)


class Device(TenantModel):
    """A T-Box or OBD box. Credentials are per device; it writes only its own car's data.

    `device_id` is the dealer's name for it, unique within the dealer group only (a group can
    neither learn whether another uses an id nor take it first). `key` is the server-issued,
    opaque, globally unique name a terminal is known by where it has no group: the HTTP token
    (`<key>.<secret>`) and the MQTT topic (`m4s/v1/<key>/up/...`). Devices registered before
    keys existed have key = device_id (those ids were unique), so their tokens and topics keep
    working. A JT/T 808 terminal phone (a SIM number) is unique within the group too; see
    `jt808_server.find_devices` for how a terminal is told apart from another group's."""

    device_id = models.CharField(_("device id"), max_length=40)
    key = models.CharField(max_length=40, unique=True, default=new_device_key, editable=False)
    protocol = models.CharField(_("protocol"), max_length=8, choices=Protocol.choices)
    secret_hash = models.CharField(
        max_length=64, blank=True, editable=False
    )  # HTTP/MQTT token (SHA-256)
    terminal_phone = models.CharField(
        _("terminal phone number"),
        max_length=20,
        blank=True,
        help_text=_("JT/T 808 terminals; for GB/T 32960, the SIM's ICCID (optional)."),
    )
    auth_code = models.CharField(
        max_length=32, blank=True, editable=False
    )  # JT/T 808 after registration
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.SET_NULL, null=True, blank=True, related_name="devices"
    )
    installed_at = models.DateTimeField(_("installed at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "device_id"], name="device_id_unique_in_group"
            ),
            models.UniqueConstraint(
                fields=["dealer_group", "terminal_phone"],
                condition=~Q(terminal_phone=""),
                name="device_terminal_phone_unique_in_group",
            ),
        ]

    def __str__(self):
        return self.device_id


class Telemetry(TenantModel):
    """Append-only, typed, SI units. On PostgreSQL the table is partitioned by month of `ts`
    (migration 0002); on SQLite it is a plain table. Deduped on (device, seq, ts)."""

    device = models.ForeignKey(
        Device, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    vehicle_id = models.BigIntegerField(null=True)
    seq = models.BigIntegerField()
    ts = models.DateTimeField()
    received_at = models.DateTimeField()
    lat = models.FloatField(null=True)
    lon = models.FloatField(null=True)
    speed_kmh = models.FloatField(null=True)
    heading = models.SmallIntegerField(null=True)
    odometer_km = models.FloatField(null=True)
    odometer_source = models.CharField(max_length=8, choices=OdometerSource.choices, blank=True)
    odometer_note = models.CharField(max_length=40, blank=True)  # why a reading was not used
    ignition = models.BooleanField(null=True)
    fuel_pct = models.FloatField(null=True)
    soc_pct = models.FloatField(null=True)
    battery_v = models.FloatField(null=True)
    dtcs = models.JSONField(default=list)
    alarm = models.CharField(max_length=12, choices=Alarm.choices, default=Alarm.NONE)
    # False: lat/lon are what the terminal sent without a fix (not the car's known position)
    fix_valid = models.BooleanField(null=True)
    alarm_word = models.BigIntegerField(null=True)  # JT/T 808 raw 32-bit alarm flags
    status_word = models.BigIntegerField(null=True)  # JT/T 808 raw 32-bit status flags
    # new-energy vehicles (GB/T 32960): the traction battery pack, the charging state and the
    # highest alarm level (0-3); alarm_word then holds the standard's general alarm flags
    pack_v = models.FloatField(null=True)
    pack_a = models.FloatField(null=True)  # negative: charging
    charge_state = models.PositiveSmallIntegerField(null=True, choices=ChargeState.choices)
    alarm_level = models.PositiveSmallIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "seq", "ts"], name="telemetry_dedupe")
        ]
        indexes = [models.Index(fields=["vehicle_id", "ts"], name="telemetry_vehicle_ts")]


class VehicleState(TenantModel):
    """The latest known state of one car (one row per car, updated by the writer)."""

    vehicle = models.OneToOneField(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="state"
    )
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, related_name="+")
    ts = models.DateTimeField()
    lat = models.FloatField(null=True)  # the last valid fix (reports without one never move it)
    lon = models.FloatField(null=True)
    speed_kmh = models.FloatField(null=True)
    heading = models.SmallIntegerField(null=True)
    odometer_km = models.FloatField(null=True)
    odometer_source = models.CharField(max_length=8, blank=True)
    odometer_ts = models.DateTimeField(null=True)
    ignition = models.BooleanField(null=True)
    ignition_off_at = models.DateTimeField(null=True)
    fuel_pct = models.FloatField(null=True)
    soc_pct = models.FloatField(null=True)
    battery_v = models.FloatField(null=True)
    pack_v = models.FloatField(null=True)
    pack_a = models.FloatField(null=True)
    charge_state = models.PositiveSmallIntegerField(null=True, choices=ChargeState.choices)
    alarm_level = models.PositiveSmallIntegerField(null=True)
    dtcs = models.JSONField(default=list)
    alarm = models.CharField(max_length=12, default=Alarm.NONE)
    alarm_at = models.DateTimeField(null=True)
    parked_armed = models.BooleanField(_("parked mode armed"), default=False)
    parked_armed_at = models.DateTimeField(null=True)
    parked_lat = models.FloatField(null=True)
    parked_lon = models.FloatField(null=True)
    auto_arm_minutes = models.PositiveSmallIntegerField(
        _("arm by itself after ignition off (minutes)"), null=True, blank=True
    )
    notify_store_on_theft = models.BooleanField(_("also alert the store"), default=False)
    updated_at = models.DateTimeField(auto_now=True)


class DailyOdometer(TenantModel):
    """The car's odometer at the end of each day it reported (kept for ever)."""

    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="daily_odometer"
    )
    date = models.DateField()
    odometer_km = models.FloatField()
    source = models.CharField(max_length=8)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vehicle", "date"], name="daily_odometer_once")
        ]


class DeadLetter(models.Model):
    """A message that failed validation, with why. Nothing is dropped silently."""

    dealer_group = models.ForeignKey(
        "org.DealerGroup", on_delete=models.CASCADE, null=True, related_name="+"
    )
    device_id = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField()
    via = models.CharField(max_length=8)
    reason = models.CharField(max_length=40)
    detail = models.CharField(max_length=300, blank=True)
    payload = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["received_at"], name="dead_letter_time")]

    def __str__(self):
        return f"{self.device_id}: {self.reason}"


class AlarmEvent(TenantModel):
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.CASCADE, related_name="alarms")
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=12, choices=Alarm.choices)
    ts = models.DateTimeField()
    lat = models.FloatField(null=True)
    lon = models.FloatField(null=True)
    speed_kmh = models.FloatField(null=True)
    # device:seq:ts (40 + 19 + 32 characters at most), unique: a repeated message is one alarm
    source = models.CharField(max_length=120)
    armed = models.BooleanField(default=False)  # the car was in parked mode

    class Meta:
        ordering = ["-ts"]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "source"], name="alarm_once")
        ]
        indexes = [models.Index(fields=["vehicle", "-ts"], name="alarm_vehicle")]


class RescueCase(TenantModel):
    """Opened at once by a crash, a rollover or the terminal's SOS button; one case
    per event (an alarm within 30 minutes of the case's newest one joins it)."""

    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner

    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.PROTECT, related_name="rescue_cases"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="rescue_cases")
    kind = models.CharField(max_length=12, choices=Alarm.choices)
    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField()
    alarm_at = models.DateTimeField()
    lat = models.FloatField(null=True)
    lon = models.FloatField(null=True)
    speed_kmh = models.FloatField(null=True)
    repeats = models.PositiveIntegerField(default=0)
    last_alarm_at = models.DateTimeField(null=True)  # the newest repeat: the join window runs on
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tow_partner = models.CharField(max_length=80, blank=True)  # free text, before the directory
    # the tow (m4s.telematics.rescue.dispatch_tow / update_tow)
    tow = models.ForeignKey(
        "telematics.TowPartner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tow_status = models.CharField(max_length=12, choices=TowStatus.choices, blank=True)
    tow_dispatched_at = models.DateTimeField(null=True, blank=True)
    tow_eta_at = models.DateTimeField(null=True, blank=True)
    destination = models.ForeignKey(
        "org.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # the owner's insurer and the first notice of loss (m4s.telematics.rescue.notify_insurer)
    insurer = models.ForeignKey(
        "telematics.Insurer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    insurer_asked_at = models.DateTimeField(null=True, blank=True)
    insurer_notified_at = models.DateTimeField(null=True, blank=True)  # the report was sent
    insurer_sending_at = models.DateTimeField(null=True, blank=True)  # claimed by one sender
    insurer_reference = models.CharField(max_length=120, blank=True)
    repair_order = models.ForeignKey(
        "service.RepairOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=~Q(status="closed"),
                name="one_open_rescue_case_per_vehicle",
            )
        ]
        indexes = [models.Index(fields=["store", "status"], name="rescue_store_status")]


class RescueContact(TenantModel):
    """A tow partner or an insurer of the group's rescue directory."""

    name = models.CharField(_("name"), max_length=80)
    phone = models.CharField(_("phone"), max_length=30)
    service_area = models.CharField(
        _("service area"), max_length=200, blank=True, help_text=_("Cities or districts served.")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    api_url = models.URLField(_("API address"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class TowPartner(RescueContact):
    class Meta(RescueContact.Meta):
        verbose_name = _("tow partner")
        verbose_name_plural = _("tow partners")


class Insurer(RescueContact):
    """The claims desk of an insurer: where a first notice of loss goes (by e-mail, or by its
    API when one is set)."""

    channel = models.CharField(
        _("send reports by"),
        max_length=6,
        choices=InsurerChannel.choices,
        default=InsurerChannel.EMAIL,
    )

    class Meta(RescueContact.Meta):
        verbose_name = _("insurer (claims)")
        verbose_name_plural = _("insurers (claims)")


class RescueStep(TenantModel):
    """The case's log, append-only: who, when, and what as a message code with its parameters
    (translated when shown)."""

    case = models.ForeignKey(RescueCase, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=StepKind.choices)
    status = models.CharField(max_length=12, blank=True)  # the tow status it set, if any
    code = models.CharField(max_length=200)  # an English msgid
    params = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="rescue_step_case")]


class RescuePhoto(TenantModel):
    """A photo the owner adds to the case (for the insurer's report)."""

    case = models.ForeignKey(RescueCase, on_delete=models.CASCADE, related_name="photos")
    image = ProtectedImageField(
        area="rescue-photos", access="m4s.telematics.rescue.can_see_rescue_photo"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class RescueRequest(models.Model):
    """The stored answer of a staff member's rescue POST per Idempotency-Key
    (m4s.core.idempotency): a retried notify-insurer or dispatch answers the same."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["staff", "key"], name="rescue_request_once")]

    def __str__(self):
        return f"{self.staff_id}:{self.key}"


class Geofence(TenantModel):
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="geofences"
    )
    name = models.CharField(_("name"), max_length=40)
    lat = models.FloatField()
    lon = models.FloatField()
    radius_m = models.PositiveIntegerField(_("radius (m)"))
    inside = models.BooleanField(null=True)  # last known side; None until the first fix

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(radius_m__gte=50), name="geofence_min_radius")
        ]


class MileageForecast(TenantModel):
    """The car's km per day from its recent daily odometer, recomputed as data arrives."""

    vehicle = models.OneToOneField(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="forecast"
    )
    km_per_day = models.FloatField()
    # the band around it (m4s.telematics.forecast): the due date by km falls between the dates
    # at km_per_day_high and at km_per_day_low; null on forecasts made before the band
    km_per_day_low = models.FloatField(null=True, blank=True)
    km_per_day_high = models.FloatField(null=True, blank=True)
    confidence = models.FloatField()  # 0..1
    days = models.PositiveSmallIntegerField()  # days of data behind it
    last_odometer_km = models.FloatField()
    last_date = models.DateField()
    computed_at = models.DateTimeField()


class MaintenanceReminder(TenantModel):
    """Sent once per maintenance item and service cycle (the cycle starts at the last service)."""

    owner_lookup = "vehicle__current_owner__owner"  # TenantQuerySet.for_owner

    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("service.MaintenanceItem", on_delete=models.CASCADE, related_name="+")
    cycle = models.CharField(max_length=20)  # date or km of the last service, or "new"
    due_on = models.DateField()
    confidence = models.FloatField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "item", "cycle"], name="maintenance_reminder_once"
            )
        ]


class ChargingSession(TenantModel):
    """One charge of a new-energy vehicle, cut from its consecutive charging-state reports
    (ev.py, set-based and idempotent: recut from telemetry, keyed on the car and its start)."""

    owner_lookup = "vehicle__current_owner__owner"

    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="charging_sessions"
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)  # null: still charging
    last_report_at = models.DateTimeField()
    start_soc = models.FloatField(_("charge at start (%)"), null=True)
    end_soc = models.FloatField(_("charge at end (%)"), null=True)
    kwh = models.FloatField(_("energy (kWh)"), null=True)  # from pack voltage x current
    lat = models.FloatField(null=True)
    lon = models.FloatField(null=True)
    while_driving = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["vehicle", "started_at"], name="charging_session_once")
        ]


class EvSettings(TenantModel):
    """A dealer group's new-energy settings; no row: the defaults."""

    low_charge_pct = models.PositiveSmallIntegerField(
        _("low-charge reminder below (%)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(80)],
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dealer_group"], name="ev_settings_once")]

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """New-energy vehicles: GB/T 32960 terminals, charging sessions and battery alarms."""

    dependencies = [
        ("org", "0005_load_statutory_days"),
        ("telematics", "0009_rescue"),
        ("vehicles", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="telemetry",
            name="alarm_level",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="telemetry",
            name="charge_state",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (1, "Charging (parked)"),
                    (2, "Charging while driving"),
                    (3, "Not charging"),
                    (4, "Charging complete"),
                ],
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="telemetry",
            name="pack_a",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="telemetry",
            name="pack_v",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="vehiclestate",
            name="alarm_level",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="vehiclestate",
            name="charge_state",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (1, "Charging (parked)"),
                    (2, "Charging while driving"),
                    (3, "Not charging"),
                    (4, "Charging complete"),
                ],
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="vehiclestate",
            name="pack_a",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="vehiclestate",
            name="pack_v",
            field=models.FloatField(null=True),
        ),
        migrations.AlterField(
            model_name="alarmevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("none", "None"),
                    ("crash", "Crash"),
                    ("rollover", "Rollover"),
                    ("theft", "Theft"),
                    ("movement", "Movement"),
                    ("tow", "Tow"),
                    ("sos", "SOS button"),
                    ("low_battery", "Low battery"),
                    ("power_cut", "Power cut"),
                    ("ignition", "Illegal ignition"),
                    ("door", "Illegal door opening"),
                    ("overspeed", "Overspeed"),
                    ("fatigue", "Fatigue driving"),
                    ("danger", "Dangerous driving"),
                    ("gnss_fault", "GNSS module fault"),
                    ("gnss_cut", "GNSS antenna disconnected"),
                    ("gnss_short", "GNSS antenna short circuit"),
                    ("lcd_fault", "Display fault"),
                    ("tts_fault", "Voice (TTS) module fault"),
                    ("camera_fault", "Camera fault"),
                    ("ic_card", "IC card module fault"),
                    ("speed_warn", "Overspeed warning"),
                    ("fatigue_warn", "Fatigue driving warning"),
                    ("violation", "Illegal driving"),
                    ("tyre_warn", "Tyre pressure warning"),
                    ("blind_spot", "Right-turn blind spot alarm"),
                    ("drive_limit", "Daily driving time exceeded"),
                    ("long_parking", "Parked too long"),
                    ("area", "Entered or left an area"),
                    ("route", "Entered or left a route"),
                    ("route_time", "Road section driving time too short or too long"),
                    ("off_route", "Route deviation"),
                    ("vss_fault", "Speed sensor (VSS) fault"),
                    ("fuel", "Abnormal fuel level"),
                    ("battery", "High-voltage battery or drive fault"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="deadletter",
            name="via",
            field=models.CharField(max_length=8),
        ),
        migrations.AlterField(
            model_name="device",
            name="protocol",
            field=models.CharField(
                choices=[
                    ("http", "HTTP"),
                    ("mqtt", "MQTT"),
                    ("jt808", "JT/T 808"),
                    ("gb32960", "GB/T 32960"),
                ],
                max_length=8,
                verbose_name="protocol",
            ),
        ),
        migrations.AlterField(
            model_name="device",
            name="terminal_phone",
            field=models.CharField(
                blank=True,
                help_text="JT/T 808 terminals; for GB/T 32960, the SIM's ICCID (optional).",
                max_length=20,
                verbose_name="terminal phone number",
            ),
        ),
        migrations.AlterField(
            model_name="rescuecase",
            name="kind",
            field=models.CharField(
                choices=[
                    ("none", "None"),
                    ("crash", "Crash"),
                    ("rollover", "Rollover"),
                    ("theft", "Theft"),
                    ("movement", "Movement"),
                    ("tow", "Tow"),
                    ("sos", "SOS button"),
                    ("low_battery", "Low battery"),
                    ("power_cut", "Power cut"),
                    ("ignition", "Illegal ignition"),
                    ("door", "Illegal door opening"),
                    ("overspeed", "Overspeed"),
                    ("fatigue", "Fatigue driving"),
                    ("danger", "Dangerous driving"),
                    ("gnss_fault", "GNSS module fault"),
                    ("gnss_cut", "GNSS antenna disconnected"),
                    ("gnss_short", "GNSS antenna short circuit"),
                    ("lcd_fault", "Display fault"),
                    ("tts_fault", "Voice (TTS) module fault"),
                    ("camera_fault", "Camera fault"),
                    ("ic_card", "IC card module fault"),
                    ("speed_warn", "Overspeed warning"),
                    ("fatigue_warn", "Fatigue driving warning"),
                    ("violation", "Illegal driving"),
                    ("tyre_warn", "Tyre pressure warning"),
                    ("blind_spot", "Right-turn blind spot alarm"),
                    ("drive_limit", "Daily driving time exceeded"),
                    ("long_parking", "Parked too long"),
                    ("area", "Entered or left an area"),
                    ("route", "Entered or left a route"),
                    ("route_time", "Road section driving time too short or too long"),
                    ("off_route", "Route deviation"),
                    ("vss_fault", "Speed sensor (VSS) fault"),
                    ("fuel", "Abnormal fuel level"),
                    ("battery", "High-voltage battery or drive fault"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="telemetry",
            name="alarm",
            field=models.CharField(
                choices=[
                    ("none", "None"),
                    ("crash", "Crash"),
                    ("rollover", "Rollover"),
                    ("theft", "Theft"),
                    ("movement", "Movement"),
                    ("tow", "Tow"),
                    ("sos", "SOS button"),
                    ("low_battery", "Low battery"),
                    ("power_cut", "Power cut"),
                    ("ignition", "Illegal ignition"),
                    ("door", "Illegal door opening"),
                    ("overspeed", "Overspeed"),
                    ("fatigue", "Fatigue driving"),
                    ("danger", "Dangerous driving"),
                    ("gnss_fault", "GNSS module fault"),
                    ("gnss_cut", "GNSS antenna disconnected"),
                    ("gnss_short", "GNSS antenna short circuit"),
                    ("lcd_fault", "Display fault"),
                    ("tts_fault", "Voice (TTS) module fault"),
                    ("camera_fault", "Camera fault"),
                    ("ic_card", "IC card module fault"),
                    ("speed_warn", "Overspeed warning"),
                    ("fatigue_warn", "Fatigue driving warning"),
                    ("violation", "Illegal driving"),
                    ("tyre_warn", "Tyre pressure warning"),
                    ("blind_spot", "Right-turn blind spot alarm"),
                    ("drive_limit", "Daily driving time exceeded"),
                    ("long_parking", "Parked too long"),
                    ("area", "Entered or left an area"),
                    ("route", "Entered or left a route"),
                    ("route_time", "Road section driving time too short or too long"),
                    ("off_route", "Route deviation"),
                    ("vss_fault", "Speed sensor (VSS) fault"),
                    ("fuel", "Abnormal fuel level"),
                    ("battery", "High-voltage battery or drive fault"),
                ],
                default="none",
                max_length=12,
            ),
        ),
        migrations.CreateModel(
            name="ChargingSession",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("started_at", models.DateTimeField(verbose_name="started")),
                ("ended_at", models.DateTimeField(blank=True, null=True, verbose_name="ended")),
                ("last_report_at", models.DateTimeField()),
                ("start_soc", models.FloatField(null=True, verbose_name="charge at start (%)")),
                ("end_soc", models.FloatField(null=True, verbose_name="charge at end (%)")),
                ("kwh", models.FloatField(null=True, verbose_name="energy (kWh)")),
                ("lat", models.FloatField(null=True)),
                ("lon", models.FloatField(null=True)),
                ("while_driving", models.BooleanField(default=False)),
                (
                    "dealer_group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.dealergroup",
                        verbose_name="dealer group",
                    ),
                ),
                (
                    "vehicle",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="charging_sessions",
                        to="vehicles.vehicle",
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("vehicle", "started_at"), name="charging_session_once"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="EvSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "low_charge_pct",
                    models.PositiveSmallIntegerField(
                        default=15,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(80),
                        ],
                        verbose_name="low-charge reminder below (%)",
                    ),
                ),
                (
                    "dealer_group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.dealergroup",
                        verbose_name="dealer group",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("dealer_group",), name="ev_settings_once")
                ],
            },
        ),
    ]

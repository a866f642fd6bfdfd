import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
        ("org", "0005_load_statutory_days"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="month")),
                ("customers", models.PositiveIntegerField(default=0)),
                ("bound_customers", models.PositiveIntegerField(default=0)),
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
                    "staff",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "store",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="org.store",
                    ),
                ),
            ],
            options={
                "verbose_name": "staff month",
                "indexes": [
                    models.Index(fields=["dealer_group", "month"], name="insights_staffmonth_m")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("store", "staff", "month"), name="insights_staffmonth_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="StoreDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="day")),
                ("paid_visits", models.PositiveIntegerField(default=0)),
                ("warranty_visits", models.PositiveIntegerField(default=0)),
                ("revenue", models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ("appointments_due", models.PositiveIntegerField(default=0)),
                ("shows", models.PositiveIntegerField(default=0)),
                ("no_shows", models.PositiveIntegerField(default=0)),
                ("delivered", models.PositiveIntegerField(default=0)),
                ("fixed_first_time", models.PositiveIntegerField(default=0)),
                ("surveys", models.PositiveIntegerField(default=0)),
                ("csi_sum", models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ("promoters", models.PositiveIntegerField(default=0)),
                ("passives", models.PositiveIntegerField(default=0)),
                ("detractors", models.PositiveIntegerField(default=0)),
                ("complaints_opened", models.PositiveIntegerField(default=0)),
                ("complaint_fr_met", models.PositiveIntegerField(default=0)),
                ("complaint_fr_total", models.PositiveIntegerField(default=0)),
                ("complaint_res_met", models.PositiveIntegerField(default=0)),
                ("complaint_res_total", models.PositiveIntegerField(default=0)),
                ("complaint_handled", models.PositiveIntegerField(default=0)),
                ("complaint_handling_minutes", models.PositiveBigIntegerField(default=0)),
                ("first_responses", models.PositiveIntegerField(default=0)),
                ("first_response_minutes", models.PositiveBigIntegerField(default=0)),
                ("requests_sla_met", models.PositiveIntegerField(default=0)),
                ("requests_sla_total", models.PositiveIntegerField(default=0)),
                ("new_bindings", models.PositiveIntegerField(default=0)),
                ("reminders_sent", models.PositiveIntegerField(default=0)),
                ("reminders_converted", models.PositiveIntegerField(default=0)),
                ("leads_new", models.PositiveIntegerField(default=0)),
                ("leads_won", models.PositiveIntegerField(default=0)),
                ("leads_lost", models.PositiveIntegerField(default=0)),
                ("points_issued", models.BigIntegerField(default=0)),
                ("points_redeemed", models.BigIntegerField(default=0)),
                ("active_owners", models.PositiveIntegerField(default=0)),
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
                    "store",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="org.store",
                    ),
                ),
            ],
            options={
                "verbose_name": "store day",
                "indexes": [
                    models.Index(fields=["dealer_group", "day"], name="insights_storeday_day")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("store", "day"), name="insights_storeday_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="StoreMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="month")),
                ("active_owners", models.PositiveIntegerField(default=0)),
                ("retention_base", models.PositiveIntegerField(default=0)),
                ("retained", models.PositiveIntegerField(default=0)),
                ("warranty_base", models.PositiveIntegerField(default=0)),
                ("warranty_returned", models.PositiveIntegerField(default=0)),
                ("customers", models.PositiveIntegerField(default=0)),
                ("bound_customers", models.PositiveIntegerField(default=0)),
                ("maint_due", models.PositiveIntegerField(default=0)),
                ("maint_booked", models.PositiveIntegerField(default=0)),
                ("maint_done", models.PositiveIntegerField(default=0)),
                ("maint_done_elsewhere", models.PositiveIntegerField(default=0)),
                ("points_liability", models.BigIntegerField(default=0)),
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
                    "store",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="org.store",
                    ),
                ),
            ],
            options={
                "verbose_name": "store month",
                "indexes": [
                    models.Index(fields=["dealer_group", "month"], name="insights_storemonth_m")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("store", "month"), name="insights_storemonth_unique"
                    )
                ],
            },
        ),
    ]

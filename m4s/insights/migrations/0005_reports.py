import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0004_campaigns"),
        ("org", "0005_load_statutory_days"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ServiceReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="month")),
                (
                    "language",
                    models.CharField(
                        choices=[("zh-hans", "简体中文"), ("en", "English"), ("ko", "한국어")],
                        max_length=8,
                        verbose_name="language",
                    ),
                ),
                ("file", models.CharField(blank=True, max_length=200)),
                ("size", models.PositiveIntegerField(default=0)),
                ("pages", models.PositiveSmallIntegerField(default=0)),
                ("version", models.PositiveSmallIntegerField(default=1)),
                ("figures", models.JSONField(blank=True, default=dict)),
                ("generated_at", models.DateTimeField(verbose_name="generated")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
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
                    "generated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
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
                        verbose_name="store",
                    ),
                ),
            ],
            options={
                "verbose_name": "monthly service report",
                "verbose_name_plural": "monthly service reports",
                "ordering": ["-month", "store_id", "language"],
                "indexes": [
                    models.Index(fields=["dealer_group", "-month"], name="service_report_month")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("store", "month", "language"), name="service_report_once"
                    )
                ],
            },
        ),
    ]

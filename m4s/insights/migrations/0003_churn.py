import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0002_facts"),
        ("org", "0005_load_statutory_days"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChurnModel",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("trained_at", models.DateTimeField(verbose_name="trained at")),
                ("as_of", models.DateField(verbose_name="history up to")),
                ("cutoff", models.DateField(verbose_name="cut-off")),
                (
                    "kind",
                    models.CharField(
                        choices=[("gbm", "Gradient boosting"), ("logreg", "Logistic regression")],
                        max_length=10,
                        verbose_name="model",
                    ),
                ),
                ("auc", models.FloatField(verbose_name="validation AUC")),
                ("recency_auc", models.FloatField(verbose_name="recency-only AUC")),
                ("aucs", models.JSONField(default=dict)),
                ("calibration", models.JSONField(default=list)),
                ("brier", models.FloatField(default=0)),
                ("n_train", models.PositiveIntegerField(default=0)),
                ("n_valid", models.PositiveIntegerField(default=0)),
                ("base_rate", models.FloatField(default=0)),
                ("features", models.JSONField(default=list)),
                ("timings", models.JSONField(default=dict)),
                ("state", models.BinaryField()),
                ("active", models.BooleanField(default=True)),
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
                "verbose_name": "churn model",
                "indexes": [
                    models.Index(
                        fields=["dealer_group", "-trained_at"],
                        name="insights_ch_dealer__3a4e25_idx",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("active", True)),
                        fields=("dealer_group",),
                        name="one_active_churn_model",
                    )
                ],
            },
        ),
    ]

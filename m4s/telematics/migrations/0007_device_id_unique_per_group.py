"""Device ids unique per dealer group (not across all groups), JT/T 808 terminal phones too;
the device key (0006) becomes required and globally unique."""

from django.db import migrations, models
from django.db.models import Q

import m4s.telematics.models


class Migration(migrations.Migration):
    dependencies = [
        ("telematics", "0006_device_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="device",
            name="key",
            field=models.CharField(
                default=m4s.telematics.models.new_device_key,
                editable=False,
                max_length=40,
                unique=True,
            ),
        ),
        migrations.RemoveConstraint(model_name="device", name="device_terminal_phone_unique"),
        migrations.AlterField(
            model_name="device",
            name="device_id",
            field=models.CharField(max_length=40, verbose_name="device id"),
        ),
        migrations.AddConstraint(
            model_name="device",
            constraint=models.UniqueConstraint(
                fields=("dealer_group", "device_id"), name="device_id_unique_in_group"
            ),
        ),
        migrations.AddConstraint(
            model_name="device",
            constraint=models.UniqueConstraint(
                condition=~Q(terminal_phone=""),
                fields=("dealer_group", "terminal_phone"),
                name="device_terminal_phone_unique_in_group",
            ),
        ),
    ]
